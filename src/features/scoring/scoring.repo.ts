import { type Kysely, type RawBuilder, sql } from 'kysely';
import { binaryArray } from '../../db/binary-array.js';
import type { DB, Lead, ScoredLead } from '../../db/schema.js';
import {
  capPeriod,
  DEFAULT_SCORING,
  type EventFacts,
  type FitRule,
  type InterestRule,
  interestRuleMatches,
  massOf,
  type ScoreClass,
  type ScoringDocument,
  validateScoring,
} from '../../domain/scoring.js';
import { uuidv7 } from '../../lib/ids.js';
import { classSql, decayAt, FENCE, grantedPointsSql, leadFitsSql, massSql } from './scoring.sql.js';

export interface ActiveScoring {
  /** 0 for the built-in rules. */
  version: number;
  id: string | null;
  document: ScoringDocument;
}

/** Active rule documents never change, so each is parsed once per process. */
const documents = new Map<string, ScoringDocument>();

/**
 * Cap periods known to be full, by workspace, rules, lead, rule and period. Under one version of
 * the rules a period's points only ever grow (merging two leads gives the survivor the duplicate's
 * points; a new version has another id), so a period seen full stays full and ingest need not read
 * its sum again. Bounded: the oldest are forgotten first, and a forgotten one is read once more.
 */
const fullPeriods = new Set<string>();
const FULL_PERIODS_KEPT = 100_000;

function rememberFull(key: string): void {
  fullPeriods.add(key);
  if (fullPeriods.size > FULL_PERIODS_KEPT) fullPeriods.delete(fullPeriods.values().next().value as string);
}

export async function getActiveScoring(db: Kysely<DB>, workspaceId: string): Promise<ActiveScoring> {
  const row = await db
    .selectFrom('scoring_rules')
    .select(['id', 'version'])
    .where('workspace_id', '=', workspaceId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return withDocument(db, workspaceId, row);
}

/** The rules' document, from memory once read (an active version's document never changes). */
async function withDocument(db: Kysely<DB>, workspaceId: string, row: { id: string; version: number } | undefined): Promise<ActiveScoring> {
  if (!row) return { version: 0, id: null, document: DEFAULT_SCORING };
  let document = documents.get(row.id);
  if (!document) {
    const full = await db
      .selectFrom('scoring_rules')
      .select('document')
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    const checked = validateScoring(full.document);
    document = checked.ok ? checked.document : DEFAULT_SCORING;
    documents.set(row.id, document);
  }
  return { version: row.version, id: row.id, document };
}

/**
 * The active rules, for a transaction that scores with them. Scoring with the active rules and
 * activating new ones exclude each other per workspace: this takes the workspace's scoring lock
 * shared, activation takes it alone (`lockScoringAlone`). Without it, events stored while a rule
 * change rescored the workspace were scored under the rules it replaced and kept those points.
 * The rules are read after the lock is granted, in a snapshot of their own (the database function
 * `active_scoring_locked` does both), so a change committed while this waited is the one read.
 * The lock lasts until the transaction ends.
 */
export async function activeScoringLocked(trx: Kysely<DB>, workspaceId: string): Promise<ActiveScoring> {
  const { rows } = await sql<{ id: string; version: number }>`SELECT id, version FROM active_scoring_locked(${workspaceId}::uuid)`.execute(trx);
  return withDocument(trx, workspaceId, rows[0]);
}

/** Activation's side of `activeScoringLocked`: no transaction scores this workspace until this one ends. */
export async function lockScoringAlone(trx: Kysely<DB>, workspaceId: string): Promise<void> {
  // The same key as `active_scoring_locked` computes.
  await sql`SELECT pg_advisory_xact_lock(hashtext('scoring:' || ${workspaceId}::uuid::text))`.execute(trx);
}

/** Leads with their scores, in the same order (a lead not scored yet has 0, 0 and no class). */
export async function withScores(db: Kysely<DB>, workspaceId: string, leads: readonly Lead[]): Promise<ScoredLead[]> {
  const rows = leads.length
    ? await db
        .selectFrom('lead_scores')
        .select(['lead_id', 'fit_score', 'interest_score', 'score_class'])
        .where('workspace_id', '=', workspaceId)
        .where(
          'lead_id',
          'in',
          leads.map((l) => l.id),
        )
        .execute()
    : [];
  const byId = new Map(rows.map((r) => [r.lead_id, r]));
  return leads.map((l) => {
    const s = byId.get(l.id);
    return { ...l, fit_score: s?.fit_score ?? 0, interest_score: s?.interest_score ?? 0, score_class: s?.score_class ?? null };
  });
}

export async function withScore(db: Kysely<DB>, workspaceId: string, lead: Lead): Promise<ScoredLead> {
  return (await withScores(db, workspaceId, [lead]))[0] as ScoredLead;
}

/** A lead's scores after a refresh, and its class before. */
export interface Rescored {
  id: string;
  fit: number;
  interest: number;
  cls: ScoreClass;
  oldClass: ScoreClass | null;
  oldFit: number;
  oldInterest: number;
}

interface RescoredRow {
  id: string;
  fit: number;
  interest: number;
  cls: ScoreClass;
  old_class: ScoreClass | null;
  old_fit: number;
  old_interest: number;
}

const toRescored = (r: RescoredRow): Rescored => ({
  id: r.id,
  fit: Number(r.fit),
  interest: Number(r.interest),
  cls: r.cls,
  oldClass: r.old_class,
  oldFit: Number(r.old_fit),
  oldInterest: Number(r.old_interest),
});

/**
 * Where a refresh takes each lead's interest mass from: the stored mass (the points have not
 * changed), all its stored points, or the stored mass moved by the rows (lead_id, mass) of a
 * table made earlier in the transaction.
 */
type MassFrom = 'stored' | 'points' | { delta: string };

/**
 * Each lead's fit under `doc`, in two parts: `fits`, a subquery of rows (id, fit) of the leads
 * `only` picks (to be joined as `lf`), and `fit`, the expression that reads it beside the lead's
 * stored scores (`o`, joined by the caller). Given the rules the stored fit was computed under,
 * only the fit rules a change adds, removes or alters are evaluated, and the stored fit moves by
 * what they give and take; a lead with no stored score gets every rule, read by its key. Every
 * change of a lead or account that fit reads scores its leads again, so the stored fit is the
 * previous rules' fit, and a test holds the result to evaluating every rule.
 */
function fitParts(
  workspaceId: string,
  doc: ScoringDocument,
  only: RawBuilder<unknown>,
  previous?: ScoringDocument,
): { fits: RawBuilder<unknown>; fit: RawBuilder<unknown> } {
  if (!previous) return { fits: leadFitsSql(workspaceId, doc, only), fit: sql`lf.fit` };
  const same = (a: FitRule, b: FitRule) => JSON.stringify(a) === JSON.stringify(b);
  const fresh = doc.fit.rules.filter((r) => !previous.fit.rules.some((o) => same(o, r)));
  const retired = previous.fit.rules.filter((r) => !doc.fit.rules.some((n) => same(n, r))).map((r) => ({ ...r, points: -r.points }));
  const changes: ScoringDocument = { ...doc, fit: { rules: [...fresh, ...retired] } };
  // Inside, `l` is the lead read; `lf` is the caller's row.
  const full = sql`(SELECT x.fit FROM (${leadFitsSql(workspaceId, doc, sql`l.id = lf.id`)}) AS x)`;
  return { fits: leadFitsSql(workspaceId, changes, only), fit: sql`(CASE WHEN o.lead_id IS NULL THEN ${full} ELSE o.fit_score + lf.fit END)` };
}

/**
 * Each lead's scores now and before: rows (id, scored, old_class, old_fit, old_interest, fit,
 * mass, old_mass, interest, cls, moves). Fit comes from the rules and the lead's and account's
 * attributes (see `fitParts`), interest from the mass (see `MassFrom`) decayed to `now`. `moves`
 * says whether anything stored would change (a lead scored for the first time always moves).
 */
function scoresSql(
  workspaceId: string,
  doc: ScoringDocument,
  only: RawBuilder<unknown>,
  now: Date,
  from: MassFrom,
  /** The rules the stored fit was computed under (see `fitParts`). */
  previous?: ScoringDocument,
): RawBuilder<unknown> {
  const decay = decayAt(now, doc.interest.halfLifeDays);
  const interest = sql`(s.mass * ${decay}::float8)`;
  const stored = sql`coalesce(o.interest_mass, 0)`;
  // A change that takes away what a lead had leaves rounding dust; under a trillionth of the mass is none.
  const changed = sql`(CASE WHEN ${stored} + coalesce(m.mass, 0) <= 1e-12 * ${stored} THEN 0 ELSE ${stored} + coalesce(m.mass, 0) END)`;
  const mass = from === 'stored' ? stored : from === 'points' ? sql`coalesce(m.mass, 0)` : changed;
  const masses =
    from === 'stored'
      ? sql``
      : from === 'points'
        ? sql`LEFT JOIN (${massSql(sql`SELECT lead_id, at, points FROM score_points WHERE workspace_id = ${workspaceId}::uuid`, doc.interest.halfLifeDays)}) AS m ON m.lead_id = lf.id`
        : sql`LEFT JOIN ${sql.table(from.delta)} AS m ON m.lead_id = lf.id`;
  const { fits, fit } = fitParts(workspaceId, doc, only, previous);
  // FENCE keeps each level apart: without it the planner copies fit and class into every
  // expression that reads them (class, filter, output), and the rules ran again for each.
  return sql`SELECT *, NOT scored OR old_class IS DISTINCT FROM cls OR old_fit <> fit OR abs(old_interest - interest) >= 0.01 OR old_mass <> mass AS moves
    FROM (
      SELECT s.*, ${interest} AS interest, ${classSql(sql`s.fit`, interest, doc)} AS cls
      FROM (
        SELECT lf.id, o.lead_id IS NOT NULL AS scored, o.score_class AS old_class, coalesce(o.fit_score, 0) AS old_fit,
          coalesce(o.interest_score, 0) AS old_interest, ${fit} AS fit, ${mass} AS mass, ${stored} AS old_mass
        FROM (${fits} ${FENCE}) AS lf
        LEFT JOIN lead_scores o ON o.workspace_id = ${workspaceId}::uuid AND o.lead_id = lf.id
        ${masses}
        ${FENCE}
      ) AS s
      ${FENCE}
    ) AS x`;
}

/**
 * CTEs (moved, added, history) that write the rows of `c` (as `scoresSql` makes them) that move:
 * a lead scored for the first time gets its row, the others are updated, and the score history
 * gets an entry where a score moved.
 */
function writeScoresSql(workspaceId: string, c: RawBuilder<unknown>, now: Date, cause: string, fitMoves: boolean): RawBuilder<unknown> {
  return sql`moved AS (
      UPDATE lead_scores t SET fit_score = c.fit, interest_mass = c.mass, interest_score = c.interest, score_class = c.cls, scored_at = ${now}::timestamptz
      FROM ${c} AS c
      WHERE t.workspace_id = ${workspaceId}::uuid AND t.lead_id = c.id AND c.scored AND c.moves
      RETURNING t.lead_id
    ), added AS (
      INSERT INTO lead_scores (workspace_id, lead_id, fit_score, interest_score, interest_mass, score_class, scored_at)
      SELECT ${workspaceId}::uuid, c.id, c.fit, c.interest, c.mass, c.cls, ${now}::timestamptz FROM ${c} AS c WHERE NOT c.scored
      ON CONFLICT (workspace_id, lead_id) DO UPDATE SET fit_score = excluded.fit_score, interest_score = excluded.interest_score,
        interest_mass = excluded.interest_mass, score_class = excluded.score_class, scored_at = excluded.scored_at
      RETURNING lead_id
    ), history AS (
      INSERT INTO score_history (workspace_id, id, lead_id, at, fit, interest, class, cause)
      SELECT ${workspaceId}::uuid, ${rowIdSql()}, c.id, ${now}::timestamptz, c.fit, c.interest, c.cls, ${cause}
      FROM ${c} AS c
      -- A lead's first score is not a change; its history starts when a score moves.
      WHERE c.old_class IS NOT NULL AND (c.old_class <> c.cls ${fitMoves ? sql`OR c.old_fit <> c.fit` : sql``})
    )`;
}

/**
 * Score these leads again from their stored interest mass and write what moved, in one
 * statement; every one of them is returned, with its class before.
 */
export async function refreshLeads(
  trx: Kysely<DB>,
  workspaceId: string,
  doc: ScoringDocument,
  leadIds: readonly string[],
  now: Date,
  cause: string,
): Promise<Rescored[]> {
  if (leadIds.length === 0) return [];
  return refreshWhere(trx, workspaceId, doc, sql`l.id = ANY(${leadIds}::uuid[])`, now, cause);
}

/**
 * Score again the leads at these accounts, after the accounts changed: fit rules read an
 * account's industry, size, country and properties. Every one of them is returned.
 */
export async function refreshAccountLeads(
  trx: Kysely<DB>,
  workspaceId: string,
  doc: ScoringDocument,
  accountIds: readonly string[],
  now: Date,
  cause: string,
): Promise<Rescored[]> {
  if (accountIds.length === 0) return [];
  return refreshWhere(trx, workspaceId, doc, sql`l.account_id = ANY(${accountIds}::uuid[])`, now, cause);
}

async function refreshWhere(
  trx: Kysely<DB>,
  workspaceId: string,
  doc: ScoringDocument,
  only: RawBuilder<unknown>,
  now: Date,
  cause: string,
): Promise<Rescored[]> {
  // A lead's own change (an edit, an import) that moves its fit is its history.
  const result = await sql<RescoredRow>`
    WITH c AS (${scoresSql(workspaceId, doc, only, now, 'stored')}), ${writeScoresSql(workspaceId, sql`c`, now, cause, true)}
    SELECT c.id, c.fit, c.interest, c.cls, c.old_class, c.old_fit, c.old_interest FROM c`.execute(trx);
  return result.rows.map(toRescored);
}

/**
 * Refresh every lead of the workspace; returns how many moved. Interest comes from where `from`
 * says (see `MassFrom`); given the rules the stored scores were computed under, fit evaluates
 * only the fit rules that changed (see `fitParts`). The leads that move are found first, in a
 * statement that only reads, and kept in a temporary table; one statement then writes them. A
 * change of the rules is the workspace's (one activity): it enters a lead's history only where
 * its class moves.
 */
async function refreshAll(
  trx: Kysely<DB>,
  workspaceId: string,
  doc: ScoringDocument,
  now: Date,
  cause: string,
  from: MassFrom,
  previous?: ScoringDocument,
): Promise<number> {
  await parallelReads(trx);
  // Only what writing them reads: a narrower table stays in temporary buffers.
  await sql`CREATE TEMPORARY TABLE rescore_moves ON COMMIT DROP AS
    SELECT id, scored, old_class, fit, mass, interest, cls, moves FROM (${scoresSql(workspaceId, doc, sql`true`, now, from, previous)}) AS x WHERE moves`.execute(
    trx,
  );
  await serialReads(trx);
  const result = await sql<{ n: number }>`
    WITH ${writeScoresSql(workspaceId, sql`rescore_moves`, now, cause, false)}
    SELECT (SELECT count(*) FROM moved)::integer + (SELECT count(*) FROM added)::integer AS n`.execute(trx);
  await sql`DROP TABLE rescore_moves`.execute(trx);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * Let the statements of this transaction that read a whole workspace spread over PostgreSQL's
 * parallel workers. By its default costs, handing a million rows from the workers to the leader
 * outweighs the work shared, so a rescoring read ran on one core; on a million leads the
 * statement that finds the leads that move took 5.6 s alone and 3.6 s with workers. PGlite has
 * no workers and plans as before. The costs return to their defaults with `serialReads` (or at
 * the end of the transaction).
 */
async function parallelReads(trx: Kysely<DB>): Promise<void> {
  await sql`SET LOCAL parallel_setup_cost = 0`.execute(trx);
  await sql`SET LOCAL parallel_tuple_cost = 0`.execute(trx);
}

async function serialReads(trx: Kysely<DB>): Promise<void> {
  await sql`SET LOCAL parallel_setup_cost TO DEFAULT`.execute(trx);
  await sql`SET LOCAL parallel_tuple_cost TO DEFAULT`.execute(trx);
}

/**
 * Time-ordered ids for the rows one statement inserts: one UUIDv7 made here (its time and 42 of
 * its random bits) with each row's number in its last 32 bits, so set-based inserts need no id
 * from JavaScript per row. A random UUID made in SQL per row took twice as long as the rest of
 * writing a history row.
 */
function rowIdSql(): RawBuilder<string> {
  return sql`(${uuidv7().slice(0, 28)} || lpad(to_hex(row_number() OVER ()), 8, '0'))::uuid`;
}

/**
 * Score every lead of the workspace under `doc`: the points of every event (caps in time order),
 * the interest mass, then fit and class. Set-based throughout. Given the rules the stored points
 * were granted under, only what changed is redone: each interest rule grants its points alone
 * (a cap counts only its own rule's points), so a rule left as it was keeps its points.
 */
export async function rescoreAll(
  trx: Kysely<DB>,
  workspaceId: string,
  doc: ScoringDocument,
  now: Date,
  cause: string,
  /** The rules the stored points were granted under. */
  previous?: ScoringDocument,
): Promise<number> {
  if (previous && sameInterest(previous, doc)) return refreshAll(trx, workspaceId, doc, now, cause, 'stored', previous);
  if (!previous) {
    await sql`DELETE FROM score_points WHERE workspace_id = ${workspaceId}::uuid`.execute(trx);
    await insertPoints(trx, workspaceId, doc);
    await sql`UPDATE events SET scored = true WHERE workspace_id = ${workspaceId}::uuid AND lead_id IS NOT NULL AND NOT scored`.execute(trx);
    return refreshAll(trx, workspaceId, doc, now, cause, 'points');
  }
  const { retired, granting } = interestChanges(previous, doc);
  const fresh = granting.interest.rules;
  if (previous.interest.halfLifeDays !== doc.interest.halfLifeDays) {
    // Every point weighs differently under another half-life: each lead's mass is summed again.
    if (retired.length) await sql`DELETE FROM score_points WHERE workspace_id = ${workspaceId}::uuid AND rule_id = ANY(${retired}::text[])`.execute(trx);
    if (fresh.length) await insertPoints(trx, workspaceId, granting, true);
    return refreshAll(trx, workspaceId, doc, now, cause, 'points', previous);
  }
  // The same half-life: a lead's mass moves by what the retired rules had granted it and what the
  // fresh ones grant, so only the changed rules' points are read.
  await sql`CREATE TEMPORARY TABLE rescore_granted ON COMMIT DROP AS SELECT * FROM (${grantedPointsSql(workspaceId, granting, true)}) AS g`.execute(trx);
  // Each retired point beside the fresh one for the same event, rule and period (a rule changed in
  // place keeps its id), where the two differ: what the change does to the points.
  const same = sql`g.lead_id = p.lead_id AND g.rule_id = p.rule_id AND g.period = p.period AND g.event_id = p.event_id`;
  await sql`CREATE TEMPORARY TABLE rescore_points ON COMMIT DROP AS
    SELECT coalesce(p.lead_id, g.lead_id) AS lead_id, coalesce(p.rule_id, g.rule_id) AS rule_id, coalesce(p.period, g.period) AS period,
      coalesce(p.event_id, g.event_id) AS event_id, coalesce(p.at, g.at) AS at, p.points AS old, g.points AS new
    FROM (SELECT * FROM score_points WHERE workspace_id = ${workspaceId}::uuid AND rule_id = ANY(${retired}::text[])) AS p
    FULL JOIN rescore_granted g ON ${same}
    WHERE p.points IS DISTINCT FROM g.points`.execute(trx);
  await sql`ANALYZE rescore_points`.execute(trx);
  // One statement writes them and sums what each lead gains or loses: a point whose event still
  // earns one is rewritten in place (the table keeps room on each page, so no index entry is
  // written), one it no longer earns is deleted, and a new one is added.
  await sql`CREATE TEMPORARY TABLE rescore_delta (lead_id uuid NOT NULL, mass double precision NOT NULL) ON COMMIT DROP`.execute(trx);
  await sql`WITH rewritten AS (
      UPDATE score_points p SET points = g.new FROM rescore_points g
      WHERE p.workspace_id = ${workspaceId}::uuid AND p.rule_id = ANY(${retired}::text[]) AND ${same} AND g.old IS NOT NULL AND g.new IS NOT NULL
    ), gone AS (
      DELETE FROM score_points p USING rescore_points g
      WHERE p.workspace_id = ${workspaceId}::uuid AND p.rule_id = ANY(${retired}::text[]) AND ${same} AND g.new IS NULL
    ), added AS (
      INSERT INTO score_points (workspace_id, lead_id, rule_id, event_id, at, period, points)
      SELECT ${workspaceId}::uuid, lead_id, rule_id, event_id, at, period, new FROM rescore_points WHERE old IS NULL
    )
    INSERT INTO rescore_delta (lead_id, mass)
    ${massSql(sql`SELECT lead_id, at, coalesce(new, 0) - coalesce(old, 0) AS points FROM rescore_points`, doc.interest.halfLifeDays)}`.execute(trx);
  // Temporary tables get no statistics of their own; without them the planner hashed the million leads to meet a few.
  await sql`ANALYZE rescore_delta`.execute(trx);
  const moved = await refreshAll(trx, workspaceId, doc, now, cause, { delta: 'rescore_delta' }, previous);
  await sql`DROP TABLE rescore_granted, rescore_points, rescore_delta`.execute(trx);
  return moved;
}

/**
 * The interest rules a new version retires (their ids) and those it brings or changes (a
 * document of only them). Each rule grants its points alone, so the others' points stay.
 */
function interestChanges(previous: ScoringDocument, doc: ScoringDocument): { retired: string[]; granting: ScoringDocument } {
  const same = (a: InterestRule, b: InterestRule) => JSON.stringify(a) === JSON.stringify(b);
  const retired = previous.interest.rules.filter((r) => !doc.interest.rules.some((n) => same(n, r))).map((r) => r.id);
  const fresh = doc.interest.rules.filter((r) => !previous.interest.rules.some((o) => same(o, r)));
  // Events not scored yet get every rule's points from the next ingest group, as they would have.
  return { retired, granting: { ...doc, interest: { ...doc.interest, rules: fresh } } };
}

async function insertPoints(trx: Kysely<DB>, workspaceId: string, doc: ScoringDocument, scoredOnly = false): Promise<void> {
  await sql`INSERT INTO score_points (workspace_id, lead_id, rule_id, event_id, at, period, points)
    SELECT ${workspaceId}::uuid, g.lead_id, g.rule_id, g.event_id, g.at, g.period, g.points FROM (${grantedPointsSql(workspaceId, doc, scoredOnly)}) AS g`.execute(
    trx,
  );
}

/** Whether two versions of the rules grant the same interest (rules and half-life). */
export function sameInterest(a: ScoringDocument, b: ScoringDocument): boolean {
  return JSON.stringify(a.interest) === JSON.stringify(b.interest);
}

/**
 * Interest decays with time alone: move the leads whose class the passing time has changed
 * (and only those) to their class now, with a history entry each. One statement.
 */
export async function reclassifyDecayed(trx: Kysely<DB>, workspaceId: string, doc: ScoringDocument, now: Date): Promise<number> {
  const decay = decayAt(now, doc.interest.halfLifeDays);
  const interest = sql`(s.interest_mass * ${decay}::float8)`;
  const result = await sql<{ n: number }>`
    WITH moved AS (
      UPDATE lead_scores s SET interest_score = ${interest}, score_class = ${classSql(sql`s.fit_score`, interest, doc)}, scored_at = ${now}::timestamptz
      WHERE s.workspace_id = ${workspaceId}::uuid AND s.interest_mass > 0 AND s.score_class IS NOT NULL
        AND s.score_class <> ${classSql(sql`s.fit_score`, interest, doc)}
      RETURNING s.lead_id, s.fit_score, s.interest_score, s.score_class
    ), history AS (
      INSERT INTO score_history (workspace_id, id, lead_id, at, fit, interest, class, cause)
      SELECT ${workspaceId}::uuid, ${rowIdSql()}, moved.lead_id, ${now}::timestamptz, moved.fit_score, moved.interest_score, moved.score_class, 'decay' FROM moved
    )
    SELECT count(*)::integer AS n FROM moved`.execute(trx);
  return Number(result.rows[0]?.n ?? 0);
}

export interface PreviewCounts {
  leads: number;
  classChanges: number;
  transitions: { from: ScoreClass | null; to: ScoreClass; leads: number }[];
  byClass: Record<ScoreClass, number>;
}

/** What rescoring under `doc` would do, without writing anything. */
export async function previewRescore(db: Kysely<DB>, workspaceId: string, doc: ScoringDocument, now: Date, previous?: ScoringDocument): Promise<PreviewCounts> {
  const decay = decayAt(now, doc.interest.halfLifeDays);
  // Each lead's mass under the new rules: `m` holds all of it, or (`onStored`) what moves the stored mass.
  let masses: RawBuilder<unknown> | null = null;
  let onStored = true;
  if (previous && sameInterest(previous, doc)) {
    // Unchanged interest rules: each lead's stored mass is already what they would grant.
  } else if (previous && previous.interest.halfLifeDays === doc.interest.halfLifeDays) {
    // Less what the retired rules granted, plus what the fresh ones would (as activation does).
    const { retired, granting } = interestChanges(previous, doc);
    masses = massSql(
      sql`SELECT lead_id, at, -points AS points FROM score_points WHERE workspace_id = ${workspaceId}::uuid AND rule_id = ANY(${retired}::text[])
        UNION ALL SELECT lead_id, at, points FROM (${grantedPointsSql(workspaceId, granting, true)}) AS g`,
      doc.interest.halfLifeDays,
    );
  } else {
    masses = massSql(grantedPointsSql(workspaceId, doc), doc.interest.halfLifeDays);
    onStored = false;
  }
  const mass = onStored ? sql`coalesce(o.interest_mass, 0) + ${masses ? sql`coalesce(m.mass, 0)` : sql`0`}` : sql`coalesce(m.mass, 0)`;
  const interest = sql`((${mass}) * ${decay}::float8)`;
  // As activation does, fit evaluates only the fit rules that changed.
  const { fits, fit } = fitParts(workspaceId, doc, sql`true`, previous);
  // In a transaction of its own only to let its one read spread over PostgreSQL's workers.
  const rows = await db.transaction().execute(async (trx) => {
    await parallelReads(trx);
    return sql<{ from: ScoreClass | null; to: ScoreClass; n: number }>`
      SELECT old_class AS "from", ${classSql(sql`s.fit`, sql`s.interest`, doc)} AS "to", count(*)::integer AS n FROM (
        SELECT o.score_class AS old_class, ${fit} AS fit, ${interest} AS interest
        FROM (${fits} ${FENCE}) AS lf
        LEFT JOIN lead_scores o ON o.workspace_id = ${workspaceId}::uuid AND o.lead_id = lf.id
        ${masses ? sql`LEFT JOIN (${masses}) AS m ON m.lead_id = lf.id` : sql``}
        ${FENCE}
      ) AS s GROUP BY 1, 2`.execute(trx);
  });
  const byClass = { good_fit_high_interest: 0, good_fit_low_interest: 0, low_fit_high_interest: 0, low_fit_low_interest: 0 };
  let leads = 0;
  let classChanges = 0;
  for (const r of rows.rows) {
    leads += r.n;
    byClass[r.to] += r.n;
    if (r.from !== r.to) classChanges += r.n;
  }
  return {
    leads,
    classChanges,
    transitions: rows.rows.filter((r) => r.from !== r.to).map((r) => ({ from: r.from, to: r.to, leads: r.n })),
    byClass,
  };
}

export interface ScoredEvent extends EventFacts {
  id: string;
  leadId: string;
  at: Date;
}

/**
 * Score the workspace's events that are tied to a lead and not yet scored (those stored just
 * now, and earlier anonymous ones an identify has just joined): grant each rule's points within
 * its cap, add the decayed weight to each lead's interest mass. Returns the events scored.
 */
export async function scoreNewEvents(
  trx: Kysely<DB>,
  workspaceId: string,
  scoring: ActiveScoring,
  stored: readonly ScoredEvent[],
  now: Date,
): Promise<{ events: ScoredEvent[]; rescored: Rescored[] }> {
  const doc = scoring.document;
  const rows = await sql<{ id: string; lead_id: string; type: string; name: string | null; properties: Record<string, unknown>; at: Date }>`
    SELECT id, lead_id, type, name, properties, at FROM events
    WHERE workspace_id = ${workspaceId}::uuid AND lead_id IS NOT NULL AND NOT scored
    ORDER BY at, id
    FOR UPDATE SKIP LOCKED`.execute(trx);
  const joined: ScoredEvent[] = rows.rows.map((r) => ({ id: r.id, leadId: r.lead_id, type: r.type, name: r.name, properties: r.properties ?? {}, at: r.at }));
  // Caps are granted in time order, as a full rescore grants them.
  const events = [...stored, ...joined].sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (events.length === 0) return { events, rescored: [] };
  const keyOf = (leadId: string, ruleId: string, period: number) => `${leadId}|${ruleId}|${period}`;
  // Full periods are remembered per workspace and version of the rules (see fullPeriods).
  const full = (key: string) => `${workspaceId}|${scoring.id}|${key}`;
  const wanted: { event: ScoredEvent; rule: InterestRule; period: number }[] = [];
  for (const event of events) {
    for (const rule of doc.interest.rules) {
      if (!interestRuleMatches(rule, event)) continue;
      const period = rule.cap ? capPeriod(event.at, rule.cap.days) : 0;
      // A period already full grants nothing more: no need to read what it holds.
      if (rule.cap && fullPeriods.has(full(keyOf(event.leadId, rule.id, period)))) continue;
      wanted.push({ event, rule, period });
    }
  }
  // What capped rules have already granted in the periods these events fall in.
  const granted = new Map<string, number>();
  const keys = new Map<string, { leadId: string; rule: InterestRule; period: number }>();
  for (const w of wanted) if (w.rule.cap) keys.set(keyOf(w.event.leadId, w.rule.id, w.period), { leadId: w.event.leadId, rule: w.rule, period: w.period });
  if (keys.size) {
    // Lock the leads these events give points to first (in id order, as adding interest does), so
    // two writers cannot both grant the last points of a period: the sums below are then read
    // after any other writer's points for these leads are committed.
    const leads = [...new Set(wanted.map((w) => w.event.leadId))].sort();
    await sql`SELECT id FROM leads WHERE workspace_id = ${workspaceId}::uuid AND id = ANY(${binaryArray('uuid', leads)}::uuid[])
      ORDER BY id FOR NO KEY UPDATE`.execute(trx);
    const list = [...keys.entries()];
    const leadIds = binaryArray(
      'uuid',
      list.map(([, k]) => k.leadId),
    );
    const ruleIds = binaryArray(
      'text',
      list.map(([, k]) => k.rule.id),
    );
    const periods = binaryArray(
      'int4',
      list.map(([, k]) => k.period),
    );
    // One index probe per period (a join could hash every point of the workspace).
    const sums = await sql<{ points: number }>`
      SELECT (SELECT coalesce(sum(p.points), 0) FROM score_points p
        WHERE p.workspace_id = ${workspaceId}::uuid AND p.lead_id = k.lead_id AND p.rule_id = k.rule_id AND p.period = k.period)::float8 AS points
      FROM unnest(${leadIds}::uuid[], ${ruleIds}::text[], ${periods}::int4[]) WITH ORDINALITY AS k(lead_id, rule_id, period, n)
      ORDER BY k.n`.execute(trx);
    for (const [i, [key, k]] of list.entries()) {
      const sum = Number(sums.rows[i]?.points ?? 0);
      granted.set(key, sum);
      if (sum >= (k.rule.cap?.points ?? Number.POSITIVE_INFINITY)) rememberFull(full(key));
    }
  }
  const points: { lead_id: string; rule_id: string; event_id: string; at: string; period: number; points: number }[] = [];
  const mass = new Map<string, number>();
  for (const w of wanted) {
    let p = w.rule.points;
    if (w.rule.cap) {
      const k = keyOf(w.event.leadId, w.rule.id, w.period);
      const before = granted.get(k) ?? 0;
      p = Math.max(0, Math.min(p, w.rule.cap.points - before));
      if (p <= 0) continue;
      granted.set(k, before + p);
    }
    points.push({ lead_id: w.event.leadId, rule_id: w.rule.id, event_id: w.event.id, at: w.event.at.toISOString(), period: w.period, points: p });
    mass.set(w.event.leadId, (mass.get(w.event.leadId) ?? 0) + massOf(p, w.event.at, doc.interest.halfLifeDays));
  }
  if (points.length) {
    await sql`INSERT INTO score_points (workspace_id, lead_id, rule_id, event_id, at, period, points)
      SELECT ${workspaceId}::uuid, r.lead_id, r.rule_id, r.event_id, r.at, r.period, r.points
      FROM jsonb_to_recordset(${JSON.stringify(points)}::jsonb) AS r(lead_id uuid, rule_id text, event_id uuid, at timestamptz, period integer, points float8)
      ON CONFLICT DO NOTHING`.execute(trx);
  }
  if (joined.length)
    await sql`UPDATE events SET scored = true WHERE workspace_id = ${workspaceId}::uuid AND id = ANY(${joined.map((e) => e.id)}::uuid[])`.execute(trx);
  const rescored = mass.size ? await addInterest(trx, workspaceId, doc, mass, now) : [];
  return { events, rescored };
}

/**
 * Add interest to leads and reclassify them from their stored fit, in one statement; a class
 * change goes into the score history. Only leads whose interest moved are written.
 */
async function addInterest(trx: Kysely<DB>, workspaceId: string, doc: ScoringDocument, mass: ReadonlyMap<string, number>, now: Date): Promise<Rescored[]> {
  const ids = binaryArray('uuid', [...mass.keys()]);
  const decay = decayAt(now, doc.interest.halfLifeDays);
  const interest = sql`(o.mass * ${decay}::float8)`;
  // The leads are found by key (`id = ANY`), so the planner knows how many there are: joined to
  // a record set of unknown size instead, it scanned every lead of the workspace for one event.
  const result = await sql<RescoredRow>`
    WITH o AS (
      SELECT l.id, s.lead_id IS NOT NULL AS scored, coalesce(s.fit_score, 0) AS fit_score, s.score_class AS old_class,
        coalesce(s.interest_mass, 0) * ${decay}::float8 AS old_interest, coalesce(s.interest_mass, 0) + d.mass AS mass
      FROM leads l JOIN unnest(${ids}::uuid[], ${binaryArray('float8', [...mass.values()])}::float8[]) AS d(lead_id, mass) ON l.id = d.lead_id
      LEFT JOIN lead_scores s ON s.workspace_id = l.workspace_id AND s.lead_id = l.id
      WHERE l.workspace_id = ${workspaceId}::uuid AND l.id = ANY(${ids}::uuid[])
      -- Locked in id order, so two writers adding interest to the same leads cannot deadlock.
      ORDER BY l.id
      FOR NO KEY UPDATE OF l
    ), upd AS (
      UPDATE lead_scores s SET interest_mass = o.mass, interest_score = ${interest}, score_class = ${classSql(sql`o.fit_score`, interest, doc)}, scored_at = ${now}::timestamptz
      FROM o WHERE s.workspace_id = ${workspaceId}::uuid AND s.lead_id = o.id AND o.scored
      RETURNING s.lead_id AS id, s.fit_score AS fit, s.interest_score AS interest, s.score_class AS cls, o.old_class, o.fit_score AS old_fit, o.old_interest
    ), ins AS (
      INSERT INTO lead_scores (workspace_id, lead_id, fit_score, interest_score, interest_mass, score_class, scored_at)
      SELECT ${workspaceId}::uuid, o.id, o.fit_score, ${interest}, o.mass, ${classSql(sql`o.fit_score`, interest, doc)}, ${now}::timestamptz FROM o WHERE NOT o.scored
      RETURNING lead_id AS id, fit_score AS fit, interest_score AS interest, score_class AS cls, NULL::text AS old_class, 0 AS old_fit, 0::float8 AS old_interest
    ), changed AS (
      SELECT * FROM upd UNION ALL SELECT * FROM ins
    ), history AS (
      INSERT INTO score_history (workspace_id, id, lead_id, at, fit, interest, class, cause)
      SELECT ${workspaceId}::uuid, ${rowIdSql()}, changed.id, ${now}::timestamptz, changed.fit, changed.interest, changed.cls, 'events'
      FROM changed WHERE changed.old_class IS NOT NULL AND changed.old_class <> changed.cls
    )
    SELECT * FROM changed`.execute(trx);
  return result.rows.map(toRescored);
}
