import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventType } from '../../db/schema.js';
import { type App, actorOf, commonErrors, type Deps, errorOut, idParams } from '../../http/context.js';
import { AppError } from '../../lib/errors.js';
import type { Ingestor } from './tracking.ingest.js';
import { decodeBody, LIMITS, parsePayload } from './tracking.parse.js';
import { createWriteKey, listWriteKeys, revokeWriteKey, workspaceForWriteKey } from './write-keys.service.js';

/** Segment's paths, and the browser library's one-letter ones. */
const PATHS: Record<string, EventType | 'batch'> = {
  batch: 'batch',
  b: 'batch',
  import: 'batch',
  identify: 'identify',
  i: 'identify',
  track: 'track',
  t: 'track',
  page: 'page',
  p: 'page',
  screen: 'screen',
  s: 'screen',
  group: 'group',
  g: 'group',
  alias: 'alias',
  a: 'alias',
};

const writeKeyOut = z.object({ id: z.uuid(), name: z.string(), key: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() });

/**
 * The tracking API (Segment's spec, so a site instrumented with Segment's or RudderStack's
 * libraries sends here by changing one host) and the write keys it takes.
 */
export async function trackingRoutes(app: App, deps: Deps, ingestor: Ingestor): Promise<void> {
  app.get(
    '/api/write-keys',
    {
      schema: {
        tags: ['tracking'],
        summary: "The workspace's write keys for the tracking API",
        response: { 200: z.object({ items: z.array(writeKeyOut) }), ...commonErrors },
      },
    },
    async (request) => ({ items: await listWriteKeys(deps, actorOf(request)) }),
  );
  app.post(
    '/api/write-keys',
    {
      schema: {
        tags: ['tracking'],
        summary: 'Create a write key for a site or app (marketing lead or admin)',
        body: z.object({ name: z.string().trim().min(1).max(100) }).strict(),
        response: { 201: writeKeyOut, ...commonErrors },
      },
    },
    async (request, reply) => reply.status(201).send(await createWriteKey(deps, actorOf(request), request.body.name)),
  );
  app.delete(
    '/api/write-keys/:id',
    {
      schema: {
        tags: ['tracking'],
        summary: 'Revoke a write key; events sent with it are refused from then on',
        params: idParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await revokeWriteKey(deps, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    // Bodies arrive as JSON, as text/plain (the browser library, to avoid a CORS preflight) or
    // gzip under a form content type (RudderStack): read them raw and decide here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LIMITS.requestBytes * 4 }, (_request, body, done) => done(null, body));
    scope.addHook('onRequest', async (_request, reply) => {
      reply.header('access-control-allow-origin', '*');
    });
    scope.options('/v1/:path', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type, authorization, content-encoding')
        .header('access-control-max-age', '86400')
        .status(204)
        .send(),
    );
    // Segment's browser library fetches its settings from `<cdnURL>/v1/projects/<writeKey>/settings`.
    // Answering here means a site changes one option (cdnURL) and sends every event to Tandem.
    scope.get(
      '/v1/projects/:writeKey/settings',
      {
        config: { public: true },
        schema: {
          tags: ['tracking'],
          summary: 'Settings for Segment’s browser library (analytics-next), so `cdnURL` alone points a site at Tandem',
          params: z.object({ writeKey: z.string().max(200) }),
          response: {
            200: z.object({
              integrations: z.record(z.string(), z.object({ apiKey: z.string(), apiHost: z.string(), protocol: z.string() })),
              plan: z.object({ track: z.object({ __default: z.object({ enabled: z.boolean() }) }) }),
            }),
            404: errorOut,
          },
        },
      },
      async (request) => {
        const { writeKey } = request.params;
        if (!(await workspaceForWriteKey(deps, writeKey))) throw new AppError('not_found', 'The write key is unknown or revoked');
        return {
          integrations: { 'Segment.io': { apiKey: writeKey, apiHost: `${request.host}/v1`, protocol: request.protocol } },
          plan: { track: { __default: { enabled: true } } },
        };
      },
    );
    scope.post(
      '/v1/:path',
      {
        config: { public: true },
        schema: {
          tags: ['tracking'],
          summary: 'Segment-compatible tracking: batch, identify, track, page, screen, group, alias (and b, i, t, p, s, g, a)',
          description:
            'Authenticate with the write key as the Basic user name, a `writeKey` in the body, or a Bearer token. Bodies up to 500 KB, 2,500 events, 32 KB an event; gzip by Content-Encoding. A 200 means the events are committed; each messageId is stored once.',
          params: z.object({ path: z.string() }),
          response: {
            200: z.object({ success: z.literal(true), stored: z.number().int(), duplicates: z.number().int() }),
            400: errorOut,
            401: errorOut,
            404: errorOut,
            429: errorOut,
          },
        },
      },
      async (request, reply) => {
        const kind = PATHS[request.params.path];
        if (!kind) throw new AppError('not_found', `No tracking call /v1/${request.params.path}; use batch, identify, track, page, screen, group or alias`);
        const receivedAt = deps.clock.now();
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        if (raw.length === 0) throw new AppError('invalid_json', 'The body is empty; send a JSON object');
        const body = await decodeBody(raw, request.headers['content-encoding']);
        const payload = parsePayload(body, kind, receivedAt);
        const key = writeKeyOf(request, payload.writeKey);
        if (!key) throw new AppError('unauthenticated', 'Send the write key as the Basic user name, as "writeKey" in the body, or as a Bearer token');
        const workspaceId = await workspaceForWriteKey(deps, key);
        if (!workspaceId) throw new AppError('unauthenticated', 'The write key is unknown or revoked');
        const result = await submit(ingestor, workspaceId, payload.events, reply);
        return { success: true as const, ...result };
      },
    );
  });
}

async function submit(ingestor: Ingestor, workspaceId: string, events: Parameters<Ingestor['submit']>[1], reply: FastifyReply) {
  try {
    return await ingestor.submit(workspaceId, events);
  } catch (error) {
    if (error instanceof AppError && error.code === 'rate_limited') reply.header('retry-after', '1');
    throw error;
  }
}

function writeKeyOf(request: FastifyRequest, inBody: string | undefined): string | undefined {
  const auth = request.headers.authorization?.trim();
  if (auth?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const user = decoded.split(':')[0];
    if (user) return user;
  }
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim() || inBody;
  return inBody;
}
