import { useApi, useLeads } from '../data';
import { formatDateTime, relative } from '../format';
import { useLive } from '../live';
import { HandoffActions } from '../parts/HandoffActions';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import type { Handoff, Lead, Page } from '../types';
import { Badge, Countdown, Empty, ErrorNote, Spinner } from '../ui';

/** The home page fits the person: a rep's queue, a marketer's flow to sales, a team lead's agreement and breaches. */
export default function Home() {
  const { me } = useSession();
  useTitle('Home');
  const { user } = me;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>
            Good {greeting()}, {user.name.split(' ')[0]}
          </h1>
          <p className="muted">{subtitle(user.team, user.level)}</p>
        </div>
      </div>
      {user.level === 'lead' ? <LeaderPanels /> : null}
      {user.team === 'sales' ? <RepQueue /> : <MarketingFlow />}
    </>
  );
}

function greeting(): string {
  const h = new Date().getHours();
  return h < 12 ? 'morning' : h < 18 ? 'afternoon' : 'evening';
}

function subtitle(team: string, level: string): string {
  if (team === 'sales')
    return level === 'lead'
      ? 'The agreement, today’s breaches, and the leads waiting on your team.'
      : 'Leads handed to you, with the time left to accept or reject each.';
  return level === 'lead'
    ? 'The agreement, today’s breaches, and how your MQLs are faring with sales.'
    : 'Your MQLs on their way to sales, and what sales said about them.';
}

const leadLabel = (lead: Lead | undefined, fallback = 'Loading…') => (lead ? lead.name || lead.email : fallback);

function RepQueue() {
  const { me } = useSession();
  const open = useApi<Page<Handoff>>('/api/handoffs?queue=mine&status=open&limit=100');
  const accepted = useApi<Page<Handoff>>('/api/handoffs?queue=mine&status=accepted&limit=50');
  const unassigned = useApi<Page<Handoff>>(me.user.level === 'lead' ? '/api/handoffs?queue=unassigned&status=open&limit=50' : null);
  const reload = () => {
    open.reload();
    accepted.reload();
    unassigned.reload();
  };
  useLive(reload, (a) => a.kind.startsWith('handoff.'));
  const waitingContact = (accepted.data?.items ?? []).filter((h) => h.firstContactDueAt && !h.firstContactAt);
  const all = [...(open.data?.items ?? []), ...waitingContact, ...(unassigned.data?.items ?? [])];
  const leads = useLeads(all.map((h) => h.leadId));
  const queue = [...(open.data?.items ?? [])].sort((a, b) => a.dueAt.localeCompare(b.dueAt));

  return (
    <>
      <section className="panel" aria-labelledby="queue-title">
        <div className="spread">
          <h2 id="queue-title">Your queue</h2>
          <span className="muted">{queue.length ? `${queue.length} waiting on you` : null}</span>
        </div>
        {open.error ? <ErrorNote message={open.error} retry={open.reload} /> : null}
        {open.loading && !open.data ? <Spinner /> : null}
        {open.data && queue.length === 0 ? (
          <Empty title="No leads waiting on you">New handoffs appear here the moment marketing hands them over; this page updates by itself.</Empty>
        ) : null}
        <ul className="list" aria-live="polite">
          {queue.map((h) => (
            <QueueItem key={h.id} handoff={h} lead={leads.get(h.leadId)} onDone={reload} />
          ))}
        </ul>
      </section>
      {waitingContact.length ? (
        <section className="panel" aria-labelledby="contact-title">
          <h2 id="contact-title">Accepted, first contact due</h2>
          <ul className="list">
            {waitingContact.map((h) => (
              <li key={h.id} className="queue-item">
                <div>
                  <Link to={`/leads/${h.leadId}`} className="who">
                    {leadLabel(leads.get(h.leadId))}
                  </Link>
                  <div>{h.firstContactDueAt ? <Countdown dueAt={h.firstContactDueAt} /> : null}</div>
                </div>
                <HandoffActions handoff={h} leadName={leadLabel(leads.get(h.leadId), 'this lead')} onDone={reload} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {unassigned.data ? (
        <section className="panel" aria-labelledby="unassigned-title">
          <h2 id="unassigned-title">Unassigned: nobody could take these</h2>
          {unassigned.data.items.length === 0 ? <Empty title="Nothing unassigned">Every handoff found a rep.</Empty> : null}
          <ul className="list">
            {unassigned.data.items.map((h) => (
              <li key={h.id} className="queue-item">
                <div>
                  <Link to={`/leads/${h.leadId}`} className="who">
                    {leadLabel(leads.get(h.leadId))}
                  </Link>
                  <div className="muted">{h.route.explanation ?? 'No rep was available'}</div>
                </div>
                <Countdown dueAt={h.dueAt} breachedAt={h.breachedAt} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}

function QueueItem({ handoff, lead, onDone }: { handoff: Handoff; lead: Lead | undefined; onDone: () => void }) {
  const name = leadLabel(lead, 'this lead');
  return (
    <li className="queue-item" data-testid="queue-item">
      <div>
        <Link to={`/leads/${handoff.leadId}`} className="who">
          {leadLabel(lead)}
        </Link>
        <div className="muted">
          {[lead?.title, lead?.company].filter(Boolean).join(' · ') || lead?.email}
          {handoff.route.explanation ? ` — ${handoff.route.explanation}` : null}
        </div>
        <div>
          <Countdown dueAt={handoff.dueAt} breachedAt={handoff.breachedAt} /> <span className="muted">to accept or reject</span>
        </div>
      </div>
      <HandoffActions handoff={handoff} leadName={name} onDone={onDone} />
    </li>
  );
}

function MarketingFlow() {
  const { userName, agreement } = useSession();
  const flow = useApi<Page<Handoff>>('/api/handoffs?limit=20');
  const rejected = useApi<Page<Handoff>>('/api/handoffs?status=rejected&limit=10');
  const reload = () => {
    flow.reload();
    rejected.reload();
  };
  useLive(reload, (a) => a.kind.startsWith('handoff.'));
  const leads = useLeads([...(flow.data?.items ?? []), ...(rejected.data?.items ?? [])].map((h) => h.leadId));
  const reasonLabel = (code: string | null) => agreement.document.reasons.reject.find((r) => r.code === code)?.label ?? code ?? '';

  return (
    <div className="grid-2">
      <section className="panel" aria-labelledby="flow-title">
        <h2 id="flow-title">MQLs flowing to sales</h2>
        {flow.error ? <ErrorNote message={flow.error} retry={flow.reload} /> : null}
        {flow.loading && !flow.data ? <Spinner /> : null}
        {flow.data?.items.length === 0 ? (
          <Empty title="No handoffs yet">
            Move a lead to the handoff stage from its page, or let the agreement’s rules hand off qualifying leads. <Link to="/leads">Find leads</Link>
          </Empty>
        ) : null}
        <ul className="list">
          {flow.data?.items.map((h) => (
            <li key={h.id}>
              <div className="spread">
                <Link to={`/leads/${h.leadId}`}>{leadLabel(leads.get(h.leadId))}</Link>
                <StatusBadge handoff={h} />
              </div>
              <div className="muted">
                to {h.assigneeId ? userName(h.assigneeId) : 'the unassigned queue'} · {relative(h.createdAt)}
              </div>
            </li>
          ))}
        </ul>
      </section>
      <section className="panel" aria-labelledby="rejections-title">
        <h2 id="rejections-title">Latest rejections</h2>
        {rejected.error ? <ErrorNote message={rejected.error} retry={rejected.reload} /> : null}
        {rejected.data?.items.length === 0 ? <Empty title="No rejections">When sales turns a lead down, the reason shows here.</Empty> : null}
        <ul className="list" data-testid="rejections">
          {rejected.data?.items.map((h) => (
            <li key={h.id}>
              <div className="spread">
                <Link to={`/leads/${h.leadId}`}>{leadLabel(leads.get(h.leadId))}</Link>
                <span className="muted">{formatDateTime(h.closedAt)}</span>
              </div>
              <div>
                <Badge tone="bad">{reasonLabel(h.reasonCode)}</Badge> <span className="muted">by {userName(h.closedBy)}</span>
              </div>
              {h.note ? <p className="muted">“{h.note}”</p> : null}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

export function StatusBadge({ handoff }: { handoff: Handoff }) {
  if (handoff.status === 'open') return <Badge tone={handoff.breachedAt ? 'bad' : 'info'}>{handoff.breachedAt ? 'Overdue' : 'Waiting'}</Badge>;
  const tones = { accepted: 'good', rejected: 'bad', reassigned: 'neutral', withdrawn: 'neutral' } as const;
  return <Badge tone={tones[handoff.status]}>{handoff.status[0]?.toUpperCase() + handoff.status.slice(1)}</Badge>;
}

function LeaderPanels() {
  const { agreement, me, userName } = useSession();
  const breaches = useApi<Page<Handoff>>('/api/handoffs?breached=true&limit=100');
  useLive(breaches.reload, (a) => a.kind.endsWith('breached'));
  const today = new Date().toDateString();
  // Today's breaches, and any older one still waiting for an answer.
  const todays = (breaches.data?.items ?? []).filter((h) => h.breachedAt && (new Date(h.breachedAt).toDateString() === today || h.status === 'open'));
  const leads = useLeads(todays.map((h) => h.leadId));
  const pending = agreement.pending;
  const mine = me.user.team;
  return (
    <div className="grid-2">
      <section className="panel" aria-labelledby="agreement-title">
        <h2 id="agreement-title">The agreement</h2>
        {agreement.signed ? (
          <p>
            <Badge tone="good">Signed</Badge> Version {agreement.version} is in force.
          </p>
        ) : (
          <p>
            <Badge tone="warn">Not signed</Badge> The built-in default applies until both team leads sign one.
          </p>
        )}
        {pending ? (
          <p>
            Version {pending.version} is <strong>{pending.status}</strong>
            {pending.status === 'proposed' && pending.waitingOn.length
              ? `, waiting on ${pending.waitingOn.map((t) => (t === mine ? 'you' : `the ${t} lead`)).join(' and ')}`
              : null}
            .
          </p>
        ) : null}
        <Link to="/agreement">Open the agreement</Link>
      </section>
      <section className="panel" aria-labelledby="breaches-title">
        <h2 id="breaches-title">Breaches: today’s, and any still open</h2>
        {breaches.error ? <ErrorNote message={breaches.error} retry={breaches.reload} /> : null}
        {breaches.data && todays.length === 0 ? (
          <Empty title="No breaches today">Every handoff so far today was answered in time, and none is overdue.</Empty>
        ) : null}
        <ul className="list">
          {todays.map((h) => (
            <li key={h.id} className="spread">
              <Link to={`/leads/${h.leadId}`}>{leadLabel(leads.get(h.leadId))}</Link>
              <span className="muted">
                {h.status === 'open' ? `overdue, to ${h.assigneeId ? userName(h.assigneeId) : 'nobody yet'}` : h.status}, due {formatDateTime(h.dueAt)}
              </span>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
