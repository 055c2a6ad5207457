import type { AgreementDocument, PoolMember, RoutingRule } from './agreement.js';

/** A sales person as routing sees them. */
export interface Candidate {
  id: string;
  email: string;
  active: boolean;
  team: 'marketing' | 'sales';
  level?: 'member' | 'lead';
  /** The person's own routing weight, used where a pool does not give one. */
  weight: number;
  /** Open handoffs they may hold at once; null = the agreement's default or unlimited. */
  capacity: number | null;
  openHandoffs: number;
  absent: boolean;
}

export interface RoutingFacts {
  lead: { country: string | null; persona: string | null };
  account: { country: string | null; region: string | null; industry: string | null; employees: number | null; ownerId: string | null } | null;
}

export interface RouteDecision {
  assigneeId: string | null;
  /** The pool the choice came from: "account_owner", "rule:<name>", "fallback" or "unassigned". */
  pool: string;
  rule: string | null;
  /** Why each considered person was passed over. */
  skipped: { userId: string; reason: 'absent' | 'at_capacity' | 'inactive' | 'excluded' | 'not_sales' | 'unknown_user' }[];
  explanation: string;
  /** The assignee's new assignment count in the pool, when chosen by round robin. */
  poolCount?: number;
}

const eq = (a: string | null | undefined, list: string[] | undefined): boolean => !list || (a != null && list.some((v) => v.toLowerCase() === a.toLowerCase()));

/** Whether every condition a rule names holds for this lead and account. */
export function ruleMatches(rule: RoutingRule, facts: RoutingFacts): boolean {
  const w = rule.when;
  const acc = facts.account;
  const country = facts.lead.country ?? acc?.country ?? null;
  if (!eq(country, w.country)) return false;
  if (!eq(acc?.region, w.region)) return false;
  if (!eq(acc?.industry, w.industry)) return false;
  if (!eq(facts.lead.persona, w.persona)) return false;
  if (w.employees) {
    const n = acc?.employees;
    if (n == null) return false;
    if (w.employees.min !== undefined && n < w.employees.min) return false;
    if (w.employees.max !== undefined && n > w.employees.max) return false;
  }
  return true;
}

/**
 * Decide who receives a lead: the account's owner first; then the first routing rule that
 * matches; then the fallback pool. Within a pool, weighted round robin: the eligible person
 * whose share of past assignments is furthest below their weight gets the lead.
 * `counts` holds assignments so far per person in each pool.
 */
export function routeLead(
  doc: AgreementDocument,
  facts: RoutingFacts,
  people: Candidate[],
  counts: (pool: string) => Map<string, number>,
  exclude: ReadonlySet<string> = new Set(),
): RouteDecision {
  const byId = new Map(people.map((p) => [p.id, p]));
  const byEmail = new Map(people.map((p) => [p.email.toLowerCase(), p]));
  const skipped: RouteDecision['skipped'] = [];
  const capacityOf = (p: Candidate) => p.capacity ?? doc.routing.defaultCapacity ?? Number.POSITIVE_INFINITY;

  const unavailable = (p: Candidate, checkCapacity: boolean): RouteDecision['skipped'][number]['reason'] | null => {
    if (exclude.has(p.id)) return 'excluded';
    if (!p.active) return 'inactive';
    if (p.team !== 'sales') return 'not_sales';
    if (p.absent) return 'absent';
    if (checkCapacity && p.openHandoffs >= capacityOf(p)) return 'at_capacity';
    return null;
  };

  const ownerId = facts.account?.ownerId;
  if (doc.routing.accountOwnerFirst && ownerId) {
    const owner = byId.get(ownerId);
    const why = owner ? unavailable(owner, false) : 'unknown_user';
    if (owner && !why) {
      return { assigneeId: owner.id, pool: 'account_owner', rule: null, skipped, explanation: `the account is owned by ${owner.email}` };
    }
    skipped.push({ userId: ownerId, reason: why ?? 'unknown_user' });
  }

  const rule = doc.routing.rules.find((r) => ruleMatches(r, facts)) ?? null;
  let poolName: string;
  let members: { person: Candidate; weight: number }[];
  if (rule) {
    poolName = `rule:${rule.name}`;
    members = resolvePool(rule.pool, byEmail);
  } else if (doc.routing.fallbackPool.length > 0) {
    poolName = 'fallback';
    members = resolvePool(doc.routing.fallbackPool, byEmail);
  } else {
    poolName = 'fallback';
    members = people.filter((p) => p.team === 'sales').map((p) => ({ person: p, weight: p.weight }));
  }

  const eligible: { person: Candidate; weight: number }[] = [];
  for (const m of members) {
    const why = m.weight <= 0 ? 'inactive' : unavailable(m.person, true);
    if (why) skipped.push({ userId: m.person.id, reason: why });
    else eligible.push(m);
  }
  const where = rule ? `rule "${rule.name}"` : 'the fallback pool';
  if (eligible.length === 0) {
    return {
      assigneeId: null,
      pool: 'unassigned',
      rule: rule?.name ?? null,
      skipped,
      explanation: `nobody in ${where} is available; queued for the sales lead`,
    };
  }
  const assigned = counts(poolName);
  // Someone back from an absence, or new to the pool, is behind everyone else. Counting them as
  // at most one round behind gives them the next lead or two, not a burst of every lead until
  // they catch up (smooth weighted round robin with a bounded backlog).
  const top = Math.max(...eligible.map((m) => (assigned.get(m.person.id) ?? 0) / m.weight));
  const effective = (m: { person: Candidate; weight: number }) => Math.max(assigned.get(m.person.id) ?? 0, Math.floor((top - 1) * m.weight));
  let best = eligible[0] as { person: Candidate; weight: number };
  let bestScore = Number.POSITIVE_INFINITY;
  for (const m of eligible) {
    // (count + 1) / weight: over time each gets leads in proportion to weight; ties go by email.
    const score = (effective(m) + 1) / m.weight;
    if (score < bestScore || (score === bestScore && m.person.email < best.person.email)) {
      best = m;
      bestScore = score;
    }
  }
  return {
    assigneeId: best.person.id,
    pool: poolName,
    rule: rule?.name ?? null,
    skipped,
    explanation: `round robin in ${where}`,
    poolCount: effective(best) + 1,
  };
}

function resolvePool(pool: PoolMember[], byEmail: Map<string, Candidate>): { person: Candidate; weight: number }[] {
  const out: { person: Candidate; weight: number }[] = [];
  for (const m of pool) {
    const person = byEmail.get(m.user.toLowerCase());
    if (person) out.push({ person, weight: m.weight });
  }
  return out;
}
