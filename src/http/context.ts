import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { DB } from '../db/schema.js';
import type { Actor } from '../domain/access.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';

/** What every route and service needs: the database, the clock, the configuration. */
export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
  config: Config;
}

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Routes that answer without a signed-in user or API key. */
    public?: boolean;
  }
}

/** The signed-in person or key behind a request; the auth hook has already rejected anonymous calls. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('unauthenticated', 'Sign in or send an API key');
  return request.actor;
}

/**
 * The version a client says it is editing: `If-Match: "3"` (as given in ETag) or `version`
 * in the body. Both present and different is a client error.
 */
export function expectedVersion(request: FastifyRequest, bodyVersion: number | undefined): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return bodyVersion;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(String(header).trim());
  if (!m)
    throw new AppError('validation_failed', 'headers.if-match: expected the ETag you received, such as "3"', {
      problems: [{ path: 'headers.if-match', message: 'not a version' }],
    });
  const v = Number(m[1]);
  if (bodyVersion !== undefined && bodyVersion !== v) throw new AppError('validation_failed', 'If-Match and body.version disagree');
  return v;
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('etag', `"${version}"`);
}

export const idParams = z.object({ id: z.uuid() });

export const errorOut = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }),
});

/** Error responses every authenticated route can give, for the OpenAPI document. */
export const commonErrors = { 400: errorOut, 401: errorOut, 403: errorOut, 404: errorOut, 409: errorOut } as const;

export function page<T extends z.ZodTypeAny>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export type Request = FastifyRequest;
