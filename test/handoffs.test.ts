import { afterEach, describe, expect, it } from 'vitest';
import {
  ALWAYS,
  activities,
  DAY,
  HOUR,
  handOff,
  handoff,
  handoffsOf,
  lead,
  mqlLead,
  newAccount,
  newLead,
  notificationsOf,
  personById,
  pool,
  signAgreement,
  timersOf,
} from './handoff-kit.js';
import { type Ctx, countRows, type Person, setup } from './harness.js';

let seqLead = 0;
const opened: Ctx[] = [];
async function fresh(): Promise<Ctx> {
  const ctx = await setup();
  opened.push(ctx);
  return ctx;
}
afterEach(async () => {
  for (const ctx of opened.splice(0)) await ctx.app.close();
});

/** A workspace whose agreement routes everything to rep1 and rep2 (no sales lead in the pool). */
async function twoRepWorkspace(extra: Record<string, unknown> = {}): Promise<Ctx> {
  const ctx = await fresh();
  await signAgreement(ctx, { routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2), ...extra }, calendar: ALWAYS, sla: { acceptWithin: '4h' } });
  return ctx;
}

const who = (ctx: Ctx, id: string | null, extra: Person[] = []) => personById(ctx, id, extra)?.user.name ?? String(id);

describe('routing a handed-off lead', () => {
  it("gives a lead from an owned account to the account's owner, ahead of any rule", async () => {
    const ctx = await fresh();
    await signAgreement(ctx, {
      routing: { rules: [{ name: 'Germany', when: { country: ['DE'] }, pool: pool(ctx.people.rep1) }], fallbackPool: pool(ctx.people.rep1) },
    });
    const account = await newAccount(ctx, { country: 'DE', ownerId: ctx.people.rep2.user.id });
    const h = await mqlLead(ctx, { accountId: account.id, country: 'DE' });
    expect(who(ctx, h.assigneeId)).toBe(ctx.people.rep2.user.name);
    expect(h.route.pool).toBe('account_owner');
    const told = await notificationsOf(ctx, ctx.people.rep2, { kind: 'handoff.assigned', handoffId: h.id });
    expect(told).toHaveLength(1);
    expect((await lead(ctx, h.leadId)).ownerId).toBe(ctx.people.rep2.user.id);
  });

  it('passes over an absent account owner and lets the rules decide, saying why', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, {
      routing: { rules: [{ name: 'Germany', when: { country: ['DE'] }, pool: pool(ctx.people.rep1) }], fallbackPool: pool(ctx.people.salesLead) },
    });
    const now = ctx.clock.now().getTime();
    const absent = await ctx.as(ctx.people.rep2).post('/api/absences', {
      startsAt: new Date(now - HOUR).toISOString(),
      endsAt: new Date(now + DAY).toISOString(),
      note: 'holiday',
    });
    expect(absent.status).toBe(201);
    const account = await newAccount(ctx, { country: 'DE', ownerId: ctx.people.rep2.user.id });
    const h = await mqlLead(ctx, { accountId: account.id });
    expect(who(ctx, h.assigneeId)).toBe(ctx.people.rep1.user.name);
    expect(h.route).toMatchObject({ pool: 'rule:Germany', rule: 'Germany' });
    expect(h.route.skipped).toContainEqual({ userId: ctx.people.rep2.user.id, reason: 'absent' });
  });

  it('passes over an account owner who is not in sales, and people who were deactivated or moved to marketing', async () => {
    const ctx = await fresh();
    const mover = await ctx.addPerson({ name: 'Moe Mover', team: 'sales' });
    await signAgreement(ctx, { routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2, mover) } });
    const admin = ctx.as(ctx.people.admin);
    expect((await admin.patch(`/api/users/${ctx.people.rep1.user.id}`, { active: false })).status).toBe(200);
    expect((await admin.patch(`/api/users/${mover.user.id}`, { team: 'marketing' })).status).toBe(200);
    const account = await newAccount(ctx, { ownerId: ctx.people.marketer.user.id });
    const h = await mqlLead(ctx, { accountId: account.id });
    expect(h.assigneeId).toBe(ctx.people.rep2.user.id);
    expect(h.route.skipped).toEqual([
      { userId: ctx.people.marketer.user.id, reason: 'not_sales' },
      { userId: ctx.people.rep1.user.id, reason: 'inactive' },
      { userId: mover.user.id, reason: 'not_sales' },
    ]);
  });

  it('sends each lead to the pool of the first rule its country, region, industry, persona or employee band matches', async () => {
    const ctx = await fresh();
    const names = ['Nina Nordic', 'Fred France', 'Ines Industry', 'Carl Cfo', 'Erik Enterprise', 'Sam Small', 'Flo Fallback'];
    const [nordic, france, industry, cfo, enterprise, small, fallback] = (await Promise.all(
      names.map((name) => ctx.addPerson({ name, team: 'sales' })),
    )) as Person[];
    const all = [nordic, france, industry, cfo, enterprise, small, fallback] as Person[];
    await signAgreement(ctx, {
      routing: {
        rules: [
          { name: 'Nordics', when: { region: ['Nordics'] }, pool: pool(nordic as Person) },
          { name: 'France', when: { country: ['FR'] }, pool: pool(france as Person) },
          { name: 'Healthcare', when: { industry: ['Healthcare'] }, pool: pool(industry as Person) },
          { name: 'Finance buyers', when: { persona: ['cfo'] }, pool: pool(cfo as Person) },
          { name: 'Enterprise', when: { employees: { min: 1000 } }, pool: pool(enterprise as Person) },
          { name: 'Small business', when: { employees: { max: 49 } }, pool: pool(small as Person) },
        ],
        fallbackPool: pool(fallback as Person),
      },
    });
    const cases: [Record<string, unknown>, Record<string, unknown> | null, Person, string][] = [
      [{}, { region: 'nordics', country: 'SE' }, nordic as Person, 'rule:Nordics'],
      [{ country: 'fr' }, null, france as Person, 'rule:France'],
      [{}, { country: 'FR', employees: 5000 }, france as Person, 'rule:France'],
      [{}, { industry: 'Healthcare', employees: 200 }, industry as Person, 'rule:Healthcare'],
      [{ persona: 'CFO' }, null, cfo as Person, 'rule:Finance buyers'],
      [{}, { employees: 1000 }, enterprise as Person, 'rule:Enterprise'],
      [{}, { employees: 49 }, small as Person, 'rule:Small business'],
      [{}, { employees: 50, country: 'US' }, fallback as Person, 'fallback'],
      [{ persona: 'developer' }, null, fallback as Person, 'fallback'],
    ];
    for (const [leadFields, accountFields, expected, route] of cases) {
      const account = accountFields ? await newAccount(ctx, accountFields) : null;
      const h = await mqlLead(ctx, { ...leadFields, ...(account ? { accountId: account.id } : {}) });
      expect({ to: who(ctx, h.assigneeId, all), pool: h.route.pool }, JSON.stringify({ leadFields, accountFields })).toEqual({
        to: expected.user.name,
        pool: route,
      });
    }
  });

  it('splits a pool weighted 3:1 in a 3:1 ratio, evenly along the way', async () => {
    const ctx = await fresh();
    const heavy = await ctx.addPerson({ name: 'Hank Heavy', team: 'sales' });
    const light = await ctx.addPerson({ name: 'Lily Light', team: 'sales' });
    await signAgreement(ctx, { routing: { fallbackPool: pool([heavy, 3], [light, 1]) } });
    const order: string[] = [];
    for (let i = 0; i < 40; i++) {
      // Creating a lead straight into MQL hands it off in the same request.
      seqLead += 1;
      const res = await ctx.as(ctx.people.marketer).post('/api/leads', { email: `rr${seqLead}@rr${seqLead}.test`, stage: 'mql' });
      expect(res.status).toBe(201);
      expect(res.body.stage).toBe('mql');
      order.push(res.body.ownerId === heavy.user.id ? 'H' : res.body.ownerId === light.user.id ? 'L' : '?');
    }
    const count = (s: string[], c: string) => s.filter((x) => x === c).length;
    expect([count(order, 'H'), count(order, 'L')]).toEqual([30, 10]);
    // Smooth: every block of four is three to one, so nobody gets a long run of the other's share.
    for (let i = 0; i < 40; i += 4) expect(count(order.slice(i, i + 4), 'L'), order.join('')).toBe(1);
  });

  it('skips people at their open-handoff capacity, and takes them again once they have room', async () => {
    const ctx = await fresh();
    const admin = ctx.as(ctx.people.admin);
    for (const rep of [ctx.people.rep1, ctx.people.rep2]) {
      const res = await admin.patch(`/api/users/${rep.user.id}`, { handoffCapacity: 1 });
      expect(res.status).toBe(200);
    }
    await signAgreement(ctx, { routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2) } });
    const a = await mqlLead(ctx);
    const b = await mqlLead(ctx);
    expect(new Set([a.assigneeId, b.assigneeId])).toEqual(new Set([ctx.people.rep1.user.id, ctx.people.rep2.user.id]));
    const c = await mqlLead(ctx);
    expect(c.assigneeId).toBeNull();
    expect(c.route.pool).toBe('unassigned');
    expect(c.route.skipped.map((s: { reason: string }) => s.reason)).toEqual(['at_capacity', 'at_capacity']);
    const holder = personById(ctx, a.assigneeId) as Person;
    expect((await ctx.as(holder).post(`/api/handoffs/${a.id}/accept`, {})).status).toBe(200);
    const d = await mqlLead(ctx);
    expect(d.assigneeId).toBe(holder.user.id);
  });

  it("applies the agreement's default capacity to people without their own", async () => {
    const ctx = await fresh();
    await signAgreement(ctx, { routing: { fallbackPool: pool(ctx.people.rep1), defaultCapacity: 2 } });
    const got = [await mqlLead(ctx), await mqlLead(ctx), await mqlLead(ctx)].map((h) => h.assigneeId);
    expect(got).toEqual([ctx.people.rep1.user.id, ctx.people.rep1.user.id, null]);
  });

  it('skips people while they are absent, and routes to them again when they are back', async () => {
    const ctx = await twoRepWorkspace();
    const now = ctx.clock.now().getTime();
    const away = await ctx.as(ctx.people.salesLead).post('/api/absences', {
      userId: ctx.people.rep1.user.id,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 2 * DAY).toISOString(),
    });
    expect(away.status).toBe(201);
    // A rep cannot record an absence for someone else.
    const notAllowed = await ctx.as(ctx.people.rep2).post('/api/absences', {
      userId: ctx.people.rep1.user.id,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + DAY).toISOString(),
    });
    expect(notAllowed.status).toBe(403);
    const during = [await mqlLead(ctx), await mqlLead(ctx), await mqlLead(ctx)];
    expect(during.map((h) => h.assigneeId)).toEqual([ctx.people.rep2.user.id, ctx.people.rep2.user.id, ctx.people.rep2.user.id]);
    expect(during[0].route.skipped).toContainEqual({ userId: ctx.people.rep1.user.id, reason: 'absent' });
    ctx.clock.advance(2 * DAY);
    // rep1 is back and behind on the round robin, but counts as at most one round behind:
    // a lead or two to catch up, then turns alternate again (no burst of three).
    const after = [await mqlLead(ctx), await mqlLead(ctx), await mqlLead(ctx)];
    expect(after.map((h) => h.assigneeId)).toEqual([ctx.people.rep1.user.id, ctx.people.rep1.user.id, ctx.people.rep2.user.id]);
  });
});

describe('the unassigned queue', () => {
  it('holds a lead nobody can take, tells the sales lead, and lets the sales lead assign it', async () => {
    const ctx = await twoRepWorkspace();
    const now = ctx.clock.now().getTime();
    for (const rep of [ctx.people.rep1, ctx.people.rep2]) {
      const res = await ctx.as(rep).post('/api/absences', { startsAt: new Date(now - HOUR).toISOString(), endsAt: new Date(now + DAY).toISOString() });
      expect(res.status).toBe(201);
    }
    const h = await mqlLead(ctx, { firstName: 'Queued', lastName: 'Person' });
    expect(h.assigneeId).toBeNull();
    expect(h.route.pool).toBe('unassigned');
    expect(h.status).toBe('open');
    expect((await lead(ctx, h.leadId)).ownerId).toBeNull();

    const queue = await ctx.as(ctx.people.salesLead).get('/api/handoffs?queue=unassigned');
    expect(queue.body.items.map((x: { id: string }) => x.id)).toEqual([h.id]);
    expect(queue.body.items[0].can).toMatchObject({ accept: true, reject: true, reassign: true });
    const told = await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.unassigned', handoffId: h.id });
    expect(told).toHaveLength(1);
    expect(told[0]?.title).toContain('Queued Person');

    // Reps see it but cannot take it themselves or assign it.
    const repView = await ctx.as(ctx.people.rep1).get(`/api/handoffs/${h.id}`);
    expect(repView.body.can).toMatchObject({ accept: false, reassign: false });
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(403);
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/reassign`, { userId: ctx.people.rep1.user.id })).status).toBe(403);
    // Only sales people can be given a lead.
    const toMarketing = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reassign`, { userId: ctx.people.marketer.user.id });
    expect(toMarketing.status).toBe(400);
    expect(toMarketing.body.error.details.problems[0].path).toBe('body.userId');

    const assigned = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reassign`, { userId: ctx.people.rep1.user.id });
    expect(assigned.status).toBe(200);
    // Assigning from the queue keeps the same handoff and its clock.
    expect(assigned.body).toMatchObject({ id: h.id, status: 'open', assigneeId: ctx.people.rep1.user.id, dueAt: h.dueAt });
    expect((await ctx.as(ctx.people.salesLead).get('/api/handoffs?queue=unassigned')).body.items).toHaveLength(0);
    expect(await notificationsOf(ctx, ctx.people.rep1, { kind: 'handoff.assigned', handoffId: h.id })).toHaveLength(1);
    expect((await lead(ctx, h.leadId)).ownerId).toBe(ctx.people.rep1.user.id);
    const mine = await ctx.as(ctx.people.rep1).get('/api/handoffs?queue=mine&status=open');
    expect(mine.body.items.map((x: { id: string }) => x.id)).toEqual([h.id]);
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
  });

  it('lets the sales lead accept an unassigned lead directly, becoming its owner', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, { routing: { fallbackPool: pool(ctx.people.rep1), defaultCapacity: 1 } });
    await mqlLead(ctx);
    const h = await mqlLead(ctx);
    expect(h.assigneeId).toBeNull();
    const res = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/accept`, {});
    expect(res.status).toBe(200);
    expect(res.body.assigneeId).toBe(ctx.people.salesLead.user.id);
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'sal', ownerId: ctx.people.salesLead.user.id });
  });
});

describe('accepting and rejecting', () => {
  it('accepting moves the lead to SAL, makes the rep its owner, starts the first-contact clock and tells the marketer', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx, { firstName: 'Jane', company: 'Acme' });
    const rep = personById(ctx, h.assigneeId) as Person;
    const marketerView = await ctx.as(ctx.people.marketer).get(`/api/handoffs/${h.id}`);
    expect(marketerView.body.can).toMatchObject({ accept: false, reject: false, withdraw: true });
    const repView = await ctx.as(rep).get(`/api/handoffs/${h.id}`);
    expect(repView.body.can).toMatchObject({ accept: true, reject: true, withdraw: false });
    ctx.clock.advance(HOUR);
    const res = await ctx.as(rep).post(`/api/handoffs/${h.id}/accept`, { note: 'on it' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'accepted', note: 'on it', closedBy: rep.user.id, closedAt: ctx.clock.now().toISOString() });
    // The default first-contact time is 8h; this agreement's calendar is always open.
    expect(res.body.firstContactDueAt).toBe(new Date(ctx.clock.now().getTime() + 8 * HOUR).toISOString());
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'sal', ownerId: rep.user.id });
    const told = await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.accepted', handoffId: h.id });
    expect(told).toHaveLength(1);
    expect(told[0]?.title).toContain('Jane');
    const timers = await timersOf(ctx, h.id);
    expect(timers.filter((t) => t.kind === 'handoff.first_contact' && !t.cancelled_at)).toHaveLength(1);
    expect(timers.filter((t) => t.kind !== 'handoff.first_contact').every((t) => t.cancelled_at !== null)).toBe(true);
  });

  it('refuses a second accept with 409, whether it comes later or at the same moment', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const rep = ctx.as(personById(ctx, h.assigneeId) as Person);
    expect((await rep.post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    const again = await rep.post(`/api/handoffs/${h.id}/accept`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');

    const h2 = await mqlLead(ctx);
    const rep2 = ctx.as(personById(ctx, h2.assigneeId) as Person);
    const both = await Promise.all([rep2.post(`/api/handoffs/${h2.id}/accept`, {}), ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h2.id}/accept`, {})]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(await activities(ctx, { kind: 'handoff.accepted', handoffId: h2.id })).toHaveLength(1);
    expect(await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.accepted', handoffId: h2.id })).toHaveLength(1);
  });

  it('refuses a reject whose reason the agreement does not define, naming body.reason, and writes nothing', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const rep = ctx.as(personById(ctx, h.assigneeId) as Person);
    const tables = ['leads', 'handoffs', 'activities', 'timers', 'notifications'] as const;
    const before = await Promise.all(tables.map((t) => countRows(ctx, t)));
    const res = await rep.post(`/api/handoffs/${h.id}/reject`, { reason: 'too_lazy', note: 'nah' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.problems).toEqual([{ path: 'body.reason', message: expect.any(String) }]);
    expect(res.body.error.details.allowed).toEqual(['not_ready', 'no_budget', 'wrong_person', 'bad_fit', 'bad_data', 'competitor']);
    expect(await Promise.all(tables.map((t) => countRows(ctx, t)))).toEqual(before);
    expect(await handoff(ctx, h.id)).toMatchObject({ status: 'open', reasonCode: null, closedAt: null });
    expect((await lead(ctx, h.leadId)).stage).toBe('mql');
    // A reason of another kind is not a reject reason either.
    expect((await rep.post(`/api/handoffs/${h.id}/reject`, { reason: 'went_dark' })).status).toBe(400);
    // A missing reason is refused by the request schema.
    const missing = await rep.post(`/api/handoffs/${h.id}/reject`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.problems[0].path).toBe('body.reason');
  });

  it('rejecting with a nurture reason sends the lead to Nurture, frees it, and tells the marketer why', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const rep = personById(ctx, h.assigneeId) as Person;
    const res = await ctx.as(rep).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready', note: 'next quarter' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'rejected', reasonCode: 'not_ready', note: 'next quarter', closedBy: rep.user.id });
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'nurture', ownerId: null });
    const told = await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.rejected', handoffId: h.id });
    expect(told).toHaveLength(1);
    expect(told[0]?.data).toMatchObject({ reason: 'not_ready', note: 'next quarter' });
    const nurture = await timersOf(ctx, h.leadId);
    expect(nurture.map((t) => t.kind)).toEqual(['lead.nurture_end']);
    expect(nurture[0]?.due_at.getTime()).toBe(ctx.clock.now().getTime() + 90 * DAY);
  });

  it('rejecting with a disqualifying reason sends the lead to Disqualified', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const res = await ctx.as(personById(ctx, h.assigneeId) as Person).post(`/api/handoffs/${h.id}/reject`, { reason: 'bad_fit' });
    expect(res.status).toBe(200);
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'disqualified', ownerId: null });
    expect(await timersOf(ctx, h.leadId)).toHaveLength(0);
    expect(await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.rejected', handoffId: h.id })).toHaveLength(1);
  });

  it('asks for a note when the reason requires one, naming body.note, and takes the reject once it has one', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const rep = ctx.as(personById(ctx, h.assigneeId) as Person);
    for (const body of [{ reason: 'wrong_person' }, { reason: 'wrong_person', note: '   ' }]) {
      const res = await rep.post(`/api/handoffs/${h.id}/reject`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.problems[0].path).toBe('body.note');
    }
    expect((await handoff(ctx, h.id)).status).toBe('open');
    const ok = await rep.post(`/api/handoffs/${h.id}/reject`, { reason: 'wrong_person', note: 'talk to the CTO instead' });
    expect(ok.status).toBe(200);
    expect((await lead(ctx, h.leadId)).stage).toBe('nurture');
  });

  it('uses the reasons of the agreement in force, including where each one sends the lead', async () => {
    const ctx = await fresh();
    const reasons = structuredClone((await ctx.as(ctx.people.marketer).get('/api/agreements/default')).body.reasons);
    reasons.reject = [{ code: 'too_small', label: 'Below our minimum deal size', to: 'disqualified' }];
    await signAgreement(ctx, { reasons, routing: { fallbackPool: pool(ctx.people.rep1) } });
    const h = await mqlLead(ctx);
    const rep = ctx.as(ctx.people.rep1);
    expect((await rep.post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' })).status).toBe(400);
    expect((await rep.post(`/api/handoffs/${h.id}/reject`, { reason: 'too_small' })).status).toBe(200);
    expect((await lead(ctx, h.leadId)).stage).toBe('disqualified');
  });

  it('lets only the assignee or the sales lead act: another rep and marketing get 403', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const assignee = personById(ctx, h.assigneeId) as Person;
    const other = assignee === ctx.people.rep1 ? ctx.people.rep2 : ctx.people.rep1;
    expect((await ctx.as(other).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(403);
    expect((await ctx.as(other).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' })).status).toBe(403);
    expect((await ctx.as(ctx.people.marketer).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(403);
    expect((await ctx.as(ctx.people.marketingLead).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' })).status).toBe(403);
    expect((await handoff(ctx, h.id)).status).toBe('open');
    // The sales lead may act on a rep's behalf; the marketer hears who did it.
    const res = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reject`, { reason: 'competitor' });
    expect(res.status).toBe(200);
    expect(res.body.closedBy).toBe(ctx.people.salesLead.user.id);
    expect((await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.rejected', handoffId: h.id }))[0]?.title).toContain(
      ctx.people.salesLead.user.name,
    );
  });

  it('answers 404 for a handoff that does not exist or belongs to another workspace', async () => {
    const ctx = await twoRepWorkspace();
    const other = await twoRepWorkspace();
    const theirs = await mqlLead(other);
    expect((await ctx.as(ctx.people.salesLead).get(`/api/handoffs/${theirs.id}`)).status).toBe(404);
    expect((await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${theirs.id}/accept`, {})).status).toBe(404);
    expect((await handoff(other, theirs.id)).status).toBe('open');
  });
});

describe('withdrawing, reassigning and handing back', () => {
  it('lets marketing withdraw an open handoff: the lead goes back where it was and the rep is told', async () => {
    const ctx = await twoRepWorkspace();
    const created = await newLead(ctx);
    expect((await ctx.as(ctx.people.marketer).post(`/api/leads/${created.id}/stage`, { stage: 'lead' })).status).toBe(200);
    const h = await handOff(ctx, created.id);
    const rep = personById(ctx, h.assigneeId) as Person;
    expect((await ctx.as(rep).post(`/api/handoffs/${h.id}/withdraw`, {})).status).toBe(403);
    const res = await ctx.as(ctx.people.marketer).post(`/api/handoffs/${h.id}/withdraw`, { note: 'sent too early' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'withdrawn', note: 'sent too early' });
    expect(await lead(ctx, created.id)).toMatchObject({ stage: 'lead', ownerId: null });
    expect(await notificationsOf(ctx, rep, { kind: 'handoff.withdrawn', handoffId: h.id })).toHaveLength(1);
    expect((await timersOf(ctx, h.id)).every((t) => t.cancelled_at !== null)).toBe(true);
    expect((await ctx.as(rep).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(409);
    // Marketing may hand it off again later: a new handoff, not the old one reopened.
    const again = await handOff(ctx, created.id);
    expect(again.id).not.toBe(h.id);
  });

  it('lets the sales lead reassign: the old handoff ends as reassigned, a new one starts with a fresh clock', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const first = personById(ctx, h.assigneeId) as Person;
    const second = first === ctx.people.rep1 ? ctx.people.rep2 : ctx.people.rep1;
    ctx.clock.advance(HOUR);
    const res = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reassign`, { userId: second.user.id, note: 'rebalancing' });
    expect(res.status).toBe(200);
    expect(res.body.id).not.toBe(h.id);
    expect(res.body).toMatchObject({ status: 'open', assigneeId: second.user.id, previousHandoffId: h.id, createdAt: ctx.clock.now().toISOString() });
    expect(res.body.dueAt).toBe(new Date(ctx.clock.now().getTime() + 4 * HOUR).toISOString());
    expect(await handoff(ctx, h.id)).toMatchObject({ status: 'reassigned', nextHandoffId: res.body.id, reasonCode: 'manual', note: 'rebalancing' });
    expect(await notificationsOf(ctx, first, { kind: 'handoff.reassigned', handoffId: h.id })).toHaveLength(1);
    expect(await notificationsOf(ctx, second, { kind: 'handoff.assigned', handoffId: res.body.id })).toHaveLength(1);
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'mql', ownerId: second.user.id });
    expect((await ctx.as(first).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(409);
    // The marketer who handed the lead off still hears how it ends.
    expect((await ctx.as(second).post(`/api/handoffs/${res.body.id}/reject`, { reason: 'no_budget' })).status).toBe(200);
    expect(await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.rejected', handoffId: res.body.id })).toHaveLength(1);
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.rejected' })).toHaveLength(0);
  });

  it('lets routing pick the next person when the sales lead reassigns without naming one', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const res = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reassign`, {});
    expect(res.status).toBe(200);
    expect(res.body.assigneeId).not.toBe(h.assigneeId);
    expect([ctx.people.rep1.user.id, ctx.people.rep2.user.id]).toContain(res.body.assigneeId);
    expect(res.body.route.skipped).toContainEqual({ userId: h.assigneeId, reason: 'excluded' });
  });

  it('refuses reassignment by anyone but the sales lead, and to the person who already has it', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const same = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reassign`, { userId: h.assigneeId });
    expect(same.status).toBe(400);
    expect(same.body.error.details.problems[0].path).toBe('body.userId');
    for (const p of [ctx.people.rep1, ctx.people.marketer, ctx.people.marketingLead, ctx.people.admin]) {
      expect((await ctx.as(p).post(`/api/handoffs/${h.id}/reassign`, {})).status).toBe(403);
    }
    expect((await handoff(ctx, h.id)).status).toBe('open');
  });

  it('lets sales hand an accepted lead back with a reason the agreement defines, and refuses anything else', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const owner = personById(ctx, h.assigneeId) as Person;
    const other = owner === ctx.people.rep1 ? ctx.people.rep2 : ctx.people.rep1;
    // Not yet sales': the lead is still being handed off.
    expect((await ctx.as(owner).post(`/api/leads/${h.leadId}/hand-back`, { reason: 'went_dark' })).status).toBe(409);
    expect((await ctx.as(owner).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    const unknown = await ctx.as(owner).post(`/api/leads/${h.leadId}/hand-back`, { reason: 'not_ready' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.problems[0].path).toBe('body.reason');
    const noNote = await ctx.as(owner).post(`/api/leads/${h.leadId}/hand-back`, { reason: 'lost_to_no_decision' });
    expect(noNote.status).toBe(400);
    expect(noNote.body.error.details.problems[0].path).toBe('body.note');
    expect((await ctx.as(other).post(`/api/leads/${h.leadId}/hand-back`, { reason: 'went_dark' })).status).toBe(403);
    expect((await ctx.as(ctx.people.marketer).post(`/api/leads/${h.leadId}/hand-back`, { reason: 'went_dark' })).status).toBe(403);
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'sal', ownerId: owner.user.id });
    const back = await ctx.as(owner).post(`/api/leads/${h.leadId}/hand-back`, { reason: 'went_dark', note: 'five calls, no answer' });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ stage: 'nurture', ownerId: null });
    const handedBack = await activities(ctx, { kind: 'lead.handed_back', leadId: h.leadId });
    expect(handedBack.map((a) => a.data)).toEqual([expect.objectContaining({ reason: 'went_dark', note: 'five calls, no answer' })]);
    const disq = await mqlLead(ctx);
    const disqOwner = personById(ctx, disq.assigneeId) as Person;
    expect((await ctx.as(disqOwner).post(`/api/handoffs/${disq.id}/accept`, {})).status).toBe(200);
    const out = await ctx.as(disqOwner).post(`/api/leads/${disq.leadId}/hand-back`, { reason: 'not_a_fit', note: 'agency, not a buyer' });
    expect(out.body.stage).toBe('disqualified');
  });

  it('keeps each team to its own stages: crossing needs a handoff or a hand-back', async () => {
    const ctx = await twoRepWorkspace();
    const created = await newLead(ctx);
    const mkt = ctx.as(ctx.people.marketer);
    for (const stage of ['sal', 'sql', 'customer']) expect((await mkt.post(`/api/leads/${created.id}/stage`, { stage })).status).toBe(403);
    const unknown = await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'won_big' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.problems[0].path).toBe('body.stage');
    expect((await ctx.as(ctx.people.rep1).post(`/api/leads/${created.id}/stage`, { stage: 'lead' })).status).toBe(403);
    // In the handoff, neither team moves it by hand.
    const h = await handOff(ctx, created.id);
    const owner = personById(ctx, h.assigneeId) as Person;
    expect((await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'lead' })).status).toBe(403);
    expect((await ctx.as(owner).post(`/api/leads/${created.id}/stage`, { stage: 'sal' })).status).toBe(403);
    expect((await ctx.as(owner).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    // Sales moves it on among its own stages, but not back to marketing's.
    expect((await ctx.as(owner).post(`/api/leads/${created.id}/stage`, { stage: 'sql' })).status).toBe(200);
    expect((await ctx.as(owner).post(`/api/leads/${created.id}/stage`, { stage: 'nurture' })).status).toBe(403);
    expect((await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'mql' })).status).toBe(403);
    expect((await handoffsOf(ctx, created.id)).filter((x) => x.status === 'open')).toHaveLength(0);
  });
});

describe('one handoff at a time', () => {
  it('hands a lead off once when two MQL requests arrive together', async () => {
    const ctx = await twoRepWorkspace();
    for (let round = 0; round < 3; round++) {
      const created = await newLead(ctx);
      const mkt = ctx.as(ctx.people.marketer);
      const results = await Promise.all([
        mkt.post(`/api/leads/${created.id}/stage`, { stage: 'mql' }),
        ctx.as(ctx.people.marketingLead).post(`/api/leads/${created.id}/stage`, { stage: 'mql' }),
      ]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses[0]).toBe(200);
      expect(statuses[1]).toBeGreaterThanOrEqual(400);
      expect(statuses[1]).toBeLessThan(500);
      const all = await handoffsOf(ctx, created.id);
      expect(all).toHaveLength(1);
      expect(all[0].status).toBe('open');
      expect(await activities(ctx, { kind: 'handoff.created', leadId: created.id })).toHaveLength(1);
      const assignee = personById(ctx, all[0].assigneeId) as Person;
      expect(await notificationsOf(ctx, assignee, { kind: 'handoff.assigned', handoffId: all[0].id })).toHaveLength(1);
    }
  });

  it('lets exactly one of a concurrent accept and withdraw win', async () => {
    const ctx = await twoRepWorkspace();
    const h = await mqlLead(ctx);
    const results = await Promise.all([
      ctx.as(personById(ctx, h.assigneeId) as Person).post(`/api/handoffs/${h.id}/accept`, {}),
      ctx.as(ctx.people.marketer).post(`/api/handoffs/${h.id}/withdraw`, {}),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const after = await handoff(ctx, h.id);
    expect((await lead(ctx, h.leadId)).stage).toBe(after.status === 'accepted' ? 'sal' : 'subscriber');
  });
});
