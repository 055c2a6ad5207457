import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps, page } from '../../http/context.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { timelineEntry } from '../leads/leads.routes.js';

const query = z.object({
  kind: z.string().max(60).optional().describe('Exact kind ("handoff.rejected") or a prefix ending in "." ("handoff.")'),
  actorId: z.uuid().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The workspace's activity feed and audit log: every change, who made it, when. */
export async function activitiesRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/activities',
    {
      schema: {
        tags: ['activity'],
        summary: 'Activity feed and audit log, newest first',
        querystring: query,
        response: { 200: page(timelineEntry), ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const f = request.query;
      let q = deps.db.selectFrom('activities').selectAll().where('workspace_id', '=', actor.workspaceId);
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
      return {
        items: items.map((a) => ({
          id: a.id,
          at: a.at.toISOString(),
          kind: a.kind,
          actorId: a.actor_id,
          actorType: a.actor_type,
          leadId: a.lead_id,
          accountId: a.account_id,
          dealId: a.deal_id,
          handoffId: a.handoff_id,
          data: a.data,
        })),
        nextCursor: rows.length > f.limit && last ? encodeCursor(last.at.toISOString(), last.id) : null,
      };
    },
  );
}
