import { type RawBuilder, sql } from 'kysely';
import {
  type FieldRef,
  type FitRule,
  type InterestRule,
  norm,
  type PropertyTest,
  parseField,
  SCORE_EPOCH_MS,
  type ScoringDocument,
} from '../../domain/scoring.js';

/**
 * The scoring rules as SQL, so a rule change rescores every lead in a few set-based statements.
 * Each function here says in SQL what its namesake in `domain/scoring.ts` says in JavaScript;
 * `scoring.property.test.ts` holds them to that. Leads are `l`, their accounts `a`, events `e`.
 */

const NUMBER = '^-?[0-9]+(\\.[0-9]+)?$';

/** A fact as text; properties only when they hold a string, number or boolean. */
function factSql(ref: FieldRef): RawBuilder<string | null> {
  if ('property' in ref) {
    const holder = ref.on === 'lead' ? sql.ref('l.properties') : sql.ref('a.properties');
    return sql`(CASE WHEN jsonb_typeof(${holder} -> ${sql.lit(ref.property)}) IN ('string', 'number', 'boolean') THEN ${holder} ->> ${sql.lit(ref.property)} END)`;
  }
  if (ref.on === 'lead' && ref.column === 'email_domain') return sql`substring(l.email from '@([^@]*)$')`;
  return sql`${sql.ref(`${ref.on === 'lead' ? 'l' : 'a'}.${ref.column}`)}::text`;
}

function containsAny(fact: RawBuilder<string | null>, values: readonly string[]): RawBuilder<boolean> {
  // One strpos per value: far cheaper per row than a subquery over an array.
  return sql`(${sql.join(
    values.map((v) => sql`strpos(lower(${fact}), ${norm(v)}) > 0`),
    sql` OR `,
  )})`;
}

export function fitPredicateSql(rule: FitRule): RawBuilder<boolean> {
  if (rule.op === 'persona') return sql`lower(l.persona) = ANY(${rule.value.map(norm)}::text[])`;
  const fact = factSql(parseField(rule.field) as FieldRef);
  switch (rule.op) {
    case 'equals':
      return sql`lower(${fact}) = ${norm(rule.value)}`;
    case 'oneOf':
      return sql`lower(${fact}) = ANY(${rule.value.map(norm)}::text[])`;
    case 'contains':
      return containsAny(fact, Array.isArray(rule.value) ? rule.value : [rule.value]);
    case 'range': {
      // A number column is compared as it is; text (properties) only where it reads as a number.
      const ref = parseField(rule.field) as FieldRef;
      const n =
        'column' in ref && ref.on === 'account' && ref.column === 'employees'
          ? sql`a.employees`
          : sql`(CASE WHEN ${fact} ~ ${NUMBER} THEN (${fact})::numeric END)`;
      const min = rule.value.min === undefined ? sql`true` : sql`${n} >= ${rule.value.min}`;
      const max = rule.value.max === undefined ? sql`true` : sql`${n} <= ${rule.value.max}`;
      return sql`(${n} IS NOT NULL AND ${min} AND ${max})`;
    }
  }
}

/** The fit score of lead `l` (with account `a`). */
export function fitScoreSql(doc: ScoringDocument): RawBuilder<number> {
  if (doc.fit.rules.length === 0) return sql`0`;
  const terms = doc.fit.rules.map((r) => sql`(CASE WHEN ${fitPredicateSql(r)} THEN ${sql.lit(r.points)} ELSE 0 END)`);
  return sql`(${sql.join(terms, sql` + `)})::integer`;
}

function propertySql(test: PropertyTest): RawBuilder<boolean> {
  const path = test.key.split('.');
  const fact = sql<
    string | null
  >`(CASE WHEN jsonb_typeof(e.properties #> ${path}::text[]) IN ('string', 'number', 'boolean') THEN e.properties #>> ${path}::text[] END)`;
  const values = Array.isArray(test.value) ? test.value : [test.value];
  if (test.op === 'contains') return containsAny(fact, values);
  return sql`lower(${fact}) = ANY(${values.map(norm)}::text[])`;
}

export function interestPredicateSql(rule: InterestRule): RawBuilder<boolean> {
  const parts: RawBuilder<boolean>[] = [];
  const { type, event, properties } = rule.when;
  if (type !== undefined) parts.push(sql`e.type = ANY(${Array.isArray(type) ? type : [type]}::text[])`);
  if (event !== undefined) parts.push(sql`lower(e.name) = ${norm(event)}`);
  for (const test of properties ?? []) parts.push(propertySql(test));
  return sql`(${sql.join(parts, sql` AND `)})`;
}

const epochMs = (column: RawBuilder<unknown>) => sql`(extract(epoch from ${column}) * 1000 - ${sql.lit(SCORE_EPOCH_MS)})`;

/**
 * Every point the rules grant from the workspace's linked events, caps applied in time order:
 * rows (lead_id, rule_id, event_id, at, period, points). With `scoredOnly`, only from events already scored.
 */
export function grantedPointsSql(workspaceId: string, doc: ScoringDocument, scoredOnly = false): RawBuilder<unknown> {
  const rules = doc.interest.rules;
  if (rules.length === 0) {
    return sql`SELECT NULL::uuid AS lead_id, NULL::text AS rule_id, NULL::uuid AS event_id, NULL::timestamptz AS at, 0 AS period, 0::float8 AS points WHERE false`;
  }
  const only = scoredOnly ? sql`AND e.scored` : sql``;
  const matched = rules.map((r) => {
    const period = r.cap ? sql`floor(${epochMs(sql`e.at`)} / ${sql.lit(r.cap.days * 86_400_000)})::integer` : sql`0`;
    return sql`SELECT e.lead_id, ${sql.lit(r.id)}::text AS rule_id, e.id AS event_id, e.at, ${period} AS period,
        ${sql.lit(r.points)}::float8 AS points, ${r.cap ? sql`${sql.lit(r.cap.points)}::float8` : sql`NULL::float8`} AS cap
      FROM events e
      WHERE e.workspace_id = ${workspaceId}::uuid AND e.lead_id IS NOT NULL ${only} AND ${interestPredicateSql(r)}`;
  });
  return sql`SELECT lead_id, rule_id, event_id, at, period,
      CASE WHEN cap IS NULL THEN points ELSE greatest(0, least(points, cap - (upto - points))) END AS points
    FROM (
      SELECT m.*, sum(m.points) OVER (PARTITION BY m.lead_id, m.rule_id, m.period ORDER BY m.at, m.event_id ROWS UNBOUNDED PRECEDING) AS upto
      FROM (${sql.join(matched, sql` UNION ALL `)}) AS m
    ) AS r
    WHERE cap IS NULL OR upto - points < cap`;
}

/** Interest mass per lead from rows of points (see `massOf`). */
export function massSql(points: RawBuilder<unknown>, halfLifeDays: number): RawBuilder<unknown> {
  return sql`SELECT p.lead_id, sum(p.points * power(2::float8, ${epochMs(sql`p.at`)} / ${sql.lit(halfLifeDays * 86_400_000)}))::float8 AS mass
    FROM (${points}) AS p GROUP BY p.lead_id`;
}

/** The factor that turns mass into interest at `now` (see `interestAt`). */
export function decayAt(now: Date, halfLifeDays: number): number {
  return 2 ** (-(now.getTime() - SCORE_EPOCH_MS) / (halfLifeDays * 86_400_000));
}

export function classSql(fit: RawBuilder<unknown>, interest: RawBuilder<unknown>, doc: ScoringDocument): RawBuilder<string> {
  const good = sql`${fit} >= ${sql.lit(doc.thresholds.fit)}`;
  const high = sql`${interest} >= ${sql.lit(doc.thresholds.interest)}`;
  return sql`CASE WHEN ${good} THEN (CASE WHEN ${high} THEN 'good_fit_high_interest' ELSE 'good_fit_low_interest' END)
    ELSE (CASE WHEN ${high} THEN 'low_fit_high_interest' ELSE 'low_fit_low_interest' END) END`;
}
