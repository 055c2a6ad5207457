import { useEffect, useRef, useState } from 'react';
import { ApiError, api, messageOf, type Problem } from '../api';
import { useApi } from '../data';
import { formatDateTime } from '../format';
import { AgreementForm } from '../parts/AgreementForm';
import { useTitle } from '../router';
import { useSession } from '../session';
import type { AgreementDocument, AgreementVersion } from '../types';
import { Badge, Button, Dialog, Empty, ErrorNote, Field, ProblemList, Spinner, toast } from '../ui';

const DAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The agreement: read it in words, edit a draft, see what changes, propose, sign or send back. */
export default function Agreement() {
  useTitle('Agreement');
  const { agreement, me, refresh } = useSession();
  const history = useApi<{ items: AgreementVersion[] }>('/api/agreements');
  const [tab, setTab] = useState<'read' | 'draft' | 'history'>(agreement.pending ? 'draft' : 'read');
  const isLead = me.user.level === 'lead' || me.user.isAdmin;
  const reloadAll = async () => {
    await refresh();
    history.reload();
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>{agreement.document.name}</h1>
          <p className="muted">
            {agreement.signed
              ? `Version ${agreement.version}, signed by both team leads.`
              : 'Not signed yet: the built-in default applies until both team leads sign a version.'}
          </p>
        </div>
        {isLead && !agreement.pending ? (
          <Button
            kind="primary"
            onClick={async () => {
              try {
                await api('/api/agreements', { body: {} });
                await reloadAll();
                setTab('draft');
              } catch (e) {
                toast(messageOf(e), 'bad');
              }
            }}
          >
            Start a new version
          </Button>
        ) : null}
      </div>
      <div className="tabs" role="tablist" aria-label="Agreement">
        {(
          [
            ['read', 'In force'],
            ['draft', agreement.pending ? `Version ${agreement.pending.version} (${agreement.pending.status})` : 'Next version'],
            ['history', 'History'],
          ] as const
        ).map(([k, label]) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} onClick={() => setTab(k)}>
            {label}
          </button>
        ))}
      </div>
      {tab === 'read' ? <DocumentView doc={agreement.document} /> : null}
      {tab === 'draft' ? (
        agreement.pending ? (
          <Pending version={agreement.pending} activeVersion={agreement.version} onChanged={reloadAll} />
        ) : (
          <Empty title="No version is being prepared">
            {isLead
              ? 'Start a new version to change the agreement; both team leads sign it before it applies.'
              : 'A team lead starts a new version when the agreement needs to change.'}
          </Empty>
        )
      ) : null}
      {tab === 'history' ? <History history={history.data?.items} error={history.error} /> : null}
    </>
  );
}

/** The document as both teams read it: plain sentences, not JSON. */
export function DocumentView({ doc }: { doc: AgreementDocument }) {
  const stageName = (k: string) => doc.stages.find((s) => s.key === k)?.name ?? k;
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  return (
    <article className="panel doc">
      <h2>The funnel and who owns each stage</h2>
      <ol>
        {doc.stages.map((s) => (
          <li key={s.key}>
            <strong>{s.name}</strong> — owned by <Badge tone={s.team}>{s.team}</Badge>
            {s.role === 'handoff' ? ' (marketing hands the lead to sales here)' : s.role === 'accepted' ? ' (sales has accepted the lead)' : ''}
          </li>
        ))}
      </ol>
      <h2>When a lead goes to sales</h2>
      <ul>
        {doc.handoff.criteria.manual ? <li>A marketer may hand a lead off by hand.</li> : <li>Only the rules below hand leads off.</li>}
        {doc.handoff.criteria.auto.map((c) => (
          <li key={c.id}>Automatically: {c.label}.</li>
        ))}
      </ul>
      <h2>How fast sales must act</h2>
      <p>
        A rep accepts or rejects a lead within <strong>{doc.sla.acceptWithin}</strong> of business time, and makes first contact within{' '}
        <strong>{doc.sla.firstContactWithin}</strong> of accepting. Business hours are {doc.calendar.hours.start}–{doc.calendar.hours.end} (
        {doc.calendar.timeZone}) on {doc.calendar.workingDays.map((d) => DAYS[d]).join(', ')}
        {doc.calendar.holidays.length ? `, except ${doc.calendar.holidays.join(', ')}` : ''}.
      </p>
      <h2>When they don’t</h2>
      <ul>
        {doc.escalation.map((e) => (
          <li key={`${e.at}-${e.action}`}>
            At {pct(e.at)} of the time:{' '}
            {e.action === 'remind' ? 'the rep is reminded' : e.action === 'notify_lead' ? 'the sales lead is told' : 'the lead is reassigned to another rep'}.
          </li>
        ))}
      </ul>
      <h2>Who gets which lead</h2>
      <ul>
        {doc.routing.accountOwnerFirst ? <li>The account’s owner, when it has one.</li> : null}
        {doc.routing.rules.map((r) => (
          <li key={r.name}>
            {r.name}: {r.pool.map((p) => p.user).join(', ')}
          </li>
        ))}
        <li>
          Otherwise round robin among {doc.routing.fallbackPool.length ? doc.routing.fallbackPool.map((p) => p.user).join(', ') : 'every active sales rep'}.
        </li>
      </ul>
      <h2>Reasons sales may give</h2>
      <div className="grid-3">
        {(
          [
            ['reject', 'Rejecting a handoff'],
            ['handBack', 'Handing a lead back'],
            ['disqualify', 'Disqualifying'],
          ] as const
        ).map(([k, title]) => (
          <div key={k}>
            <h3>{title}</h3>
            <ul>
              {doc.reasons[k].map((r) => (
                <li key={r.code}>
                  {r.label} <span className="muted">→ {stageName(r.to ?? '')}</span>
                  {r.noteRequired ? <span className="muted"> (with a note)</span> : null}
                </li>
              ))}
            </ul>
          </div>
        ))}
      </div>
      <h2>What each team commits to</h2>
      <ul>
        <li>
          Marketing: {doc.commitments.marketing.mqlsPerMonth} MQLs a month, at least {pct(doc.commitments.marketing.minAcceptanceRate)} of them accepted.
        </li>
        <li>
          Sales: {pct(doc.commitments.sales.acceptOnTimeRate)} of handoffs answered in time, {pct(doc.commitments.sales.firstContactOnTimeRate)} contacted in
          time.
        </li>
        <li>
          Leads in nurture return to {stageName(doc.nurture.returnTo)} after {doc.nurture.days} days.
        </li>
      </ul>
    </article>
  );
}

function Pending({ version, activeVersion, onChanged }: { version: AgreementVersion; activeVersion: number; onChanged: () => Promise<void> }) {
  const { me, userName } = useSession();
  const isLead = me.user.level === 'lead';
  const canEdit = version.status === 'draft' && (isLead || me.user.isAdmin);
  const diff = useApi<{ changes: { path: string; change: string; before?: unknown; after?: unknown }[] }>(
    `/api/agreements/diff?from=${activeVersion}&to=${version.version}&u=${version.updatedAt}`,
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [returning, setReturning] = useState(false);
  const [comment, setComment] = useState('');
  async function act(what: 'propose' | 'sign' | 'return', body?: unknown) {
    setBusy(what);
    try {
      await api(`/api/agreements/${version.id}/${what}`, { method: 'POST', body: body ?? {} });
      toast(what === 'propose' ? 'Proposed; both team leads can sign it now' : what === 'sign' ? 'Signed' : 'Sent back with your comment');
      setReturning(false);
      await onChanged();
    } catch (e) {
      toast(messageOf(e), 'bad');
    } finally {
      setBusy(null);
    }
  }
  const mySig = version.signatures[me.user.team];
  return (
    <>
      <section className="panel" aria-labelledby="state-title">
        <h2 id="state-title">
          Version {version.version}: {version.status}
        </h2>
        {version.returned ? (
          <div className="notice notice-warn">
            Sent back by {userName(version.returned.by)} on {formatDateTime(version.returned.at)}
            {version.returned.comment ? `: “${version.returned.comment}”` : ''}
          </div>
        ) : null}
        <p>
          Marketing: {version.signatures.marketing ? `signed by ${userName(version.signatures.marketing.by)}` : 'not signed'} · Sales:{' '}
          {version.signatures.sales ? `signed by ${userName(version.signatures.sales.by)}` : 'not signed'}
          {version.status === 'proposed' && version.waitingOn.length ? ` · waiting on ${version.waitingOn.join(' and ')}` : ''}
        </p>
        <div className="row">
          {canEdit ? (
            <Button kind="primary" busy={busy === 'propose'} onClick={() => void act('propose')}>
              Propose for signature
            </Button>
          ) : null}
          {version.status === 'proposed' && isLead && !mySig ? (
            <Button kind="primary" busy={busy === 'sign'} onClick={() => void act('sign')}>
              Sign for {me.user.team}
            </Button>
          ) : null}
          {version.status === 'proposed' && isLead ? <Button onClick={() => setReturning(true)}>Send back…</Button> : null}
        </div>
      </section>
      <Dialog open={returning} title="Send this version back" onClose={() => setReturning(false)}>
        <Field label="What should change?">{(p) => <textarea {...p} value={comment} onChange={(e) => setComment(e.target.value)} />}</Field>
        <div className="actions">
          <Button onClick={() => setReturning(false)}>Cancel</Button>
          <Button kind="danger" busy={busy === 'return'} disabled={!comment.trim()} onClick={() => void act('return', { comment: comment.trim() })}>
            Send back
          </Button>
        </div>
      </Dialog>
      <section className="panel" aria-labelledby="diff-title">
        <h2 id="diff-title">What changes against the version in force</h2>
        {diff.error ? <ErrorNote message={diff.error} retry={diff.reload} /> : null}
        {diff.data?.changes.length === 0 ? <p className="muted">Nothing yet: this version is the same as the one in force.</p> : null}
        <ul>
          {diff.data?.changes.map((c) => (
            <li key={c.path}>
              <code>{c.path}</code>: {c.change === 'added' ? <span className="diff-added">added {show(c.after)}</span> : null}
              {c.change === 'removed' ? <span className="diff-removed">{show(c.before)}</span> : null}
              {c.change === 'changed' ? (
                <>
                  <span className="diff-removed">{show(c.before)}</span> → <span className="diff-changed">{show(c.after)}</span>
                </>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
      {canEdit ? <DraftEditor version={version} onSaved={onChanged} /> : <DocumentView doc={version.document} />}
    </>
  );
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Edit the draft: the common terms as a form, everything as JSON; each change is checked and saved as you type. */
function DraftEditor({ version, onSaved }: { version: AgreementVersion; onSaved: () => Promise<void> }) {
  const [text, setText] = useState(() => JSON.stringify(version.document, null, 2));
  const [problems, setProblems] = useState<Problem[]>([]);
  const [state, setState] = useState<'saved' | 'saving' | 'invalid' | 'editing'>('saved');
  const [parseError, setParseError] = useState<string | null>(null);
  const first = useRef(true);
  const saved = useRef(onSaved);
  saved.current = onSaved;
  let doc: AgreementDocument | null = null;
  try {
    doc = JSON.parse(text) as AgreementDocument;
  } catch {
    doc = null;
  }
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      setParseError(null);
    } catch (e) {
      setParseError(`Not valid JSON: ${messageOf(e)}`);
      setState('invalid');
      return;
    }
    setState('editing');
    const t = setTimeout(async () => {
      setState('saving');
      try {
        await api(`/api/agreements/${version.id}`, { method: 'PUT', body: { document: parsed } });
        setProblems([]);
        setState('saved');
        await saved.current();
      } catch (e) {
        setProblems(e instanceof ApiError ? (e.problems.length ? e.problems : [{ path: '', message: e.message }]) : [{ path: '', message: messageOf(e) }]);
        setState('invalid');
      }
    }, 600);
    return () => clearTimeout(t);
  }, [text, version.id]);

  const problemAt = (path: string) => problems.find((p) => p.path.replace(/^body\.document\./, '') === path)?.message;
  const update = (change: (d: AgreementDocument) => void) => {
    if (!doc) return;
    const next = structuredClone(doc);
    change(next);
    setText(JSON.stringify(next, null, 2));
  };

  return (
    <section className="panel" aria-labelledby="edit-title">
      <div className="spread">
        <h2 id="edit-title">Edit version {version.version}</h2>
        <span role="status" className={state === 'invalid' ? 'error-text' : 'muted'}>
          {state === 'saved'
            ? 'All changes saved'
            : state === 'saving'
              ? 'Saving…'
              : state === 'editing'
                ? 'Editing…'
                : `${problems.length || 1} problem(s) to fix; not saved`}
        </span>
      </div>
      {doc ? (
        <div className="grid-3">
          <Field label="Accept or reject within" hint="Business time, e.g. 4h or 1h30m" error={problemAt('sla.acceptWithin')}>
            {(p) => (
              <input
                {...p}
                value={doc.sla.acceptWithin}
                onChange={(e) =>
                  update((d) => {
                    d.sla.acceptWithin = e.target.value;
                  })
                }
              />
            )}
          </Field>
          <Field label="First contact within" hint="After accepting, e.g. 8h" error={problemAt('sla.firstContactWithin')}>
            {(p) => (
              <input
                {...p}
                value={doc.sla.firstContactWithin}
                onChange={(e) =>
                  update((d) => {
                    d.sla.firstContactWithin = e.target.value;
                  })
                }
              />
            )}
          </Field>
          <Field label="Time zone" error={problemAt('calendar.timeZone')}>
            {(p) => (
              <input
                {...p}
                value={doc.calendar.timeZone}
                onChange={(e) =>
                  update((d) => {
                    d.calendar.timeZone = e.target.value;
                  })
                }
              />
            )}
          </Field>
          <Field label="Business hours start" error={problemAt('calendar.hours.start')}>
            {(p) => (
              <input
                {...p}
                value={doc.calendar.hours.start}
                onChange={(e) =>
                  update((d) => {
                    d.calendar.hours.start = e.target.value;
                  })
                }
              />
            )}
          </Field>
          <Field label="Business hours end" error={problemAt('calendar.hours.end')}>
            {(p) => (
              <input
                {...p}
                value={doc.calendar.hours.end}
                onChange={(e) =>
                  update((d) => {
                    d.calendar.hours.end = e.target.value;
                  })
                }
              />
            )}
          </Field>
          <Field label="MQLs a month (marketing commits)" error={problemAt('commitments.marketing.mqlsPerMonth')}>
            {(p) => (
              <input
                {...p}
                type="number"
                value={doc.commitments.marketing.mqlsPerMonth}
                onChange={(e) =>
                  update((d) => {
                    d.commitments.marketing.mqlsPerMonth = Number(e.target.value);
                  })
                }
              />
            )}
          </Field>
          <Field label="Days in nurture" error={problemAt('nurture.days')}>
            {(p) => (
              <input
                {...p}
                type="number"
                value={doc.nurture.days}
                onChange={(e) =>
                  update((d) => {
                    d.nurture.days = Number(e.target.value);
                  })
                }
              />
            )}
          </Field>
        </div>
      ) : null}
      {doc ? <AgreementForm doc={doc} update={update} problemAt={problemAt} /> : null}
      <ProblemList problems={problems} />
      <details open={Boolean(parseError)}>
        <summary>Everything as JSON (automatic handoff rules, routing rules, and the rest)</summary>
        <Field label="The whole document (JSON)" hint="The form above and this text are the same document." error={parseError}>
          {(p) => <textarea {...p} className="code-edit" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />}
        </Field>
      </details>
    </section>
  );
}

function History({ history, error }: { history: AgreementVersion[] | undefined; error: string | null }) {
  const { userName } = useSession();
  if (error) return <ErrorNote message={error} />;
  if (!history) return <Spinner />;
  if (history.length === 0) return <Empty title="No versions yet">The built-in default applies until the team leads sign a version.</Empty>;
  return (
    <div className="panel table-wrap">
      <table>
        <thead>
          <tr>
            <th>Version</th>
            <th>Status</th>
            <th>Marketing signed</th>
            <th>Sales signed</th>
            <th>In force from</th>
          </tr>
        </thead>
        <tbody>
          {history.map((v) => (
            <tr key={v.id}>
              <td>{v.version}</td>
              <td>
                <Badge tone={v.status === 'active' ? 'good' : v.status === 'superseded' ? 'neutral' : 'info'}>{v.status}</Badge>
              </td>
              <td>{v.signatures.marketing ? `${userName(v.signatures.marketing.by)}, ${formatDateTime(v.signatures.marketing.at)}` : '—'}</td>
              <td>{v.signatures.sales ? `${userName(v.signatures.sales.by)}, ${formatDateTime(v.signatures.sales.at)}` : '—'}</td>
              <td>{formatDateTime(v.activatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
