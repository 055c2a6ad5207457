import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, countRows, type Person, type Res, setup } from './harness.js';

let ctx: Ctx;
beforeAll(async () => {
  ctx = await setup();
});
afterAll(async () => {
  await ctx.app.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are loose JSON.
type Json = any;

const TABLES = ['leads', 'accounts', 'deals', 'handoffs', 'activities', 'agreements', 'timers', 'notifications'] as const;

async function snapshot(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = await countRows(ctx, t);
  return out;
}

/** Run a request that must be refused with 403, and prove it wrote nothing anywhere. */
async function expectForbidden(send: () => Promise<Res>): Promise<Res> {
  const before = await snapshot();
  const res = await send();
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe('forbidden');
  expect(await snapshot()).toEqual(before);
  return res;
}

let seq = 0;
function email(): string {
  seq += 1;
  return `juris.${seq}@example.com`;
}

async function lead(person: Person = ctx.people.marketer, body: Record<string, unknown> = {}): Promise<Json> {
  const res = await ctx.as(person).post('/api/leads', { email: email(), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function getLead(id: string): Promise<Json> {
  return (await ctx.as(ctx.people.marketer).get(`/api/leads/${id}`)).body;
}

/** A lead in MQL with its open handoff. */
async function handedOff(): Promise<{ lead: Json; handoff: Json }> {
  const l = await lead(ctx.people.marketer, { stage: 'mql' });
  const handoff = (await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${l.id}&status=open`)).body.items[0];
  expect(handoff).toBeDefined();
  return { lead: l, handoff };
}

/** Assign an open handoff to one rep, through the sales lead. */
async function assignTo(handoff: Json, rep: Person): Promise<Json> {
  if (handoff.assigneeId === rep.user.id) return handoff;
  const res = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${handoff.id}/reassign`, { userId: rep.user.id });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.assigneeId).toBe(rep.user.id);
  return res.body;
}

/** A lead sales holds in SAL, owned by the given rep. */
async function heldBy(rep: Person): Promise<Json> {
  const { lead: l, handoff } = await handedOff();
  const h = await assignTo(handoff, rep);
  const res = await ctx.as(rep).post(`/api/handoffs/${h.id}/accept`, {});
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const got = await getLead(l.id);
  expect(got).toMatchObject({ stage: 'sal', ownerId: rep.user.id });
  return got;
}

describe('moving stages (POST /api/leads/:id/stage)', () => {
  it.each(['lead', 'mql', 'nurture', 'sql'])('refuses a rep moving a marketing-held lead to %s', async (stage) => {
    const l = await lead();
    await expectForbidden(() => ctx.as(ctx.people.rep1).post(`/api/leads/${l.id}/stage`, { stage }));
    expect((await getLead(l.id)).stage).toBe('subscriber');
  });

  it('refuses the sales lead moving a marketing-held lead too', async () => {
    const l = await lead();
    await expectForbidden(() => ctx.as(ctx.people.salesLead).post(`/api/leads/${l.id}/stage`, { stage: 'lead' }));
  });

  it.each(['sal', 'sql', 'customer'])('refuses marketing moving a lead into the sales stage %s', async (stage) => {
    const l = await lead();
    await expectForbidden(() => ctx.as(ctx.people.marketer).post(`/api/leads/${l.id}/stage`, { stage }));
    await expectForbidden(() => ctx.as(ctx.people.marketingLead).post(`/api/leads/${l.id}/stage`, { stage }));
    expect((await getLead(l.id)).stage).toBe('subscriber');
  });

  it('refuses marketing moving a lead out of a sales stage', async () => {
    const l = await heldBy(ctx.people.rep1);
    await expectForbidden(() => ctx.as(ctx.people.marketer).post(`/api/leads/${l.id}/stage`, { stage: 'nurture' }));
    await expectForbidden(() => ctx.as(ctx.people.marketingLead).post(`/api/leads/${l.id}/stage`, { stage: 'lead' }));
    expect((await getLead(l.id)).stage).toBe('sal');
  });

  it('refuses anyone moving a lead out of the handoff stage by hand', async () => {
    const { lead: l } = await handedOff();
    await expectForbidden(() => ctx.as(ctx.people.marketer).post(`/api/leads/${l.id}/stage`, { stage: 'lead' }));
    await expectForbidden(() => ctx.as(ctx.people.salesLead).post(`/api/leads/${l.id}/stage`, { stage: 'sal' }));
    expect((await getLead(l.id)).stage).toBe('mql');
  });

  it("refuses a rep moving another rep's lead; its owner and the sales lead may", async () => {
    const l = await heldBy(ctx.people.rep1);
    await expectForbidden(() => ctx.as(ctx.people.rep2).post(`/api/leads/${l.id}/stage`, { stage: 'sql' }));
    const own = await ctx.as(ctx.people.rep1).post(`/api/leads/${l.id}/stage`, { stage: 'sql' });
    expect(own.status).toBe(200);
    expect(own.body.stage).toBe('sql');
    const boss = await ctx.as(ctx.people.salesLead).post(`/api/leads/${l.id}/stage`, { stage: 'sal' });
    expect(boss.status).toBe(200);
  });

  it('lets marketing move a lead among its own stages', async () => {
    const l = await lead();
    const res = await ctx.as(ctx.people.marketer).post(`/api/leads/${l.id}/stage`, { stage: 'lead' });
    expect(res.status).toBe(200);
    expect(res.body.stage).toBe('lead');
  });
});

describe('creating leads (POST /api/leads)', () => {
  it.each([undefined, 'subscriber', 'lead', 'mql', 'nurture'])('refuses sales creating a lead in the marketing stage %s', async (stage) => {
    for (const who of [ctx.people.rep1, ctx.people.salesLead]) {
      await expectForbidden(() => ctx.as(who).post('/api/leads', { email: email(), ...(stage ? { stage } : {}) }));
    }
  });

  it.each(['sal', 'sql', 'customer'])('refuses marketing creating a lead in the sales stage %s', async (stage) => {
    await expectForbidden(() => ctx.as(ctx.people.marketer).post('/api/leads', { email: email(), stage }));
    await expectForbidden(() => ctx.as(ctx.people.admin).post('/api/leads', { email: email(), stage }));
  });

  it('lets sales create a lead it found itself in a sales stage', async () => {
    const res = await ctx.as(ctx.people.rep1).post('/api/leads', { email: email(), stage: 'sql' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ stage: 'sql', ownerId: ctx.people.rep1.user.id });
  });
});

describe('handoffs', () => {
  it.each(['marketer', 'marketingLead', 'admin'] as const)('refuses %s accepting or rejecting a handoff', async (who) => {
    const { lead: l, handoff } = await handedOff();
    await expectForbidden(() => ctx.as(ctx.people[who]).post(`/api/handoffs/${handoff.id}/accept`, {}));
    await expectForbidden(() => ctx.as(ctx.people[who]).post(`/api/handoffs/${handoff.id}/reject`, { reason: 'not_ready' }));
    expect((await ctx.as(ctx.people.salesLead).get(`/api/handoffs/${handoff.id}`)).body.status).toBe('open');
    expect((await getLead(l.id)).stage).toBe('mql');
  });

  it('refuses a rep acting on a handoff assigned to another rep; the sales lead can', async () => {
    const { lead: l, handoff } = await handedOff();
    const h = await assignTo(handoff, ctx.people.rep1);
    const view = await ctx.as(ctx.people.rep2).get(`/api/handoffs/${h.id}`);
    expect(view.body.can).toMatchObject({ accept: false, reject: false });
    await expectForbidden(() => ctx.as(ctx.people.rep2).post(`/api/handoffs/${h.id}/accept`, {}));
    await expectForbidden(() => ctx.as(ctx.people.rep2).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' }));
    expect((await ctx.as(ctx.people.salesLead).get(`/api/handoffs/${h.id}`)).body.can).toMatchObject({ accept: true, reject: true });
    const accepted = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/accept`, {});
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('accepted');
    expect(await getLead(l.id)).toMatchObject({ stage: 'sal', ownerId: ctx.people.rep1.user.id });
  });

  it('lets the assigned rep reject with a reason', async () => {
    const { lead: l, handoff } = await handedOff();
    const h = await assignTo(handoff, ctx.people.rep2);
    const res = await ctx.as(ctx.people.rep2).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'rejected', reasonCode: 'not_ready' });
    expect((await getLead(l.id)).stage).toBe('nurture');
  });

  it('refuses sales withdrawing a handoff; marketing may', async () => {
    const { handoff } = await handedOff();
    await expectForbidden(() => ctx.as(ctx.people.salesLead).post(`/api/handoffs/${handoff.id}/withdraw`, {}));
    await expectForbidden(() => ctx.as(ctx.people.rep1).post(`/api/handoffs/${handoff.id}/withdraw`, {}));
    expect((await ctx.as(ctx.people.marketer).post(`/api/handoffs/${handoff.id}/withdraw`, {})).status).toBe(200);
  });

  it.each(['rep1', 'marketer', 'marketingLead', 'admin'] as const)('refuses %s reassigning a handoff', async (who) => {
    const { handoff } = await handedOff();
    await expectForbidden(() => ctx.as(ctx.people[who]).post(`/api/handoffs/${handoff.id}/reassign`, { userId: ctx.people.rep2.user.id }));
  });

  it('refuses marketing and other reps recording first contact', async () => {
    const l = await heldBy(ctx.people.rep1);
    const h = (await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${l.id}&status=accepted`)).body.items[0];
    await expectForbidden(() => ctx.as(ctx.people.marketer).post(`/api/handoffs/${h.id}/contact`, {}));
    await expectForbidden(() => ctx.as(ctx.people.rep2).post(`/api/handoffs/${h.id}/contact`, {}));
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/contact`, {})).status).toBe(200);
  });
});

describe('handing back (POST /api/leads/:id/hand-back)', () => {
  it('refuses marketing handing a lead back', async () => {
    const l = await heldBy(ctx.people.rep1);
    await expectForbidden(() => ctx.as(ctx.people.marketer).post(`/api/leads/${l.id}/hand-back`, { reason: 'went_dark' }));
    await expectForbidden(() => ctx.as(ctx.people.marketingLead).post(`/api/leads/${l.id}/hand-back`, { reason: 'went_dark' }));
    expect((await getLead(l.id)).stage).toBe('sal');
  });

  it("refuses a rep handing back another rep's lead; the owner may", async () => {
    const l = await heldBy(ctx.people.rep1);
    await expectForbidden(() => ctx.as(ctx.people.rep2).post(`/api/leads/${l.id}/hand-back`, { reason: 'went_dark' }));
    const res = await ctx.as(ctx.people.rep1).post(`/api/leads/${l.id}/hand-back`, { reason: 'went_dark' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stage: 'nurture', ownerId: null });
  });
});

describe('agreements', () => {
  async function proposed(): Promise<Json> {
    const draft = await ctx.as(ctx.people.marketingLead).post('/api/agreements', {});
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const res = await ctx.as(ctx.people.marketingLead).post(`/api/agreements/${draft.body.id}/propose`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  it.each(['marketer', 'rep1', 'admin'] as const)('refuses %s signing: only team leads sign', async (who) => {
    const a = await proposed();
    await expectForbidden(() => ctx.as(ctx.people[who]).post(`/api/agreements/${a.id}/sign`, {}));
    const after = (await ctx.as(ctx.people.marketingLead).get(`/api/agreements/${a.id}`)).body;
    expect(after.signatures).toEqual({ marketing: null, sales: null });
    expect(after.status).toBe('proposed');
    // Tidy up so the next draft can start.
    expect((await ctx.as(ctx.people.marketingLead).post(`/api/agreements/${a.id}/return`, { comment: 'test done' })).status).toBe(200);
  });

  it('refuses members drafting or sending back an agreement', async () => {
    await expectForbidden(() => ctx.as(ctx.people.marketer).post('/api/agreements', {}));
    await expectForbidden(() => ctx.as(ctx.people.rep1).post('/api/agreements', {}));
    const a = await proposed();
    await expectForbidden(() => ctx.as(ctx.people.rep1).post(`/api/agreements/${a.id}/return`, { comment: 'no' }));
    expect((await ctx.as(ctx.people.marketingLead).post(`/api/agreements/${a.id}/return`, { comment: 'test done' })).status).toBe(200);
  });

  it('becomes active once both the marketing and the sales lead sign', async () => {
    const a = await proposed();
    const first = await ctx.as(ctx.people.marketingLead).post(`/api/agreements/${a.id}/sign`, {});
    expect(first.status).toBe(200);
    expect(first.body.waitingOn).toEqual(['sales']);
    const second = await ctx.as(ctx.people.salesLead).post(`/api/agreements/${a.id}/sign`, {});
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('active');
  });
});

describe('deals', () => {
  it.each(['marketer', 'marketingLead', 'admin'] as const)('refuses %s creating a deal', async (who) => {
    const l = await lead();
    await expectForbidden(() => ctx.as(ctx.people[who]).post('/api/deals', { name: 'Marketing deal', leadId: l.id }));
  });

  it.each(['marketer', 'marketingLead'] as const)('refuses %s changing a deal, even with the right version', async (who) => {
    const deal = await ctx.as(ctx.people.rep1).post('/api/deals', { name: 'Sales deal', amount: 10 });
    expect(deal.status).toBe(201);
    await expectForbidden(() => ctx.as(ctx.people[who]).patch(`/api/deals/${deal.body.id}`, { status: 'won' }, { 'if-match': '"1"' }));
    expect((await ctx.as(ctx.people.rep1).get(`/api/deals/${deal.body.id}`)).body).toMatchObject({ status: 'open', version: 1 });
  });

  it('lets marketing read deals', async () => {
    const deal = await ctx.as(ctx.people.rep2).post('/api/deals', { name: 'Visible' });
    expect((await ctx.as(ctx.people.marketer).get(`/api/deals/${deal.body.id}`)).status).toBe(200);
  });
});

describe('the service layer enforces roles, not only the routes', () => {
  it('refuses a rep moving a marketing stage when called directly', async () => {
    const { moveLeadStage } = await import('../src/features/leads/leads.service.js');
    const { createDeal } = await import('../src/features/deals/deals.service.js');
    const { createUser } = await import('../src/features/users/users.service.js');
    const deps = { db: ctx.database.db, clock: ctx.clock };
    const l = await lead();
    await expect(moveLeadStage(deps, ctx.people.rep1.actor, l.id, { stage: 'lead' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(createDeal(deps, ctx.people.marketer.actor, { name: 'x', amount: 0, currency: 'USD', stage: 'q', status: 'open' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      createUser(deps, ctx.workspace.id, ctx.people.salesLead.actor, { email: 'direct@example.com', name: 'Direct', team: 'sales' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});
