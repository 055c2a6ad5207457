import { z } from 'zod';
import { DEMO_PASSWORD, demoPeople } from '../../demo/seed.js';
import { type App, actorOf, commonErrors, type Deps, idParams } from '../../http/context.js';
import { AppError } from '../../lib/errors.js';
import { presentUser, userOut } from '../users/users.schema.js';
import { getUser } from '../users/users.service.js';
import { getWorkspace } from '../workspaces/workspaces.service.js';
import { createApiKey, listApiKeys, revokeApiKey, SESSION_COOKIE, signIn, signOut } from './auth.service.js';

const loginBody = z
  .object({
    email: z.email(),
    password: z.string().min(1).max(200),
    workspace: z.string().max(63).optional().describe('Workspace slug; needed only if the email is in several workspaces'),
  })
  .strict();
const meOut = z.object({
  user: userOut,
  workspace: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
  via: z.enum(['session', 'api_key', 'system']),
});
const keyOut = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  userId: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export async function authRoutes(app: App, deps: Deps): Promise<void> {
  app.post(
    '/api/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password; sets an HTTP-only session cookie',
        body: loginBody,
        response: { 200: meOut, 400: commonErrors[400], 401: commonErrors[401] },
      },
    },
    async (request, reply) => {
      const { cookieValue, user, expiresAt } = await signIn(deps, request.body, deps.config.sessionDays);
      reply.setCookie(SESSION_COOKIE, cookieValue, { httpOnly: true, sameSite: 'lax', secure: deps.config.secureCookies, path: '/', expires: expiresAt });
      const workspace = await getWorkspace(deps.db, user.workspace_id);
      return { user: presentUser(user), workspace, via: 'session' as const };
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { public: true }, schema: { tags: ['auth'], summary: 'End the session', response: { 204: z.null() } } },
    async (request, reply) => {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) await signOut(deps, cookie);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/auth/demo',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'The demo workspace’s suggested sign-ins, for the sign-in page; 404 where there is no demo workspace',
        response: {
          200: z.object({ workspace: z.string(), password: z.string(), people: z.array(z.object({ email: z.string(), role: z.string() })) }),
          404: commonErrors[404],
        },
      },
    },
    async () => {
      const demo = await demoPeople(deps.db);
      if (!demo) throw new AppError('not_found', 'This Tandem has no demo workspace');
      return { workspace: demo.workspace, password: DEMO_PASSWORD, people: demo.people };
    },
  );

  app.get('/api/me', { schema: { tags: ['auth'], summary: 'Who is signed in', response: { 200: meOut, ...commonErrors } } }, async (request) => {
    const actor = actorOf(request);
    const [user, workspace] = await Promise.all([getUser(deps, actor, actor.userId), getWorkspace(deps.db, actor.workspaceId)]);
    return { user: presentUser(user), workspace, via: actor.via };
  });

  app.get(
    '/api/api-keys',
    { schema: { tags: ['auth'], summary: 'API keys (admins see all)', response: { 200: z.object({ items: z.array(keyOut) }), ...commonErrors } } },
    async (request) => ({
      items: await listApiKeys(deps, actorOf(request)),
    }),
  );

  app.post(
    '/api/api-keys',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API key that acts as you; the key is shown only in this response',
        body: z.object({ name: z.string().trim().min(1).max(100) }).strict(),
        response: { 201: z.object({ key: z.string(), apiKey: keyOut }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const { key, view } = await createApiKey(deps, actorOf(request), request.body.name);
      return reply.status(201).send({ key, apiKey: view });
    },
  );

  app.delete(
    '/api/api-keys/:id',
    { schema: { tags: ['auth'], summary: 'Revoke an API key', params: idParams, response: { 204: z.null(), ...commonErrors } } },
    async (request, reply) => {
      await revokeApiKey(deps, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
