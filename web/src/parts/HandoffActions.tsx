import { useState } from 'react';
import { api, messageOf } from '../api';
import { useSession } from '../session';
import type { Handoff } from '../types';
import { Button, toast } from '../ui';
import { ReasonDialog } from './ReasonDialog';

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
  const { agreement } = useSession();
  if (!open) return null;
  const reasons = agreement.document.reasons.reject;
  return (
    <ReasonDialog
      title={`Reject ${leadName}`}
      intro="Marketing sees your reason. The agreement says where the lead goes next."
      reasons={reasons}
      confirmLabel="Reject lead"
      danger
      submit={(reason, note) => api(`/api/handoffs/${handoff.id}/reject`, { body: { reason, ...(note ? { note } : {}) } })}
      onClose={onClose}
      onDone={() => {
        toast(`Rejected ${leadName}`);
        onDone();
      }}
    />
  );
}
