import { type Kysely, sql } from 'kysely';

/**
 * Each person's number of open handoffs, kept with the person: routing checks capacity on every
 * handoff, and counting the handoffs table each time grew with the number open.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN open_handoffs integer NOT NULL DEFAULT 0 CHECK (open_handoffs >= 0)`.execute(db);
  await sql`UPDATE users u SET open_handoffs = (
    SELECT count(*) FROM handoffs h WHERE h.workspace_id = u.workspace_id AND h.assignee_id = u.id AND h.status = 'open')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE users DROP COLUMN open_handoffs`.execute(db);
}
