import type { FastifyRequest } from 'fastify';
import { actorForApiKey, actorForSession, SESSION_COOKIE } from '../features/auth/auth.service.js';
import { AppError } from '../lib/errors.js';
import type { App, Deps } from './context.js';

/**
 * Every route needs a signed-in user (session cookie) or an API key (Bearer), unless its
 * config says `public: true`. The actor is resolved once per request.
 */
export function installAuth(app: App, deps: Deps): void {
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // Public routes (health, docs, sign-in) answer whatever credentials come along, so a
    // monitoring probe or a browser with a stale cookie is never turned away.
    const isPublic = Boolean(request.routeOptions.config?.public) || isPublicPath(request.routeOptions.url ?? request.url.split('?')[0] ?? '');
    const auth = request.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      request.actor = await actorForApiKey(deps, auth.slice(7).trim());
      if (!request.actor && !isPublic) throw new AppError('unauthenticated', 'The API key is unknown or revoked');
    } else {
      const cookie = request.cookies?.[SESSION_COOKIE];
      if (cookie) request.actor = await actorForSession(deps, cookie);
    }
    if (!request.actor && !isPublic) {
      throw new AppError('unauthenticated', 'Sign in (POST /api/auth/login) or send an API key as "Authorization: Bearer <key>"');
    }
  });
}

/**
 * Documentation, health and the web app's files carry no workspace data, and the tracking API
 * takes write keys instead. Matched on the route, so a query string does not matter.
 */
function isPublicPath(url: string): boolean {
  // Outside /api is the web app's shell and files, the docs, health and tracking: no workspace data.
  return url === '/api/openapi.json' || !url.startsWith('/api/');
}
