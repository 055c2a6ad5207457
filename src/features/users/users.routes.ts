import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps, idParams } from '../../http/context.js';
import { createAbsence, deleteAbsence, listAbsences } from './absences.service.js';
import { createUserBody, presentUser, updateUserBody, userOut } from './users.schema.js';
import { createUser, getUser, listUsers, updateUser } from './users.service.js';

const absenceOut = z.object({ id: z.string(), userId: z.string(), startsAt: z.string(), endsAt: z.string(), note: z.string().nullable() });
const absenceBody = z
  .object({
    userId: z.uuid().optional().describe('Defaults to you; leads and admins may set others'),
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    note: z.string().max(500).optional(),
  })
  .strict();

export async function usersRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/users',
    { schema: { tags: ['users'], summary: 'People in the workspace', response: { 200: z.object({ items: z.array(userOut) }), ...commonErrors } } },
    async (request) => ({
      items: (await listUsers(deps, actorOf(request))).map(presentUser),
    }),
  );

  app.post(
    '/api/users',
    { schema: { tags: ['users'], summary: 'Add a person (admin)', body: createUserBody, response: { 201: userOut, ...commonErrors } } },
    async (request, reply) => {
      const actor = actorOf(request);
      return reply.status(201).send(presentUser(await createUser(deps, actor.workspaceId, actor, request.body)));
    },
  );

  app.get('/api/users/:id', { schema: { tags: ['users'], params: idParams, response: { 200: userOut, ...commonErrors } } }, async (request) =>
    presentUser(await getUser(deps, actorOf(request), request.params.id)),
  );

  app.patch(
    '/api/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change a person: team, level, admin, active, password, routing (admin)',
        params: idParams,
        body: updateUserBody,
        response: { 200: userOut, ...commonErrors },
      },
    },
    async (request) => presentUser(await updateUser(deps, actorOf(request), request.params.id, request.body)),
  );

  app.get(
    '/api/absences',
    { schema: { tags: ['users'], summary: 'Absences now and to come', response: { 200: z.object({ items: z.array(absenceOut) }), ...commonErrors } } },
    async (request) => ({
      items: await listAbsences(deps, actorOf(request)),
    }),
  );

  app.post(
    '/api/absences',
    {
      schema: {
        tags: ['users'],
        summary: 'Record an absence; routing skips people while they are away',
        body: absenceBody,
        response: { 201: absenceOut, ...commonErrors },
      },
    },
    async (request, reply) => reply.status(201).send(await createAbsence(deps, actorOf(request), request.body)),
  );

  app.delete('/api/absences/:id', { schema: { tags: ['users'], params: idParams, response: { 204: z.null(), ...commonErrors } } }, async (request, reply) => {
    await deleteAbsence(deps, actorOf(request), request.params.id);
    return reply.status(204).send(null);
  });
}
