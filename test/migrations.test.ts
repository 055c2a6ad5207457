/**
 * Migrations that move data, run from the migration before them. Always on an embedded database
 * of its own (in memory), since the shared PostgreSQL test database is already at the latest.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/database.js';
import { migrateTo, migrateToLatest } from '../src/db/migrate.js';

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://' });
});
afterAll(() => database.close());

const WS = '00000000-0000-4000-8000-000000000001';
const SCORED = '00000000-0000-4000-9000-000000000001';
const UNSCORED = '00000000-0000-4000-9000-000000000002';

describe('006_lead_scores', () => {
  it("moves every lead's scores into lead_scores and leaves none on the lead", async () => {
    await migrateTo(database.db, '005_imports');
    const db = database.db;
    await sql`INSERT INTO workspaces (id, slug, name, created_at) VALUES (${WS}::uuid, 'migrated', 'Migrated', now())`.execute(db);
    await sql`INSERT INTO leads (workspace_id, id, email, stage, stage_changed_at, created_at, updated_at,
        fit_score, interest_score, interest_mass, score_class, scored_at)
      VALUES (${WS}::uuid, ${SCORED}::uuid, 'scored@example.org', 'lead', now(), now(), now(), 40, 12.5, 3.5e20, 'good_fit_low_interest', '2026-01-02T03:04:05Z'),
        (${WS}::uuid, ${UNSCORED}::uuid, 'unscored@example.org', 'lead', now(), now(), now(), DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT)`.execute(db);

    expect(await migrateTo(db, '006_lead_scores')).toEqual(['006_lead_scores']);

    const scores = await db.selectFrom('lead_scores').selectAll().where('workspace_id', '=', WS).orderBy('lead_id').execute();
    expect(scores).toEqual([
      {
        workspace_id: WS,
        lead_id: SCORED,
        fit_score: 40,
        interest_score: 12.5,
        interest_mass: 3.5e20,
        score_class: 'good_fit_low_interest',
        scored_at: new Date('2026-01-02T03:04:05Z'),
      },
      { workspace_id: WS, lead_id: UNSCORED, fit_score: 0, interest_score: 0, interest_mass: 0, score_class: null, scored_at: null },
    ]);
    const left = await sql<{ column_name: string }>`SELECT column_name FROM information_schema.columns
      WHERE table_name = 'leads' AND column_name IN ('fit_score', 'interest_score', 'interest_mass', 'score_class', 'scored_at')`.execute(db);
    expect(left.rows).toEqual([]);
    // Under 006 a lead's scores go with it by the foreign key.
    await db.deleteFrom('leads').where('workspace_id', '=', WS).where('id', '=', SCORED).execute();
    expect(await db.selectFrom('lead_scores').select('lead_id').where('workspace_id', '=', WS).execute()).toEqual([{ lead_id: UNSCORED }]);
  });
});

describe('008_lead_scores_unchecked', () => {
  it('drops the foreign key from score rows to leads and keeps every score row that has its lead', async () => {
    const db = database.db;
    // A score row whose lead is gone cannot exist under 006; 008 would clear one if it did.
    expect(await migrateToLatest(db)).toContain('008_lead_scores_unchecked');
    const fks = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'lead_scores'::regclass AND contype = 'f'`.execute(db);
    expect(Number(fks.rows[0]?.n)).toBe(0);
    expect(await db.selectFrom('lead_scores').select('lead_id').where('workspace_id', '=', WS).execute()).toEqual([{ lead_id: UNSCORED }]);
  });
});
