import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { systemActor } from '../../domain/access.js';
import { AUTO_HANDOFF_ROLES, type AutoCriterion, stageByKey } from '../../domain/agreement.js';
import { type EventFacts, type InterestRule, interestRuleMatches, type ScoreClass } from '../../domain/scoring.js';
import { recordActivity } from '../activities/activities.repo.js';
import type { EffectiveAgreement } from '../agreements/agreements.service.js';
import { lockLeadForMove } from '../handoffs/handoffs.repo.js';
import { startHandoff } from '../handoffs/handoffs.service.js';
import type { Rescored } from './scoring.repo.js';

/** Each criterion's event test as an interest rule, made once per criterion (agreement documents are cached). */
const eventRules = new WeakMap<AutoCriterion, InterestRule>();

/** Has one of these events happened that the criterion's event test names? */
export function eventMeets(c: AutoCriterion, events: readonly EventFacts[]): boolean {
  if (!c.event) return true;
  let rule = eventRules.get(c);
  if (!rule) {
    const { type, name, properties } = c.event;
    rule = {
      id: c.id,
      label: c.label,
      points: 0,
      when: { ...(type ? { type } : {}), ...(name ? { event: name } : {}), ...(properties ? { properties } : {}) },
    };
    eventRules.set(c, rule);
  }
  for (const e of events) if (interestRuleMatches(rule, e)) return true;
  return false;
}

/** Does the criterion hold for a lead with these scores that has just done these events? */
export function criterionHolds(c: AutoCriterion, scores: { fit: number; interest: number; cls: ScoreClass }, events: readonly EventFacts[]): boolean {
  if (c.classes && !c.classes.includes(scores.cls)) return false;
  if (c.minFit !== undefined && scores.fit < c.minFit) return false;
  if (c.minInterest !== undefined && scores.interest < c.minInterest) return false;
  return eventMeets(c, events);
}

export interface Qualified {
  leadId: string;
  criterion: AutoCriterion;
  handoffId: string;
}

/**
 * Hand to sales, in the caller's transaction, every lead that now meets one of the agreement's
 * automatic criteria and that marketing still holds. A lead already with sales, disqualified
 * or with an open handoff is left alone.
 */
export async function handOffQualified(
  trx: Kysely<DB>,
  workspaceId: string,
  agreement: EffectiveAgreement,
  leads: readonly Rescored[],
  eventsByLead: ReadonlyMap<string, EventFacts[]>,
  now: Date,
): Promise<Qualified[]> {
  const criteria = agreement.document.handoff.criteria.auto;
  if (criteria.length === 0) return [];
  const out: Qualified[] = [];
  for (const scores of leads) {
    // A criterion on scores alone fires when the lead comes to meet it, not on every later event;
    // one on an event fires on that event.
    const before = { fit: scores.oldFit, interest: scores.oldInterest, cls: scores.oldClass ?? 'low_fit_low_interest' };
    const criterion = criteria.find(
      (c) => criterionHolds(c, scores, eventsByLead.get(scores.id) ?? []) && (c.event !== undefined || !criterionHolds(c, before, [])),
    );
    if (!criterion) continue;
    const locked = await lockLeadForMove(trx, workspaceId, scores.id);
    if (!locked) continue;
    const stage = stageByKey(agreement.document, locked.lead.stage);
    if (stage?.team !== 'marketing' || !AUTO_HANDOFF_ROLES.has(stage.role)) continue;
    const actor = systemActor(workspaceId);
    await recordActivity(trx, actor, {
      kind: 'lead.qualified',
      at: now,
      leadId: scores.id,
      accountId: locked.lead.account_id,
      data: { criterion: criterion.id, label: criterion.label, fit: scores.fit, interest: Math.round(scores.interest * 10) / 10, class: scores.cls },
    });
    const { handoff } = await startHandoff(trx, actor, locked.lead, agreement, now, { fromStage: locked.lead.stage, facts: locked.facts });
    out.push({ leadId: scores.id, criterion, handoffId: handoff.id });
  }
  return out;
}
