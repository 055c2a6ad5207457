import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, WriteKey } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export interface WriteKeyView {
  id: string;
  name: string;
  key: string;
  createdAt: string;
  revokedAt: string | null;
}

const present = (row: WriteKey): WriteKeyView => ({
  id: row.id,
  name: row.name,
  key: row.key,
  createdAt: row.created_at.toISOString(),
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

/** Marketing owns what the website sends; an admin may also manage keys. */
function assertMayManage(actor: Actor): void {
  if (actor.isAdmin || (actor.team === 'marketing' && actor.level === 'lead')) return;
  throw new AppError('forbidden', 'Write keys are managed by the marketing lead or an administrator');
}

/**
 * Write keys look like `wk_<workspace id without dashes>_<random>`: a site's tracking snippet
 * carries one, so it names a workspace but grants nothing beyond sending events to it.
 */
export async function createWriteKey(deps: Deps, actor: Actor, name: string): Promise<WriteKeyView> {
  assertMayManage(actor);
  const now = deps.clock.now();
  const row: WriteKey = {
    workspace_id: actor.workspaceId,
    id: uuidv7(),
    key: `wk_${actor.workspaceId.replaceAll('-', '')}_${randomBytes(18).toString('hex')}`,
    name,
    created_by: actor.via === 'system' ? null : actor.userId,
    created_at: now,
    revoked_at: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('write_keys').values(row).execute();
    await recordActivity(trx, actor, { kind: 'write_key.created', at: now, data: { writeKeyId: row.id, name } });
  });
  return present(row);
}

export async function listWriteKeys(deps: Deps, actor: Actor): Promise<WriteKeyView[]> {
  const rows = await deps.db.selectFrom('write_keys').selectAll().where('workspace_id', '=', actor.workspaceId).orderBy('created_at', 'desc').execute();
  return rows.map(present);
}

export async function revokeWriteKey(deps: Deps, actor: Actor, id: string): Promise<void> {
  assertMayManage(actor);
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('write_keys')
      .set({ revoked_at: now })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!row) {
      const exists = await trx.selectFrom('write_keys').select('id').where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
      if (!exists) throw notFound('Write key');
      return;
    }
    await recordActivity(trx, actor, { kind: 'write_key.revoked', at: now, data: { writeKeyId: id } });
  });
  known.clear();
}

/** Keys recently checked, so a busy site does not cost a lookup per request; revocation clears it. */
const known = new Map<string, { workspaceId: string | null; until: number }>();
const KNOWN_MS = 5_000;

/** The workspace a write key sends to, or null when the key is unknown or revoked. */
export async function workspaceForWriteKey(deps: Deps, key: string): Promise<string | null> {
  const m = /^wk_([0-9a-f]{32})_[0-9a-f]{16,64}$/.exec(key);
  if (!m?.[1]) return null;
  const cached = known.get(key);
  if (cached && cached.until > performance.now()) return cached.workspaceId;
  const hex = m[1];
  const workspaceId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const row = await deps.db
    .selectFrom('write_keys')
    .select('workspace_id')
    .where('workspace_id', '=', workspaceId)
    .where('key', '=', key)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (known.size > 10_000) known.clear();
  known.set(key, { workspaceId: row?.workspace_id ?? null, until: performance.now() + KNOWN_MS });
  return row?.workspace_id ?? null;
}
