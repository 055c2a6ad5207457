import { type Kysely, sql } from 'kysely';

/**
 * Scoring takes its workspace's scoring lock and then reads the active rules (see
 * `activeScoringLocked`). The read must come after the lock is granted, in a snapshot of its own,
 * so that a rule change committed while scoring waited is the one read: that took two statements.
 * A volatile function takes a new snapshot for each statement it runs, so this one does both in a
 * single trip to the database; every ingest transaction and every import batch makes one trip
 * fewer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE FUNCTION active_scoring_locked(ws uuid) RETURNS TABLE (id uuid, version integer)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(hashtext('scoring:' || ws::text));
      RETURN QUERY SELECT r.id, r.version FROM scoring_rules r WHERE r.workspace_id = ws AND r.status = 'active';
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION active_scoring_locked(uuid)`.execute(db);
}
