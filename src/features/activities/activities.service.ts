import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { type ActivityOut, presentActivity } from './activities.schema.js';

export interface ActivityFilter {
  leadId?: string | undefined;
  accountId?: string | undefined;
  kind?: string | undefined;
  actorId?: string | undefined;
  since?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** The timeline of a lead or an account, or the workspace's whole feed: newest first, by cursor. */
export async function listActivities(db: Kysely<DB>, actor: Actor, f: ActivityFilter): Promise<{ items: ActivityOut[]; nextCursor: string | null }> {
  let q = db.selectFrom('activities').selectAll().where('workspace_id', '=', actor.workspaceId);
  if (f.leadId) q = q.where('lead_id', '=', f.leadId);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.kind) q = f.kind.endsWith('.') ? q.where('kind', 'like', `${f.kind.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : q.where('kind', '=', f.kind);
  if (f.actorId) q = q.where('actor_id', '=', f.actorId);
  if (f.since) q = q.where('at', '>=', new Date(f.since));
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor, 'query.cursor');
    const when = new Date(String(at));
    q = q.where((eb) => eb.or([eb('at', '<', when), eb.and([eb('at', '=', when), eb('id', '<', id)])]));
  }
  const rows = await q
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items: items.map(presentActivity), nextCursor: rows.length > f.limit && last ? encodeCursor(last.at.toISOString(), last.id) : null };
}
