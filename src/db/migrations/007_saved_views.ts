import { type Kysely, sql } from 'kysely';

/** Saved views of a list (the leads table's filters): each person's own, and those shared with the workspace. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE saved_views (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    page text NOT NULL,
    name text NOT NULL,
    filters jsonb NOT NULL,
    shared boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
  )`.execute(db);
  await sql`CREATE UNIQUE INDEX saved_views_name ON saved_views (workspace_id, user_id, page, lower(name))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE saved_views`.execute(db);
}
