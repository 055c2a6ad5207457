import type { Actor } from '../../domain/access.js';
import type { Deps } from '../../http/context.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';

export interface SavedView {
  id: string;
  page: string;
  name: string;
  filters: Record<string, string>;
  shared: boolean;
  ownerId: string;
  mine: boolean;
  createdAt: string;
}

type Row = { id: string; page: string; name: string; filters: unknown; shared: boolean; user_id: string; created_at: Date };

const present = (actor: Actor, r: Row): SavedView => ({
  id: r.id,
  page: r.page,
  name: r.name,
  filters: r.filters as Record<string, string>,
  shared: r.shared,
  ownerId: r.user_id,
  mine: r.user_id === actor.userId,
  createdAt: r.created_at.toISOString(),
});

/** The caller's own views of a page, then those others shared with the workspace, by name. */
export async function listViews(deps: Deps, actor: Actor, page: string): Promise<SavedView[]> {
  const rows = await deps.db
    .selectFrom('saved_views')
    .select(['id', 'page', 'name', 'filters', 'shared', 'user_id', 'created_at'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('page', '=', page)
    .where((eb) => eb.or([eb('user_id', '=', actor.userId), eb('shared', '=', true)]))
    .orderBy('name')
    .execute();
  return rows.map((r) => present(actor, r)).sort((a, b) => Number(b.mine) - Number(a.mine) || a.name.localeCompare(b.name));
}

/** Save a view under a name; saving the same name again replaces the caller's view of that name. */
export async function saveView(
  deps: Deps,
  actor: Actor,
  input: { page: string; name: string; filters: Record<string, string>; shared: boolean },
): Promise<SavedView> {
  return deps.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('saved_views')
      .select('id')
      .where('workspace_id', '=', actor.workspaceId)
      .where('user_id', '=', actor.userId)
      .where('page', '=', input.page)
      .where((eb) => eb(eb.fn('lower', ['name']), '=', input.name.toLowerCase()))
      .forUpdate()
      .executeTakeFirst();
    const values = { name: input.name, filters: JSON.stringify(input.filters), shared: input.shared };
    const row = existing
      ? await trx
          .updateTable('saved_views')
          .set(values)
          .where('workspace_id', '=', actor.workspaceId)
          .where('id', '=', existing.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await trx
          .insertInto('saved_views')
          .values({ ...values, workspace_id: actor.workspaceId, id: uuidv7(), user_id: actor.userId, page: input.page, created_at: deps.clock.now() })
          .returningAll()
          .executeTakeFirstOrThrow();
    return present(actor, row);
  });
}

/** Delete a view: its owner may, and an administrator may remove a shared one. */
export async function deleteView(deps: Deps, actor: Actor, id: string): Promise<void> {
  const row = await deps.db
    .selectFrom('saved_views')
    .select(['user_id', 'shared'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || (row.user_id !== actor.userId && !row.shared)) throw notFound('Saved view');
  if (row.user_id !== actor.userId && !actor.isAdmin)
    throw new AppError('forbidden', 'Only the person who saved this view, or an administrator, can delete it');
  await deps.db.deleteFrom('saved_views').where('workspace_id', '=', actor.workspaceId).where('id', '=', id).execute();
}
