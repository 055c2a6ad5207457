import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export interface AbsenceView {
  id: string;
  userId: string;
  startsAt: string;
  endsAt: string;
  note: string | null;
}

/** People record their own absences; a team lead or an admin may record them for others. */
export async function createAbsence(
  deps: Deps,
  actor: Actor,
  input: { userId?: string | undefined; startsAt: string; endsAt: string; note?: string | undefined },
): Promise<AbsenceView> {
  const userId = input.userId ?? actor.userId;
  if (userId !== actor.userId && actor.level !== 'lead' && !actor.isAdmin)
    throw new AppError('forbidden', 'Only a lead or an admin can record absences for someone else');
  const startsAt = new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  if (endsAt <= startsAt) throw invalid('body.endsAt', 'must be after startsAt');
  const user = await deps.db.selectFrom('users').select('id').where('workspace_id', '=', actor.workspaceId).where('id', '=', userId).executeTakeFirst();
  if (!user) throw invalid('body.userId', 'no such user in this workspace');
  const now = deps.clock.now();
  const row = {
    workspace_id: actor.workspaceId,
    id: uuidv7(now.getTime()),
    user_id: userId,
    starts_at: startsAt,
    ends_at: endsAt,
    note: input.note ?? null,
    created_at: now,
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('absences').values(row).execute();
    await recordActivity(trx, actor, { kind: 'absence.created', at: now, data: { absenceId: row.id, userId, startsAt: input.startsAt, endsAt: input.endsAt } });
  });
  return { id: row.id, userId, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), note: row.note };
}

export async function listAbsences(deps: Deps, actor: Actor): Promise<AbsenceView[]> {
  const rows = await deps.db
    .selectFrom('absences')
    .selectAll()
    .where('workspace_id', '=', actor.workspaceId)
    .where('ends_at', '>', deps.clock.now())
    .orderBy('starts_at')
    .execute();
  return rows.map((r) => ({ id: r.id, userId: r.user_id, startsAt: r.starts_at.toISOString(), endsAt: r.ends_at.toISOString(), note: r.note }));
}

export async function deleteAbsence(deps: Deps, actor: Actor, id: string): Promise<void> {
  const row = await deps.db.selectFrom('absences').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Absence');
  if (row.user_id !== actor.userId && actor.level !== 'lead' && !actor.isAdmin)
    throw new AppError('forbidden', "Only a lead or an admin can remove someone else's absence");
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('absences').where('workspace_id', '=', actor.workspaceId).where('id', '=', id).execute();
    await recordActivity(trx, actor, { kind: 'absence.deleted', at: deps.clock.now(), data: { absenceId: id, userId: row.user_id } });
  });
}
