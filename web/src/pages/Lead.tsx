import { Fragment, useState } from 'react';
import { api, messageOf } from '../api';
import { forgetLead, useApi } from '../data';
import { formatDateTime } from '../format';
import { useLive } from '../live';
import { HandoffActions } from '../parts/HandoffActions';
import { LeadForm } from '../parts/LeadForm';
import { ReasonDialog } from '../parts/ReasonDialog';
import { ScorePanel } from '../parts/ScorePanel';
import { Timeline } from '../parts/Timeline';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import type { Account, Handoff, Lead, LeadActions, Page, Reason } from '../types';
import { Badge, Button, Confirm, Countdown, Dialog, ErrorNote, Field, Spinner, toast } from '../ui';
import { StatusBadge } from './Home';
import { ClassBadge } from './Leads';

export default function LeadPage({ id }: { id: string }) {
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState(false);
  const lead = useApi<Lead>(`/api/leads/${id}?r=${tick}`);
  const actions = useApi<LeadActions>(`/api/leads/${id}/actions?r=${tick}`);
  const handoffs = useApi<Page<Handoff>>(`/api/handoffs?leadId=${id}&limit=20&r=${tick}`);
  const account = useApi<Account>(lead.data?.accountId ? `/api/accounts/${lead.data.accountId}` : null);
  const { userName, stage } = useSession();
  const refresh = () => {
    forgetLead(id);
    setTick((t) => t + 1);
  };
  useLive(refresh, (a) => a.leadId === id);
  useTitle(lead.data ? lead.data.name || lead.data.email : 'Lead');

  if (lead.error && !lead.data) return <ErrorNote message={lead.error} retry={lead.reload} />;
  if (!lead.data) return <Spinner label="Loading the lead" />;
  const l = lead.data;
  const st = stage(l.stage);
  const open = handoffs.data?.items.find((h) => h.status === 'open');
  const contactDue = handoffs.data?.items.find((h) => h.status === 'accepted' && h.firstContactDueAt && !h.firstContactAt);
  const name = l.name || l.email;

  return (
    <>
      <div className="page-head">
        <div>
          <p className="muted" style={{ marginBottom: 4 }}>
            <Link to="/leads">Leads</Link> /
          </p>
          <h1>{name}</h1>
          <div className="row">
            <Badge tone={st?.team === 'sales' ? 'sales' : 'marketing'}>{st?.name ?? l.stage}</Badge>
            {l.scoreClass ? <ClassBadge cls={l.scoreClass} /> : null}
            <span className="muted">Owner: {l.ownerId ? userName(l.ownerId) : 'nobody yet'}</span>
          </div>
        </div>
        <div className="row">
          {actions.data?.edit ? <Button onClick={() => setEditing(true)}>Edit</Button> : null}
          {actions.data ? <LeadActionBar lead={l} actions={actions.data} onDone={refresh} /> : null}
        </div>
      </div>
      {editing ? (
        <LeadForm
          lead={l}
          open
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            toast('Saved');
            refresh();
          }}
        />
      ) : null}

      {open ? (
        <section className="panel" aria-labelledby="handoff-title" data-testid="open-handoff">
          <h2 id="handoff-title">Open handoff</h2>
          <div className="spread">
            <div>
              <div>
                To <strong>{open.assigneeId ? userName(open.assigneeId) : 'the unassigned queue'}</strong>
                {open.route.explanation ? <span className="muted"> — {open.route.explanation}</span> : null}
              </div>
              <Countdown dueAt={open.dueAt} breachedAt={open.breachedAt} /> <span className="muted">to accept or reject</span>
            </div>
            <div className="row">
              <HandoffActions handoff={open} leadName={name} onDone={refresh} />
              <HandoffAdmin handoff={open} onDone={refresh} />
            </div>
          </div>
        </section>
      ) : null}
      {contactDue ? (
        <section className="panel" aria-labelledby="contact-title">
          <h2 id="contact-title">First contact due</h2>
          <div className="spread">
            {contactDue.firstContactDueAt ? <Countdown dueAt={contactDue.firstContactDueAt} /> : null}
            <HandoffActions handoff={contactDue} leadName={name} onDone={refresh} />
          </div>
        </section>
      ) : null}

      <div className="grid-2">
        <section className="panel" aria-labelledby="profile-title">
          <h2 id="profile-title">Profile</h2>
          <dl className="facts">
            <dt>Email</dt>
            <dd>
              <a href={`mailto:${l.email}`}>{l.email}</a>
            </dd>
            <dt>Title</dt>
            <dd>{l.title ?? '—'}</dd>
            <dt>Company</dt>
            <dd>{l.company ?? '—'}</dd>
            <dt>Account</dt>
            <dd>{account.data ? <Link to={`/accounts/${account.data.id}`}>{account.data.name}</Link> : l.accountId ? 'Loading…' : '—'}</dd>
            <dt>Phone</dt>
            <dd>{l.phone ?? '—'}</dd>
            <dt>Country</dt>
            <dd>{l.country ?? '—'}</dd>
            <dt>Source</dt>
            <dd>{l.source ?? '—'}</dd>
            <dt>Persona</dt>
            <dd>{l.persona ?? '—'}</dd>
            <dt>Status</dt>
            <dd>{l.status ?? '—'}</dd>
            <dt>In this stage since</dt>
            <dd>{formatDateTime(l.stageChangedAt)}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(l.createdAt)}</dd>
            {Object.entries(l.properties).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k.replace(/_/g, ' ')}</dt>
                <dd>{v === null ? '—' : String(v)}</dd>
              </Fragment>
            ))}
          </dl>
        </section>
        <section className="panel" aria-labelledby="handoffs-title">
          <h2 id="handoffs-title">Handoffs</h2>
          {handoffs.data?.items.length === 0 ? <p className="muted">This lead has not been handed to sales.</p> : null}
          <ul className="list">
            {handoffs.data?.items.map((h) => (
              <li key={h.id} className="spread">
                <span>
                  {formatDateTime(h.createdAt)} to {h.assigneeId ? userName(h.assigneeId) : 'unassigned'}
                  {h.reasonCode ? <span className="muted"> — {h.reasonCode}</span> : null}
                </span>
                <StatusBadge handoff={h} />
              </li>
            ))}
          </ul>
        </section>
      </div>

      <section className="panel" aria-labelledby="score-title">
        <h2 id="score-title">Scores</h2>
        <ScorePanel leadId={id} refreshKey={tick} />
      </section>

      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        {actions.data?.note ? <NoteForm leadId={id} onDone={refresh} /> : null}
        <Timeline path={`/api/leads/${id}/timeline`} refreshKey={tick} />
      </section>
    </>
  );
}

/** Stage moves and hand-back, as the server says this person may make them. */
function LeadActionBar({ lead, actions, onDone }: { lead: Lead; actions: LeadActions; onDone: () => void }) {
  const allowed = actions.moves.filter((m) => m.allowed);
  const handoff = allowed.find((m) => m.role === 'handoff');
  const others = allowed.filter((m) => m.role !== 'handoff');
  const [moving, setMoving] = useState<LeadActions['moves'][number] | null>(null);
  const [handingBack, setHandingBack] = useState(false);
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);

  async function handOff() {
    setBusy(true);
    try {
      await api(`/api/leads/${lead.id}/stage`, { body: { stage: handoff?.key, version: lead.version } });
      toast(`${lead.name || lead.email} handed to sales`);
      onDone();
    } catch (e) {
      toast(messageOf(e), 'bad');
    } finally {
      setBusy(false);
      setMoving(null);
    }
  }

  return (
    <div className="row">
      {handoff ? (
        <Button kind="primary" onClick={() => setMoving(handoff)}>
          Hand off to sales
        </Button>
      ) : null}
      {others.length ? (
        <>
          <label className="sr-only" htmlFor="move-to">
            Move to stage
          </label>
          <select id="move-to" value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">Move to…</option>
            {others.map((m) => (
              <option key={m.key} value={m.key}>
                {m.name}
              </option>
            ))}
          </select>
          <Button disabled={!target} onClick={() => setMoving(others.find((m) => m.key === target) ?? null)}>
            Move
          </Button>
        </>
      ) : null}
      {actions.handBack ? <Button onClick={() => setHandingBack(true)}>Hand back to marketing…</Button> : null}
      {!handoff && !others.length && !actions.handBack ? (
        <span className="muted" title={actions.moves.find((m) => m.why)?.why ?? ''}>
          {actions.moves.find((m) => m.why)?.why ? `You cannot move this lead: ${actions.moves.find((m) => m.why)?.why}` : null}
        </span>
      ) : null}
      <Confirm
        open={moving?.role === 'handoff'}
        title="Hand this lead to sales?"
        body={<p>The agreement routes it to a rep, who must accept or reject it in time. You can withdraw it while it waits.</p>}
        confirmLabel="Hand off"
        busy={busy}
        onConfirm={() => void handOff()}
        onClose={() => setMoving(null)}
      />
      {moving && moving.role !== 'handoff' ? (
        <MoveDialog
          lead={lead}
          move={moving}
          reasons={moving.role === 'disqualified' ? actions.reasons.disqualify : []}
          onClose={() => setMoving(null)}
          onDone={() => {
            setMoving(null);
            setTarget('');
            onDone();
          }}
        />
      ) : null}
      {handingBack ? (
        <ReasonDialog
          title="Hand back to marketing"
          intro="Say why; marketing sees it, and the agreement decides where the lead goes."
          reasons={actions.reasons.handBack}
          confirmLabel="Hand back"
          submit={(reason, note) => api(`/api/leads/${lead.id}/hand-back`, { body: { reason, ...(note ? { note } : {}) } })}
          onClose={() => setHandingBack(false)}
          onDone={() => {
            setHandingBack(false);
            toast('Handed back to marketing');
            onDone();
          }}
        />
      ) : null}
    </div>
  );
}

function MoveDialog({
  lead,
  move,
  reasons,
  onClose,
  onDone,
}: {
  lead: Lead;
  move: { key: string; name: string };
  reasons: Reason[];
  onClose: () => void;
  onDone: () => void;
}) {
  const submit = (reason: string, note: string) =>
    api(`/api/leads/${lead.id}/stage`, { body: { stage: move.key, version: lead.version, ...(reason ? { reason } : {}), ...(note ? { note } : {}) } });
  return (
    <ReasonDialog
      title={`Move to ${move.name}`}
      intro={reasons.length ? 'Disqualifying needs one of the agreement’s reasons.' : 'Add a note for the timeline if it helps the next person.'}
      reasons={reasons}
      confirmLabel="Move"
      submit={submit}
      onClose={onClose}
      onDone={() => {
        toast(`Moved to ${move.name}`);
        onDone();
      }}
    />
  );
}

/** Withdraw (marketing) or reassign (sales lead) an open handoff. */
function HandoffAdmin({ handoff, onDone }: { handoff: Handoff; onDone: () => void }) {
  const { users } = useSession();
  const [withdrawing, setWithdrawing] = useState(false);
  const [reassigning, setReassigning] = useState(false);
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  async function run(path: string, body: unknown, done: string) {
    setBusy(true);
    try {
      await api(path, { body });
      toast(done);
      onDone();
    } catch (e) {
      toast(messageOf(e), 'bad');
    } finally {
      setBusy(false);
      setWithdrawing(false);
      setReassigning(false);
    }
  }
  return (
    <>
      {handoff.can.withdraw ? <Button onClick={() => setWithdrawing(true)}>Withdraw</Button> : null}
      {handoff.can.reassign ? <Button onClick={() => setReassigning(true)}>Reassign…</Button> : null}
      <Confirm
        open={withdrawing}
        title="Withdraw this handoff?"
        body={<p>The lead comes back to marketing and the rep’s clock stops.</p>}
        confirmLabel="Withdraw"
        danger
        busy={busy}
        onConfirm={() => void run(`/api/handoffs/${handoff.id}/withdraw`, {}, 'Handoff withdrawn')}
        onClose={() => setWithdrawing(false)}
      />
      <Dialog open={reassigning} title="Reassign to another rep" onClose={() => setReassigning(false)}>
        <Field label="Rep">
          {(p) => (
            <select {...p} value={to} onChange={(e) => setTo(e.target.value)}>
              <option value="">Choose a rep…</option>
              {users
                .filter((u) => u.team === 'sales' && u.active && u.id !== handoff.assigneeId)
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
            </select>
          )}
        </Field>
        <div className="actions">
          <Button onClick={() => setReassigning(false)}>Cancel</Button>
          <Button kind="primary" busy={busy} disabled={!to} onClick={() => void run(`/api/handoffs/${handoff.id}/reassign`, { userId: to }, 'Reassigned')}>
            Reassign
          </Button>
        </div>
      </Dialog>
    </>
  );
}

function NoteForm({ leadId, onDone }: { leadId: string; onDone: () => void }) {
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          await api(`/api/leads/${leadId}/notes`, { body: { body } });
          setBody('');
          setError(null);
          onDone();
        } catch (err) {
          setError(messageOf(err));
        } finally {
          setBusy(false);
        }
      }}
      style={{ marginBottom: 16 }}
    >
      <Field label="Add a note" error={error}>
        {(p) => <textarea {...p} value={body} onChange={(e) => setBody(e.target.value)} placeholder="What both teams should know" />}
      </Field>
      <Button kind="secondary" type="submit" busy={busy} disabled={!body.trim()}>
        Save note
      </Button>
    </form>
  );
}
