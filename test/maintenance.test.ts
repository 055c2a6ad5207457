import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { EmbeddedMaintenance } from '../src/jobs/maintenance.js';
import { testDatabase } from './harness.js';

describe('embedded database maintenance', () => {
  it('vacuums and analyzes, so planner statistics exist for the tables', async () => {
    const { db } = await testDatabase();
    const before = Date.now();
    await new EmbeddedMaintenance(db, 60_000).runOnce();
    const row = await sql<{ last_vacuum: Date | null; last_analyze: Date | null }>`
      SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'leads'`.execute(db);
    const stats = row.rows[0];
    expect(stats?.last_vacuum).toBeInstanceOf(Date);
    expect(stats?.last_analyze?.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });
});
