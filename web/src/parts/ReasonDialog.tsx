import { useState } from 'react';
import { ApiError, messageOf } from '../api';
import { useSession } from '../session';
import type { Reason } from '../types';
import { Button, Dialog, Field } from '../ui';

/**
 * Ask for one of the agreement's reasons (and a note where the reason needs one) before an
 * action: rejecting a handoff, handing a lead back, disqualifying. The server's problems show at
 * their field.
 */
export function ReasonDialog({
  title,
  intro,
  reasons,
  confirmLabel,
  danger = false,
  submit,
  onClose,
  onDone,
}: {
  title: string;
  intro: string;
  reasons: Reason[];
  confirmLabel: string;
  danger?: boolean;
  submit: (reason: string, note: string) => Promise<unknown>;
  onClose: () => void;
  onDone: () => void;
}) {
  const { stageName } = useSession();
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const chosen = reasons.find((r) => r.code === reason);
  const needNote = Boolean(chosen?.noteRequired && !note.trim());
  async function go() {
    setBusy(true);
    setError(null);
    try {
      await submit(reason, note.trim());
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'error', messageOf(e)));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog open title={title} onClose={onClose}>
      <p className="muted">{intro}</p>
      {reasons.length ? (
        <Field label="Reason" error={error?.problemFor('reason')}>
          {(p) => (
            <select {...p} value={reason} onChange={(e) => setReason(e.target.value)}>
              <option value="">Choose a reason…</option>
              {reasons.map((r) => (
                <option key={r.code} value={r.code}>
                  {r.label}
                  {r.to ? ` (to ${stageName(r.to)})` : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <Field
        label={chosen?.noteRequired ? 'Note (required for this reason)' : 'Note (optional)'}
        error={error?.problemFor('note') ?? (needNote ? 'This reason needs a note' : undefined)}
      >
        {(p) => <textarea {...p} value={note} onChange={(e) => setNote(e.target.value)} />}
      </Field>
      {error && !error.problemFor('reason') && !error.problemFor('note') ? (
        <p className="error-text" role="alert">
          {error.message}
        </p>
      ) : null}
      <div className="actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button kind={danger ? 'danger' : 'primary'} busy={busy} disabled={(reasons.length > 0 && !reason) || needNote} onClick={() => void go()}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}
