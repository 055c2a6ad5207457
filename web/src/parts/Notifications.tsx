import { useEffect, useRef, useState } from 'react';
import { api, messageOf } from '../api';
import { useApi } from '../data';
import { relative } from '../format';
import { useLive } from '../live';
import { Link } from '../router';
import { toast } from '../ui';

interface Notification {
  id: string;
  kind: string;
  title: string;
  leadId: string | null;
  handoffId: string | null;
  createdAt: string;
  readAt: string | null;
}

/** The bell in the top bar: unread notifications, kept current by the live stream. */
export function NotificationBell() {
  const list = useApi<{ items: Notification[] }>('/api/notifications?unread=true&limit=30');
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useLive(list.reload, (a) => a.kind.startsWith('handoff.') || a.kind.startsWith('agreement.') || a.kind.startsWith('lead.'));
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  const items = list.data?.items ?? [];
  async function markRead(id: string) {
    try {
      await api(`/api/notifications/${id}/read`, { method: 'POST', body: {} });
      list.reload();
    } catch (e) {
      toast(messageOf(e), 'bad');
    }
  }
  return (
    <div className="bell" ref={box}>
      <button
        type="button"
        className="btn btn-ghost"
        aria-expanded={open}
        aria-controls="notifications"
        aria-label={`Notifications, ${items.length} unread`}
        onClick={() => setOpen((o) => !o)}
      >
        Notifications {items.length ? <span className="count">{items.length >= 30 ? '30+' : items.length}</span> : null}
      </button>
      {open ? (
        <section id="notifications" className="popover" aria-label="Unread notifications">
          {items.length === 0 ? <p className="muted">Nothing new.</p> : null}
          <ul className="list">
            {items.map((n) => (
              <li key={n.id}>
                <div>
                  {n.leadId ? (
                    <Link to={`/leads/${n.leadId}`} onClick={() => void markRead(n.id)}>
                      {n.title}
                    </Link>
                  ) : (
                    n.title
                  )}
                </div>
                <div className="spread">
                  <span className="muted">{relative(n.createdAt)}</span>
                  <button type="button" className="link-button" onClick={() => void markRead(n.id)}>
                    Mark read
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
