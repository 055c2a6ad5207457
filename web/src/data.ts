import { useCallback, useEffect, useRef, useState } from 'react';
import { api, messageOf } from './api';
import type { Lead } from './types';

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Load from the API when `path` changes; `reload` fetches again, keeping what is shown meanwhile. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const current = useRef(path);
  current.current = path;
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the reload trigger
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setLoading(true);
    api<T>(path, { signal: controller.signal })
      .then((d) => {
        if (current.current !== path) return;
        setData(d);
        setError(null);
      })
      .catch((e) => {
        if (controller.signal.aborted) return;
        setError(messageOf(e));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

const leadCache = new Map<string, Lead>();

/** The leads behind a list of handoffs, fetched once each (a queue holds tens, not thousands). */
export function useLeads(ids: readonly string[]): Map<string, Lead> {
  const [, setTick] = useState(0);
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    const missing = key ? key.split(',').filter((id) => !leadCache.has(id)) : [];
    if (!missing.length) return;
    let live = true;
    void Promise.all(
      missing.map((id) =>
        api<Lead>(`/api/leads/${id}`).then(
          (l) => leadCache.set(id, l),
          () => undefined,
        ),
      ),
    ).then(() => {
      if (live) setTick((t) => t + 1);
    });
    return () => {
      live = false;
    };
  }, [key]);
  return leadCache;
}

/** Forget a lead so the next render fetches it again (after it changed). */
export function forgetLead(id: string): void {
  leadCache.delete(id);
}
