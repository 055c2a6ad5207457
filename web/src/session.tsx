import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { api } from './api';
import type { EffectiveAgreement, Me, Stage, User } from './types';

/** Who is signed in, the workspace's people and its agreement: what nearly every page needs. */
export interface Session {
  me: Me;
  users: User[];
  userName: (id: string | null | undefined) => string;
  agreement: EffectiveAgreement;
  stage: (key: string) => Stage | undefined;
  stageName: (key: string) => string;
  refresh: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

export async function loadSession(): Promise<{ me: Me; users: User[]; agreement: EffectiveAgreement }> {
  const [me, users, agreement] = await Promise.all([api<Me>('/api/me'), api<{ items: User[] }>('/api/users'), api<EffectiveAgreement>('/api/agreement')]);
  return { me, users: users.items, agreement };
}

export function SessionProvider({ initial, children }: { initial: { me: Me; users: User[]; agreement: EffectiveAgreement }; children: ReactNode }) {
  const [state, setState] = useState(initial);
  useEffect(() => setState(initial), [initial]);
  const refresh = useCallback(async () => setState(await loadSession()), []);
  const value = useMemo<Session>(() => {
    const byId = new Map(state.users.map((u) => [u.id, u]));
    const stages = new Map(state.agreement.document.stages.map((s) => [s.key, s]));
    return {
      ...state,
      userName: (id) => (id ? (byId.get(id)?.name ?? 'someone no longer here') : 'nobody'),
      stage: (key) => stages.get(key),
      stageName: (key) => stages.get(key)?.name ?? key,
      refresh,
    };
  }, [state, refresh]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
