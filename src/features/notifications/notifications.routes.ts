import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps } from '../../http/context.js';
import { listNotifications, markRead } from './notifications.service.js';

const notificationOut = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  leadId: z.string().nullable(),
  handoffId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});

export async function notificationsRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Your in-app notifications, newest first',
        querystring: z.object({
          unread: z.enum(['true', 'false']).optional(),
          before: z.uuid().optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
        response: { 200: z.object({ items: z.array(notificationOut) }), ...commonErrors },
      },
    },
    async (request) => {
      const rows = await listNotifications(deps, actorOf(request), {
        unreadOnly: request.query.unread === 'true',
        limit: request.query.limit,
        before: request.query.before,
      });
      return {
        items: rows.map((n) => ({
          id: n.id,
          kind: n.kind,
          title: n.title,
          leadId: n.lead_id,
          handoffId: n.handoff_id,
          data: n.data,
          createdAt: n.created_at.toISOString(),
          readAt: n.read_at?.toISOString() ?? null,
        })),
      };
    },
  );

  app.post(
    '/api/notifications/:id/read',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Mark one notification read, or all with id "all"',
        params: z.object({ id: z.union([z.uuid(), z.literal('all')]) }),
        response: { 200: z.object({ marked: z.number() }), ...commonErrors },
      },
    },
    async (request) => ({ marked: await markRead(deps, actorOf(request), request.params.id) }),
  );
}
