import { useEffect, useRef } from 'react';
import type { Activity } from './types';

/**
 * One server-sent event stream per tab (`/api/live`), shared by every component that listens.
 * Each timeline entry of the workspace arrives as it is written, from any user or process.
 */
type Listener = (a: Activity) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;

function connect(): void {
  if (source) return;
  source = new EventSource('/api/live');
  source.addEventListener('activity', (e) => {
    const activity = JSON.parse((e as MessageEvent<string>).data) as Activity;
    for (const l of listeners) l(activity);
  });
}

export function disconnectLive(): void {
  source?.close();
  source = null;
}

/** Call `onActivity` for each new entry that `filter` accepts, while the component is mounted. */
export function useLive(onActivity: (a: Activity) => void, filter: (a: Activity) => boolean = () => true): void {
  const handler = useRef(onActivity);
  const accept = useRef(filter);
  handler.current = onActivity;
  accept.current = filter;
  useEffect(() => {
    const l: Listener = (a) => {
      if (accept.current(a)) handler.current(a);
    };
    listeners.add(l);
    connect();
    return () => {
      listeners.delete(l);
    };
  }, []);
}
