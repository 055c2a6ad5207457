import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps } from '../../http/context.js';
import type { ActivityOut } from '../activities/activities.schema.js';
import { LiveHub } from './live.hub.js';

const HEARTBEAT_MS = 25_000;

/**
 * `GET /api/live`: server-sent events. Each new timeline entry of the caller's workspace comes as
 * an `activity` event (the same shape as the timeline's items), so an open page can refresh what
 * it shows: a new handoff in a rep's queue, a rejection on marketing's home.
 */
export async function liveRoutes(app: App, deps: Deps, hub = new LiveHub(deps.db, deps.clock)): Promise<void> {
  const open = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const end of open) end();
    hub.stop();
  });

  app.get(
    '/api/live',
    {
      schema: {
        tags: ['activities'],
        summary: 'Live updates as server-sent events: an "activity" event for each new timeline entry of the workspace',
        response: { 200: z.string().describe('text/event-stream'), ...commonErrors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      const send = (activity: ActivityOut) => res.write(`id: ${activity.id}\nevent: activity\ndata: ${JSON.stringify(activity)}\n\n`);
      const unsubscribe = hub.subscribe(actor.workspaceId, send);
      const heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
      const end = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      open.add(end);
      request.raw.on('close', end);
    },
  );
}
