import { type Kysely, sql } from 'kysely';
import type { DB, Lead, ScoredLead } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { AUTO_HANDOFF_ROLES } from '../../domain/agreement.js';
import { CLASS_LABELS, type EventFacts, fitScore, interestAt, type ScoreClass, type ScoringDocument, validateScoring } from '../../domain/scoring.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, invalidMany, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';
import { getEffectiveAgreement } from '../agreements/agreements.service.js';
import { eventMeets, handOffQualified, type Qualified } from './qualify.js';
import {
  type ActiveScoring,
  activeScoringLocked,
  getActiveScoring,
  lockScoringAlone,
  type PreviewCounts,
  previewRescore,
  refreshAccountLeads,
  refreshLeads,
  rescoreAll,
  type ScoredEvent,
  scoreNewEvents,
} from './scoring.repo.js';
import { classSql, decayAt, grantedPointsSql, leadFitsSql, massSql } from './scoring.sql.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

/** Who may change the scoring rules: either team's lead, or an admin. */
function assertMayEdit(actor: Actor): void {
  if (actor.isAdmin || actor.level === 'lead') return;
  throw new AppError('forbidden', 'Scoring rules are changed by a team lead or an administrator');
}

function checked(input: unknown): ScoringDocument {
  const result = validateScoring(input);
  if (!result.ok)
    throw invalidMany(
      result.problems.map((p) => ({ ...p, path: `body.document.${p.path}`.replace('.(document)', '') })),
      'The scoring rules are invalid',
    );
  return result.document;
}

export interface ScoringState {
  active: { version: number; builtIn: boolean; activatedAt: string | null; document: ScoringDocument };
  draft: { version: number; updatedAt: string; document: ScoringDocument } | null;
}

export async function getScoringState(deps: Deps, actor: Actor): Promise<ScoringState> {
  const active = await getActiveScoring(deps.db, actor.workspaceId);
  const rows = await deps.db
    .selectFrom('scoring_rules')
    .select(['id', 'version', 'status', 'document', 'updated_at', 'activated_at'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('status', 'in', ['active', 'draft'])
    .execute();
  const activeRow = rows.find((r) => r.status === 'active');
  const draftRow = rows.find((r) => r.status === 'draft');
  return {
    active: { version: active.version, builtIn: active.id === null, activatedAt: activeRow?.activated_at?.toISOString() ?? null, document: active.document },
    draft: draftRow ? { version: draftRow.version, updatedAt: draftRow.updated_at.toISOString(), document: draftRow.document as ScoringDocument } : null,
  };
}

export async function listScoringVersions(deps: Deps, actor: Actor) {
  const rows = await deps.db
    .selectFrom('scoring_rules')
    .select(['version', 'status', 'created_by', 'created_at', 'activated_by', 'activated_at'])
    .where('workspace_id', '=', actor.workspaceId)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({
    version: r.version,
    status: r.status,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    activatedBy: r.activated_by,
    activatedAt: r.activated_at?.toISOString() ?? null,
  }));
}

/** Save the draft (creating it, as the next version, if there is none). */
export async function saveScoringDraft(deps: Deps, actor: Actor, input: unknown): Promise<NonNullable<ScoringState['draft']>> {
  assertMayEdit(actor);
  const document = checked(input);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const draft = await trx
      .selectFrom('scoring_rules')
      .select(['id', 'version'])
      .where('workspace_id', '=', actor.workspaceId)
      .where('status', '=', 'draft')
      .forUpdate()
      .executeTakeFirst();
    let version: number;
    if (draft) {
      version = draft.version;
      await trx
        .updateTable('scoring_rules')
        .set({ document: JSON.stringify(document), updated_at: now })
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', draft.id)
        .execute();
    } else {
      const last = await trx
        .selectFrom('scoring_rules')
        .select((eb) => eb.fn.max('version').as('v'))
        .where('workspace_id', '=', actor.workspaceId)
        .executeTakeFirst();
      version = Number(last?.v ?? 0) + 1;
      await trx
        .insertInto('scoring_rules')
        .values({
          workspace_id: actor.workspaceId,
          id: uuidv7(now.getTime()),
          version,
          status: 'draft',
          document: JSON.stringify(document),
          created_by: actor.via === 'system' ? null : actor.userId,
          created_at: now,
          updated_at: now,
          activated_by: null,
          activated_at: null,
        })
        .execute();
    }
    await recordActivity(trx, actor, { kind: 'scoring.draft_saved', at: now, data: { version } });
    return { version, updatedAt: now.toISOString(), document };
  });
}

export interface Preview extends PreviewCounts {
  /** Leads marketing holds that would meet one of the agreement's automatic handoff criteria. */
  wouldQualify: number;
}

/** What the rules would do to every lead, without saving anything. */
export async function previewScoring(deps: Deps, actor: Actor, input: unknown): Promise<Preview> {
  const document = checked(input);
  const now = deps.clock.now();
  const counts = await previewRescore(deps.db, actor.workspaceId, document, now, (await getActiveScoring(deps.db, actor.workspaceId)).document);
  const agreement = await getEffectiveAgreement(deps.db, actor.workspaceId);
  const wouldQualify = await countQualifying(deps.db, actor.workspaceId, agreement.document, document, now);
  return { ...counts, wouldQualify };
}

/**
 * Leads in marketing's stages that would meet a score criterion (class, minimum fit or
 * interest) under `doc`. Event criteria need an event and are not counted here.
 */
async function countQualifying(
  db: Kysely<DB>,
  workspaceId: string,
  agreementDoc: Awaited<ReturnType<typeof getEffectiveAgreement>>['document'],
  doc: ScoringDocument,
  now: Date,
): Promise<number> {
  const criteria = agreementDoc.handoff.criteria.auto.filter((c) => !c.event);
  const stages = agreementDoc.stages.filter((s) => s.team === 'marketing' && AUTO_HANDOFF_ROLES.has(s.role)).map((s) => s.key);
  if (criteria.length === 0 || stages.length === 0) return 0;
  const interest = sql`(coalesce(m.mass, 0) * ${decayAt(now, doc.interest.halfLifeDays)}::float8)`;
  const masses = massSql(grantedPointsSql(workspaceId, doc), doc.interest.halfLifeDays);
  const holds = criteria.map((c) => {
    const parts = [sql`true`];
    if (c.classes) parts.push(sql`x.cls = ANY(${c.classes}::text[])`);
    if (c.minFit !== undefined) parts.push(sql`x.fit >= ${c.minFit}`);
    if (c.minInterest !== undefined) parts.push(sql`x.interest >= ${c.minInterest}`);
    return sql`(${sql.join(parts, sql` AND `)})`;
  });
  const result = await sql<{ n: number }>`
    SELECT count(*)::integer AS n FROM (
      SELECT l.fit, ${interest} AS interest, ${classSql(sql`l.fit`, interest, doc)} AS cls
      FROM (${leadFitsSql(workspaceId, doc, sql`l.stage = ANY(${stages}::text[])`)}) AS l
      LEFT JOIN (${masses}) AS m ON m.lead_id = l.id
    ) AS x WHERE ${sql.join(holds, sql` OR `)}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

export interface Activation {
  version: number;
  /** Leads whose scores moved. */
  rescored: number;
  /** Leads that now meet a score criterion; they are handed off when next their scores move. */
  qualifying: number;
}

/**
 * Make the draft the active rules and rescore every lead in the same transaction. A rule
 * change does not hand off a flood of leads at once: leads that now qualify are counted, and
 * go to sales through the usual path as soon as their next event or edit scores them.
 */
export async function activateScoring(deps: Deps, actor: Actor): Promise<Activation> {
  const now = deps.clock.now();
  return deps.db.transaction().execute((trx) => activateIn(trx, actor, now));
}

/** `activateScoring` inside the caller's transaction. */
export async function activateIn(trx: Kysely<DB>, actor: Actor, now: Date): Promise<Activation> {
  assertMayEdit(actor);
  // Until this commits, no event, edit or import scores this workspace under the rules it replaces.
  await lockScoringAlone(trx, actor.workspaceId);
  const draft = await trx
    .selectFrom('scoring_rules')
    .selectAll()
    .where('workspace_id', '=', actor.workspaceId)
    .where('status', '=', 'draft')
    .forUpdate()
    .executeTakeFirst();
  if (!draft) throw notFound('Scoring draft (save one with PUT /api/scoring/draft)');
  const document = checked(draft.document);
  // The rules the stored points were granted under: unchanged interest rules keep the points.
  const previous = await getActiveScoring(trx, actor.workspaceId);
  await trx
    .updateTable('scoring_rules')
    .set({ status: 'superseded', updated_at: now })
    .where('workspace_id', '=', actor.workspaceId)
    .where('status', '=', 'active')
    .execute();
  await trx
    .updateTable('scoring_rules')
    .set({ status: 'active', activated_at: now, activated_by: actor.via === 'system' ? null : actor.userId, updated_at: now })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', draft.id)
    .execute();
  const rescored = await rescoreAll(trx, actor.workspaceId, document, now, `rules v${draft.version}`, previous.document);
  const agreement = await getEffectiveAgreement(trx, actor.workspaceId);
  const qualifying = await countQualifying(trx, actor.workspaceId, agreement.document, document, now);
  await recordActivity(trx, actor, { kind: 'scoring.activated', at: now, data: { version: draft.version, rescored, qualifying } });
  return { version: draft.version, rescored, qualifying };
}

/**
 * After events are stored (inside the ingest transaction): score the new ones, refresh the
 * scores of every lead they or the profile changes touched, and hand off each lead that now
 * meets one of the agreement's automatic criteria.
 */
export async function scoreAfterEvents(
  trx: Kysely<DB>,
  workspaceId: string,
  touched: ReadonlySet<string>,
  stored: readonly ScoredEvent[],
  now: Date,
): Promise<Qualified[]> {
  const scoring = await activeScoringLocked(trx, workspaceId);
  const { events, rescored } = await scoreNewEvents(trx, workspaceId, scoring, stored, now);
  const agreement = await getEffectiveAgreement(trx, workspaceId);
  const eventsByLead = new Map<string, EventFacts[]>();
  for (const e of events) {
    const list = eventsByLead.get(e.leadId);
    if (list) list.push(e);
    else eventsByLead.set(e.leadId, [e]);
  }
  // Profiles that changed (identify, group) get their fit recomputed too.
  const byId = new Map(rescored.map((r) => [r.id, r]));
  for (const r of await refreshLeads(trx, workspaceId, scoring.document, [...touched], now, 'profile')) byId.set(r.id, r);
  // A lead whose event meets an event criterion qualifies whatever its points; read its scores.
  const criteria = agreement.document.handoff.criteria.auto.filter((c) => c.event);
  const missing: string[] = [];
  if (criteria.length) for (const [id, list] of eventsByLead) if (!byId.has(id) && criteria.some((c) => eventMeets(c, list))) missing.push(id);
  if (missing.length) {
    const rows = await trx
      .selectFrom('leads as l')
      .leftJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'l.workspace_id').onRef('s.lead_id', '=', 'l.id'))
      .select(['l.id', sql<number>`coalesce(s.fit_score, 0)`.as('fit_score'), sql<number>`coalesce(s.interest_score, 0)`.as('interest_score'), 's.score_class'])
      .where('l.workspace_id', '=', workspaceId)
      .where('l.id', 'in', missing)
      .execute();
    for (const r of rows) {
      const cls = (r.score_class ?? 'low_fit_low_interest') as ScoreClass;
      byId.set(r.id, { id: r.id, fit: r.fit_score, interest: r.interest_score, cls, oldClass: cls, oldFit: r.fit_score, oldInterest: r.interest_score });
    }
  }
  if (byId.size === 0) return [];
  return handOffQualified(trx, workspaceId, agreement, [...byId.values()], eventsByLead, now);
}

/**
 * Refresh the scores of every lead at these accounts after the accounts changed (fit may read
 * them); how many leads there were. Like an edit of a lead, this hands no one off: a lead that now
 * qualifies goes to sales when its next event or edit scores it.
 */
export async function rescoreAccountLeads(trx: Kysely<DB>, workspaceId: string, accountIds: readonly string[], now: Date, cause: string): Promise<number> {
  const scoring = await activeScoringLocked(trx, workspaceId);
  return (await refreshAccountLeads(trx, workspaceId, scoring.document, accountIds, now, cause)).length;
}

/** Refresh one lead's scores after a person created or edited it (fit may have moved); the lead with them. */
export async function rescoreLead(trx: Kysely<DB>, workspaceId: string, lead: Lead, now: Date): Promise<ScoredLead> {
  const scoring = await activeScoringLocked(trx, workspaceId);
  const [s] = await refreshLeads(trx, workspaceId, scoring.document, [lead.id], now, 'profile');
  return { ...lead, fit_score: s?.fit ?? 0, interest_score: s?.interest ?? 0, score_class: s?.cls ?? null };
}

export interface ScoreExplanation {
  leadId: string;
  rulesVersion: number;
  class: ScoreClass;
  classLabel: string;
  thresholds: ScoringDocument['thresholds'];
  fit: { score: number; rules: { id: string; label: string; points: number }[] };
  interest: {
    score: number;
    halfLifeDays: number;
    rules: {
      id: string;
      label: string;
      events: number;
      /** Points as earned, before decay. */
      earned: number;
      /** What they are worth now. */
      now: number;
      lastAt: string;
      /** When what they are worth now will have halved. */
      halvesBy: string;
    }[];
  };
  history: { at: string; fit: number; interest: number; class: string; cause: string }[];
}

/** Why a lead scores what it does: each fit rule that matched, each interest rule's points and decay. */
export async function explainScore(deps: Deps, actor: Actor, leadId: string): Promise<ScoreExplanation> {
  const now = deps.clock.now();
  const lead = await deps.db.selectFrom('leads').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', leadId).executeTakeFirst();
  if (!lead) throw notFound('Lead');
  const scores = await deps.db
    .selectFrom('lead_scores')
    .select(['interest_mass', 'score_class'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('lead_id', '=', leadId)
    .executeTakeFirst();
  const account = lead.account_id
    ? await deps.db.selectFrom('accounts').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', lead.account_id).executeTakeFirst()
    : undefined;
  const scoring: ActiveScoring = await getActiveScoring(deps.db, actor.workspaceId);
  const doc = scoring.document;
  const fit = fitScore(doc, {
    lead: { ...lead, properties: lead.properties ?? {} },
    account: account ? { ...account, properties: account.properties ?? {} } : null,
  });
  const points = await deps.db
    .selectFrom('score_points')
    .select(['rule_id', 'at', 'points'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('lead_id', '=', leadId)
    .execute();
  const half = doc.interest.halfLifeDays;
  const byRule = new Map<string, { events: number; earned: number; now: number; lastAt: Date }>();
  for (const p of points) {
    const r = byRule.get(p.rule_id) ?? { events: 0, earned: 0, now: 0, lastAt: p.at };
    r.events += 1;
    r.earned += p.points;
    r.now += p.points * 2 ** (-(now.getTime() - p.at.getTime()) / (half * 86_400_000));
    if (p.at > r.lastAt) r.lastAt = p.at;
    byRule.set(p.rule_id, r);
  }
  const labels = new Map(doc.interest.rules.map((r) => [r.id, r.label]));
  const interest = interestAt(scores?.interest_mass ?? 0, now, half);
  const history = await deps.db
    .selectFrom('score_history')
    .select(['at', 'fit', 'interest', 'class', 'cause'])
    .where('workspace_id', '=', actor.workspaceId)
    .where('lead_id', '=', leadId)
    .orderBy('at', 'desc')
    .limit(20)
    .execute();
  const cls = (scores?.score_class as ScoreClass | null | undefined) ?? 'low_fit_low_interest';
  return {
    leadId,
    rulesVersion: scoring.version,
    class: cls,
    classLabel: CLASS_LABELS[cls],
    thresholds: doc.thresholds,
    fit: { score: fit.score, rules: fit.matched },
    interest: {
      score: Math.round(interest * 10) / 10,
      halfLifeDays: half,
      rules: [...byRule]
        .map(([id, r]) => ({
          id,
          label: labels.get(id) ?? id,
          events: r.events,
          earned: Math.round(r.earned * 10) / 10,
          now: Math.round(r.now * 10) / 10,
          lastAt: r.lastAt.toISOString(),
          halvesBy: new Date(now.getTime() + half * 86_400_000).toISOString(),
        }))
        .sort((a, b) => b.now - a.now),
    },
    history: history.map((h) => ({ at: h.at.toISOString(), fit: h.fit, interest: Math.round(h.interest * 10) / 10, class: h.class, cause: h.cause })),
  };
}
