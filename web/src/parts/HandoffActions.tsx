import { useState } from 'react';
import { ApiError, api, messageOf } from '../api';
import { useSession } from '../session';
import type { Handoff } from '../types';
import { Button, Dialog, Field, toast } from '../ui';

/** Accept, reject (with one of the agreement's reasons), or record first contact: what `can` allows. */
export function HandoffActions({ handoff, leadName, onDone }: { handoff: Handoff; leadName: string; onDone: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState(false);

  async function act(action: 'accept' | 'contact') {
    setBusy(action);
    try {
      await api(`/api/handoffs/${handoff.id}/${action}`, { body: {} });
      toast(action === 'accept' ? `Accepted ${leadName}` : `First contact with ${leadName} recorded`);
      onDone();
    } catch (e) {
      toast(messageOf(e), 'bad');
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="row">
      {handoff.can.accept ? (
        <Button kind="primary" busy={busy === 'accept'} onClick={() => void act('accept')} aria-label={`Accept ${leadName}`}>
          Accept
        </Button>
      ) : null}
      {handoff.can.reject ? (
        <Button onClick={() => setRejecting(true)} aria-label={`Reject ${leadName}`}>
          Reject…
        </Button>
      ) : null}
      {handoff.can.recordContact ? (
        <Button busy={busy === 'contact'} onClick={() => void act('contact')} aria-label={`Record first contact with ${leadName}`}>
          Record first contact
        </Button>
      ) : null}
      <RejectDialog
        open={rejecting}
        handoff={handoff}
        leadName={leadName}
        onClose={() => setRejecting(false)}
        onDone={() => {
          setRejecting(false);
          onDone();
        }}
      />
    </div>
  );
}

function RejectDialog({
  open,
  handoff,
  leadName,
  onClose,
  onDone,
}: {
  open: boolean;
  handoff: Handoff;
  leadName: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const { agreement, stageName } = useSession();
  const reasons = agreement.document.reasons.reject;
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = reasons.find((r) => r.code === reason);
  const noteMissing = Boolean(chosen?.noteRequired && !note.trim());

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/handoffs/${handoff.id}/reject`, { body: { reason, ...(note.trim() ? { note: note.trim() } : {}) } });
      toast(`Rejected ${leadName}: ${chosen?.label ?? reason}`);
      setReason('');
      setNote('');
      onDone();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'error', messageOf(e)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open={open} title={`Reject ${leadName}`} onClose={onClose}>
      <p className="muted">Marketing sees your reason. The agreement says where the lead goes next.</p>
      <Field label="Reason" error={error?.problemFor('reason')}>
        {(p) => (
          <select {...p} value={reason} onChange={(e) => setReason(e.target.value)}>
            <option value="">Choose a reason…</option>
            {reasons.map((r) => (
              <option key={r.code} value={r.code}>
                {r.label} (to {stageName(r.to ?? '')})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        label={chosen?.noteRequired ? 'Note (required for this reason)' : 'Note (optional)'}
        error={error?.problemFor('note') ?? (noteMissing ? 'This reason needs a note saying what you found' : undefined)}
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
        <Button kind="danger" busy={busy} disabled={!reason || noteMissing} onClick={() => void submit()}>
          Reject lead
        </Button>
      </div>
    </Dialog>
  );
}
