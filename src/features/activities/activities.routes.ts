import { type App, actorOf, commonErrors, type Deps, page } from '../../http/context.js';
import { activityOut, feedQuery } from './activities.schema.js';
import { listActivities } from './activities.service.js';

/** The workspace's activity feed and audit log: every change, who made it, when. */
export async function activitiesRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/activities',
    {
      schema: {
        tags: ['activity'],
        summary: 'Activity feed and audit log, newest first',
        querystring: feedQuery,
        response: { 200: page(activityOut), ...commonErrors },
      },
    },
    async (request) => listActivities(deps.db, actorOf(request), request.query),
  );
}
