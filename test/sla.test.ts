import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { systemActor } from '../src/domain/access.js';
import { actorFromUser, createApiKey } from '../src/features/auth/auth.service.js';
import { onHandoffTimer } from '../src/features/handoffs/handoffs.service.js';
import { createUser } from '../src/features/users/users.service.js';
import { createWorkspace } from '../src/features/workspaces/workspaces.service.js';
import { buildServer } from '../src/http/server.js';
import { Sweeper, sweepDueTimers } from '../src/jobs/sweeper.js';
import { type Clock, ManualClock, systemClock } from '../src/lib/clock.js';
import { uuidv7 } from '../src/lib/ids.js';
import {
  ALWAYS,
  activities,
  DAY,
  HOUR,
  handoff,
  lead,
  MINUTE,
  mqlLead,
  newLead,
  notificationsOf,
  OFFICE,
  openHandoff,
  outcomes,
  personById,
  pool,
  signAgreement,
  sweep,
  sweepAt,
  timersOf,
} from './handoff-kit.js';
import { type Client, type Ctx, dbKind, type Person, type Res, setup } from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function fresh(start?: string): Promise<Ctx> {
  const ctx = await setup(start ? { start } : {});
  cleanups.push(() => ctx.app.close());
  return ctx;
}

/** 30 minutes to accept or reject, an hour to first contact, always open; rep1 and rep2 take leads. */
async function halfHourSla(start?: string): Promise<Ctx> {
  const ctx = await fresh(start);
  await signAgreement(ctx, {
    sla: { acceptWithin: '30m', firstContactWithin: '1h' },
    calendar: ALWAYS,
    routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2) },
  });
  return ctx;
}

const other = (ctx: Ctx, p: Person) => (p === ctx.people.rep1 ? ctx.people.rep2 : ctx.people.rep1);
const sorted = (xs: string[]) => [...xs].sort();

describe('the escalation ladder, on a moved clock', () => {
  it('reminds the assignee half-way through, and not a moment before', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    const t0 = h.createdAt;
    expect(h.dueAt).toBe(new Date(new Date(t0).getTime() + 30 * MINUTE).toISOString());
    expect(outcomes(await sweepAt(ctx, t0, 15 * MINUTE - 1000))).toEqual([]);
    expect(outcomes(await sweepAt(ctx, t0, 15 * MINUTE))).toEqual(['reminded']);
    const rep = personById(ctx, h.assigneeId) as Person;
    expect(await notificationsOf(ctx, rep, { kind: 'handoff.reminder', handoffId: h.id })).toHaveLength(1);
    expect(await handoff(ctx, h.id)).toMatchObject({ status: 'open', escalationStep: 1, breachedAt: null });
  });

  it('marks the breach at the deadline and tells the assignee and the sales lead', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    await sweepAt(ctx, h.createdAt, 15 * MINUTE);
    expect(outcomes(await sweepAt(ctx, h.createdAt, 30 * MINUTE - 1000))).toEqual([]);
    expect(sorted(outcomes(await sweepAt(ctx, h.createdAt, 30 * MINUTE)))).toEqual(['breached', 'escalated']);
    const after = await handoff(ctx, h.id);
    expect(after).toMatchObject({ status: 'open', breachedAt: h.dueAt });
    const rep = personById(ctx, h.assigneeId) as Person;
    expect(await notificationsOf(ctx, rep, { kind: 'handoff.breached', handoffId: h.id })).toHaveLength(1);
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.escalated', handoffId: h.id })).toHaveLength(1);
    const breached = await ctx.as(ctx.people.salesLead).get('/api/handoffs?breached=true');
    expect(breached.body.items.map((x: { id: string }) => x.id)).toEqual([h.id]);
    // A breach is a fact, not an outcome: the rep can still accept.
    expect((await ctx.as(rep).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
  });

  it('reassigns at 150% into a new handoff to another rep with a fresh clock', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx, { firstName: 'Late', lastName: 'Lead' });
    const first = personById(ctx, h.assigneeId) as Person;
    await sweepAt(ctx, h.createdAt, 30 * MINUTE);
    expect(outcomes(await sweepAt(ctx, h.createdAt, 45 * MINUTE - 1000))).toEqual([]);
    expect(outcomes(await sweepAt(ctx, h.createdAt, 45 * MINUTE))).toEqual(['reassigned']);
    const now = ctx.clock.now();
    const old = await handoff(ctx, h.id);
    expect(old).toMatchObject({ status: 'reassigned', reasonCode: 'sla', closedAt: now.toISOString(), closedBy: null });
    const next = await openHandoff(ctx, h.leadId);
    expect(old.nextHandoffId).toBe(next.id);
    expect(next).toMatchObject({
      previousHandoffId: h.id,
      assigneeId: other(ctx, first).user.id,
      createdAt: now.toISOString(),
      dueAt: new Date(now.getTime() + 30 * MINUTE).toISOString(),
      breachedAt: null,
      escalationStep: 0,
    });
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'mql', ownerId: other(ctx, first).user.id });
    expect(await notificationsOf(ctx, first, { kind: 'handoff.reassigned', handoffId: h.id })).toHaveLength(1);
    expect(await notificationsOf(ctx, other(ctx, first), { kind: 'handoff.assigned', handoffId: next.id })).toHaveLength(1);
    expect((await activities(ctx, { kind: 'handoff.reassigned', handoffId: h.id })).map((a) => a.data)).toEqual([
      expect.objectContaining({ reason: 'sla', from: first.user.id, to: other(ctx, first).user.id, nextHandoffId: next.id }),
    ]);
    // The new handoff's own ladder runs from its own start.
    expect(outcomes(await sweepAt(ctx, next.createdAt, 15 * MINUTE - 1000))).toEqual([]);
    expect(outcomes(await sweepAt(ctx, next.createdAt, 15 * MINUTE))).toEqual(['reminded']);
    // The previous rep cannot act on the ended handoff.
    expect((await ctx.as(first).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(409);
  });

  it('queues the lead for the sales lead once every rep has let it lapse, and leaves it there', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    await sweepAt(ctx, h.createdAt, 45 * MINUTE);
    const second = await openHandoff(ctx, h.leadId);
    expect(outcomes(await sweepAt(ctx, second.createdAt, 45 * MINUTE))).toContain('reassigned');
    const third = await openHandoff(ctx, h.leadId);
    expect(third).toMatchObject({ assigneeId: null, previousHandoffId: second.id });
    expect(third.route.pool).toBe('unassigned');
    expect(third.route.skipped.map((s: { reason: string }) => s.reason)).toEqual(['excluded', 'excluded']);
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.unassigned', handoffId: third.id })).toHaveLength(1);
    // Its own ladder nags the sales lead, and at 150% it stays put rather than spawning another empty handoff.
    expect(sorted(outcomes(await sweepAt(ctx, third.createdAt, 3 * HOUR)))).toEqual(['breached', 'escalated', 'reminded', 'still_unassigned']);
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.reminder', handoffId: third.id })).toHaveLength(1);
    expect((await openHandoff(ctx, h.leadId)).id).toBe(third.id);
    expect(await ctx.database.db.selectFrom('handoffs').select('id').where('lead_id', '=', h.leadId).execute()).toHaveLength(3);
    const assigned = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${third.id}/reassign`, { userId: ctx.people.rep1.user.id });
    expect(assigned.status).toBe(200);
  });

  it('re-routes an unassigned handoff at 150% when someone has become available', async () => {
    const ctx = await halfHourSla();
    const start = ctx.clock.now().getTime();
    for (const rep of [ctx.people.rep1, ctx.people.rep2]) {
      await ctx.as(rep).post('/api/absences', { startsAt: new Date(start).toISOString(), endsAt: new Date(start + 40 * MINUTE).toISOString() });
    }
    const h = await mqlLead(ctx);
    expect(h.assigneeId).toBeNull();
    expect(sorted(outcomes(await sweepAt(ctx, h.createdAt, 45 * MINUTE)))).toEqual(['breached', 'escalated', 'reassigned', 'reminded']);
    const next = await openHandoff(ctx, h.leadId);
    expect([ctx.people.rep1.user.id, ctx.people.rep2.user.id]).toContain(next.assigneeId);
  });

  it('fires every overdue step once, in order, when the sweep runs late', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    const result = await sweepAt(ctx, h.createdAt, 2 * HOUR);
    const mine = result.fired.filter((f) => f.outcome !== 'moot');
    expect(mine.map((f) => f.outcome)).toEqual([
      'reminded',
      ...(mine[1]?.outcome === 'breached' ? ['breached', 'escalated'] : ['escalated', 'breached']),
      'reassigned',
    ]);
    // The breach is dated at the deadline, not at the late sweep that noticed it.
    expect((await handoff(ctx, h.id)).breachedAt).toBe(h.dueAt);
    // The new handoff started at the late sweep, so none of its steps are due yet.
    const next = await openHandoff(ctx, h.leadId);
    expect(next.createdAt).toBe(ctx.clock.now().toISOString());
    expect((await timersOf(ctx, next.id)).every((t) => t.fired_at === null && t.cancelled_at === null)).toBe(true);
  });

  it('fires nothing the second time the sweep runs', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    await mqlLead(ctx);
    ctx.clock.set(new Date(new Date(h.createdAt).getTime() + 50 * MINUTE));
    const first = await sweep(ctx);
    expect(first.fired.length).toBeGreaterThanOrEqual(8);
    const before = (await activities(ctx)).length;
    expect(await sweep(ctx)).toEqual({ fired: [], failed: 0 });
    expect(await sweepDueTimers(ctx.database.db, ctx.clock, { workspaceId: ctx.workspace.id })).toEqual({ fired: [], failed: 0 });
    expect((await activities(ctx)).length).toBe(before);
  });

  it('cancels the ladder when the rep accepts: no reminder, breach or reassignment follows', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    const rep = personById(ctx, h.assigneeId) as Person;
    ctx.clock.set(new Date(new Date(h.createdAt).getTime() + 10 * MINUTE));
    expect((await ctx.as(rep).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    const result = await sweepAt(ctx, h.createdAt, 50 * MINUTE);
    expect(outcomes(result)).toEqual([]);
    for (const kind of ['handoff.reminded', 'handoff.breached', 'handoff.escalated', 'handoff.reassigned']) {
      expect(await activities(ctx, { kind, handoffId: h.id })).toHaveLength(0);
    }
    expect(await handoff(ctx, h.id)).toMatchObject({ status: 'accepted', breachedAt: null, escalationStep: 0 });
    expect((await lead(ctx, h.leadId)).stage).toBe('sal');
  });

  it('marks a missed first contact and tells the rep and the sales lead', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    const rep = personById(ctx, h.assigneeId) as Person;
    ctx.clock.set(new Date(new Date(h.createdAt).getTime() + 10 * MINUTE));
    const accepted = await ctx.as(rep).post(`/api/handoffs/${h.id}/accept`, {});
    expect(accepted.body.firstContactDueAt).toBe(new Date(new Date(h.createdAt).getTime() + 70 * MINUTE).toISOString());
    expect(outcomes(await sweepAt(ctx, h.createdAt, 70 * MINUTE - 1000))).toEqual([]);
    expect(outcomes(await sweepAt(ctx, h.createdAt, 70 * MINUTE))).toEqual(['first_contact_breached']);
    expect((await handoff(ctx, h.id)).firstContactBreachedAt).toBe(accepted.body.firstContactDueAt);
    expect(await notificationsOf(ctx, rep, { kind: 'handoff.first_contact_breached', handoffId: h.id })).toHaveLength(1);
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.first_contact_breached', handoffId: h.id })).toHaveLength(1);
    // Late contact is still recorded, and says it was late.
    ctx.clock.advance(MINUTE);
    const contact = await ctx.as(rep).post(`/api/handoffs/${h.id}/contact`, { note: 'finally' });
    expect(contact.status).toBe(200);
    expect((await activities(ctx, { kind: 'handoff.first_contact', handoffId: h.id }))[0]?.data).toMatchObject({ onTime: false });
  });

  it('records a first contact in time, which stops the first-contact clock', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    const rep = ctx.as(personById(ctx, h.assigneeId) as Person);
    expect((await rep.post(`/api/handoffs/${h.id}/contact`, {})).status).toBe(409);
    expect((await rep.post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    ctx.clock.advance(20 * MINUTE);
    const contact = await rep.post(`/api/handoffs/${h.id}/contact`, { note: 'good call' });
    expect(contact.status).toBe(200);
    expect(contact.body.firstContactAt).toBe(ctx.clock.now().toISOString());
    expect((await rep.post(`/api/handoffs/${h.id}/contact`, {})).status).toBe(409);
    expect(outcomes(await sweepAt(ctx, h.createdAt, 3 * HOUR))).toEqual([]);
    expect((await handoff(ctx, h.id)).firstContactBreachedAt).toBeNull();
  });

  it('does not chase a first contact for a lead sales has already handed back', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    const rep = ctx.as(personById(ctx, h.assigneeId) as Person);
    expect((await rep.post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    expect((await rep.post(`/api/leads/${h.leadId}/hand-back`, { reason: 'timing' })).status).toBe(200);
    const result = await sweepAt(ctx, h.createdAt, 3 * HOUR);
    expect(outcomes(result)).not.toContain('first_contact_breached');
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.first_contact_breached' })).toHaveLength(0);
  });

  it('keeps the marketer in the loop after an SLA reassignment: the next rep’s rejection reaches them', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    await sweepAt(ctx, h.createdAt, 45 * MINUTE);
    const next = await openHandoff(ctx, h.leadId);
    expect(next.createdBy).toBe(ctx.people.marketer.user.id);
    const res = await ctx.as(personById(ctx, next.assigneeId) as Person).post(`/api/handoffs/${next.id}/reject`, { reason: 'no_budget' });
    expect(res.status).toBe(200);
    expect(await notificationsOf(ctx, ctx.people.marketer, { kind: 'handoff.rejected', handoffId: next.id })).toHaveLength(1);
  });
});

describe('business hours', () => {
  it('counts only working hours: a Friday-afternoon handoff is due on Monday', async () => {
    // 2026-03-06 is a Friday. Four business hours from 15:00 are two on Friday and two on Monday.
    const ctx = await fresh('2026-03-06T15:00:00Z');
    await signAgreement(ctx, { sla: { acceptWithin: '4h' }, calendar: OFFICE, routing: { fallbackPool: pool(ctx.people.rep1) } });
    const h = await mqlLead(ctx);
    expect(h.dueAt).toBe('2026-03-09T11:00:00.000Z');
    ctx.clock.set('2026-03-08T23:59:00Z');
    expect(outcomes(await sweep(ctx)).filter((o) => o !== 'reminded')).toEqual([]);
    ctx.clock.set('2026-03-09T10:59:59Z');
    expect(outcomes(await sweep(ctx)).filter((o) => o !== 'reminded')).toEqual([]);
    expect((await handoff(ctx, h.id)).breachedAt).toBeNull();
    ctx.clock.set('2026-03-09T11:00:00Z');
    expect(sorted(outcomes(await sweep(ctx)))).toEqual(['breached', 'escalated']);
    // 150% is six business hours: Friday 15-17 and Monday 9-13.
    ctx.clock.set('2026-03-09T12:59:59Z');
    expect(outcomes(await sweep(ctx))).toEqual([]);
    ctx.clock.set('2026-03-09T13:00:00Z');
    expect(outcomes(await sweep(ctx))).toEqual(['reassigned']);
  });

  it("follows the calendar's time zone and holidays", async () => {
    // 16:00 in New York on Friday 2026-03-06 is 21:00 UTC. One hour on Friday, then Monday is a
    // holiday, so the other three hours are Tuesday 09:00-12:00 New York time (13:00-16:00 UTC: DST started on the 8th).
    const ctx = await fresh('2026-03-06T21:00:00Z');
    await signAgreement(ctx, {
      sla: { acceptWithin: '4h', firstContactWithin: '1h' },
      calendar: { timeZone: 'America/New_York', workingDays: [1, 2, 3, 4, 5], hours: { start: '09:00', end: '17:00' }, holidays: ['2026-03-09'] },
      routing: { fallbackPool: pool(ctx.people.rep1) },
    });
    const h = await mqlLead(ctx);
    expect(h.dueAt).toBe('2026-03-10T16:00:00.000Z');
  });

  it('uses the unsigned default until an agreement is signed: four business hours, Monday to Friday 9 to 5 UTC', async () => {
    const ctx = await fresh('2026-03-02T15:30:00Z');
    const h = await mqlLead(ctx);
    expect(h.agreementVersion).toBe(0);
    expect(h.dueAt).toBe('2026-03-03T11:30:00.000Z');
  });
});

describe('nurture', () => {
  it('returns a nurtured lead to the agreed stage after the agreed number of days', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, { nurture: { days: 3, returnTo: 'lead' }, calendar: ALWAYS, routing: { fallbackPool: pool(ctx.people.rep1) } });
    const h = await mqlLead(ctx);
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' })).status).toBe(200);
    const rejectedAt = ctx.clock.now();
    expect(outcomes(await sweepAt(ctx, rejectedAt, 3 * DAY - 1000)).filter((o) => o !== 'moot')).toEqual([]);
    expect((await lead(ctx, h.leadId)).stage).toBe('nurture');
    expect(outcomes(await sweepAt(ctx, rejectedAt, 3 * DAY))).toEqual(['moved']);
    expect((await lead(ctx, h.leadId)).stage).toBe('lead');
    const moved = await activities(ctx, { kind: 'lead.stage_changed', leadId: h.leadId });
    expect(moved.at(-1)?.data).toMatchObject({ from: 'nurture', to: 'lead', why: 'nurture ended' });
  });

  it('starts a new nurture spell for a lead withdrawn back into nurture', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, { nurture: { days: 3, returnTo: 'lead' }, calendar: ALWAYS, routing: { fallbackPool: pool(ctx.people.rep1) } });
    const h = await mqlLead(ctx);
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/reject`, { reason: 'not_ready' })).status).toBe(200);
    ctx.clock.advance(DAY);
    expect((await ctx.as(ctx.people.marketer).post(`/api/leads/${h.leadId}/stage`, { stage: 'mql' })).status).toBe(200);
    const again = await openHandoff(ctx, h.leadId);
    expect(again.fromStage).toBe('nurture');
    ctx.clock.advance(HOUR);
    expect((await ctx.as(ctx.people.marketer).post(`/api/handoffs/${again.id}/withdraw`, {})).status).toBe(200);
    const withdrawnAt = ctx.clock.now();
    expect((await lead(ctx, h.leadId)).stage).toBe('nurture');
    // The first spell's timer finds the lead in a later spell and leaves it.
    await sweepAt(ctx, withdrawnAt, 2 * DAY);
    expect((await lead(ctx, h.leadId)).stage).toBe('nurture');
    expect(outcomes(await sweepAt(ctx, withdrawnAt, 3 * DAY))).toEqual(['moved']);
    expect((await lead(ctx, h.leadId)).stage).toBe('lead');
  });

  it('leaves a lead alone if it left nurture before the time was up', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, { nurture: { days: 3, returnTo: 'lead' }, calendar: ALWAYS, routing: { fallbackPool: pool(ctx.people.rep1) } });
    const h = await mqlLead(ctx);
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/reject`, { reason: 'no_budget' })).status).toBe(200);
    const rejectedAt = ctx.clock.now();
    ctx.clock.advance(DAY);
    // Marketing re-qualifies it, and sales accepts it this time.
    const again = await (async () => {
      const moved = await ctx.as(ctx.people.marketer).post(`/api/leads/${h.leadId}/stage`, { stage: 'mql' });
      expect(moved.status).toBe(200);
      return openHandoff(ctx, h.leadId);
    })();
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${again.id}/accept`, {})).status).toBe(200);
    const result = await sweepAt(ctx, rejectedAt, 3 * DAY);
    expect(result.fired.filter((f) => f.kind === 'lead.nurture_end').map((f) => f.outcome)).toEqual(['moot']);
    expect((await lead(ctx, h.leadId)).stage).toBe('sal');
  });
});

/** An inject client like the harness's, bound to whichever app is current. */
function clientFor(getApp: () => Ctx['app'], key: string): Client {
  const send = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<Res> => {
    const res = await getApp().inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, headers: res.headers };
  };
  return {
    get: (url) => send('GET', url),
    post: (url, body) => send('POST', url, body ?? {}),
    put: (url, body) => send('PUT', url, body ?? {}),
    patch: (url, body) => send('PATCH', url, body ?? {}),
    delete: (url) => send('DELETE', url),
  };
}

/** A workspace on a database of the test's own, so the test can close the database and open it again. */
async function ownDatabaseCtx(database: Database, clock: ManualClock): Promise<Ctx> {
  const deps = { db: database.db, clock: clock as Clock };
  const workspace = await createWorkspace(database.db, clock, { slug: `r-${uuidv7().slice(-12)}`, name: 'Restart' });
  const add = async (name: string, team: 'marketing' | 'sales', level: 'member' | 'lead' = 'member', isAdmin = false): Promise<Person> => {
    const user = await createUser(deps, workspace.id, null, { email: `${name}.${uuidv7().slice(-8)}@example.com`, name, team, level, isAdmin });
    const actor = actorFromUser(user, 'api_key');
    return { user, actor, key: (await createApiKey(deps, actor, 'test')).key };
  };
  const people = {
    marketer: await add('marketer', 'marketing'),
    marketingLead: await add('marketinglead', 'marketing', 'lead'),
    rep1: await add('rep1', 'sales'),
    rep2: await add('rep2', 'sales'),
    salesLead: await add('saleslead', 'sales', 'lead'),
    admin: await add('admin', 'marketing', 'member', true),
  };
  const ctx: Ctx = {
    database,
    app: await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://' }), database, clock }),
    clock,
    workspace,
    system: systemActor(workspace.id),
    people,
    addPerson: () => Promise.reject(new Error('not in this test')),
    as: (person) => clientFor(() => ctx.app, person?.key ?? ''),
  };
  return ctx;
}

describe('a restart in the middle of the clock', () => {
  it('fires the timers that came due while the server was down exactly once, from a new server on the same database', async () => {
    const url = process.env.DATABASE_URL;
    const dir = url ? undefined : mkdtempSync(join(tmpdir(), 'tandem-restart-'));
    const open = async () => {
      const database = await openDatabase(url ? { databaseUrl: url, poolSize: 3 } : { dataDir: dir as string });
      if (!url) await migrateToLatest(database.db);
      return database;
    };
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const ctx = await ownDatabaseCtx(await open(), clock);
    let closed = false;
    cleanups.push(async () => {
      if (!closed) {
        await ctx.app.close();
        await ctx.database.close();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    await signAgreement(ctx, { sla: { acceptWithin: '30m' }, calendar: ALWAYS, routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2) } });
    const h = await mqlLead(ctx);
    clock.advance(10 * MINUTE);
    expect(outcomes(await sweep(ctx))).toEqual([]);

    // Stop: the server and the database connection go away with the clock running.
    await ctx.app.close();
    await ctx.database.close();
    clock.set(new Date(new Date(h.createdAt).getTime() + 35 * MINUTE));

    ctx.database = await open();
    ctx.app = await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://' }), database: ctx.database, clock });
    cleanups.push(async () => {
      closed = true;
      await ctx.app.close();
      await ctx.database.close();
    });
    expect(sorted(outcomes(await sweep(ctx)))).toEqual(['breached', 'escalated', 'reminded']);
    expect(await sweep(ctx)).toEqual({ fired: [], failed: 0 });
    const after = await ctx.as(ctx.people.salesLead).get(`/api/handoffs/${h.id}`);
    expect(after.body).toMatchObject({ status: 'open', breachedAt: h.dueAt, escalationStep: 2 });
    for (const kind of ['handoff.reminded', 'handoff.breached', 'handoff.escalated']) expect(await activities(ctx, { kind, handoffId: h.id })).toHaveLength(1);
    // The rest of the ladder still runs on the new server.
    expect(outcomes(await sweepAt(ctx, h.createdAt, 45 * MINUTE))).toEqual(['reassigned']);
  });
});

describe('a sweep and a person acting on the same handoff at once', () => {
  it.skipIf(dbKind() !== 'postgres')('lets the accept through while another process holds a due timer, and the timer then does nothing', async () => {
    const ctx = await halfHourSla();
    const h = await mqlLead(ctx);
    ctx.clock.set(new Date(new Date(h.createdAt).getTime() + 15 * MINUTE));
    const db = ctx.database.db;
    let claimed!: () => void;
    let release!: () => void;
    const isClaimed = new Promise<void>((r) => {
      claimed = r;
    });
    const released = new Promise<void>((r) => {
      release = r;
    });
    // What a sweep in another process does: claim the due reminder, then lock the handoff.
    const sweepInFlight = db.transaction().execute(async (trx) => {
      const timer = await trx
        .selectFrom('timers')
        .selectAll()
        .where('workspace_id', '=', ctx.workspace.id)
        .where('subject_id', '=', h.id)
        .where('kind', '=', 'handoff.escalation')
        .where('step', '=', 0)
        .forUpdate()
        .skipLocked()
        .executeTakeFirstOrThrow();
      claimed();
      await released;
      const outcome = await onHandoffTimer(trx, timer, ctx.clock.now());
      await trx.updateTable('timers').set({ fired_at: ctx.clock.now() }).where('workspace_id', '=', ctx.workspace.id).where('id', '=', timer.id).execute();
      return outcome;
    });
    await isClaimed;
    const accepting = ctx.as(personById(ctx, h.assigneeId) as Person).post(`/api/handoffs/${h.id}/accept`, {});
    await sleep(300);
    release();
    const [accepted, outcome] = await Promise.all([accepting, sweepInFlight]);
    expect(accepted.status).toBe(200);
    expect(outcome).toBe('moot');
    expect(await activities(ctx, { kind: 'handoff.reminded', handoffId: h.id })).toHaveLength(0);
    expect(outcomes(await sweepAt(ctx, h.createdAt, 50 * MINUTE))).toEqual([]);
  });
});

describe('in real time', () => {
  it('breaches, escalates and reassigns a 2-second SLA on time with the sweeper running on the system clock', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, {
      sla: { acceptWithin: '2s', firstContactWithin: '1h' },
      calendar: ALWAYS,
      routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2) },
    });
    const live = await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://' }), database: ctx.database, clock: systemClock });
    const sweeper = new Sweeper(ctx.database.db, systemClock, 100, undefined, { workspaceId: ctx.workspace.id });
    cleanups.push(async () => {
      await sweeper.stop();
      await live.close();
    });
    const as = (p: Person) => clientFor(() => live, p.key);
    const created = await newLead(ctx);
    sweeper.start();
    const moved = await as(ctx.people.marketer).post(`/api/leads/${created.id}/stage`, { stage: 'mql' });
    expect(moved.status).toBe(200);
    const list = await as(ctx.people.salesLead).get(`/api/handoffs?leadId=${created.id}`);
    const h = list.body.items[0];
    const start = new Date(h.createdAt).getTime();
    expect(Math.abs(start - Date.now())).toBeLessThan(2000);
    expect(new Date(h.dueAt).getTime() - start).toBe(2000);

    const deadline = Date.now() + 8000;
    let current = h;
    while (Date.now() < deadline) {
      current = (await as(ctx.people.salesLead).get(`/api/handoffs/${h.id}`)).body;
      if (current.status === 'reassigned') break;
      await sleep(100);
    }
    expect(current.status).toBe('reassigned');
    expect(current.breachedAt).not.toBeNull();
    const at = (kind: string) => activities(ctx, { kind, handoffId: h.id }).then((rows) => rows.map((r) => r.at.getTime() - start));
    // Generous: a liveness check on a busy 2-core machine, not a speed test (the sweep runs every 100 ms).
    const slack = 3000;
    const [reminded, breached, escalated, reassigned] = await Promise.all([
      at('handoff.reminded'),
      at('handoff.breached'),
      at('handoff.escalated'),
      at('handoff.reassigned'),
    ]);
    for (const [name, fired, due] of [
      ['reminder', reminded, 1000],
      ['breach', breached, 2000],
      ['escalation', escalated, 2000],
      ['reassignment', reassigned, 3000],
    ] as const) {
      expect(fired, name).toHaveLength(1);
      expect(fired[0], name).toBeGreaterThanOrEqual(due);
      expect(fired[0], name).toBeLessThan(due + slack);
    }
    expect(new Date(current.breachedAt).getTime() - start).toBeGreaterThanOrEqual(2000);
    expect(await notificationsOf(ctx, ctx.people.salesLead, { kind: 'handoff.escalated', handoffId: h.id })).toHaveLength(1);
    const next = await openHandoff(ctx, created.id);
    expect(next.previousHandoffId).toBe(h.id);
    expect(next.assigneeId).not.toBe(h.assigneeId);
  });
});
