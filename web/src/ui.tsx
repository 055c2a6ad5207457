import { type ButtonHTMLAttributes, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { clock, duration } from './format';

export function Button({
  kind = 'secondary',
  busy = false,
  children,
  ...rest
}: { kind?: 'primary' | 'secondary' | 'danger' | 'ghost'; busy?: boolean; children: ReactNode } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" {...rest} className={`btn btn-${kind} ${rest.className ?? ''}`} disabled={rest.disabled || busy} aria-busy={busy || undefined}>
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

/** A labelled control with its hint and the server's (or the form's) error below it. */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: string | undefined;
  error?: string | undefined | null;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => ReactNode;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field ${error ? 'field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': described })}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="error-text" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {label}…
    </div>
  );
}

export function ErrorNote({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div className="notice notice-error" role="alert">
      <span>{message}</span>
      {retry ? (
        <Button kind="ghost" onClick={retry}>
          Try again
        </Button>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

export function Badge({ tone = 'neutral', children }: { tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info' | 'marketing' | 'sales'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A modal dialog (the browser's own, so focus is trapped and Escape closes it). */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={titleId} onClose={onClose} onCancel={onClose}>
      {open ? (
        <>
          <h2 id={titleId}>{title}</h2>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

/** Ask before something that cannot be undone. */
export function Confirm({
  open,
  title,
  body,
  confirmLabel,
  danger = false,
  busy = false,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog open={open} title={title} onClose={onClose}>
      <div className="dialog-body">{body}</div>
      <div className="actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button kind={danger ? 'danger' : 'primary'} busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}

/** Re-render every second; the current time in ms. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

/** A live countdown to an SLA deadline: calm, then amber in the last quarter hour, red once past. */
export function Countdown({ dueAt, breachedAt }: { dueAt: string; breachedAt?: string | null }) {
  const now = useNow();
  const left = new Date(dueAt).getTime() - now;
  const tone = left < 0 || breachedAt ? 'bad' : left < 15 * 60_000 ? 'warn' : 'good';
  // Hours and minutes to the second within a day; beyond that, days and hours read better.
  const amount = Math.abs(left) < 86_400_000 ? clock(left) : duration(Math.abs(left));
  const text = left < 0 ? `${amount} overdue` : `${amount} left`;
  return (
    <span className={`countdown countdown-${tone}`} title={`Due ${new Date(dueAt).toLocaleString()}`}>
      <span className="mono">{text}</span>
    </span>
  );
}

/** A transient message at the bottom of the screen, announced to screen readers. */
let pushToast: (text: string, tone?: 'good' | 'bad') => void = () => {};
export function toast(text: string, tone: 'good' | 'bad' = 'good'): void {
  pushToast(text, tone);
}

export function Toasts() {
  const [items, setItems] = useState<{ id: number; text: string; tone: 'good' | 'bad' }[]>([]);
  useEffect(() => {
    let next = 1;
    pushToast = (text, tone = 'good') => {
      const id = next++;
      setItems((xs) => [...xs, { id, text, tone }]);
      setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), 5000);
    };
  }, []);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

/** The server's problems with a document, each with the place it names (the document's own path). */
export function ProblemList({ problems }: { problems: { path: string; message: string }[] }) {
  if (!problems.length) return null;
  return (
    <div className="notice notice-error" role="alert">
      <ul style={{ margin: 0 }}>
        {problems.map((p) => (
          <li key={`${p.path}${p.message}`}>
            {p.path ? <code>{p.path.replace(/^body\.document\./, '')}</code> : null} {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
