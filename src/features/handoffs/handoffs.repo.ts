import { type Kysely, sql } from 'kysely';
import type { DB, Handoff, Lead } from '../../db/schema.js';
import type { Candidate, RoutingFacts } from '../../domain/routing.js';
import type { PlannedTimer } from '../../domain/sla.js';
import { uuidv7 } from '../../lib/ids.js';

/**
 * Everyone routing may meet, with what it needs: open handoffs held and whether they are away
 * now. Both teams are loaded so a pool member or account owner who moved to marketing is
 * passed over as "not_sales" rather than as an unknown person.
 */
export async function loadCandidates(db: Kysely<DB>, workspaceId: string, at: Date): Promise<Candidate[]> {
  const rows = await db
    .selectFrom('users as u')
    .select((eb) => [
      'u.id',
      'u.email',
      'u.active',
      'u.team',
      'u.routing_weight',
      'u.handoff_capacity',
      eb
        .selectFrom('handoffs as h')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('h.workspace_id', '=', 'u.workspace_id')
        .whereRef('h.assignee_id', '=', 'u.id')
        .where('h.status', '=', 'open')
        .as('open_handoffs'),
      eb
        .exists(
          eb
            .selectFrom('absences as a')
            .select('a.id')
            .whereRef('a.workspace_id', '=', 'u.workspace_id')
            .whereRef('a.user_id', '=', 'u.id')
            .where('a.starts_at', '<=', at)
            .where('a.ends_at', '>', at),
        )
        .as('absent'),
    ])
    .where('u.workspace_id', '=', workspaceId)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    active: r.active,
    team: r.team,
    weight: r.routing_weight,
    capacity: r.handoff_capacity,
    openHandoffs: Number(r.open_handoffs ?? 0),
    absent: Boolean(r.absent),
  }));
}

export async function loadRoutingFacts(db: Kysely<DB>, lead: Lead): Promise<RoutingFacts> {
  const account = lead.account_id
    ? await db
        .selectFrom('accounts')
        .select(['country', 'region', 'industry', 'employees', 'owner_id'])
        .where('workspace_id', '=', lead.workspace_id)
        .where('id', '=', lead.account_id)
        .executeTakeFirst()
    : undefined;
  return {
    lead: { country: lead.country, persona: lead.persona },
    account: account
      ? { country: account.country, region: account.region, industry: account.industry, employees: account.employees, ownerId: account.owner_id }
      : null,
  };
}

/** Assignments so far per pool and person, for the whole workspace in one query (a small table). */
export async function loadPoolCounts(db: Kysely<DB>, workspaceId: string): Promise<Map<string, Map<string, number>>> {
  const rows = await db.selectFrom('routing_counters').select(['pool', 'user_id', 'assigned']).where('workspace_id', '=', workspaceId).execute();
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const pool = out.get(r.pool) ?? new Map<string, number>();
    pool.set(r.user_id, Number(r.assigned));
    out.set(r.pool, pool);
  }
  return out;
}

/** Record an assignment; `count` is the person's new total, which may jump ahead to forgive a backlog. */
export async function setPoolCount(db: Kysely<DB>, workspaceId: string, pool: string, userId: string, count: number): Promise<void> {
  await db
    .insertInto('routing_counters')
    .values({ workspace_id: workspaceId, pool, user_id: userId, assigned: count })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'pool', 'user_id']).doUpdateSet({ assigned: sql`greatest(routing_counters.assigned + 1, excluded.assigned)` }),
    )
    .execute();
}

/** Routing decisions in one workspace take turns, so round robin and capacity hold across processes. */
export async function lockRouting(db: Kysely<DB>, workspaceId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`routing:${workspaceId}`}))`.execute(db);
}

export async function insertTimers(db: Kysely<DB>, workspaceId: string, subjectId: string, timers: PlannedTimer[], now: Date): Promise<void> {
  if (timers.length === 0) return;
  await db
    .insertInto('timers')
    .values(
      timers.map((t) => ({
        workspace_id: workspaceId,
        id: uuidv7(now.getTime()),
        kind: t.kind,
        subject_id: subjectId,
        step: t.step,
        due_at: t.dueAt,
        data: JSON.stringify({ action: t.action }),
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Cancel a subject's pending timers. A timer that a sweep holds right now is skipped, not waited
 * for: that sweep locks the timer first and the handoff next, while the caller already holds
 * the handoff, so waiting would deadlock. Once the caller commits, the sweep's handler finds the
 * handoff closed and does nothing, which is what cancelling would have achieved.
 */
export async function cancelTimers(db: Kysely<DB>, workspaceId: string, subjectId: string, now: Date, kinds: string[]): Promise<void> {
  await db
    .updateTable('timers')
    .set({ cancelled_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('timers')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('subject_id', '=', subjectId)
        .where('kind', 'in', kinds)
        .where('fired_at', 'is', null)
        .where('cancelled_at', 'is', null)
        .forUpdate()
        .skipLocked(),
    )
    .execute();
}

export async function lockHandoff(db: Kysely<DB>, workspaceId: string, id: string): Promise<Handoff | undefined> {
  return db.selectFrom('handoffs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function lockLead(db: Kysely<DB>, workspaceId: string, id: string): Promise<Lead | undefined> {
  return db.selectFrom('leads').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).forUpdate().executeTakeFirst();
}
