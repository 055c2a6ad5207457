import { useApi } from '../data';
import { Timeline } from '../parts/Timeline';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import type { Account, Deal, Lead, Page } from '../types';
import { Badge, ErrorNote, Spinner } from '../ui';
import { ClassBadge } from './Leads';

/** An account: its facts, its leads, its deals and everything that happened to any of them. */
export default function AccountPage({ id }: { id: string }) {
  const account = useApi<Account>(`/api/accounts/${id}`);
  const leads = useApi<Page<Lead>>(`/api/leads?accountId=${id}&limit=100`);
  const deals = useApi<Page<Deal>>(`/api/deals?accountId=${id}&limit=100`);
  const { userName, stageName } = useSession();
  useTitle(account.data?.name ?? 'Account');
  if (account.error) return <ErrorNote message={account.error} retry={account.reload} />;
  if (!account.data) return <Spinner label="Loading the account" />;
  const a = account.data;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{a.name}</h1>
          <p className="muted">
            {[a.domain, a.industry, a.employees ? `${a.employees.toLocaleString()} employees` : null, a.country].filter(Boolean).join(' · ')}
          </p>
        </div>
        <span className="muted">Owner: {a.ownerId ? userName(a.ownerId) : 'nobody'}</span>
      </div>
      <div className="grid-2">
        <section className="panel" aria-labelledby="leads-title">
          <h2 id="leads-title">Leads</h2>
          {leads.data?.items.length === 0 ? <p className="muted">No leads at this account yet.</p> : null}
          <ul className="list">
            {leads.data?.items.map((l) => (
              <li key={l.id} className="spread">
                <span>
                  <Link to={`/leads/${l.id}`}>{l.name || l.email}</Link> <span className="muted">{l.title}</span>
                </span>
                <span className="row">
                  <Badge>{stageName(l.stage)}</Badge>
                  {l.scoreClass ? <ClassBadge cls={l.scoreClass} /> : null}
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section className="panel" aria-labelledby="deals-title">
          <h2 id="deals-title">Deals</h2>
          {deals.data?.items.length === 0 ? <p className="muted">No deals yet.</p> : null}
          <ul className="list">
            {deals.data?.items.map((d) => (
              <li key={d.id} className="spread">
                <span>{d.name}</span>
                <span className="row">
                  <strong>{Number(d.amount).toLocaleString(undefined, { style: 'currency', currency: d.currency || 'USD', maximumFractionDigits: 0 })}</strong>
                  <Badge tone={d.status === 'won' ? 'good' : d.status === 'lost' ? 'bad' : 'info'}>{d.status === 'open' ? d.stage : d.status}</Badge>
                </span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <Timeline path={`/api/accounts/${id}/timeline`} refreshKey={0} />
      </section>
    </>
  );
}
