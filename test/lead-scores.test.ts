import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, setup } from './harness.js';

/** Score rows have no foreign key to their lead (migration 008); the code removes them with it. */
describe('score rows follow their lead', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  const orphans = async () =>
    Number(
      (
        await sql<{ n: number }>`SELECT count(*)::int AS n FROM lead_scores s WHERE s.workspace_id = ${ctx.workspace.id}::uuid
          AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.workspace_id = s.workspace_id AND l.id = s.lead_id)`.execute(ctx.database.db)
      ).rows[0]?.n,
    );

  it('leaves no score row behind when a duplicate is merged away', async () => {
    const lead = ctx.as(ctx.people.marketingLead);
    const keep = (await lead.post('/api/leads', { email: 'keep@scores.example', title: 'VP Sales', stage: 'lead' })).body;
    const dup = (await lead.post('/api/leads', { email: 'dup@scores.example', title: 'Director', stage: 'lead' })).body;
    const rows = await ctx.database.db.selectFrom('lead_scores').select('lead_id').where('workspace_id', '=', ctx.workspace.id).execute();
    expect(rows.map((r) => r.lead_id)).toEqual(expect.arrayContaining([keep.id, dup.id]));
    expect((await lead.post(`/api/leads/${keep.id}/merge`, { mergeId: dup.id })).status).toBe(200);
    const after = await ctx.database.db.selectFrom('lead_scores').select('lead_id').where('workspace_id', '=', ctx.workspace.id).execute();
    expect(after.map((r) => r.lead_id)).not.toContain(dup.id);
    expect(after.map((r) => r.lead_id)).toContain(keep.id);
    expect(await orphans()).toBe(0);
  });

  it('has no foreign key left to check on each write', async () => {
    const fks = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'lead_scores'::regclass AND contype = 'f'`.execute(
      ctx.database.db,
    );
    expect(Number(fks.rows[0]?.n)).toBe(0);
  });
});
