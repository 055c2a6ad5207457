import { type Kysely, sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDatabase } from '../../test/harness.js';
import type { DB } from '../db/schema.js';
import { type AgreementDocument, DEFAULT_AGREEMENT, validateAgreement } from '../domain/agreement.js';
import { signIn } from '../features/auth/auth.service.js';
import { ManualClock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { DEMO_PASSWORD, DEMO_SLUG, demoPeople, demoSignIns, seedDemo } from './seed.js';

// Wednesday 11:30 in New York: inside business hours, so the queue has handoffs on both sides of their deadline.
const clock = new ManualClock('2026-03-04T16:30:00Z');
const now = clock.now();
let db: Kysely<DB>;
let ws: string;
let summary: string;

async function demoWorkspace(): Promise<string> {
  const rows = await db.selectFrom('workspaces').select('id').where('slug', '=', DEMO_SLUG).execute();
  expect(rows).toHaveLength(1);
  return (rows[0] as { id: string }).id;
}

async function rows<T>(query: ReturnType<typeof sql<T>>): Promise<T[]> {
  return (await query.execute(db)).rows;
}

beforeAll(async () => {
  db = (await testDatabase()).db;
  // Seeding replaces whatever demo workspace the shared database already holds.
  summary = (await seedDemo(db, clock, { scale: 0.05 })).text;
  ws = await demoWorkspace();
});

describe('the demo workspace', () => {
  it('leaves no score rows of the demo it replaced', async () => {
    const orphans = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM lead_scores s WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.workspace_id = s.workspace_id AND l.id = s.lead_id)`,
    );
    expect(orphans[0]?.n).toBe(0);
  });

  it('suggests one sign-in of each kind for the sign-in page, and each one signs in', async () => {
    const demo = await demoPeople(db);
    expect(demo?.people.map((p) => p.role.split(',')[0])).toEqual(['marketing lead', 'marketer', 'sales lead', 'sales rep']);
    for (const person of demo?.people ?? []) {
      const session = await signIn({ db, clock }, { email: person.email, password: DEMO_PASSWORD, workspace: DEMO_SLUG }, 1);
      expect(session.user.email).toBe(person.email);
    }
  });

  it('has both teams, the accounts and the leads, and says so', async () => {
    const count = async (table: 'users' | 'accounts' | 'leads') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('workspace_id', '=', ws)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count('users')).toBe(16);
    expect(await count('accounts')).toBe(100);
    expect(await count('leads')).toBe(1000);
    const teams = await rows<{ team: string; level: string; n: number }>(
      sql`SELECT team, level, count(*)::int AS n FROM users WHERE workspace_id = ${ws} GROUP BY team, level ORDER BY team, level`,
    );
    expect(teams).toEqual([
      { team: 'marketing', level: 'lead', n: 1 },
      { team: 'marketing', level: 'member', n: 7 },
      { team: 'sales', level: 'lead', n: 1 },
      { team: 'sales', level: 'member', n: 7 },
    ]);
    expect(summary).toContain('1,000 leads');
    const absent = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM absences WHERE workspace_id = ${ws} AND starts_at <= ${now} AND ends_at > ${now}`,
    );
    expect(absent[0]?.n).toBe(1);
  });

  it('gives every lead in the handoff stage exactly one open handoff, and no other lead any', async () => {
    const wrong = await rows<{ id: string }>(sql`
      SELECT l.id FROM leads l
      LEFT JOIN handoffs h ON h.workspace_id = l.workspace_id AND h.lead_id = l.id AND h.status = 'open'
      WHERE l.workspace_id = ${ws}
      GROUP BY l.id, l.stage
      HAVING (l.stage = 'mql') <> (count(h.id) = 1) OR count(h.id) > 1`);
    expect(wrong).toEqual([]);
    const open = await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM handoffs WHERE workspace_id = ${ws} AND status = 'open'`);
    expect(open[0]?.n).toBeGreaterThanOrEqual(5);
  });

  it('closes every handoff that is not open, with an outcome of each kind', async () => {
    const byStatus = await rows<{ status: string; n: number; unclosed: number }>(sql`
      SELECT status, count(*)::int AS n, count(*) FILTER (WHERE closed_at IS NULL)::int AS unclosed
      FROM handoffs WHERE workspace_id = ${ws} GROUP BY status`);
    for (const s of byStatus) expect(s.unclosed, s.status).toBe(s.status === 'open' ? s.n : 0);
    expect(byStatus.map((s) => s.status).sort()).toEqual(['accepted', 'open', 'reassigned', 'rejected', 'withdrawn']);
    const breached = await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM handoffs WHERE workspace_id = ${ws} AND breached_at IS NOT NULL`);
    expect(breached[0]?.n).toBeGreaterThan(0);
  });

  it("rejects only with the agreement's reasons, moving the lead where the reason says", async () => {
    const docs = new Map<number, AgreementDocument>([[0, DEFAULT_AGREEMENT]]);
    for (const a of await db.selectFrom('agreements').select(['version', 'document']).where('workspace_id', '=', ws).execute()) {
      docs.set(a.version, a.document as unknown as AgreementDocument);
    }
    const rejected = await rows<{
      reason_code: string;
      agreement_version: number;
      closed_at: Date;
      stage: string;
      stage_changed_at: Date;
      moved: string[];
    }>(sql`
      SELECT h.reason_code, h.agreement_version, h.closed_at, l.stage, l.stage_changed_at,
        array(SELECT a.data->>'to' FROM activities a
              WHERE a.workspace_id = h.workspace_id AND a.lead_id = h.lead_id AND a.kind = 'lead.stage_changed' AND a.at = h.closed_at) AS moved
      FROM handoffs h JOIN leads l ON l.workspace_id = h.workspace_id AND l.id = h.lead_id
      WHERE h.workspace_id = ${ws} AND h.status = 'rejected'`);
    expect(rejected.length).toBeGreaterThan(10);
    let stillThere = 0;
    for (const h of rejected) {
      const reason = docs.get(h.agreement_version)?.reasons.reject.find((r) => r.code === h.reason_code);
      expect(reason, h.reason_code).toBeDefined();
      expect(h.moved).toContain(reason?.to);
      // Unless the lead moved on later (nurture ended, handed off again), it is where the reason sent it.
      if (h.stage_changed_at.getTime() === h.closed_at.getTime()) {
        expect(h.stage).toBe(reason?.to);
        stillThere++;
      }
    }
    expect(stillThere).toBeGreaterThan(0);
  });

  it('links reassigned handoffs to their successors both ways', async () => {
    const chains = await rows<{ id: string; next_id: string | null; back: string | null; same_lead: boolean }>(sql`
      SELECT h.id, n.id AS next_id, n.previous_handoff_id AS back, n.lead_id = h.lead_id AS same_lead
      FROM handoffs h LEFT JOIN handoffs n ON n.workspace_id = h.workspace_id AND n.id = h.next_handoff_id
      WHERE h.workspace_id = ${ws} AND h.status = 'reassigned'`);
    expect(chains.length).toBeGreaterThan(0);
    for (const c of chains) {
      expect(c.next_id).not.toBeNull();
      expect(c.back).toBe(c.id);
      expect(c.same_lead).toBe(true);
    }
    const stray = await rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM handoffs WHERE workspace_id = ${ws} AND status <> 'reassigned' AND next_handoff_id IS NOT NULL`,
    );
    expect(stray[0]?.n).toBe(0);
  });

  it('has a valid active agreement naming real sales people, and a proposal waiting for sales', async () => {
    const versions = await db.selectFrom('agreements').selectAll().where('workspace_id', '=', ws).orderBy('version').execute();
    expect(versions.map((v) => v.status)).toEqual(['active', 'proposed']);
    const [active, proposed] = versions;
    const result = validateAgreement(active?.document);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.document.calendar.timeZone).toBe('America/New_York');
    const sales = new Set(
      (await db.selectFrom('users').select('email').where('workspace_id', '=', ws).where('team', '=', 'sales').execute()).map((u) => u.email),
    );
    const named = [...result.document.routing.rules.flatMap((r) => r.pool), ...result.document.routing.fallbackPool].map((m) => m.user);
    expect(named.length).toBeGreaterThan(0);
    for (const email of named) expect(sales.has(email), email).toBe(true);
    expect(active?.marketing_signed_by && active.sales_signed_by).toBeTruthy();
    expect(validateAgreement(proposed?.document).ok).toBe(true);
    expect(proposed?.marketing_signed_by).not.toBeNull();
    expect(proposed?.sales_signed_by).toBeNull();
  });

  it('leaves timers running for open handoffs and nothing overdue for the sweeper', async () => {
    const open = await rows<{ id: string; due_at: Date; pending: number; deadline_due: Date | null }>(sql`
      SELECT h.id, h.due_at,
        (SELECT count(*)::int FROM timers t WHERE t.workspace_id = h.workspace_id AND t.subject_id = h.id AND t.fired_at IS NULL AND t.due_at > ${now}) AS pending,
        (SELECT t.due_at FROM timers t WHERE t.workspace_id = h.workspace_id AND t.subject_id = h.id AND t.kind = 'handoff.deadline') AS deadline_due
      FROM handoffs h WHERE h.workspace_id = ${ws} AND h.status = 'open'`);
    expect(open.length).toBeGreaterThan(0);
    for (const h of open) {
      expect(h.pending, h.id).toBeGreaterThan(0);
      expect(h.deadline_due?.getTime()).toBe(h.due_at.getTime());
    }
    const stale = await rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM timers WHERE workspace_id = ${ws} AND fired_at IS NULL AND cancelled_at IS NULL AND due_at <= ${now}`);
    expect(stale[0]?.n).toBe(0);
  });

  it('keeps routing counters equal to the handoffs routing handed out', async () => {
    const [counted] = await rows<{ n: number }>(sql`SELECT coalesce(sum(assigned), 0)::int AS n FROM routing_counters WHERE workspace_id = ${ws}`);
    const [routed] = await rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM handoffs
      WHERE workspace_id = ${ws} AND route->>'pool' NOT IN ('account_owner', 'manual', 'unassigned')`);
    expect(counted?.n).toBe(routed?.n);
  });

  it('makes the leads of won deals customers, and gives every customer a won deal', async () => {
    const [mismatch] = await rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM leads l
      WHERE l.workspace_id = ${ws}
        AND (l.stage = 'customer') <> EXISTS (SELECT 1 FROM deals d WHERE d.workspace_id = l.workspace_id AND d.lead_id = l.id AND d.status = 'won')`);
    expect(mismatch?.n).toBe(0);
  });

  it('lets the people demoSignIns lists sign in with the demo password', async () => {
    const text = await demoSignIns(db);
    const emails = [...text.matchAll(/[a-z]+@northwind\.example/g)].map((m) => m[0]);
    expect(emails).toHaveLength(4);
    expect(text).toContain(DEMO_PASSWORD);
    for (const email of emails) {
      const { user } = await signIn({ db, clock }, { email, password: DEMO_PASSWORD, workspace: DEMO_SLUG }, 1);
      expect(user.workspace_id).toBe(ws);
    }
    await expect(signIn({ db, clock }, { email: emails[0] as string, password: 'wrong-password' }, 1)).rejects.toBeInstanceOf(AppError);
  });

  it('has website behaviour tied to its leads, every lead scored, and a working write key', async () => {
    const [events] = await rows<{ n: number; linked: number; demos: number }>(sql`SELECT count(*)::int AS n, count(lead_id)::int AS linked,
      count(*) FILTER (WHERE name = 'Demo Requested')::int AS demos FROM events WHERE workspace_id = ${ws}::uuid`);
    expect(events?.n).toBeGreaterThan(0);
    expect(events?.linked).toBe(events?.n);
    expect(events?.demos).toBeGreaterThan(0);
    const classes = await rows<{ score_class: string | null; n: number }>(
      sql`SELECT s.score_class, count(*)::int AS n FROM leads l LEFT JOIN lead_scores s ON s.workspace_id = l.workspace_id AND s.lead_id = l.id WHERE l.workspace_id = ${ws}::uuid GROUP BY s.score_class`,
    );
    expect(classes.find((c) => c.score_class === null)).toBeUndefined();
    expect(classes.length).toBeGreaterThanOrEqual(3);
    const [points] = await rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM score_points WHERE workspace_id = ${ws}::uuid`);
    expect(points?.n).toBeGreaterThan(0);
    const text = await demoSignIns(db);
    const key = /write key (wk_\S+)/.exec(text)?.[1];
    expect(key).toBeDefined();
    const { workspaceForWriteKey } = await import('../features/tracking/write-keys.service.js');
    expect(await workspaceForWriteKey({ db, clock }, key as string)).toBe(ws);
  });

  it('replaces the previous demo workspace when run again', async () => {
    const before = ws;
    const later = new ManualClock('2026-03-07T18:00:00Z'); // a Saturday: the business clock is stopped
    await seedDemo(db, later, { scale: 0.02 });
    ws = await demoWorkspace();
    expect(ws).not.toBe(before);
    const [left] = await rows<{ n: number }>(sql`
      SELECT (SELECT count(*) FROM leads WHERE workspace_id = ${before}) + (SELECT count(*) FROM activities WHERE workspace_id = ${before})
        + (SELECT count(*) FROM users WHERE workspace_id = ${before}) AS n`);
    expect(Number(left?.n)).toBe(0);
    const [stale] = await rows<{ n: number }>(sql`
      SELECT count(*)::int AS n FROM timers WHERE workspace_id = ${ws} AND fired_at IS NULL AND cancelled_at IS NULL AND due_at <= ${later.now()}`);
    expect(stale?.n).toBe(0);
  });
});
