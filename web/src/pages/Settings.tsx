import { type FormEvent, useState } from 'react';
import { ApiError, api, messageOf } from '../api';
import { useApi } from '../data';
import { formatDateTime } from '../format';
import { Link, useTitle } from '../router';
import { useSession } from '../session';
import type { User } from '../types';
import { Badge, Button, Confirm, Dialog, Empty, ErrorNote, Field, toast } from '../ui';

type Tab = 'people' | 'absences' | 'hours' | 'keys' | 'tracking';

/** Settings: people and roles, absences, business hours, API keys, tracking write keys. */
export default function Settings() {
  useTitle('Settings');
  const [tab, setTab] = useState<Tab>('people');
  const tabs: [Tab, string][] = [
    ['people', 'People and roles'],
    ['absences', 'Absences'],
    ['hours', 'Business hours'],
    ['keys', 'API keys'],
    ['tracking', 'Website tracking'],
  ];
  return (
    <>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <div className="tabs" role="tablist" aria-label="Settings">
        {tabs.map(([k, label]) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} onClick={() => setTab(k)}>
            {label}
          </button>
        ))}
      </div>
      {tab === 'people' ? <People /> : null}
      {tab === 'absences' ? <Absences /> : null}
      {tab === 'hours' ? <Hours /> : null}
      {tab === 'keys' ? <ApiKeys /> : null}
      {tab === 'tracking' ? <WriteKeys /> : null}
    </>
  );
}

function People() {
  const { users, me, refresh } = useSession();
  const admin = me.user.isAdmin;
  const [form, setForm] = useState({ name: '', email: '', team: 'sales', level: 'member', password: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api('/api/users', { body: { ...form, isAdmin: false } });
      toast(`${form.name} can now sign in`);
      setForm({ name: '', email: '', team: 'sales', level: 'member', password: '' });
      await refresh();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', messageOf(err)));
    } finally {
      setBusy(false);
    }
  }
  const [editing, setEditing] = useState<User | null>(null);
  async function setActive(u: User, active: boolean) {
    try {
      await api(`/api/users/${u.id}`, { method: 'PATCH', body: { active } });
      toast(active ? `${u.name} is active again` : `${u.name} can no longer sign in or receive leads`);
      await refresh();
    } catch (err) {
      toast(messageOf(err), 'bad');
    }
  }
  return (
    <div className="grid-2">
      <section className="panel table-wrap" aria-labelledby="people-title">
        <h2 id="people-title">People</h2>
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Team</th>
              <th>Role</th>
              {admin ? <th>Access</th> : null}
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.name}
                  <div className="muted">{u.email}</div>
                </td>
                <td>
                  <Badge tone={u.team}>{u.team}</Badge>
                </td>
                <td>
                  {u.level === 'lead' ? 'Team lead' : 'Member'}
                  {u.isAdmin ? ', admin' : ''}
                  {u.active ? '' : <Badge tone="warn">inactive</Badge>}
                </td>
                {admin ? (
                  <td>
                    <Button kind="ghost" aria-label={`Edit ${u.name}`} onClick={() => setEditing(u)}>
                      Edit
                    </Button>
                    {u.id === me.user.id ? null : (
                      <Button kind="ghost" onClick={() => void setActive(u, !u.active)}>
                        {u.active ? 'Deactivate' : 'Reactivate'}
                      </Button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
        {editing ? (
          <EditPerson
            user={editing}
            onClose={() => setEditing(null)}
            onSaved={async () => {
              setEditing(null);
              await refresh();
            }}
          />
        ) : null}
      </section>
      {admin ? (
        <section className="panel" aria-labelledby="add-title">
          <h2 id="add-title">Add a person</h2>
          <form onSubmit={add} noValidate>
            <Field label="Name" error={error?.problemFor('name')}>
              {(p) => <input {...p} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
            </Field>
            <Field label="Email" error={error?.problemFor('email')}>
              {(p) => <input {...p} type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />}
            </Field>
            <div className="grid-3">
              <Field label="Team" error={error?.problemFor('team')}>
                {(p) => (
                  <select {...p} value={form.team} onChange={(e) => setForm({ ...form, team: e.target.value })}>
                    <option value="marketing">Marketing</option>
                    <option value="sales">Sales</option>
                  </select>
                )}
              </Field>
              <Field label="Role" error={error?.problemFor('level')}>
                {(p) => (
                  <select {...p} value={form.level} onChange={(e) => setForm({ ...form, level: e.target.value })}>
                    <option value="member">Member</option>
                    <option value="lead">Team lead</option>
                  </select>
                )}
              </Field>
            </div>
            <Field label="First password" hint="They can change it after signing in" error={error?.problemFor('password')}>
              {(p) => (
                <input
                  {...p}
                  type="password"
                  autoComplete="new-password"
                  value={form.password}
                  onChange={(e) => setForm({ ...form, password: e.target.value })}
                />
              )}
            </Field>
            {error && !error.problems.length ? (
              <p className="error-text" role="alert">
                {error.message}
              </p>
            ) : null}
            <Button kind="primary" type="submit" busy={busy}>
              Add person
            </Button>
          </form>
        </section>
      ) : (
        <section className="panel">
          <p className="muted">An administrator adds people and changes roles.</p>
        </section>
      )}
    </div>
  );
}

/** An administrator changes a person's team, role, and how many leads routing gives them. */
function EditPerson({ user, onClose, onSaved }: { user: User; onClose: () => void; onSaved: () => Promise<void> }) {
  const [form, setForm] = useState({
    name: user.name,
    team: user.team,
    level: user.level,
    isAdmin: user.isAdmin,
    routingWeight: String(user.routingWeight),
    handoffCapacity: user.handoffCapacity === null ? '' : String(user.handoffCapacity),
  });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  async function save(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api(`/api/users/${user.id}`, {
        method: 'PATCH',
        body: {
          name: form.name,
          team: form.team,
          level: form.level,
          isAdmin: form.isAdmin,
          routingWeight: Number(form.routingWeight),
          handoffCapacity: form.handoffCapacity === '' ? null : Number(form.handoffCapacity),
        },
      });
      toast(`${form.name} updated`);
      await onSaved();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', messageOf(err)));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog open title={`Edit ${user.name}`} onClose={onClose}>
      <form onSubmit={save} noValidate>
        <Field label="Name" error={error?.problemFor('name')}>
          {(p) => <input {...p} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
        </Field>
        <div className="grid-2 tight">
          <Field label="Team" error={error?.problemFor('team')}>
            {(p) => (
              <select {...p} value={form.team} onChange={(e) => setForm({ ...form, team: e.target.value as User['team'] })}>
                <option value="marketing">Marketing</option>
                <option value="sales">Sales</option>
              </select>
            )}
          </Field>
          <Field label="Role" error={error?.problemFor('level')}>
            {(p) => (
              <select {...p} value={form.level} onChange={(e) => setForm({ ...form, level: e.target.value as User['level'] })}>
                <option value="member">Member</option>
                <option value="lead">Team lead</option>
              </select>
            )}
          </Field>
          <Field label="Routing weight" hint="Share of round-robin leads; 0 for none" error={error?.problemFor('routingWeight')}>
            {(p) => (
              <input {...p} type="number" min={0} max={100} value={form.routingWeight} onChange={(e) => setForm({ ...form, routingWeight: e.target.value })} />
            )}
          </Field>
          <Field label="Open handoffs at most" hint="Empty: the agreement's default" error={error?.problemFor('handoffCapacity')}>
            {(p) => <input {...p} type="number" min={0} value={form.handoffCapacity} onChange={(e) => setForm({ ...form, handoffCapacity: e.target.value })} />}
          </Field>
        </div>
        <label className="check">
          <input type="checkbox" checked={form.isAdmin} onChange={(e) => setForm({ ...form, isAdmin: e.target.checked })} /> Administrator (manages people and
          keys)
        </label>
        {error && !error.problems.length ? (
          <p className="error-text" role="alert">
            {error.message}
          </p>
        ) : null}
        <div className="actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button kind="primary" type="submit" busy={busy}>
            Save
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function Absences() {
  const { users, userName } = useSession();
  const list = useApi<{ items: { id: string; userId: string; startsAt: string; endsAt: string; note: string | null }[] }>('/api/absences');
  const [form, setForm] = useState({ userId: '', startsAt: '', endsAt: '', note: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  async function add(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await api('/api/absences', {
        body: {
          userId: form.userId,
          startsAt: form.startsAt ? new Date(form.startsAt).toISOString() : '',
          endsAt: form.endsAt ? new Date(form.endsAt).toISOString() : '',
          ...(form.note ? { note: form.note } : {}),
        },
      });
      toast('Absence added: no leads are routed to them meanwhile');
      setForm({ userId: '', startsAt: '', endsAt: '', note: '' });
      list.reload();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', messageOf(err)));
    }
  }
  return (
    <div className="grid-2">
      <section className="panel" aria-labelledby="absences-title">
        <h2 id="absences-title">Who is away</h2>
        {list.error ? <ErrorNote message={list.error} retry={list.reload} /> : null}
        {list.data?.items.length === 0 ? <Empty title="Nobody is away">Add an absence so routing skips a rep on holiday.</Empty> : null}
        <ul className="list">
          {list.data?.items.map((a) => (
            <li key={a.id} className="spread">
              <span>
                <strong>{userName(a.userId)}</strong> {formatDateTime(a.startsAt)} – {formatDateTime(a.endsAt)}
                {a.note ? <span className="muted"> · {a.note}</span> : null}
              </span>
              <Button kind="ghost" onClick={() => setRemoving(a.id)}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
        <Confirm
          open={removing !== null}
          title="Remove this absence?"
          body={<p>Leads can be routed to them again during that time.</p>}
          confirmLabel="Remove"
          danger
          onConfirm={async () => {
            try {
              await api(`/api/absences/${removing}`, { method: 'DELETE' });
              list.reload();
            } catch (err) {
              toast(messageOf(err), 'bad');
            }
            setRemoving(null);
          }}
          onClose={() => setRemoving(null)}
        />
      </section>
      <section className="panel" aria-labelledby="add-absence-title">
        <h2 id="add-absence-title">Add an absence</h2>
        <form onSubmit={add} noValidate>
          <Field label="Person" error={error?.problemFor('userId')}>
            {(p) => (
              <select {...p} value={form.userId} onChange={(e) => setForm({ ...form, userId: e.target.value })}>
                <option value="">Choose…</option>
                {users.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="From" error={error?.problemFor('startsAt')}>
            {(p) => <input {...p} type="datetime-local" value={form.startsAt} onChange={(e) => setForm({ ...form, startsAt: e.target.value })} />}
          </Field>
          <Field label="Until" error={error?.problemFor('endsAt')}>
            {(p) => <input {...p} type="datetime-local" value={form.endsAt} onChange={(e) => setForm({ ...form, endsAt: e.target.value })} />}
          </Field>
          <Field label="Note (optional)">{(p) => <input {...p} value={form.note} onChange={(e) => setForm({ ...form, note: e.target.value })} />}</Field>
          {error && !error.problems.length ? (
            <p className="error-text" role="alert">
              {error.message}
            </p>
          ) : null}
          <Button kind="primary" type="submit">
            Add absence
          </Button>
        </form>
      </section>
    </div>
  );
}

function Hours() {
  const { agreement } = useSession();
  const c = agreement.document.calendar;
  const days = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return (
    <section className="panel">
      <h2>Business hours and holidays</h2>
      <p>
        SLA clocks run {c.hours.start}–{c.hours.end} ({c.timeZone}) on {c.workingDays.map((d) => days[d]).join(', ')}.
      </p>
      <p>{c.holidays.length ? `Holidays: ${c.holidays.join(', ')}.` : 'No holidays are listed.'}</p>
      <p className="muted">
        They are part of the agreement, so both team leads sign changes to them. <Link to="/agreement">Change them in a new version of the agreement</Link>.
      </p>
    </section>
  );
}

function ApiKeys() {
  const list = useApi<{ items: { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }[] }>(
    '/api/api-keys',
  );
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <section className="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <p className="muted">
        A script using a key acts as you, with your team and role. Send it as <code>Authorization: Bearer &lt;key&gt;</code>.
      </p>
      <form
        className="row"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const r = await api<{ key: string }>('/api/api-keys', { body: { name } });
            setCreated(r.key);
            setName('');
            setError(null);
            list.reload();
          } catch (err) {
            setError(err instanceof ApiError ? err : new ApiError(0, 'error', messageOf(err)));
          }
        }}
      >
        <Field label="Name of the new key" error={error?.problemFor('name') ?? error?.message}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. nightly sync" />}
        </Field>
        <Button kind="primary" type="submit" disabled={!name.trim()}>
          Create key
        </Button>
      </form>
      {created ? (
        <div className="notice notice-info">
          <span>
            Copy it now; it is not shown again: <code>{created}</code>
          </span>
        </div>
      ) : null}
      <ul className="list">
        {list.data?.items.map((k) => (
          <li key={k.id} className="spread">
            <span>
              <strong>{k.name}</strong> <code>{k.prefix}…</code>{' '}
              <span className="muted">
                made {formatDateTime(k.createdAt)}, last used {formatDateTime(k.lastUsedAt)}
              </span>
            </span>
            {k.revokedAt ? (
              <Badge>revoked</Badge>
            ) : (
              <Button kind="ghost" onClick={() => setRevoking(k.id)}>
                Revoke
              </Button>
            )}
          </li>
        ))}
      </ul>
      <Confirm
        open={revoking !== null}
        title="Revoke this key?"
        body={<p>Scripts using it stop working at once. This cannot be undone.</p>}
        confirmLabel="Revoke"
        danger
        onConfirm={async () => {
          await api(`/api/api-keys/${revoking}`, { method: 'DELETE' }).catch((e) => toast(messageOf(e), 'bad'));
          setRevoking(null);
          list.reload();
        }}
        onClose={() => setRevoking(null)}
      />
    </section>
  );
}

function WriteKeys() {
  const list = useApi<{ items: { id: string; name: string; key: string; createdAt: string; revokedAt: string | null }[] }>('/api/write-keys');
  const [revoking, setRevoking] = useState<string | null>(null);
  const active = list.data?.items.find((k) => !k.revokedAt);
  const host = location.origin;
  return (
    <section className="panel" aria-labelledby="wk-title">
      <h2 id="wk-title">Website tracking</h2>
      <p className="muted">
        Tandem speaks Segment’s tracking API. A site already using Segment or RudderStack sends to Tandem by changing one host; each event scores the lead and
        can hand it to sales.
      </p>
      <div className="row">
        <Button
          kind="primary"
          onClick={async () => {
            await api('/api/write-keys', { body: { name: 'Website' } }).catch((e) => toast(messageOf(e), 'bad'));
            list.reload();
          }}
        >
          Create a write key
        </Button>
      </div>
      <ul className="list">
        {list.data?.items.map((k) => (
          <li key={k.id} className="spread">
            <span>
              <strong>{k.name}</strong> <code>{k.key}</code>
            </span>
            {k.revokedAt ? (
              <Badge>revoked</Badge>
            ) : (
              <Button kind="ghost" onClick={() => setRevoking(k.id)}>
                Revoke
              </Button>
            )}
          </li>
        ))}
      </ul>
      {active ? (
        <>
          <h3>Segment’s analytics.js (Analytics Next)</h3>
          <p className="muted">
            Point <code>cdnURL</code> at Tandem: the library reads its settings from here and sends every call here.
          </p>
          <pre className="panel">
            <code>{`import { AnalyticsBrowser } from '@segment/analytics-next'
export const analytics = AnalyticsBrowser.load({ writeKey: '${active.key}', cdnURL: '${host}' })
analytics.identify('user-42', { email: 'ada@example.org', name: 'Ada Lovelace' })
analytics.track('Demo Requested')`}</code>
          </pre>
          <h3>RudderStack’s JavaScript SDK</h3>
          <pre className="panel">
            <code>{`rudderanalytics.load('${active.key}', '${host}')
rudderanalytics.identify('user-42', { email: 'ada@example.org' })
rudderanalytics.track('Demo Requested')`}</code>
          </pre>
          <h3>From a server (Node.js)</h3>
          <pre className="panel">
            <code>{`import { Analytics } from '@segment/analytics-node'
const analytics = new Analytics({ writeKey: '${active.key}', host: '${host}' })`}</code>
          </pre>
        </>
      ) : null}
      <Confirm
        open={revoking !== null}
        title="Revoke this write key?"
        body={<p>Sites sending with it are refused from now on.</p>}
        confirmLabel="Revoke"
        danger
        onConfirm={async () => {
          await api(`/api/write-keys/${revoking}`, { method: 'DELETE' }).catch((e) => toast(messageOf(e), 'bad'));
          setRevoking(null);
          list.reload();
        }}
        onClose={() => setRevoking(null)}
      />
    </section>
  );
}
