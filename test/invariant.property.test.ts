/**
 * Every handoff ends in exactly one outcome. Random sequences of what people and the clock do
 * (handoffs, accepts, rejects with good and bad reasons, withdrawals, reassignments, hand-backs,
 * absences, clock jumps and sweeps) run against the real server and database; after every
 * step the workspace must satisfy the handoff invariants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALWAYS, MINUTE, newLead, pool, signAgreement, sweep } from './handoff-kit.js';
import type { Res } from './harness.js';
import { type Ctx, type Person, setup } from './harness.js';

const LEADS = 3;
const RUNS = Number(process.env.TANDEM_PROPERTY_RUNS ?? 25);

type Who = 'assignee' | 'salesLead' | 'otherRep';
type Action =
  | { t: 'mql'; lead: number }
  | { t: 'mqlTwice'; lead: number }
  | { t: 'accept'; lead: number; who: Who }
  | { t: 'reject'; lead: number; who: Who; reason: string }
  | { t: 'withdraw'; lead: number }
  | { t: 'reassign'; lead: number; to: 0 | 1 | 2 | null }
  | { t: 'acceptAndWithdraw'; lead: number }
  | { t: 'handBack'; lead: number; reason: string }
  | { t: 'toLeadStage'; lead: number }
  | { t: 'absent'; rep: 0 | 1 | 2; minutes: number }
  | { t: 'advance'; ms: number }
  | { t: 'sweep' };

const leadIx = fc.integer({ min: 0, max: LEADS - 1 });
const who = fc.constantFrom<Who>('assignee', 'assignee', 'salesLead', 'otherRep');
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('mql' as const), lead: leadIx }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('mqlTwice' as const), lead: leadIx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('accept' as const), lead: leadIx, who }), weight: 3 },
  {
    arbitrary: fc.record({ t: fc.constant('reject' as const), lead: leadIx, who, reason: fc.constantFrom('not_ready', 'bad_fit', 'wrong_person', 'bogus') }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('withdraw' as const), lead: leadIx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('reassign' as const), lead: leadIx, to: fc.constantFrom<0 | 1 | 2 | null>(0, 1, 2, null) }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('acceptAndWithdraw' as const), lead: leadIx }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('handBack' as const), lead: leadIx, reason: fc.constantFrom('went_dark', 'bogus') }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('toLeadStage' as const), lead: leadIx }), weight: 1 },
  {
    arbitrary: fc.record({ t: fc.constant('absent' as const), rep: fc.constantFrom<0 | 1 | 2>(0, 1, 2), minutes: fc.integer({ min: 1, max: 90 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 * MINUTE }) }), weight: 4 },
  { arbitrary: fc.constant({ t: 'sweep' as const }), weight: 3 },
);

interface World {
  ctx: Ctx;
  reps: Person[];
  leads: string[];
}

async function openHandoffOf(w: World, leadId: string) {
  return w.ctx.database.db
    .selectFrom('handoffs')
    .selectAll()
    .where('workspace_id', '=', w.ctx.workspace.id)
    .where('lead_id', '=', leadId)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

function actorFor(w: World, assigneeId: string | null, choice: Who): Person {
  if (choice === 'salesLead') return w.ctx.people.salesLead;
  const assignee = w.reps.find((r) => r.user.id === assigneeId);
  if (choice === 'assignee' && assignee) return assignee;
  return w.reps.find((r) => r.user.id !== assigneeId) as Person;
}

/** Run one action; returns the responses so the caller can check that none failed on the server side. */
async function run(w: World, a: Action): Promise<Res[]> {
  const { ctx } = w;
  const mkt = ctx.as(ctx.people.marketer);
  switch (a.t) {
    case 'mql':
      return [await mkt.post(`/api/leads/${w.leads[a.lead]}/stage`, { stage: 'mql' })];
    case 'mqlTwice':
      return Promise.all([
        mkt.post(`/api/leads/${w.leads[a.lead]}/stage`, { stage: 'mql' }),
        ctx.as(ctx.people.marketingLead).post(`/api/leads/${w.leads[a.lead]}/stage`, { stage: 'mql' }),
      ]);
    case 'toLeadStage':
      return [await mkt.post(`/api/leads/${w.leads[a.lead]}/stage`, { stage: 'lead' })];
    case 'advance':
      ctx.clock.advance(a.ms);
      return [];
    case 'sweep': {
      const result = await sweep(ctx);
      expect(result.failed).toBe(0);
      return [];
    }
    case 'absent': {
      const now = ctx.clock.now().getTime();
      return [
        await ctx.as(ctx.people.salesLead).post('/api/absences', {
          userId: (w.reps[a.rep] as Person).user.id,
          startsAt: new Date(now).toISOString(),
          endsAt: new Date(now + a.minutes * MINUTE).toISOString(),
        }),
      ];
    }
    case 'handBack': {
      const h = await openHandoffOf(w, w.leads[a.lead] as string);
      const by = actorFor(w, h?.assignee_id ?? null, 'assignee');
      return [await ctx.as(by).post(`/api/leads/${w.leads[a.lead]}/hand-back`, { reason: a.reason })];
    }
  }
  const h = await openHandoffOf(w, w.leads[a.lead] as string);
  if (!h) return [];
  switch (a.t) {
    case 'accept':
      return [await ctx.as(actorFor(w, h.assignee_id, a.who)).post(`/api/handoffs/${h.id}/accept`, {})];
    case 'reject': {
      const body = a.reason === 'wrong_person' ? { reason: a.reason, note: 'ask the CTO' } : { reason: a.reason };
      return [await ctx.as(actorFor(w, h.assignee_id, a.who)).post(`/api/handoffs/${h.id}/reject`, body)];
    }
    case 'withdraw':
      return [await mkt.post(`/api/handoffs/${h.id}/withdraw`, {})];
    case 'reassign':
      return [await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reassign`, a.to === null ? {} : { userId: (w.reps[a.to] as Person).user.id })];
    case 'acceptAndWithdraw':
      return Promise.all([
        ctx.as(actorFor(w, h.assignee_id, 'assignee')).post(`/api/handoffs/${h.id}/accept`, {}),
        mkt.post(`/api/handoffs/${h.id}/withdraw`, {}),
      ]);
  }
}

const OUTCOMES = new Set(['accepted', 'rejected', 'reassigned', 'withdrawn']);

async function checkInvariants(w: World, trail: string): Promise<void> {
  const { db } = w.ctx.database;
  const ws = w.ctx.workspace.id;
  const [handoffs, leads, timers, acts] = await Promise.all([
    db.selectFrom('handoffs').selectAll().where('workspace_id', '=', ws).execute(),
    db.selectFrom('leads').selectAll().where('workspace_id', '=', ws).execute(),
    db.selectFrom('timers').selectAll().where('workspace_id', '=', ws).execute(),
    db.selectFrom('activities').select(['kind', 'handoff_id', 'data']).where('workspace_id', '=', ws).where('handoff_id', 'is not', null).execute(),
  ]);
  const byId = new Map(handoffs.map((h) => [h.id, h]));
  const openByLead = new Map<string, number>();
  for (const h of handoffs) {
    // Exactly one outcome: open with no end, or ended with one of the four outcomes.
    if (h.status === 'open') {
      expect(h.closed_at, trail).toBeNull();
      openByLead.set(h.lead_id, (openByLead.get(h.lead_id) ?? 0) + 1);
    } else {
      expect(OUTCOMES.has(h.status), trail).toBe(true);
      expect(h.closed_at, trail).not.toBeNull();
    }
    if (h.status === 'reassigned') {
      const next = h.next_handoff_id ? byId.get(h.next_handoff_id) : undefined;
      expect(next?.previous_handoff_id, `${trail}\nreassigned ${h.id} has no next handoff pointing back`).toBe(h.id);
      expect(next?.lead_id, trail).toBe(h.lead_id);
    } else {
      expect(h.next_handoff_id, trail).toBeNull();
    }
    if (h.previous_handoff_id) expect(byId.get(h.previous_handoff_id)?.next_handoff_id, trail).toBe(h.id);
    if (h.status === 'rejected') expect(h.reason_code, trail).toMatch(/^(not_ready|bad_fit|wrong_person)$/);
    // A handoff that ended has no escalation step left to run.
    const live = timers.filter((t) => t.subject_id === h.id && t.kind !== 'handoff.first_contact' && !t.fired_at && !t.cancelled_at);
    if (h.status !== 'open') expect(live, `${trail}\nended handoff ${h.id} (${h.status}) still has live timers`).toEqual([]);
    else expect(live.length + timers.filter((t) => t.subject_id === h.id && t.fired_at).length, trail).toBe(4);
  }
  for (const l of leads) {
    const open = openByLead.get(l.id) ?? 0;
    expect(open, `${trail}\nlead ${l.id} has ${open} open handoffs`).toBeLessThanOrEqual(1);
    // In MQL exactly when a handoff is open, and owned by whoever that handoff is with.
    expect(open === 1, `${trail}\nlead in ${l.stage} with ${open} open handoffs`).toBe(l.stage === 'mql');
    if (open === 1) {
      const h = handoffs.find((x) => x.lead_id === l.id && x.status === 'open');
      expect(l.owner_id, trail).toBe(h?.assignee_id ?? null);
    }
    if (l.stage === 'sal' || l.stage === 'sql') expect(l.owner_id, trail).not.toBeNull();
  }
  // No timer fired twice, and no step of a ladder was acted on twice.
  const fired = new Map<string, number>();
  for (const t of timers) {
    if (!t.fired_at) continue;
    const k = `${t.kind}/${t.subject_id}/${t.step}`;
    fired.set(k, (fired.get(k) ?? 0) + 1);
    expect(t.cancelled_at, `${trail}\ntimer ${k} both fired and cancelled`).toBeNull();
  }
  for (const [k, n] of fired) expect(n, `${trail}\n${k} fired ${n} times`).toBe(1);
  const once = new Map<string, number>();
  for (const a of acts) {
    if (!['handoff.reminded', 'handoff.breached', 'handoff.escalated', 'handoff.reassigned', 'handoff.created', 'handoff.reassigned_to'].includes(a.kind))
      continue;
    const k = `${a.kind === 'handoff.reassigned_to' ? 'handoff.created' : a.kind}/${a.handoff_id}/${(a.data as { step?: number }).step ?? ''}`;
    once.set(k, (once.get(k) ?? 0) + 1);
  }
  for (const [k, n] of once) expect(n, `${trail}\n${k} recorded ${n} times`).toBe(1);
  // Every handoff was started exactly once.
  for (const h of handoffs) expect(once.get(`handoff.created/${h.id}/`), `${trail}\nhandoff ${h.id} start recorded`).toBe(1);
  // Each person's open-handoff count, which routing trusts for capacity, matches the handoffs.
  const users = await db.selectFrom('users').select(['id', 'open_handoffs']).where('workspace_id', '=', ws).execute();
  for (const u of users) {
    const held = handoffs.filter((h) => h.status === 'open' && h.assignee_id === u.id).length;
    expect(u.open_handoffs, `${trail}\nuser ${u.id} counts ${u.open_handoffs} open handoffs, holds ${held}`).toBe(held);
  }
}

describe('the handoff invariant', () => {
  it('holds after every step of random sequences of actions and clock moves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 30 }), async (actions) => {
        const ctx = await setup();
        try {
          const rep3 = await ctx.addPerson({ name: 'Ray Rep', team: 'sales', handoffCapacity: 1 });
          const reps = [ctx.people.rep1, ctx.people.rep2, rep3];
          await signAgreement(ctx, {
            sla: { acceptWithin: '30m', firstContactWithin: '1h' },
            calendar: ALWAYS,
            routing: { fallbackPool: pool(...reps), defaultCapacity: 2 },
          });
          const leads: string[] = [];
          for (let i = 0; i < LEADS; i++) leads.push((await newLead(ctx)).id);
          const w: World = { ctx, reps, leads };
          const trail: string[] = [];
          for (const a of actions) {
            trail.push(JSON.stringify(a));
            const responses = await run(w, a);
            for (const r of responses) expect(r.status, `${trail.join('\n')}\n${JSON.stringify(r.body)}`).toBeLessThan(500);
            await checkInvariants(w, trail.join('\n'));
          }
          // Finally let every clock run out: the invariants still hold when all timers have fired.
          ctx.clock.advance(24 * 60 * MINUTE);
          expect((await sweep(ctx)).failed).toBe(0);
          await checkInvariants(w, `${trail.join('\n')}\n(all timers run out)`);
        } finally {
          await ctx.app.close();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects a reason the agreement does not define without changing anything, in any state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 12 }),
        fc.constantFrom('bogus', 'went_dark', 'spam', 'NOT_READY'),
        async (actions, reason) => {
          const ctx = await setup();
          try {
            await signAgreement(ctx, { sla: { acceptWithin: '30m' }, calendar: ALWAYS, routing: { fallbackPool: pool(ctx.people.rep1, ctx.people.rep2) } });
            const rep3 = await ctx.addPerson({ name: 'Ray Rep', team: 'sales' });
            const w: World = { ctx, reps: [ctx.people.rep1, ctx.people.rep2, rep3], leads: [] };
            for (let i = 0; i < LEADS; i++) w.leads.push((await newLead(ctx)).id);
            for (const a of actions) await run(w, a);
            for (const leadId of w.leads) {
              const h = await openHandoffOf(w, leadId);
              if (h?.status !== 'open') continue;
              const snapshot = async () =>
                Promise.all([
                  ctx.database.db.selectFrom('handoffs').selectAll().where('workspace_id', '=', ctx.workspace.id).orderBy('id').execute(),
                  ctx.database.db.selectFrom('leads').selectAll().where('workspace_id', '=', ctx.workspace.id).orderBy('id').execute(),
                  ctx.database.db.selectFrom('activities').select('id').where('workspace_id', '=', ctx.workspace.id).execute(),
                  ctx.database.db.selectFrom('notifications').select('id').where('workspace_id', '=', ctx.workspace.id).execute(),
                ]);
              const before = await snapshot();
              const res = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/reject`, { reason });
              expect(res.status).toBe(400);
              expect(res.body.error.details.problems[0].path).toBe('body.reason');
              expect(await snapshot()).toEqual(before);
            }
          } finally {
            await ctx.app.close();
          }
        },
      ),
      { numRuns: Math.max(5, Math.round(RUNS / 3)) },
    );
  });
});
