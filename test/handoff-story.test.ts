import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, setup } from './harness.js';

let ctx: Ctx;
beforeAll(async () => {
  ctx = await setup();
});
afterAll(async () => {
  await ctx.app.close();
});

describe('the handoff story', () => {
  it('marketing hands a lead off and the rep accepts it', async () => {
    const mkt = ctx.as(ctx.people.marketer);
    const created = await mkt.post('/api/leads', { email: 'jane@acme.io', firstName: 'Jane', lastName: 'Doe', company: 'Acme' });
    expect(created.status).toBe(201);
    expect(created.body.stage).toBe('subscriber');
    const moved = await mkt.post(`/api/leads/${created.body.id}/stage`, { stage: 'mql' });
    expect(moved.status).toBe(200);
    expect(moved.body.stage).toBe('mql');
    const list = await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${created.body.id}`);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const handoff = list.body.items[0];
    expect(handoff.status).toBe('open');
    const assignee = [ctx.people.rep1, ctx.people.rep2, ctx.people.salesLead].find((p) => p.user.id === handoff.assigneeId);
    expect(assignee).toBeDefined();
    const accepted = await ctx.as(assignee ?? null).post(`/api/handoffs/${handoff.id}/accept`, {});
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('accepted');
    const lead = await mkt.get(`/api/leads/${created.body.id}`);
    expect(lead.body.stage).toBe('sal');
  });
});
