import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { accountsRoutes } from '../features/accounts/accounts.routes.js';
import { activitiesRoutes } from '../features/activities/activities.routes.js';
import { agreementsRoutes } from '../features/agreements/agreements.routes.js';
import { authRoutes } from '../features/auth/auth.routes.js';
import { dealsRoutes } from '../features/deals/deals.routes.js';
import { handoffsRoutes } from '../features/handoffs/handoffs.routes.js';
import { importsRoutes } from '../features/imports/imports.routes.js';
import { leadsRoutes } from '../features/leads/leads.routes.js';
import { liveRoutes } from '../features/live/live.routes.js';
import { notificationsRoutes } from '../features/notifications/notifications.routes.js';
import { scoringRoutes } from '../features/scoring/scoring.routes.js';
import { Ingestor } from '../features/tracking/tracking.ingest.js';
import { trackingRoutes } from '../features/tracking/tracking.routes.js';
import { usersRoutes } from '../features/users/users.routes.js';
import { viewsRoutes } from '../features/views/views.routes.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { installAuth } from './auth.js';
import type { App, Deps } from './context.js';
import { installErrorHandler } from './errors.js';
import { homeRoutes, pageShell } from './home.js';

export interface ServerOptions {
  config: Config;
  database: Database;
  clock?: Clock;
  /** Serve the built web app at / (default); false for the API alone. */
  webApp?: boolean;
  /** Pino logging; off in tests. */
  logger?: boolean;
}

/** Assemble the HTTP server: one place that wires plugins, auth, errors and every feature's routes. */
export async function buildServer(opts: ServerOptions): Promise<App> {
  const { config, database } = opts;
  const app = Fastify({
    bodyLimit: config.bodyLimit,
    logger: opts.logger ? { level: config.logLevel } : false,
    trustProxy: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const shell = opts.webApp === false ? null : pageShell();
  installErrorHandler(app, { pageShell: shell });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tandem API',
        version: '0.1.0',
        description:
          'One lead lifecycle for marketing and sales. Authenticate with the session cookie from POST /api/auth/login, or with `Authorization: Bearer <API key>` (create one with POST /api/api-keys). Errors are `{ "error": { "code", "message", "details" } }`. The tracking API under /v1 (Segment-compatible) takes a write key instead (Basic user name, `writeKey` in the body, or Bearer).',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'tandem_session' },
          apiKey: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const deps: Deps = { db: database.db, clock: opts.clock ?? systemClock, config };
  installAuth(app, deps);

  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Answers 200 when the database answers',
        response: {
          200: z.object({ status: z.literal('ok'), database: z.string() }),
          503: z.object({ status: z.literal('unavailable'), database: z.string() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await sql`SELECT 1`.execute(database.db);
        return { status: 'ok' as const, database: database.kind };
      } catch {
        return reply.status(503).send({ status: 'unavailable' as const, database: database.kind });
      }
    },
  );
  await homeRoutes(app, shell);
  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  for (const routes of [
    authRoutes,
    usersRoutes,
    accountsRoutes,
    leadsRoutes,
    dealsRoutes,
    handoffsRoutes,
    agreementsRoutes,
    notificationsRoutes,
    activitiesRoutes,
    scoringRoutes,
    importsRoutes,
    liveRoutes,
    viewsRoutes,
  ]) {
    await routes(app, deps);
  }
  // Tracking calls are committed in groups; closing the server first writes what is waiting.
  const ingestor = new Ingestor(database.db, deps.clock, { maxQueuedEvents: config.ingestQueue, writers: database.kind === 'postgres' ? 2 : 1 });
  await trackingRoutes(app, deps, ingestor);
  app.addHook('onClose', async () => ingestor.flush());
  await app.ready();
  return app;
}
