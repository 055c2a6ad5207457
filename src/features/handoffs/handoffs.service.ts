import type { Kysely } from 'kysely';
import type { DB, Handoff, Lead, Timer } from '../../db/schema.js';
import { writeTogether } from '../../db/together.js';
import { type Actor, systemActor } from '../../domain/access.js';
import { type AgreementDocument, findReason, stageByKey, stageWithRole } from '../../domain/agreement.js';
import { type Candidate, type RouteDecision, type RoutingFacts, routeLead } from '../../domain/routing.js';
import { firstContactDue, planHandoffClock } from '../../domain/sla.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { formatDeadline } from '../../lib/format.js';
import { uuidv7 } from '../../lib/ids.js';
import { type ActivityInput, insertActivities, recordActivities, recordActivity } from '../activities/activities.repo.js';
import { type EffectiveAgreement, getEffectiveAgreement } from '../agreements/agreements.service.js';
import { insertNotifications, notify, salesLeadIds } from '../notifications/notifications.service.js';
import {
  adjustOpenHandoffs,
  cancelTimers,
  insertTimers,
  loadCandidates,
  loadRoutingFacts,
  lockHandoff,
  lockLead,
  lockRouting,
  timersInsert,
  upsertPoolCount,
} from './handoffs.repo.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

const HANDOFF_TIMERS = ['handoff.deadline', 'handoff.escalation'];

/**
 * Hand a lead to sales inside the caller's transaction: route it, start the SLA clock in
 * business hours with every escalation step as a durable timer, move the lead to the handoff
 * stage and tell the person who must act. The lead must already be locked by the caller.
 * Returns the handoff and the lead as it now is.
 */
export async function startHandoff(
  trx: Kysely<DB>,
  actor: Actor,
  lead: Lead,
  agreement: EffectiveAgreement,
  now: Date,
  opts: { fromStage: string; previous?: Handoff; exclude?: ReadonlySet<string>; assignTo?: string; facts?: RoutingFacts },
): Promise<{ handoff: Handoff; lead: Lead }> {
  const doc = agreement.document;
  const ws = actor.workspaceId;
  let { decision, people } = await decideRoute(trx, ws, lead, doc, now, opts.exclude, opts.facts);
  if (opts.assignTo) {
    const person = people.find((p) => p.id === opts.assignTo);
    if (!person?.active || person.team !== 'sales') throw invalid('body.userId', 'not an active member of the sales team');
    decision = { assigneeId: person.id, pool: 'manual', rule: null, skipped: [], explanation: `assigned by ${actor.name}` };
  }
  const { dueAt, timers } = planHandoffClock(doc, now);
  const route: Record<string, unknown> = { pool: decision.pool, rule: decision.rule, explanation: decision.explanation, skipped: decision.skipped };
  if (opts.previous && opts.exclude) route.excluded = [...opts.exclude];
  const handoff: Handoff = {
    workspace_id: ws,
    id: uuidv7(now.getTime()),
    lead_id: lead.id,
    agreement_version: agreement.version,
    status: 'open',
    assignee_id: decision.assigneeId,
    route,
    from_stage: opts.fromStage,
    // A reassignment keeps the marketer who handed the lead off, so they still hear how it ends.
    created_by: opts.previous ? opts.previous.created_by : actor.via === 'system' ? null : actor.userId,
    created_at: now,
    due_at: dueAt,
    breached_at: null,
    escalation_step: 0,
    closed_at: null,
    closed_by: null,
    reason_code: null,
    note: null,
    first_contact_due_at: null,
    first_contact_at: null,
    first_contact_breached_at: null,
    previous_handoff_id: opts.previous?.id ?? null,
    next_handoff_id: null,
  };
  const handoffStage = stageWithRole(doc, 'handoff');
  const activities: ActivityInput[] = [];
  if (lead.stage !== handoffStage.key) {
    activities.push({ kind: 'lead.stage_changed', at: now, leadId: lead.id, accountId: lead.account_id, data: { from: lead.stage, to: handoffStage.key } });
  }
  activities.push({
    kind: opts.previous ? 'handoff.reassigned_to' : 'handoff.created',
    at: now,
    leadId: lead.id,
    accountId: lead.account_id,
    handoffId: handoff.id,
    data: {
      assigneeId: decision.assigneeId,
      pool: decision.pool,
      explanation: decision.explanation,
      dueAt: dueAt.toISOString(),
      previousHandoffId: opts.previous?.id ?? null,
    },
  });
  const who = leadLabel(lead);
  const notification = decision.assigneeId
    ? insertNotifications(trx, ws, [decision.assigneeId], now, {
        kind: 'handoff.assigned',
        title: `New lead for you: ${who}. Accept or reject by ${formatDeadline(dueAt, doc.calendar.timeZone)}`,
        leadId: lead.id,
        handoffId: handoff.id,
        data: { dueAt: dueAt.toISOString() },
      })
    : insertNotifications(
        trx,
        ws,
        people.filter((p) => p.team === 'sales' && p.level === 'lead' && p.active).map((p) => p.id),
        now,
        { kind: 'handoff.unassigned', title: `${who} is waiting in the unassigned queue: ${decision.explanation}`, leadId: lead.id, handoffId: handoff.id },
      );
  const roundRobin = decision.assigneeId && decision.pool !== 'account_owner' && decision.pool !== 'manual';
  // Every write of a handoff goes to the database as one statement: this is the hot path.
  const [updated] = await writeTogether<Lead>(
    trx,
    [
      trx.insertInto('handoffs').values({ ...handoff, route: JSON.stringify(route) }),
      timersInsert(trx, ws, handoff.id, timers, now),
      insertActivities(trx, actor, activities),
      notification,
      decision.assigneeId ? adjustOpenHandoffs(trx, ws, decision.assigneeId, 1) : undefined,
      roundRobin && decision.assigneeId ? upsertPoolCount(trx, ws, decision.pool, decision.assigneeId, decision.poolCount ?? 1) : undefined,
    ],
    trx
      .updateTable('leads')
      .set((eb) => ({
        stage: handoffStage.key,
        owner_id: decision.assigneeId,
        updated_at: now,
        version: eb('version', '+', 1),
        ...(lead.stage !== handoffStage.key ? { stage_changed_at: now } : {}),
      }))
      .where('workspace_id', '=', ws)
      .where('id', '=', lead.id)
      .returningAll(),
  ).catch((error: { code?: string; constraint?: string }) => {
    if (error.code === '23505' && error.constraint === 'handoffs_one_open') throw new AppError('conflict', 'This lead already has an open handoff');
    throw error;
  });
  return { handoff, lead: updated as Lead };
}

/**
 * Who should receive a lead now under the agreement's routing. Takes the workspace's routing
 * lock (held to commit), so round robin and capacity hold across processes.
 */
async function decideRoute(
  trx: Kysely<DB>,
  ws: string,
  lead: Lead,
  doc: AgreementDocument,
  now: Date,
  exclude?: ReadonlySet<string>,
  known?: RoutingFacts,
): Promise<{ decision: RouteDecision; people: Candidate[] }> {
  const facts = known ?? (await loadRoutingFacts(trx, lead));
  // The lock is its own statement: a query that waited for it inside would read an old snapshot.
  await lockRouting(trx, ws);
  const { people, poolCounts } = await loadCandidates(trx, ws, now);
  return { decision: routeLead(doc, facts, people, (pool) => poolCounts.get(pool) ?? new Map(), exclude), people };
}

/** People a handoff's chain of reassignments has already been taken from. */
function excludedBy(handoff: Handoff): Set<string> {
  const exclude = new Set<string>(((handoff.route as { excluded?: string[] }).excluded ?? []).filter(Boolean));
  if (handoff.assignee_id) exclude.add(handoff.assignee_id);
  return exclude;
}

export function leadLabel(lead: Pick<Lead, 'first_name' | 'last_name' | 'email' | 'company'>): string {
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(' ') || lead.email;
  return lead.company ? `${name} (${lead.company})` : name;
}

async function loadOpen(trx: Kysely<DB>, actor: Actor, id: string): Promise<{ handoff: Handoff; lead: Lead }> {
  const handoff = await lockHandoff(trx, actor.workspaceId, id);
  if (!handoff) throw notFound('Handoff');
  const lead = await lockLead(trx, actor.workspaceId, handoff.lead_id);
  if (!lead) throw notFound('Lead');
  if (handoff.status !== 'open') throw new AppError('conflict', `This handoff is already ${handoff.status}`, { status: handoff.status });
  return { handoff, lead };
}

/** Sales acts on a handoff: the assignee, or the sales lead on anyone's behalf. */
function assertCanAct(actor: Actor, handoff: Handoff, verb: string): void {
  if (actor.team !== 'sales') throw new AppError('forbidden', `Only sales can ${verb} a handoff; you are on the ${actor.team} team`);
  if (actor.level === 'lead' || actor.via === 'system') return;
  if (handoff.assignee_id !== actor.userId) {
    throw new AppError('forbidden', handoff.assignee_id ? `This handoff is assigned to someone else` : 'Unassigned handoffs are assigned by the sales lead');
  }
}

async function closeHandoff(trx: Kysely<DB>, actor: Actor, handoff: Handoff, now: Date, set: Partial<Handoff>): Promise<Handoff> {
  await cancelTimers(trx, actor.workspaceId, handoff.id, now, HANDOFF_TIMERS);
  if (handoff.assignee_id) await adjustOpenHandoffs(trx, actor.workspaceId, handoff.assignee_id, -1).execute();
  const { route: _r, ...rest } = set;
  return trx
    .updateTable('handoffs')
    .set({ ...rest, closed_at: now, closed_by: actor.via === 'system' ? null : actor.userId })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', handoff.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

async function setLeadStage(trx: Kysely<DB>, lead: Lead, stage: string, ownerId: string | null, now: Date): Promise<void> {
  await trx
    .updateTable('leads')
    .set((eb) => ({ stage, owner_id: ownerId, stage_changed_at: now, updated_at: now, version: eb('version', '+', 1) }))
    .where('workspace_id', '=', lead.workspace_id)
    .where('id', '=', lead.id)
    .execute();
}

export async function acceptHandoff(deps: Deps, actor: Actor, id: string, input: { note?: string | undefined }): Promise<Handoff> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const { handoff, lead } = await loadOpen(trx, actor, id);
    assertCanAct(actor, handoff, 'accept');
    const { document: doc } = await getEffectiveAgreement(trx, actor.workspaceId);
    const accepted = stageWithRole(doc, 'accepted');
    const owner = handoff.assignee_id ?? actor.userId;
    const contactDue = firstContactDue(doc, now);
    const closed = await closeHandoff(trx, actor, handoff, now, {
      status: 'accepted',
      note: input.note ?? null,
      first_contact_due_at: contactDue,
      assignee_id: owner,
    });
    await insertTimers(trx, actor.workspaceId, handoff.id, [{ kind: 'handoff.first_contact', step: 0, dueAt: contactDue, action: 'breach' }], now);
    await setLeadStage(trx, lead, accepted.key, owner, now);
    await recordActivities(trx, actor, [
      {
        kind: 'handoff.accepted',
        at: now,
        leadId: lead.id,
        accountId: lead.account_id,
        handoffId: id,
        data: { note: input.note ?? null, firstContactDueAt: contactDue.toISOString() },
      },
      { kind: 'lead.stage_changed', at: now, leadId: lead.id, accountId: lead.account_id, data: { from: lead.stage, to: accepted.key } },
    ]);
    if (handoff.created_by) {
      await notify(trx, actor.workspaceId, [handoff.created_by], now, {
        kind: 'handoff.accepted',
        title: `${actor.name} accepted ${leadLabel(lead)}`,
        leadId: lead.id,
        handoffId: id,
      });
    }
    return closed;
  });
}

export async function rejectHandoff(deps: Deps, actor: Actor, id: string, input: { reason: string; note?: string | undefined }): Promise<Handoff> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const { handoff, lead } = await loadOpen(trx, actor, id);
    assertCanAct(actor, handoff, 'reject');
    const { document: doc } = await getEffectiveAgreement(trx, actor.workspaceId);
    const reason = requireReason(doc, 'reject', input.reason, input.note);
    const closed = await closeHandoff(trx, actor, handoff, now, { status: 'rejected', reason_code: reason.code, note: input.note ?? null });
    await setLeadStage(trx, lead, reason.to, null, now);
    await scheduleNurtureEnd(trx, actor.workspaceId, doc, lead.id, reason.to, now);
    await recordActivities(trx, actor, [
      {
        kind: 'handoff.rejected',
        at: now,
        leadId: lead.id,
        accountId: lead.account_id,
        handoffId: id,
        data: { reason: reason.code, reasonLabel: reason.label, note: input.note ?? null },
      },
      { kind: 'lead.stage_changed', at: now, leadId: lead.id, accountId: lead.account_id, data: { from: lead.stage, to: reason.to, reason: reason.code } },
    ]);
    const tellMarketing = handoff.created_by ? [handoff.created_by] : [];
    await notify(trx, actor.workspaceId, tellMarketing, now, {
      kind: 'handoff.rejected',
      title: `${actor.name} rejected ${leadLabel(lead)}: ${reason.label}`,
      leadId: lead.id,
      handoffId: id,
      data: { reason: reason.code, note: input.note ?? null },
    });
    return closed;
  });
}

/** Check a reason code against the agreement; the error lists the codes that are allowed. */
export function requireReason(doc: AgreementDocument, kind: 'reject' | 'handBack' | 'disqualify', code: string, note: string | undefined) {
  const reason = findReason(doc, kind, code);
  if (!reason) {
    const allowed = doc.reasons[kind].map((r) => r.code);
    throw new AppError('validation_failed', `reason: "${code}" is not a ${kind} reason in the agreement; use one of ${allowed.join(', ')}`, {
      problems: [{ path: 'body.reason', message: 'unknown reason code' }],
      allowed,
    });
  }
  if (reason.noteRequired && !note?.trim()) throw invalid('body.note', `the agreement asks for a note with reason "${code}"`);
  return reason;
}

/** A lead put into nurture gets a timer for when nurture ends. */
export async function scheduleNurtureEnd(
  trx: Kysely<DB>,
  workspaceId: string,
  doc: AgreementDocument,
  leadId: string,
  stage: string,
  now: Date,
): Promise<void> {
  if (stageByKey(doc, stage)?.role !== 'nurture') return;
  const dueAt = new Date(now.getTime() + doc.nurture.days * 86_400_000);
  // One timer per lead and nurture spell: the step is the spell's start, so a later spell gets its own.
  await trx
    .insertInto('timers')
    .values({
      workspace_id: workspaceId,
      id: uuidv7(now.getTime()),
      kind: 'lead.nurture_end',
      subject_id: leadId,
      step: Math.floor(now.getTime() / 1000) % 2_000_000_000,
      due_at: dueAt,
      data: JSON.stringify({ stage, since: now.toISOString() }),
      created_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Marketing takes a lead back before sales has acted on it. */
export async function withdrawHandoff(deps: Deps, actor: Actor, id: string, input: { note?: string | undefined }): Promise<Handoff> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const { handoff, lead } = await loadOpen(trx, actor, id);
    if (actor.team !== 'marketing') throw new AppError('forbidden', 'Only marketing can withdraw a handoff');
    const { document: doc } = await getEffectiveAgreement(trx, actor.workspaceId);
    const back =
      stageByKey(doc, handoff.from_stage)?.team === 'marketing' && stageByKey(doc, handoff.from_stage)?.role !== 'handoff'
        ? handoff.from_stage
        : stageWithRole(doc, 'entry').key;
    const closed = await closeHandoff(trx, actor, handoff, now, { status: 'withdrawn', note: input.note ?? null });
    await setLeadStage(trx, lead, back, null, now);
    // Back in nurture is a new spell: the old spell's timer no longer matches the lead.
    await scheduleNurtureEnd(trx, actor.workspaceId, doc, lead.id, back, now);
    await recordActivities(trx, actor, [
      { kind: 'handoff.withdrawn', at: now, leadId: lead.id, accountId: lead.account_id, handoffId: id, data: { note: input.note ?? null } },
      { kind: 'lead.stage_changed', at: now, leadId: lead.id, accountId: lead.account_id, data: { from: lead.stage, to: back } },
    ]);
    if (handoff.assignee_id)
      await notify(trx, actor.workspaceId, [handoff.assignee_id], now, {
        kind: 'handoff.withdrawn',
        title: `Marketing withdrew ${leadLabel(lead)}`,
        leadId: lead.id,
        handoffId: id,
      });
    return closed;
  });
}

/**
 * The sales lead gives a handoff to someone. An unassigned handoff is simply assigned (its
 * clock keeps running); an assigned one ends as reassigned and a new handoff starts.
 */
export async function reassignHandoff(
  deps: Deps,
  actor: Actor,
  id: string,
  input: { userId?: string | undefined; note?: string | undefined },
): Promise<Handoff> {
  if (actor.team !== 'sales' || actor.level !== 'lead') throw new AppError('forbidden', 'Only the sales lead can assign or reassign a handoff');
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const { handoff, lead } = await loadOpen(trx, actor, id);
    if (!handoff.assignee_id && input.userId) {
      const target = await trx
        .selectFrom('users')
        .select(['id', 'team', 'active'])
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', input.userId)
        .executeTakeFirst();
      if (target?.team !== 'sales' || !target.active) throw invalid('body.userId', 'not an active member of the sales team');
      await adjustOpenHandoffs(trx, actor.workspaceId, target.id, 1).execute();
      const updated = await trx
        .updateTable('handoffs')
        .set({ assignee_id: target.id })
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('leads')
        .set((eb) => ({ owner_id: target.id, updated_at: now, version: eb('version', '+', 1) }))
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', lead.id)
        .execute();
      await recordActivity(trx, actor, {
        kind: 'handoff.assigned',
        at: now,
        leadId: lead.id,
        accountId: lead.account_id,
        handoffId: id,
        data: { assigneeId: target.id, note: input.note ?? null },
      });
      await notify(trx, actor.workspaceId, [target.id], now, {
        kind: 'handoff.assigned',
        title: `New lead for you: ${leadLabel(lead)}. Accept or reject by ${formatDeadline(handoff.due_at, (await getEffectiveAgreement(trx, actor.workspaceId)).document.calendar.timeZone)}`,
        leadId: lead.id,
        handoffId: id,
      });
      return updated;
    }
    return reassign(trx, actor, handoff, lead, now, { assignTo: input.userId, note: input.note, reason: 'manual' });
  });
}

async function reassign(
  trx: Kysely<DB>,
  actor: Actor,
  handoff: Handoff,
  lead: Lead,
  now: Date,
  opts: { assignTo?: string | undefined; note?: string | undefined; reason: 'manual' | 'sla' },
): Promise<Handoff> {
  if (opts.assignTo && opts.assignTo === handoff.assignee_id) throw invalid('body.userId', 'the handoff is already with this person');
  const agreement = await getEffectiveAgreement(trx, actor.workspaceId);
  const exclude = excludedBy(handoff);
  // Take the routing lock before closing lowers the old assignee's open count: a transaction
  // that held a person's row while waiting for the lock could deadlock with one routing to them.
  await lockRouting(trx, actor.workspaceId);
  // The lead must be free of its open handoff before the next one can start.
  await closeHandoff(trx, actor, handoff, now, { status: 'reassigned', note: opts.note ?? null, reason_code: opts.reason });
  const { handoff: next } = await startHandoff(trx, actor, lead, agreement, now, {
    fromStage: handoff.from_stage,
    previous: handoff,
    exclude,
    ...(opts.assignTo ? { assignTo: opts.assignTo } : {}),
  });
  await trx.updateTable('handoffs').set({ next_handoff_id: next.id }).where('workspace_id', '=', actor.workspaceId).where('id', '=', handoff.id).execute();
  await recordActivity(trx, actor, {
    kind: 'handoff.reassigned',
    at: now,
    leadId: lead.id,
    accountId: lead.account_id,
    handoffId: handoff.id,
    data: { from: handoff.assignee_id, to: next.assignee_id, nextHandoffId: next.id, reason: opts.reason },
  });
  if (handoff.assignee_id) {
    await notify(trx, actor.workspaceId, [handoff.assignee_id], now, {
      kind: 'handoff.reassigned',
      title: `${leadLabel(lead)} was reassigned away from you`,
      leadId: lead.id,
      handoffId: handoff.id,
    });
  }
  return next;
}

/** The rep records the first contact with an accepted lead. */
export async function recordFirstContact(deps: Deps, actor: Actor, id: string, input: { note?: string | undefined }): Promise<Handoff> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const handoff = await lockHandoff(trx, actor.workspaceId, id);
    if (!handoff) throw notFound('Handoff');
    if (handoff.status !== 'accepted') throw new AppError('conflict', 'First contact is recorded on an accepted handoff');
    assertCanAct(actor, handoff, 'record contact on');
    if (handoff.first_contact_at) throw new AppError('conflict', 'First contact is already recorded');
    await cancelTimers(trx, actor.workspaceId, id, now, ['handoff.first_contact']);
    const updated = await trx
      .updateTable('handoffs')
      .set({ first_contact_at: now })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, {
      kind: 'handoff.first_contact',
      at: now,
      leadId: handoff.lead_id,
      handoffId: id,
      data: { note: input.note ?? null, onTime: handoff.first_contact_due_at ? now <= handoff.first_contact_due_at : null },
    });
    return updated;
  });
}

/**
 * A due handoff timer, inside the sweep's transaction. Idempotent: a handoff that has ended
 * since the timer was set makes the timer a no-op.
 */
export async function onHandoffTimer(trx: Kysely<DB>, timer: Timer, now: Date): Promise<string> {
  const actor = systemActor(timer.workspace_id);
  const handoff = await lockHandoff(trx, timer.workspace_id, timer.subject_id);
  if (!handoff) return 'gone';
  const lead = await lockLead(trx, timer.workspace_id, handoff.lead_id);
  if (!lead) return 'gone';
  const ws = timer.workspace_id;
  const who = leadLabel(lead);
  if (timer.kind === 'handoff.first_contact') {
    if (handoff.status !== 'accepted' || handoff.first_contact_at) return 'moot';
    // A lead sales has already handed back to marketing is no longer waiting for a first call.
    const { document: doc } = await getEffectiveAgreement(trx, ws);
    if (stageByKey(doc, lead.stage)?.team !== 'sales') return 'moot';
    // The breach happened at the deadline, however late the sweep that notices it runs.
    await trx
      .updateTable('handoffs')
      .set({ first_contact_breached_at: handoff.first_contact_due_at ?? now })
      .where('workspace_id', '=', ws)
      .where('id', '=', handoff.id)
      .execute();
    await recordActivity(trx, actor, {
      kind: 'handoff.first_contact_breached',
      at: now,
      leadId: lead.id,
      handoffId: handoff.id,
      data: { dueAt: handoff.first_contact_due_at?.toISOString() ?? null },
    });
    const tell = [...(handoff.assignee_id ? [handoff.assignee_id] : []), ...(await salesLeadIds(trx, ws))];
    await notify(trx, ws, tell, now, {
      kind: 'handoff.first_contact_breached',
      title: `First contact with ${who} is overdue`,
      leadId: lead.id,
      handoffId: handoff.id,
    });
    return 'first_contact_breached';
  }
  if (handoff.status !== 'open') return 'moot';
  if (timer.kind === 'handoff.deadline') {
    // The breach happened at the deadline, however late the sweep that notices it runs (a
    // restart, a backlog); the activity's time says when it was noticed.
    await trx.updateTable('handoffs').set({ breached_at: handoff.due_at }).where('workspace_id', '=', ws).where('id', '=', handoff.id).execute();
    await recordActivity(trx, actor, {
      kind: 'handoff.breached',
      at: now,
      leadId: lead.id,
      accountId: lead.account_id,
      handoffId: handoff.id,
      data: { dueAt: handoff.due_at.toISOString(), assigneeId: handoff.assignee_id },
    });
    if (handoff.assignee_id)
      await notify(trx, ws, [handoff.assignee_id], now, {
        kind: 'handoff.breached',
        title: `Time is up to accept or reject ${who}`,
        leadId: lead.id,
        handoffId: handoff.id,
      });
    return 'breached';
  }
  const action = (timer.data as { action?: string }).action;
  await trx
    .updateTable('handoffs')
    .set({ escalation_step: timer.step + 1 })
    .where('workspace_id', '=', ws)
    .where('id', '=', handoff.id)
    .execute();
  if (action === 'remind') {
    await recordActivity(trx, actor, {
      kind: 'handoff.reminded',
      at: now,
      leadId: lead.id,
      handoffId: handoff.id,
      data: { step: timer.step, dueAt: handoff.due_at.toISOString() },
    });
    const tell = handoff.assignee_id ? [handoff.assignee_id] : await salesLeadIds(trx, ws);
    await notify(trx, ws, tell, now, {
      kind: 'handoff.reminder',
      title: `Reminder: accept or reject ${who} by ${formatDeadline(handoff.due_at, (await getEffectiveAgreement(trx, ws)).document.calendar.timeZone)}`,
      leadId: lead.id,
      handoffId: handoff.id,
    });
    return 'reminded';
  }
  if (action === 'notify_lead') {
    await recordActivity(trx, actor, {
      kind: 'handoff.escalated',
      at: now,
      leadId: lead.id,
      handoffId: handoff.id,
      data: { step: timer.step, assigneeId: handoff.assignee_id },
    });
    await notify(trx, ws, await salesLeadIds(trx, ws), now, {
      kind: 'handoff.escalated',
      title: `${who} has not been accepted or rejected in time`,
      leadId: lead.id,
      handoffId: handoff.id,
      data: { assigneeId: handoff.assignee_id },
    });
    return 'escalated';
  }
  if (action === 'reassign') {
    if (!handoff.assignee_id) {
      // Already in the sales lead's queue: a new handoff that routing again leaves unassigned
      // would only restart the clock and repeat, every 1.5 SLAs, until someone steps in.
      const { document: doc } = await getEffectiveAgreement(trx, ws);
      const { decision } = await decideRoute(trx, ws, lead, doc, now, excludedBy(handoff));
      if (!decision.assigneeId) {
        await recordActivity(trx, actor, {
          kind: 'handoff.still_unassigned',
          at: now,
          leadId: lead.id,
          handoffId: handoff.id,
          data: { step: timer.step, explanation: decision.explanation },
        });
        return 'still_unassigned';
      }
    }
    await reassign(trx, actor, handoff, lead, now, { reason: 'sla', note: "The agreement's time to accept or reject ran out" });
    return 'reassigned';
  }
  return 'unknown_action';
}

export async function getHandoff(deps: Deps, actor: Actor, id: string): Promise<Handoff> {
  const row = await deps.db.selectFrom('handoffs').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Handoff');
  return row;
}

export interface HandoffFilter {
  status?: Handoff['status'] | undefined;
  assigneeId?: string | undefined;
  queue?: 'mine' | 'unassigned' | undefined;
  leadId?: string | undefined;
  breached?: boolean | undefined;
  cursor?: string | undefined;
  limit: number;
}

export async function listHandoffs(deps: Deps, actor: Actor, f: HandoffFilter): Promise<Handoff[]> {
  let q = deps.db.selectFrom('handoffs').selectAll().where('workspace_id', '=', actor.workspaceId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.assigneeId) q = q.where('assignee_id', '=', f.assigneeId);
  if (f.queue === 'mine') q = q.where('assignee_id', '=', actor.userId);
  if (f.queue === 'unassigned') q = q.where('assignee_id', 'is', null).where('status', '=', 'open');
  if (f.leadId) q = q.where('lead_id', '=', f.leadId);
  if (f.breached !== undefined) q = q.where('breached_at', f.breached ? 'is not' : 'is', null);
  if (f.cursor) q = q.where('id', '<', f.cursor);
  return q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
}
