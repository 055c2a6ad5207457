import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteWorkspace } from '../src/features/workspaces/workspaces.service.js';
import { type Ctx, setup } from './harness.js';

/**
 * Score rows have no foreign key to their lead (migration 008), and the rows ingest and scoring
 * write none to their workspace (009); the code removes them with what they belong to.
 */
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
    const workspaceKeys = await sql<{ table: string }>`SELECT conrelid::regclass::text AS table FROM pg_constraint
      WHERE contype = 'f' AND confrelid = 'workspaces'::regclass AND conrelid::regclass::text IN ('leads', 'events', 'identities', 'score_points', 'score_history')`.execute(
      ctx.database.db,
    );
    expect(workspaceKeys.rows).toEqual([]);
  });

  it('leaves no row of any table behind when a workspace is deleted', async () => {
    const key = (await ctx.as(ctx.people.marketingLead).post('/api/write-keys', { name: 'site' })).body.key;
    const batch = [
      { type: 'identify', messageId: 'del-1', anonymousId: 'anon-del', traits: { email: 'gone@scores.example', title: 'VP Sales' } },
      { type: 'page', messageId: 'del-2', anonymousId: 'anon-del', properties: { path: '/pricing' } },
      { type: 'track', messageId: 'del-3', anonymousId: 'anon-del', event: 'Demo Requested' },
    ];
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
      payload: JSON.stringify({ batch }),
    });
    expect(res.statusCode, res.body).toBe(200);
    const keep = (await ctx.as(ctx.people.marketingLead).post('/api/leads', { email: 'deal@scores.example', company: 'Deal Co', stage: 'lead' })).body;
    const deal = await ctx.as(ctx.people.rep1).post('/api/deals', { name: 'A deal', leadId: keep.id, amount: 1000 });
    expect(deal.status, JSON.stringify(deal.body)).toBe(201);
    const tables = (
      await sql<{ table: string }>`SELECT table_name AS table FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'workspace_id' ORDER BY table_name`.execute(ctx.database.db)
    ).rows.map((r) => r.table);
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const table of tables) {
        const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE workspace_id = ${ctx.workspace.id}::uuid`.execute(
          ctx.database.db,
        );
        out[table] = Number(r.rows[0]?.n);
      }
      return out;
    };
    const before = await counts();
    // The workspace has rows in the tables without a key to it, so their clearing is tested.
    for (const table of ['events', 'identities', 'score_points', 'lead_scores', 'leads', 'handoffs', 'deals']) expect(before[table], table).toBeGreaterThan(0);
    await ctx.database.db.transaction().execute((trx) => deleteWorkspace(trx, ctx.workspace.id));
    expect(Object.entries(await counts()).filter(([, n]) => n > 0)).toEqual([]);
  });
});

/** Fit rules read a lead's account (industry, size); a change to the account moves its leads' fit. */
describe("a lead's fit follows its account", () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  const fitOf = async (leadId: string) =>
    (
      await ctx.database.db
        .selectFrom('lead_scores')
        .select('fit_score')
        .where('workspace_id', '=', ctx.workspace.id)
        .where('lead_id', '=', leadId)
        .executeTakeFirstOrThrow()
    ).fit_score;

  it('when the account is edited, merged, or updated by an import', async () => {
    const lead = ctx.as(ctx.people.marketingLead);
    const account = (await lead.post('/api/accounts', { name: 'Follow', domain: 'follow.example', industry: 'Retail', employees: 10 })).body;
    const person = (await lead.post('/api/leads', { email: 'ana@follow.example', accountId: account.id, stage: 'lead' })).body;
    const before = await fitOf(person.id);
    // The default rules give a target industry 15 points.
    const edited = await lead.patch(`/api/accounts/${account.id}`, { industry: 'Software', version: account.version });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(await fitOf(person.id)).toBe(before + 15);
    // Merged into an account in another industry: the lead reads the survivor's.
    const other = (await lead.post('/api/accounts', { name: 'Survivor', domain: 'survivor.example', industry: 'Retail', employees: 10 })).body;
    expect((await lead.post(`/api/accounts/${other.id}/merge`, { mergeId: account.id })).status).toBe(200);
    expect(await fitOf(person.id)).toBe(before);
    // An import that updates the survivor's industry.
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/imports/upload?entity=accounts',
      headers: { authorization: `Bearer ${ctx.people.marketingLead.key}`, 'content-type': 'text/csv' },
      payload: 'domain,name,industry\nsurvivor.example,Survivor,Healthcare\n',
    });
    expect(res.json()).toMatchObject({ updated: 1, failed: 0 });
    expect(await fitOf(person.id)).toBe(before + 15);
  });
});
