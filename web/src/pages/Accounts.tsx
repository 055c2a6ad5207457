import { useEffect, useState } from 'react';
import { api, messageOf, withQuery } from '../api';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import type { Account, Page } from '../types';
import { Button, Empty, ErrorNote, Field, Spinner } from '../ui';

/** Accounts: search by name or domain, then open one for its leads, deals and timeline. */
export default function Accounts() {
  useTitle('Accounts');
  const { userName } = useSession();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [items, setItems] = useState<Account[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const t = setTimeout(() => setQuery(q.trim()), 300);
    return () => clearTimeout(t);
  }, [q]);
  async function load(from: string | null) {
    setLoading(true);
    try {
      const page = await api<Page<Account>>(withQuery('/api/accounts', { q: query, cursor: from, limit: 100 }));
      setItems((xs) => (from ? [...xs, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setLoading(false);
    }
  }
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new search starts from the top
  useEffect(() => {
    void load(null);
  }, [query]);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Accounts</h1>
          <p className="muted">The companies behind the leads, with their owners.</p>
        </div>
      </div>
      <form className="filters" aria-label="Search accounts" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search">{(p) => <input {...p} type="search" placeholder="Name or domain" value={q} onChange={(e) => setQ(e.target.value)} />}</Field>
      </form>
      {error ? <ErrorNote message={error} retry={() => void load(null)} /> : null}
      <div className="panel table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Domain</th>
              <th scope="col">Industry</th>
              <th scope="col">Employees</th>
              <th scope="col">Country</th>
              <th scope="col">Owner</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id}>
                <td>
                  <Link to={`/accounts/${a.id}`}>{a.name}</Link>
                </td>
                <td>{a.domain ?? '—'}</td>
                <td>{a.industry ?? '—'}</td>
                <td>{a.employees?.toLocaleString() ?? '—'}</td>
                <td>{a.country ?? '—'}</td>
                <td>{a.ownerId ? userName(a.ownerId) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {loading && items.length === 0 ? <Spinner label="Loading accounts" /> : null}
        {!loading && items.length === 0 && !error ? (
          <Empty title={query ? 'No account matches' : 'No accounts yet'}>
            {query ? 'Try part of the name or the domain.' : 'Accounts come from imports and from the tracking API’s group calls.'}
          </Empty>
        ) : null}
        {cursor ? (
          <Button kind="ghost" busy={loading} onClick={() => void load(cursor)}>
            Show more
          </Button>
        ) : null}
      </div>
    </>
  );
}
