import type { Actor } from '../../domain/access.js';

/** How long a resolved credential is trusted without asking the database again. */
export const CREDENTIAL_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  actor: Actor;
  /** Wall-clock time (performance.now) after which the entry is looked up again. */
  freshUntil: number;
  /** For a session, when it expires by the application clock. */
  expiresAt: Date | null;
}

/**
 * Who a session token or API key belongs to, remembered for a few seconds so a busy script or
 * browser does not cost a database read on every request. Anything in this process that
 * revokes a credential or changes a user clears it at once (`forgetCredentials`); another
 * process sharing the PostgreSQL database sees such a change within `CREDENTIAL_TTL_MS`.
 */
const entries = new Map<string, Entry>();

export function cachedActor(hash: string, now: Date): Actor | null {
  const entry = entries.get(hash);
  if (!entry) return null;
  if (performance.now() > entry.freshUntil || (entry.expiresAt && entry.expiresAt <= now)) {
    entries.delete(hash);
    return null;
  }
  return entry.actor;
}

export function rememberActor(hash: string, actor: Actor, expiresAt: Date | null = null): void {
  if (entries.size >= MAX_ENTRIES) entries.clear();
  entries.set(hash, { actor, freshUntil: performance.now() + CREDENTIAL_TTL_MS, expiresAt });
}

/** After a sign-out, a revoked key or any change to a user: nothing cached may outlive it. */
export function forgetCredentials(): void {
  entries.clear();
}
