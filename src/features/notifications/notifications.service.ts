import type { Kysely } from 'kysely';
import type { DB, Notification } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';

export interface NotificationInput {
  kind: string;
  title: string;
  leadId?: string | null;
  handoffId?: string | null;
  data?: Record<string, unknown>;
}

/** In-app notifications, written in the caller's transaction so they exist exactly when the change does. */
export async function notify(db: Kysely<DB>, workspaceId: string, userIds: Iterable<string>, at: Date, n: NotificationInput): Promise<void> {
  await insertNotifications(db, workspaceId, userIds, at, n)?.execute();
}

/** The insert as a query, so a caller can run it as part of a larger statement; undefined when nobody is told. */
export function insertNotifications(db: Kysely<DB>, workspaceId: string, userIds: Iterable<string>, at: Date, n: NotificationInput) {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return undefined;
  return db.insertInto('notifications').values(
    ids.map((userId) => ({
      workspace_id: workspaceId,
      id: uuidv7(at.getTime()),
      user_id: userId,
      kind: n.kind,
      title: n.title,
      lead_id: n.leadId ?? null,
      handoff_id: n.handoffId ?? null,
      data: JSON.stringify(n.data ?? {}),
      created_at: at,
      read_at: null,
    })),
  );
}

/** Active sales leads: who hears about escalations and the unassigned queue. */
export async function salesLeadIds(db: Kysely<DB>, workspaceId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('team', '=', 'sales')
    .where('level', '=', 'lead')
    .where('active', '=', true)
    .execute();
  return rows.map((r) => r.id);
}

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export async function listNotifications(
  deps: Deps,
  actor: Actor,
  opts: { unreadOnly: boolean; limit: number; before?: string | undefined },
): Promise<Notification[]> {
  let q = deps.db.selectFrom('notifications').selectAll().where('workspace_id', '=', actor.workspaceId).where('user_id', '=', actor.userId);
  if (opts.unreadOnly) q = q.where('read_at', 'is', null);
  if (opts.before) q = q.where('id', '<', opts.before);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

export async function markRead(deps: Deps, actor: Actor, id: string | 'all'): Promise<number> {
  let q = deps.db
    .updateTable('notifications')
    .set({ read_at: deps.clock.now() })
    .where('workspace_id', '=', actor.workspaceId)
    .where('user_id', '=', actor.userId)
    .where('read_at', 'is', null);
  if (id !== 'all') q = q.where('id', '=', id);
  const result = await q.executeTakeFirst();
  const n = Number(result.numUpdatedRows);
  if (id !== 'all' && n === 0) {
    const exists = await deps.db
      .selectFrom('notifications')
      .select('id')
      .where('workspace_id', '=', actor.workspaceId)
      .where('user_id', '=', actor.userId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!exists) throw notFound('Notification');
  }
  return n;
}
