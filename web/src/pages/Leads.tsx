import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, messageOf, withQuery } from '../api';
import { useApi } from '../data';
import { CLASS_LABELS } from '../format';
import { LeadForm } from '../parts/LeadForm';
import { Link, navigate, useLocation, useTitle } from '../router';
import { useSession } from '../session';
import type { Lead, Page, ScoreClass } from '../types';
import { Badge, Button, Confirm, Dialog, Empty, ErrorNote, Field, Spinner, toast } from '../ui';

const FILTERS = ['q', 'stage', 'owner', 'team', 'class', 'source', 'persona', 'sort'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;
const ROW = 44;
const PAGE = 500;

/** Leads: filters in the address (so a view can be shared), a virtualized table paged by the server, a board by stage. */
export default function Leads() {
  useTitle('Leads');
  const { query } = useLocation();
  const filters: Filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? '']).filter(([, v]) => v));
  const mode = query.get('view') === 'board' ? 'board' : 'table';
  const [creating, setCreating] = useState(false);
  const setFilters = (next: Filters, view = mode) =>
    navigate(withQuery('/leads', { ...next, view: view === 'board' ? 'board' : undefined }), { replace: true });

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Leads</h1>
          <p className="muted">The shared record: every lead, whichever team holds it.</p>
        </div>
        <div className="row">
          <Button kind="primary" onClick={() => setCreating(true)}>
            New lead
          </Button>
        </div>
        <div className="row" role="tablist" aria-label="Layout">
          <Button kind={mode === 'table' ? 'primary' : 'secondary'} role="tab" aria-selected={mode === 'table'} onClick={() => setFilters(filters, 'table')}>
            Table
          </Button>
          <Button kind={mode === 'board' ? 'primary' : 'secondary'} role="tab" aria-selected={mode === 'board'} onClick={() => setFilters(filters, 'board')}>
            Board by stage
          </Button>
        </div>
      </div>
      {creating ? <LeadForm open onClose={() => setCreating(false)} onSaved={(lead) => navigate(`/leads/${lead.id}`)} /> : null}
      <FilterBar filters={filters} onChange={setFilters} />
      {mode === 'board' ? <Board filters={filters} /> : <LeadTable filters={filters} />}
    </>
  );
}

function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const { agreement, users } = useSession();
  const [text, setText] = useState(filters.q ?? '');
  const { me } = useSession();
  const saved = useApi<{ items: { id: string; name: string; filters: Filters; shared: boolean; mine: boolean }[] }>('/api/views?page=leads');
  const views = saved.data?.items ?? [];
  useEffect(() => setText(filters.q ?? ''), [filters.q]);
  // Typing filters after a pause, not on every key.
  useEffect(() => {
    if (text === (filters.q ?? '')) return;
    const t = setTimeout(() => {
      // The person may have opened a lead meanwhile; the filter must not pull them back.
      if (location.pathname === '/leads') onChange({ ...filters, q: text });
    }, 300);
    return () => clearTimeout(t);
  }, [text, filters, onChange]);
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => onChange({ ...filters, [k]: e.target.value });
  const [naming, setNaming] = useState(false);
  const [viewName, setViewName] = useState('');
  const [share, setShare] = useState(false);
  const [viewError, setViewError] = useState<string | null>(null);
  const saveView = async () => {
    try {
      await api('/api/views', { body: { page: 'leads', name: viewName.trim(), filters, shared: share } });
      toast(share ? `Saved “${viewName.trim()}” for everyone` : `Saved “${viewName.trim()}”`);
      setNaming(false);
      setViewName('');
      setShare(false);
      setViewError(null);
      saved.reload();
    } catch (e) {
      setViewError(messageOf(e));
    }
  };
  const removeView = async (id: string) => {
    try {
      await api(`/api/views/${id}`, { method: 'DELETE' });
      saved.reload();
    } catch (e) {
      toast(messageOf(e), 'bad');
    }
  };
  return (
    <>
      <form className="filters" aria-label="Filter leads" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search">
          {(p) => <input {...p} type="search" placeholder="Name, email or company" value={text} onChange={(e) => setText(e.target.value)} />}
        </Field>
        <Field label="Stage">
          {(p) => (
            <select {...p} value={filters.stage ?? ''} onChange={set('stage')}>
              <option value="">Any stage</option>
              {agreement.document.stages.map((s) => (
                <option key={s.key} value={s.key}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Team">
          {(p) => (
            <select {...p} value={filters.team ?? ''} onChange={set('team')}>
              <option value="">Both teams</option>
              <option value="marketing">Marketing’s stages</option>
              <option value="sales">Sales’ stages</option>
            </select>
          )}
        </Field>
        <Field label="Owner">
          {(p) => (
            <select {...p} value={filters.owner ?? ''} onChange={set('owner')}>
              <option value="">Anyone</option>
              <option value="me">Me</option>
              <option value="none">Nobody</option>
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Class">
          {(p) => (
            <select {...p} value={filters.class ?? ''} onChange={set('class')}>
              <option value="">Any class</option>
              {Object.entries(CLASS_LABELS).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Source">{(p) => <input {...p} value={filters.source ?? ''} onChange={set('source')} placeholder="e.g. webinar" />}</Field>
        <Field label="Persona">{(p) => <input {...p} value={filters.persona ?? ''} onChange={set('persona')} placeholder="e.g. economic_buyer" />}</Field>
      </form>
      <div className="row" style={{ marginBottom: 12 }}>
        <span className="muted">Saved views:</span>
        {views.length === 0 ? <span className="muted">none yet</span> : null}
        {views.map((v) => (
          <span key={v.id} className="view-chip">
            <Button
              kind="ghost"
              onClick={() => onChange(v.filters)}
              title={v.shared ? (v.mine ? 'Shared by you with everyone' : 'Shared with everyone') : 'Only you see this view'}
            >
              {v.name}
              {v.shared ? <span className="sr-only"> (shared)</span> : null}
              {v.shared ? <span aria-hidden="true"> ·&nbsp;shared</span> : null}
            </Button>
            {v.mine || me.user.isAdmin ? (
              <button type="button" className="chip-remove" aria-label={`Delete the view ${v.name}`} onClick={() => void removeView(v.id)}>
                ×
              </button>
            ) : null}
          </span>
        ))}
        <Dialog open={naming} title="Save this view" onClose={() => setNaming(false)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void saveView();
            }}
          >
            <Field label="Name" error={viewError}>
              {(p) => <input {...p} value={viewName} onChange={(e) => setViewName(e.target.value)} placeholder="e.g. My hot MQLs" />}
            </Field>
            <label className="check">
              <input type="checkbox" checked={share} onChange={(e) => setShare(e.target.checked)} /> Share with everyone in the workspace
            </label>
            <div className="actions">
              <Button onClick={() => setNaming(false)}>Cancel</Button>
              <Button kind="primary" type="submit" disabled={!viewName.trim()}>
                Save view
              </Button>
            </div>
          </form>
        </Dialog>
        <Button kind="ghost" onClick={() => setNaming(true)} disabled={Object.keys(filters).length === 0}>
          Save this view
        </Button>
        {Object.keys(filters).length ? (
          <Button kind="ghost" onClick={() => onChange({})}>
            Clear filters
          </Button>
        ) : null}
      </div>
    </>
  );
}

function LeadTable({ filters }: { filters: Filters }) {
  const { stageName, agreement, me } = useSession();
  const [items, setItems] = useState<Lead[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkStage, setBulkStage] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const body = useRef<HTMLDivElement>(null);
  const key = JSON.stringify(filters);
  const generation = useRef(0);

  const loadMore = useCallback(
    async (from: string | null, gen: number) => {
      setLoading(true);
      try {
        const page = await api<Page<Lead>>(withQuery('/api/leads', { ...JSON.parse(key), limit: PAGE, cursor: from }));
        if (gen !== generation.current) return;
        setItems((xs) => (from ? [...xs, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setDone(!page.nextCursor);
        setError(null);
      } catch (e) {
        if (gen === generation.current) setError(messageOf(e));
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [key],
  );

  useEffect(() => {
    generation.current += 1;
    setItems([]);
    setCursor(null);
    setDone(false);
    setSelected(new Set());
    body.current?.scrollTo(0, 0);
    void loadMore(null, generation.current);
  }, [loadMore]);

  const height = body.current?.clientHeight ?? 600;
  const first = Math.max(0, Math.floor(scrollTop / ROW) - 10);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / ROW) + 10);
  useEffect(() => {
    if (!loading && !done && cursor && last >= items.length - 400) void loadMore(cursor, generation.current);
  }, [last, items.length, loading, done, cursor, loadMore]);

  const myStages = agreement.document.stages.filter((s) => s.team === me.user.team && s.role !== 'accepted');
  const toggle = useCallback(
    (id: string) =>
      setSelected((s) => {
        const n = new Set(s);
        if (n.has(id)) n.delete(id);
        else n.add(id);
        return n;
      }),
    [],
  );

  async function bulkMove() {
    setBusy(true);
    try {
      const r = await api<{ moved: string[]; refused: { id: string; message: string }[] }>('/api/leads/bulk/stage', {
        body: { ids: [...selected], stage: bulkStage },
      });
      const why = [...new Set(r.refused.map((x) => x.message))].slice(0, 2).join('; ');
      toast(
        r.refused.length ? `Moved ${r.moved.length}; ${r.refused.length} left where they were: ${why}` : `Moved ${r.moved.length} to ${stageName(bulkStage)}`,
        r.refused.length ? 'bad' : 'good',
      );
    } catch (e) {
      toast(messageOf(e), 'bad');
    } finally {
      setBusy(false);
      setConfirming(false);
    }
    generation.current += 1;
    setSelected(new Set());
    void loadMore(null, generation.current);
  }

  return (
    <>
      {selected.size ? (
        <section className="bulkbar" aria-label="Bulk actions">
          <strong>{selected.size} selected</strong>
          <label htmlFor="bulk-stage">Move to</label>
          <select id="bulk-stage" value={bulkStage} onChange={(e) => setBulkStage(e.target.value)}>
            <option value="">a stage your team owns…</option>
            {myStages.map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
          <Button kind="primary" disabled={!bulkStage} onClick={() => setConfirming(true)}>
            Move
          </Button>
          <Button kind="ghost" onClick={() => setSelected(new Set())}>
            Clear selection
          </Button>
        </section>
      ) : null}
      <Confirm
        open={confirming}
        title={`Move ${selected.size} leads to ${stageName(bulkStage)}?`}
        body={<p>Each lead is checked against the agreement; leads your team does not hold are left where they are and listed.</p>}
        confirmLabel="Move them"
        busy={busy}
        onConfirm={() => void bulkMove()}
        onClose={() => setConfirming(false)}
      />
      {error ? <ErrorNote message={error} retry={() => void loadMore(cursor, generation.current)} /> : null}
      <div className="vgrid vgrid-body" ref={body} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <table aria-label="Leads" aria-rowcount={done ? items.length + 1 : -1}>
          <thead className="vgrid-head">
            <tr>
              <th scope="col">
                <span className="sr-only">Select</span>
              </th>
              <th scope="col">
                <SortButton label="Lead" field="email" filters={filters} />
              </th>
              <th scope="col">Company</th>
              <th scope="col">Stage</th>
              <th scope="col">Owner</th>
              <th scope="col">Class</th>
              <th scope="col">
                <SortButton label="Added" field="created" filters={filters} />
              </th>
            </tr>
          </thead>
          {/* Only the rows in view are in the page; the body is as tall as all of them. */}
          <tbody style={{ height: items.length * ROW }}>
            {items.slice(first, last).map((lead, i) => (
              <LeadRow key={lead.id} lead={lead} index={first + i} selected={selected.has(lead.id)} onToggle={toggle} />
            ))}
          </tbody>
        </table>
      </div>
      {loading && items.length === 0 ? <Spinner label="Loading leads" /> : null}
      {!loading && !error && items.length === 0 ? (
        <Empty title="No leads match">
          {Object.keys(filters).length ? 'Try fewer filters.' : 'Import a HubSpot or Salesforce export, or send website behaviour to the tracking API.'}{' '}
          <Link to="/import">Import leads</Link>
        </Empty>
      ) : null}
      <p className="muted" aria-live="polite">
        {items.length.toLocaleString()} leads loaded{done ? '' : ', more as you scroll'}.
      </p>
    </>
  );
}

/** One row; unchanged rows are not re-rendered while the table scrolls. */
const LeadRow = memo(function LeadRow({ lead, index, selected, onToggle }: { lead: Lead; index: number; selected: boolean; onToggle: (id: string) => void }) {
  const { userName, stageName } = useSession();
  return (
    <tr className={`vgrid-row ${selected ? 'selected' : ''}`} aria-rowindex={index + 2} style={{ top: index * ROW }}>
      <td>
        <input type="checkbox" aria-label={`Select ${lead.name || lead.email}`} checked={selected} onChange={() => onToggle(lead.id)} />
      </td>
      <td>
        <Link to={`/leads/${lead.id}`}>{lead.name || lead.email}</Link>
      </td>
      <td>{lead.company ?? '—'}</td>
      <td>{stageName(lead.stage)}</td>
      <td>{lead.ownerId ? userName(lead.ownerId) : '—'}</td>
      <td>{lead.scoreClass ? <ClassBadge cls={lead.scoreClass} /> : '—'}</td>
      <td>{new Date(lead.createdAt).toLocaleDateString()}</td>
    </tr>
  );
});

function SortButton({ label, field, filters }: { label: string; field: string; filters: Filters }) {
  const current = filters.sort ?? '-created';
  const on = current.replace('-', '') === field;
  const desc = current.startsWith('-');
  const next = on && !desc ? `-${field}` : field;
  return (
    <button
      type="button"
      aria-label={`Sort by ${label}${on ? (desc ? ', now descending' : ', now ascending') : ''}`}
      onClick={() => navigate(withQuery('/leads', { ...filters, sort: next }), { replace: true })}
    >
      {label} {on ? (desc ? '↓' : '↑') : ''}
    </button>
  );
}

export function ClassBadge({ cls }: { cls: ScoreClass }) {
  const tone = cls === 'good_fit_high_interest' ? 'good' : cls === 'low_fit_low_interest' ? 'neutral' : 'info';
  return <Badge tone={tone}>{CLASS_LABELS[cls]}</Badge>;
}

function Board({ filters }: { filters: Filters }) {
  const { agreement } = useSession();
  const stages = agreement.document.stages.filter((s) => !filters.stage || s.key === filters.stage);
  return (
    <section className="board" aria-label="Leads by stage">
      {stages.map((s) => (
        <BoardColumn key={s.key} stage={s.key} name={s.name} team={s.team} filters={filters} />
      ))}
    </section>
  );
}

function BoardColumn({ stage, name, team, filters }: { stage: string; name: string; team: string; filters: Filters }) {
  const path = useMemo(() => withQuery('/api/leads', { ...filters, stage, limit: 30 }), [filters, stage]);
  const { data, error } = useApi<Page<Lead>>(path);
  return (
    <section className="board-col" aria-label={name}>
      <h2>
        {name} <Badge tone={team === 'marketing' ? 'marketing' : 'sales'}>{team}</Badge>
      </h2>
      {error ? <ErrorNote message={error} /> : null}
      {!data && !error ? <Spinner /> : null}
      {data?.items.length === 0 ? <p className="muted">No leads here.</p> : null}
      {data?.items.map((l) => (
        <div className="card" key={l.id}>
          <Link to={`/leads/${l.id}`}>{l.name || l.email}</Link>
          <div className="muted">{l.company ?? l.email}</div>
        </div>
      ))}
      {data?.nextCursor ? (
        <Link to={withQuery('/leads', { ...filters, stage })} className="muted">
          More in the table…
        </Link>
      ) : null}
    </section>
  );
}
