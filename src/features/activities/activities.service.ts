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
  const wantActivities = !f.kind?.startsWith('event.');
  const rows = wantActivities
    ? (
        await q
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(f.limit + 1)
          .execute()
      ).map(presentActivity)
    : [];
  // A lead's or account's timeline shows its behaviour (tracked events) among everything else.
  const wantEvents = (f.leadId || f.accountId) && !f.actorId && (!f.kind || f.kind === 'event.' || f.kind.startsWith('event.'));
  const events = wantEvents ? await timelineEvents(db, actor, f) : [];
  const merged = [...rows, ...events].sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1));
  const items = merged.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: merged.length > f.limit && last ? encodeCursor(last.at, last.id) : null };
}

/** Tracked events as timeline entries: kind `event.<type>`, the visitor as the actor. */
async function timelineEvents(db: Kysely<DB>, actor: Actor, f: ActivityFilter): Promise<ActivityOut[]> {
  let q = db
    .selectFrom('events')
    .select(['id', 'at', 'type', 'name', 'lead_id', 'account_id', 'properties', 'campaign', 'message_id'])
    .where('workspace_id', '=', actor.workspaceId);
  if (f.leadId) q = q.where('lead_id', '=', f.leadId);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.kind && f.kind !== 'event.') q = q.where('type', '=', f.kind.slice('event.'.length) as 'track');
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
  return rows.map((e) => ({
    id: e.id,
    at: e.at.toISOString(),
    kind: `event.${e.type}`,
    actorId: null,
    actorType: 'contact',
    leadId: e.lead_id,
    accountId: e.account_id,
    dealId: null,
    handoffId: null,
    data: { name: e.name, properties: e.properties, campaign: e.campaign, messageId: e.message_id },
  }));
}
