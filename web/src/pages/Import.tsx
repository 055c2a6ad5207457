import { useEffect, useState } from 'react';
import { api, messageOf, withQuery } from '../api';
import { firstRow } from '../csv';
import { useApi } from '../data';
import { formatDateTime } from '../format';
import { Link, useTitle } from '../router';
import type { ImportRecord } from '../types';
import { Badge, Button, ErrorNote, Field, toast } from '../ui';

type Entity = 'leads' | 'accounts' | 'deals';
type Format = 'hubspot' | 'salesforce' | 'custom';

/** Import: choose a file, check how its columns map, dry run, then import with progress. */
export default function Import() {
  useTitle('Import');
  const [entity, setEntity] = useState<Entity>('leads');
  const [format, setFormat] = useState<Format>('hubspot');
  const [duplicates, setDuplicates] = useState<'update' | 'skip' | 'fail'>('update');
  const [file, setFile] = useState<File | null>(null);
  const [header, setHeader] = useState<string[] | null>(null);
  const [columns, setColumns] = useState<{ column: string; field: string | null }[]>([]);
  const [fields, setFields] = useState<string[]>([]);
  const [overrides, setOverrides] = useState<Record<string, string>>({});
  const [result, setResult] = useState<ImportRecord | null>(null);
  const [running, setRunning] = useState<'dry' | 'real' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const recent = useApi<{ items: ImportRecord[] }>(`/api/imports?r=${result?.id ?? ''}${result?.status ?? ''}`);

  useEffect(() => {
    setResult(null);
    if (!file) {
      setHeader(null);
      return;
    }
    void file
      .slice(0, 65536)
      .text()
      .then((t) => setHeader(firstRow(t)));
  }, [file]);

  useEffect(() => {
    if (!header) return;
    api<{ columns: { column: string; field: string | null }[]; fields: string[] }>('/api/imports/mapping', {
      body: { entity, format, header, ...(Object.keys(overrides).length ? { mapping: overrides } : {}) },
    })
      .then((m) => {
        setColumns(m.columns);
        setFields(m.fields);
        setError(null);
      })
      .catch((e) => setError(messageOf(e)));
  }, [header, entity, format, overrides]);

  const options = { entity, format, duplicates, ...(Object.keys(overrides).length ? { mapping: JSON.stringify(overrides) } : {}) };

  async function dryRun() {
    if (!file) return;
    setRunning('dry');
    setError(null);
    try {
      setResult(await api<ImportRecord>(withQuery('/api/imports/upload', { ...options, dryRun: true }), { raw: file, contentType: 'text/csv' }));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setRunning(null);
    }
  }

  async function runImport() {
    if (!file) return;
    setRunning('real');
    setError(null);
    try {
      const created = await api<ImportRecord>('/api/imports', {
        body: { entity, format, duplicates, dryRun: false, fileName: file.name, ...(Object.keys(overrides).length ? { mapping: overrides } : {}) },
      });
      setResult(created);
      // The upload answers when the import ends; meanwhile the record shows how far it got.
      const poll = setInterval(() => {
        void api<ImportRecord>(`/api/imports/${created.id}`).then(
          (r) => setResult((cur) => (cur?.status === 'done' || cur?.status === 'failed' ? cur : r)),
          () => {},
        );
      }, 700);
      try {
        const done = await api<ImportRecord>(`/api/imports/${created.id}/file`, { method: 'PUT', raw: file, contentType: 'text/csv' });
        setResult(done);
        toast(
          `Imported ${done.inserted} new, ${done.updated} updated${done.failed ? `, ${done.failed} ${done.failed === 1 ? 'row' : 'rows'} refused` : ''}`,
          done.failed ? 'bad' : 'good',
        );
      } finally {
        clearInterval(poll);
      }
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setRunning(null);
    }
  }

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Import</h1>
          <p className="muted">Bring in a HubSpot or Salesforce export, or any CSV. Check it with a dry run first: it writes nothing.</p>
        </div>
        <a className="btn btn-secondary" href={`/api/exports/${entity}.csv`}>
          Export {entity} as CSV
        </a>
      </div>
      <section className="panel" aria-labelledby="file-title">
        <h2 id="file-title">1. The file</h2>
        <div className="grid-3">
          <Field label="What it holds">
            {(p) => (
              <select {...p} value={entity} onChange={(e) => setEntity(e.target.value as Entity)}>
                <option value="leads">Leads (contacts)</option>
                <option value="accounts">Accounts (companies)</option>
                <option value="deals">Deals (opportunities)</option>
              </select>
            )}
          </Field>
          <Field label="Exported from">
            {(p) => (
              <select {...p} value={format} onChange={(e) => setFormat(e.target.value as Format)}>
                <option value="hubspot">HubSpot</option>
                <option value="salesforce">Salesforce</option>
                <option value="custom">Another tool (map the columns)</option>
              </select>
            )}
          </Field>
          <Field label="When a record already exists" hint="Matched by email (leads) or domain (accounts)">
            {(p) => (
              <select {...p} value={duplicates} onChange={(e) => setDuplicates(e.target.value as 'update')}>
                <option value="update">Update it</option>
                <option value="skip">Leave it as it is</option>
                <option value="fail">Report the row as a problem</option>
              </select>
            )}
          </Field>
        </div>
        <Field label="CSV file">{(p) => <input {...p} type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}</Field>
      </section>

      {header ? (
        <section className="panel" aria-labelledby="map-title">
          <h2 id="map-title">2. Columns</h2>
          <p className="muted">
            {format === 'custom'
              ? 'Say which field each column fills.'
              : `Filled in from ${format === 'hubspot' ? 'HubSpot' : 'Salesforce'}’s column names; change any that are wrong.`}
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Column in the file</th>
                  <th>Fills</th>
                </tr>
              </thead>
              <tbody>
                {columns.map((c) => (
                  <tr key={c.column}>
                    <td>{c.column}</td>
                    <td>
                      <select
                        aria-label={`Field for column ${c.column}`}
                        value={c.field ?? ''}
                        onChange={(e) => setOverrides((o) => ({ ...o, [c.column]: e.target.value || `properties.${slug(c.column)}` }))}
                      >
                        <option value="">Not imported</option>
                        {c.field && !fields.includes(c.field) ? <option value={c.field}>{c.field}</option> : null}
                        {fields.map((f) => (
                          <option key={f} value={f}>
                            {f}
                          </option>
                        ))}
                        <option value={`properties.${slug(c.column)}`}>Keep as property “{slug(c.column)}”</option>
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="actions">
            <Button busy={running === 'dry'} disabled={running !== null} onClick={() => void dryRun()}>
              Check the file (dry run)
            </Button>
            <Button kind="primary" busy={running === 'real'} disabled={running !== null} onClick={() => void runImport()}>
              Import
            </Button>
          </div>
        </section>
      ) : null}
      {error ? <ErrorNote message={error} /> : null}
      {result ? <Result record={result} /> : null}

      <section className="panel" aria-labelledby="recent-title">
        <h2 id="recent-title">Recent imports</h2>
        {recent.data?.items.length === 0 ? <p className="muted">None yet.</p> : null}
        <ul className="list">
          {recent.data?.items.slice(0, 10).map((r) => (
            <li key={r.id} className="spread">
              <span>
                {r.fileName ?? r.entity} · {r.format}
                {r.dryRun ? ' · dry run' : ''}
              </span>
              <span className="muted">
                {r.rows} rows, {r.inserted} new, {r.updated} updated, {r.failed} refused · {formatDateTime(r.createdAt)}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function Result({ record }: { record: ImportRecord }) {
  const running = record.status === 'running' || record.status === 'waiting';
  return (
    <section className="panel" aria-labelledby="result-title" data-testid="import-result">
      <h2 id="result-title">
        {record.dryRun ? 'Dry run' : 'Import'}: {running ? 'running' : record.status === 'failed' ? 'failed' : 'done'}{' '}
        {record.problemCount ? <Badge tone="bad">{plural(record.problemCount, 'problem')}</Badge> : running ? null : <Badge tone="good">no problems</Badge>}
      </h2>
      {running ? (
        <div role="progressbar" aria-label="Rows read" aria-valuetext={`${record.rows} rows`}>
          {record.rows.toLocaleString()} rows so far…
        </div>
      ) : null}
      {record.error ? <ErrorNote message={record.error} /> : null}
      <div className="grid-3">
        <Stat label="Rows read" value={record.rows} />
        <Stat label={record.dryRun ? 'Would be new' : 'New'} value={record.inserted} />
        <Stat label={record.dryRun ? 'Would be updated' : 'Updated'} value={record.updated} />
        <Stat label="Skipped" value={record.skipped} />
        <Stat label="Refused" value={record.failed} />
      </div>
      {record.notes.length ? (
        <div className="notice notice-info">
          <ul style={{ margin: 0 }}>
            {record.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {record.problems.length ? (
        <div className="table-wrap">
          <table>
            <caption className="muted" style={{ textAlign: 'left' }}>
              Rows with problems {record.dryRun ? '(fix them in the file, then check again)' : '(these rows were not imported)'}
            </caption>
            <thead>
              <tr>
                <th>Row</th>
                <th>Line</th>
                <th>Column</th>
                <th>Problem</th>
              </tr>
            </thead>
            <tbody>
              {record.problems.map((p) => (
                <tr key={`${p.row}-${p.column}-${p.message}`}>
                  <td>{p.row}</td>
                  <td>{p.line}</td>
                  <td>{p.column ?? '—'}</td>
                  <td>{p.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {!record.dryRun && !running && record.inserted + record.updated > 0 ? (
        <p>
          <Link to="/leads?sort=-created">See the newest leads</Link>
        </p>
      ) : null}
    </section>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div>
      <div className="stat">{value.toLocaleString()}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

const slug = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 100) || 'column';
const plural = (n: number, word: string) => `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
