import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';

export interface Workspace {
  id: string;
  slug: string;
  name: string;
}

export async function createWorkspace(db: Kysely<DB>, clock: Clock, input: { slug: string; name: string }): Promise<Workspace> {
  if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(input.slug)) {
    throw new AppError('validation_failed', 'slug: use 2-63 lower-case letters, digits and dashes', { problems: [{ path: 'slug', message: 'invalid slug' }] });
  }
  const row = { id: uuidv7(), slug: input.slug, name: input.name, created_at: clock.now() };
  await db.insertInto('workspaces').values(row).execute();
  return { id: row.id, slug: row.slug, name: row.name };
}

export async function findWorkspaceBySlug(db: Kysely<DB>, slug: string): Promise<Workspace | undefined> {
  return db.selectFrom('workspaces').select(['id', 'slug', 'name']).where('slug', '=', slug).executeTakeFirst();
}

export async function getWorkspace(db: Kysely<DB>, id: string): Promise<Workspace> {
  const ws = await db.selectFrom('workspaces').select(['id', 'slug', 'name']).where('id', '=', id).executeTakeFirst();
  if (!ws) throw new AppError('not_found', 'Workspace not found');
  return ws;
}

/**
 * Tables whose rows carry a workspace but no foreign key to it (migrations 008 and 009: the
 * key's check cost every write on the hot paths), besides leads. Deleting a workspace clears them by hand.
 */
const UNKEYED_TABLES = ['lead_scores', 'score_points', 'score_history', 'identities', 'events'] as const;

/** Delete a workspace and everything in it, in the caller's transaction. */
export async function deleteWorkspace(trx: Kysely<DB>, id: string): Promise<void> {
  // Leads have no key to their workspace either; deals point at leads, and leads at accounts,
  // which go with the workspace: deals, then leads (their handoffs with them), before it.
  await trx.deleteFrom('deals').where('workspace_id', '=', id).execute();
  await trx.deleteFrom('leads').where('workspace_id', '=', id).execute();
  for (const table of UNKEYED_TABLES) await trx.deleteFrom(table).where('workspace_id', '=', id).execute();
  // Every other table hangs off the workspace (directly or through its users) and goes with it.
  await trx.deleteFrom('workspaces').where('id', '=', id).execute();
}
