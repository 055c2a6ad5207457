import { type Kysely, sql } from 'kysely';
import type { DB, Handoff, Lead } from '../../db/schema.js';
import type { Candidate, RoutingFacts } from '../../domain/routing.js';
import type { PlannedTimer } from '../../domain/sla.js';
import { uuidv7 } from '../../lib/ids.js';

/**
 * Everyone routing may meet, with what it needs: open handoffs held, whether they are away now,
 * and their round-robin counts per pool (one query). Both teams are loaded so a pool member or
 * account owner who moved to marketing is passed over as "not_sales" rather than as unknown.
 */
export async function loadCandidates(
  db: Kysely<DB>,
  workspaceId: string,
  at: Date,
): Promise<{ people: Candidate[]; poolCounts: Map<string, Map<string, number>> }> {
  const rows = await db
    .selectFrom('users as u')
    .select((eb) => [
      'u.id',
      'u.email',
      'u.active',
      'u.team',
      'u.level',
      'u.routing_weight',
      'u.handoff_capacity',
      'u.open_handoffs',
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
      sql<Record<string, number> | null>`(SELECT json_object_agg(rc.pool, rc.assigned) FROM routing_counters rc
        WHERE rc.workspace_id = u.workspace_id AND rc.user_id = u.id)`.as('pools'),
    ])
    .where('u.workspace_id', '=', workspaceId)
    .execute();
  const poolCounts = new Map<string, Map<string, number>>();
  for (const r of rows) {
    for (const [pool, n] of Object.entries(r.pools ?? {})) {
      const counts = poolCounts.get(pool) ?? new Map<string, number>();
      counts.set(r.id, Number(n));
      poolCounts.set(pool, counts);
    }
  }
  const people = rows.map((r) => ({
    id: r.id,
    email: r.email,
    active: r.active,
    team: r.team,
    level: r.level,
    weight: r.routing_weight,
    capacity: r.handoff_capacity,
    openHandoffs: r.open_handoffs,
    absent: Boolean(r.absent),
  }));
  return { people, poolCounts };
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

/**
 * Lock a lead and read, in the same statement, what a stage move needs next: its account's
 * routing facts and which agreement version is active. The hot path of a handoff saves two
 * round trips this way.
 */
export async function lockLeadForMove(
  db: Kysely<DB>,
  workspaceId: string,
  id: string,
): Promise<{ lead: Lead; facts: RoutingFacts; agreement: { id: string; version: number } | null } | undefined> {
  const row = await db
    .selectFrom('leads as l')
    .leftJoin('accounts as a', (j) => j.onRef('a.workspace_id', '=', 'l.workspace_id').onRef('a.id', '=', 'l.account_id'))
    .selectAll('l')
    .select((eb) => [
      'a.id as account_found',
      'a.country as account_country',
      'a.region as account_region',
      'a.industry as account_industry',
      'a.employees as account_employees',
      'a.owner_id as account_owner_id',
      eb.selectFrom('agreements as g').select('g.id').where('g.workspace_id', '=', workspaceId).where('g.status', '=', 'active').as('agreement_id'),
      eb.selectFrom('agreements as g').select('g.version').where('g.workspace_id', '=', workspaceId).where('g.status', '=', 'active').as('agreement_version'),
    ])
    .where('l.workspace_id', '=', workspaceId)
    .where('l.id', '=', id)
    .forUpdate('l')
    .executeTakeFirst();
  if (!row) return undefined;
  const { account_found, account_country, account_region, account_industry, account_employees, account_owner_id, agreement_id, agreement_version, ...lead } =
    row;
  return {
    lead,
    facts: {
      lead: { country: lead.country, persona: lead.persona },
      account: account_found
        ? { country: account_country, region: account_region, industry: account_industry, employees: account_employees, ownerId: account_owner_id }
        : null,
    },
    agreement: agreement_id && agreement_version != null ? { id: agreement_id, version: agreement_version } : null,
  };
}

/** Record an assignment; `count` is the person's new total, which may jump ahead to forgive a backlog. */
export function upsertPoolCount(db: Kysely<DB>, workspaceId: string, pool: string, userId: string, count: number) {
  return db
    .insertInto('routing_counters')
    .values({ workspace_id: workspaceId, pool, user_id: userId, assigned: count })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'pool', 'user_id']).doUpdateSet({ assigned: sql`greatest(routing_counters.assigned + 1, excluded.assigned)` }),
    );
}

/** Keep a person's open-handoff count in step as handoffs open (+1) and close (-1). */
export function adjustOpenHandoffs(db: Kysely<DB>, workspaceId: string, userId: string, delta: 1 | -1) {
  return db
    .updateTable('users')
    .set((eb) => ({ open_handoffs: eb('open_handoffs', '+', delta) }))
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', userId);
}

/** Recount everyone's open handoffs from the handoffs themselves (after bulk loads). */
export async function recountOpenHandoffs(db: Kysely<DB>, workspaceId: string): Promise<void> {
  await sql`UPDATE users u SET open_handoffs = (
    SELECT count(*) FROM handoffs h WHERE h.workspace_id = u.workspace_id AND h.assignee_id = u.id AND h.status = 'open')
    WHERE u.workspace_id = ${workspaceId}`.execute(db);
}

/** Routing decisions in one workspace take turns, so round robin and capacity hold across processes. */
export async function lockRouting(db: Kysely<DB>, workspaceId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`routing:${workspaceId}`}))`.execute(db);
}

export async function insertTimers(db: Kysely<DB>, workspaceId: string, subjectId: string, timers: PlannedTimer[], now: Date): Promise<void> {
  await timersInsert(db, workspaceId, subjectId, timers, now)?.execute();
}

/** The insert as a query, for use inside a larger statement; undefined when there are none. */
export function timersInsert(db: Kysely<DB>, workspaceId: string, subjectId: string, timers: PlannedTimer[], now: Date) {
  if (timers.length === 0) return undefined;
  return db
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
    .onConflict((oc) => oc.doNothing());
}

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
