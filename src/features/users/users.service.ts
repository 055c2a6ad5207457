import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { DB, User } from '../../db/schema.js';
import { type Actor, assertAdmin } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { hashPassword } from '../../lib/secrets.js';
import { recordActivity } from '../activities/activities.repo.js';
import { forgetCredentials } from '../auth/credential-cache.js';
import { type CreateUserInput, createUserBody, type updateUserBody } from './users.schema.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

/** Add a person to a workspace. `actor` is null when the command line bootstraps a workspace. */
export async function createUser(deps: Deps, workspaceId: string, actor: Actor | null, raw: CreateUserInput): Promise<User> {
  if (actor) assertAdmin(actor);
  const input = createUserBody.parse(raw);
  const now = deps.clock.now();
  const exists = await deps.db
    .selectFrom('users')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', input.email.toLowerCase()))
    .executeTakeFirst();
  if (exists) throw new AppError('conflict', `A user with email ${input.email} already exists`, { field: 'email' });
  const row = {
    workspace_id: workspaceId,
    id: uuidv7(),
    email: input.email,
    name: input.name,
    team: input.team,
    level: input.level,
    is_admin: input.isAdmin,
    password_hash: input.password ? await hashPassword(input.password) : null,
    routing_weight: input.routingWeight,
    handoff_capacity: input.handoffCapacity,
    created_at: now,
    updated_at: now,
  };
  return deps.db.transaction().execute(async (trx) => {
    const user = await trx.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
    if (actor)
      await recordActivity(trx, actor, { kind: 'user.created', at: now, data: { userId: user.id, email: user.email, team: user.team, level: user.level } });
    return user;
  });
}

export async function listUsers(deps: Deps, actor: Actor): Promise<User[]> {
  return deps.db.selectFrom('users').selectAll().where('workspace_id', '=', actor.workspaceId).orderBy('team').orderBy('name').execute();
}

export async function getUser(deps: Deps, actor: Actor, id: string): Promise<User> {
  const user = await deps.db.selectFrom('users').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!user) throw notFound('User');
  return user;
}

export async function updateUser(deps: Deps, actor: Actor, id: string, input: z.infer<typeof updateUserBody>): Promise<User> {
  assertAdmin(actor);
  await getUser(deps, actor, id);
  const now = deps.clock.now();
  const updated = await deps.db.transaction().execute(async (trx) => {
    const user = await trx
      .updateTable('users')
      .set({
        ...(input.name !== undefined && { name: input.name }),
        ...(input.team !== undefined && { team: input.team }),
        ...(input.level !== undefined && { level: input.level }),
        ...(input.isAdmin !== undefined && { is_admin: input.isAdmin }),
        ...(input.active !== undefined && { active: input.active }),
        ...(input.routingWeight !== undefined && { routing_weight: input.routingWeight }),
        ...(input.handoffCapacity !== undefined && { handoff_capacity: input.handoffCapacity }),
        ...(input.password !== undefined && { password_hash: await hashPassword(input.password) }),
        updated_at: now,
      })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.active === false) await trx.deleteFrom('sessions').where('workspace_id', '=', actor.workspaceId).where('user_id', '=', id).execute();
    const { password: _omit, ...changed } = input;
    await recordActivity(trx, actor, {
      kind: 'user.updated',
      at: now,
      data: { userId: id, changed: { ...changed, ...(input.password ? { password: '(changed)' } : {}) } },
    });
    return user;
  });
  // A change of team, level or activity applies to the next request, not after a cache expires.
  forgetCredentials();
  return updated;
}
