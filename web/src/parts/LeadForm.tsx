import { type FormEvent, useState } from 'react';
import { ApiError, api, messageOf } from '../api';
import type { Lead } from '../types';
import { Button, Dialog, Field } from '../ui';

const FIELDS = [
  ['firstName', 'First name'],
  ['lastName', 'Last name'],
  ['title', 'Title'],
  ['company', 'Company'],
  ['phone', 'Phone'],
  ['country', 'Country'],
  ['source', 'Source'],
  ['persona', 'Persona'],
] as const;
type Key = (typeof FIELDS)[number][0];

/**
 * Create a lead, or edit one's profile. Editing sends the version the page loaded, so two people
 * editing at once cannot overwrite each other: the second is told to reload.
 */
export function LeadForm({ lead, open, onClose, onSaved }: { lead?: Lead; open: boolean; onClose: () => void; onSaved: (lead: Lead) => void }) {
  const [email, setEmail] = useState(lead?.email ?? '');
  const [values, setValues] = useState<Record<Key, string>>(() => Object.fromEntries(FIELDS.map(([k]) => [k, lead?.[k] ?? ''])) as Record<Key, string>);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const fields = Object.fromEntries(FIELDS.map(([k]) => [k, values[k].trim() || null]));
    try {
      const saved = lead
        ? await api<Lead>(`/api/leads/${lead.id}`, { method: 'PATCH', body: { ...fields, email: email.trim(), version: lead.version } })
        : await api<Lead>('/api/leads', { body: { ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)), email: email.trim() } });
      onSaved(saved);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', messageOf(err)));
    } finally {
      setBusy(false);
    }
  }

  const general =
    error && !error.problems.length
      ? error.status === 412
        ? 'Someone changed this lead while you were editing. Close, reload the page and try again.'
        : error.message
      : null;
  return (
    <Dialog open={open} title={lead ? `Edit ${lead.name || lead.email}` : 'New lead'} onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <Field label="Email" error={error?.problemFor('email')}>
          {(p) => <input {...p} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <div className="grid-2 tight">
          {FIELDS.map(([k, label]) => (
            <Field key={k} label={label} error={error?.problemFor(k)}>
              {(p) => <input {...p} value={values[k]} onChange={(e) => setValues({ ...values, [k]: e.target.value })} />}
            </Field>
          ))}
        </div>
        {!lead ? <p className="hint">New leads start in the funnel’s first stage, held by marketing.</p> : null}
        {general ? (
          <p className="error-text" role="alert">
            {general}
          </p>
        ) : null}
        <div className="actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button kind="primary" type="submit" busy={busy} disabled={!email.trim()}>
            {lead ? 'Save' : 'Create lead'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
