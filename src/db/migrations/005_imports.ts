import { type Kysely, sql } from 'kysely';

/** CSV imports: what was asked, how far it has got, and what went wrong where. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE imports (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id uuid NOT NULL,
    entity text NOT NULL CHECK (entity IN ('leads', 'accounts', 'deals')),
    format text NOT NULL,
    options jsonb NOT NULL DEFAULT '{}',
    dry_run boolean NOT NULL,
    status text NOT NULL CHECK (status IN ('waiting', 'running', 'done', 'failed')),
    file_name text,
    rows integer NOT NULL DEFAULT 0,
    inserted integer NOT NULL DEFAULT 0,
    updated integer NOT NULL DEFAULT 0,
    skipped integer NOT NULL DEFAULT 0,
    failed integer NOT NULL DEFAULT 0,
    problems jsonb NOT NULL DEFAULT '[]',
    problem_count integer NOT NULL DEFAULT 0,
    notes jsonb NOT NULL DEFAULT '[]',
    error text,
    created_by uuid,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (workspace_id, id)
  )`.execute(db);
  await sql`CREATE INDEX imports_created ON imports (workspace_id, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE imports`.execute(db);
}
