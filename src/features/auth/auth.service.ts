import type { Kysely } from 'kysely';
import type { DB, User } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { newToken, sha256, verifyPassword } from '../../lib/secrets.js';
import { recordActivity } from '../activities/activities.repo.js';
import { cachedActor, forgetCredentials, rememberActor } from './credential-cache.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export const SESSION_COOKIE = 'tandem_session';
const KEY_PREFIX = 'tdm_';

export function actorFromUser(user: User, via: Actor['via']): Actor {
  return {
    workspaceId: user.workspace_id,
    userId: user.id,
    email: user.email,
    name: user.name,
    team: user.team,
    level: user.level,
    isAdmin: user.is_admin,
    via,
  };
}

// A hash to compare against when the email is unknown, so timing does not reveal who exists.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/**
 * Check an email and password and open a session. An email used in several workspaces
 * needs the workspace's slug to say which one.
 */
export async function signIn(
  deps: Deps,
  input: { email: string; password: string; workspace?: string | undefined },
  sessionDays: number,
): Promise<{ cookieValue: string; user: User; expiresAt: Date }> {
  let query = deps.db
    .selectFrom('users')
    .innerJoin('workspaces', 'workspaces.id', 'users.workspace_id')
    .selectAll('users')
    .select('workspaces.slug')
    .where((eb) => eb(eb.fn('lower', ['users.email']), '=', input.email.toLowerCase()))
    .where('users.active', '=', true);
  if (input.workspace) query = query.where('workspaces.slug', '=', input.workspace);
  const candidates = await query.execute();
  const matches: User[] = [];
  for (const c of candidates) {
    if (c.password_hash && (await verifyPassword(input.password, c.password_hash))) matches.push(c);
  }
  if (candidates.length === 0) await verifyPassword(input.password, DUMMY_HASH);
  if (matches.length === 0) throw new AppError('unauthenticated', 'Email or password is wrong');
  if (matches.length > 1) {
    throw new AppError('validation_failed', 'This email belongs to several workspaces; say which one', {
      problems: [{ path: 'workspace', message: 'required for this email' }],
      workspaces: candidates.map((c) => c.slug),
    });
  }
  const user = matches[0] as User;
  const token = newToken();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + sessionDays * 86_400_000);
  await deps.db
    .insertInto('sessions')
    .values({ workspace_id: user.workspace_id, token_hash: sha256(token), user_id: user.id, created_at: now, expires_at: expiresAt })
    .execute();
  await recordActivity(deps.db, actorFromUser(user, 'session'), { kind: 'auth.signed_in', at: now });
  return { cookieValue: `${user.workspace_id}.${token}`, user, expiresAt };
}

export async function signOut(deps: Deps, cookieValue: string): Promise<void> {
  const [workspaceId, token] = cookieValue.split('.');
  if (!workspaceId || !token) return;
  await deps.db.deleteFrom('sessions').where('workspace_id', '=', workspaceId).where('token_hash', '=', sha256(token)).execute();
  forgetCredentials();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function actorForSession(deps: Deps, cookieValue: string): Promise<Actor | null> {
  const [workspaceId, token] = cookieValue.split('.');
  if (!workspaceId || !token || !UUID.test(workspaceId)) return null;
  const hash = sha256(token);
  const now = deps.clock.now();
  const cached = cachedActor(`s:${workspaceId}:${hash}`, now);
  if (cached) return cached;
  const user = await deps.db
    .selectFrom('sessions')
    .innerJoin('users', (j) => j.onRef('users.workspace_id', '=', 'sessions.workspace_id').onRef('users.id', '=', 'sessions.user_id'))
    .selectAll('users')
    .select('sessions.expires_at')
    .where('sessions.workspace_id', '=', workspaceId)
    .where('sessions.token_hash', '=', hash)
    .where('sessions.expires_at', '>', now)
    .where('users.active', '=', true)
    .executeTakeFirst();
  if (!user) return null;
  const actor = actorFromUser(user, 'session');
  rememberActor(`s:${workspaceId}:${hash}`, actor, user.expires_at);
  return actor;
}

/** API keys look like `tdm_<workspace id without dashes>_<secret>`, so lookup stays in one workspace. */
export async function actorForApiKey(deps: Deps, key: string): Promise<Actor | null> {
  const m = /^tdm_([0-9a-f]{32})_([A-Za-z0-9_-]{20,})$/.exec(key);
  if (!m?.[1]) return null;
  const hex = m[1];
  const workspaceId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const hash = sha256(key);
  const cached = cachedActor(`k:${hash}`, deps.clock.now());
  if (cached) return cached;
  const row = await deps.db
    .selectFrom('api_keys')
    .innerJoin('users', (j) => j.onRef('users.workspace_id', '=', 'api_keys.workspace_id').onRef('users.id', '=', 'api_keys.user_id'))
    .selectAll('users')
    .select(['api_keys.id as key_id', 'api_keys.last_used_at'])
    .where('api_keys.workspace_id', '=', workspaceId)
    .where('api_keys.key_hash', '=', hash)
    .where('api_keys.revoked_at', 'is', null)
    .where('users.active', '=', true)
    .executeTakeFirst();
  if (!row) return null;
  const now = deps.clock.now();
  // Record use at most once a minute, so a busy script does not write on every request.
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) {
    await deps.db.updateTable('api_keys').set({ last_used_at: now }).where('workspace_id', '=', workspaceId).where('id', '=', row.key_id).execute();
  }
  const actor = actorFromUser(row, 'api_key');
  rememberActor(`k:${hash}`, actor);
  return actor;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  userId: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Create a key that acts as the calling person. The secret is returned once and stored hashed. */
export async function createApiKey(deps: Deps, actor: Actor, name: string): Promise<{ key: string; view: ApiKeyView }> {
  const key = `${KEY_PREFIX}${actor.workspaceId.replaceAll('-', '')}_${newToken(30)}`;
  const now = deps.clock.now();
  const row = {
    workspace_id: actor.workspaceId,
    id: uuidv7(),
    name,
    key_hash: sha256(key),
    prefix: `${key.slice(0, 12)}…${key.slice(-4)}`,
    user_id: actor.userId,
    created_at: now,
    last_used_at: null,
    revoked_at: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('api_keys').values(row).execute();
    await recordActivity(trx, actor, { kind: 'api_key.created', at: now, data: { keyId: row.id, name } });
  });
  return { key, view: presentKey(row) };
}

function presentKey(row: {
  id: string;
  name: string;
  prefix: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

/** Admins see every key in the workspace; others see their own. */
export async function listApiKeys(deps: Deps, actor: Actor): Promise<ApiKeyView[]> {
  let q = deps.db.selectFrom('api_keys').selectAll().where('workspace_id', '=', actor.workspaceId);
  if (!actor.isAdmin) q = q.where('user_id', '=', actor.userId);
  return (await q.orderBy('created_at', 'desc').execute()).map(presentKey);
}

export async function revokeApiKey(deps: Deps, actor: Actor, id: string): Promise<void> {
  const row = await deps.db.selectFrom('api_keys').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row || (!actor.isAdmin && row.user_id !== actor.userId)) throw notFound('API key');
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    await recordActivity(trx, actor, { kind: 'api_key.revoked', at: now, data: { keyId: id } });
  });
  forgetCredentials();
}
