import { type Kysely, sql } from 'kysely';
import type { DB, Lead, ScoredLead } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { stageByKey, stageWithRole } from '../../domain/agreement.js';
import { checkStageMove } from '../../domain/funnel.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { type ActivityInput, recordActivities, recordActivity } from '../activities/activities.repo.js';
import { getEffectiveAgreement } from '../agreements/agreements.service.js';
import { cancelTimers, lockLead, lockLeadForMove } from '../handoffs/handoffs.repo.js';
import { requireReason, scheduleNurtureEnd, startHandoff } from '../handoffs/handoffs.service.js';
import { withScore } from '../scoring/scoring.repo.js';
import { rescoreLead } from '../scoring/scoring.service.js';
import type { CreateLeadInput, ListLeadsQuery, UpdateLeadInput } from './leads.schema.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

const FIELD_COLUMNS = {
  firstName: 'first_name',
  lastName: 'last_name',
  title: 'title',
  phone: 'phone',
  company: 'company',
  country: 'country',
  source: 'source',
  persona: 'persona',
  status: 'status',
  accountId: 'account_id',
} as const;

async function assertAccount(db: Kysely<DB>, workspaceId: string, accountId: string | null | undefined): Promise<void> {
  if (!accountId) return;
  const found = await db.selectFrom('accounts').select('id').where('workspace_id', '=', workspaceId).where('id', '=', accountId).executeTakeFirst();
  if (!found) throw invalid('body.accountId', 'no such account in this workspace');
}

async function assertOwner(db: Kysely<DB>, workspaceId: string, ownerId: string | null | undefined): Promise<void> {
  if (!ownerId) return;
  const found = await db.selectFrom('users').select('id').where('workspace_id', '=', workspaceId).where('id', '=', ownerId).executeTakeFirst();
  if (!found) throw invalid('body.ownerId', 'no such user in this workspace');
}

async function assertStatus(db: Kysely<DB>, workspaceId: string, status: string | null | undefined): Promise<void> {
  if (!status) return;
  const { document } = await getEffectiveAgreement(db, workspaceId);
  if (!document.leadStatuses.some((s) => s.key === status)) {
    throw invalid('body.status', `"${status}" is not a lead status in the agreement (${document.leadStatuses.map((s) => s.key).join(', ')})`);
  }
}

/** The account whose domain matches the email's, so a new lead joins its company's record. */
async function accountForEmail(db: Kysely<DB>, workspaceId: string, email: string): Promise<string | null> {
  const domain = email.split('@')[1]?.toLowerCase();
  if (!domain) return null;
  const row = await db
    .selectFrom('accounts')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb(eb.fn('lower', ['domain']), '=', domain))
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * Create a lead. It starts in the entry stage unless a stage of the actor's own team is given;
 * asking for the handoff stage creates the lead and hands it off in one transaction.
 */
export async function createLead(deps: Deps, actor: Actor, input: CreateLeadInput): Promise<ScoredLead> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const agreement = await getEffectiveAgreement(trx, actor.workspaceId);
    const doc = agreement.document;
    const entry = stageWithRole(doc, 'entry');
    const wanted = input.stage ? stageByKey(doc, input.stage) : entry;
    if (!wanted) throw invalid('body.stage', `unknown stage "${input.stage}" (stages: ${doc.stages.map((s) => s.key).join(', ')})`);
    if (wanted.team !== actor.team) throw new AppError('forbidden', `${wanted.name} is owned by ${wanted.team}; ${actor.team} cannot put a lead there`);
    if (wanted.role === 'disqualified') throw invalid('body.stage', 'create the lead, then disqualify it with a reason');
    await assertAccount(trx, actor.workspaceId, input.accountId);
    await assertOwner(trx, actor.workspaceId, input.ownerId);
    await assertStatus(trx, actor.workspaceId, input.status);
    const duplicate = await trx
      .selectFrom('leads')
      .select('id')
      .where('workspace_id', '=', actor.workspaceId)
      .where((eb) => eb(eb.fn('lower', ['email']), '=', input.email.toLowerCase()))
      .executeTakeFirst();
    if (duplicate) throw new AppError('conflict', `A lead with email ${input.email} already exists`, { field: 'email', existingId: duplicate.id });
    const initialStage = wanted.role === 'handoff' ? entry.key : wanted.key;
    const lead = await trx
      .insertInto('leads')
      .values({
        workspace_id: actor.workspaceId,
        id: uuidv7(now.getTime()),
        email: input.email,
        first_name: input.firstName ?? null,
        last_name: input.lastName ?? null,
        title: input.title ?? null,
        phone: input.phone ?? null,
        company: input.company ?? null,
        country: input.country ?? null,
        source: input.source ?? null,
        persona: input.persona ?? null,
        status: input.status ?? null,
        properties: JSON.stringify(input.properties ?? {}),
        account_id: input.accountId ?? (await accountForEmail(trx, actor.workspaceId, input.email)),
        stage: initialStage,
        // An explicit null asks for an unowned lead; left out, the creator owns it.
        owner_id: input.ownerId !== undefined ? input.ownerId : actor.via === 'system' ? null : actor.userId,
        stage_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, {
      kind: 'lead.created',
      at: now,
      leadId: lead.id,
      accountId: lead.account_id,
      data: { stage: lead.stage, source: lead.source },
    });
    const scored = await rescoreLead(trx, actor.workspaceId, lead, now);
    if (wanted.role === 'handoff') {
      const handed = (await startHandoff(trx, actor, scored, agreement, now, { fromStage: initialStage })).lead;
      return { ...scored, ...handed };
    }
    return scored;
  });
}

async function getLeadIn(db: Kysely<DB>, actor: Actor, id: string): Promise<Lead> {
  const lead = await db.selectFrom('leads').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!lead) throw notFound('Lead');
  return lead;
}

export async function getLead(deps: Deps, actor: Actor, id: string): Promise<ScoredLead> {
  return withScore(deps.db, actor.workspaceId, await getLeadIn(deps.db, actor, id));
}

/** Check the caller's idea of the record's version, so two editors never silently overwrite each other. */
export function assertVersion(current: number, expected: number | undefined, what: string): void {
  if (expected === undefined) {
    throw new AppError('precondition_required', `Say which version of the ${what} you are changing: send If-Match or "version"`, { currentVersion: current });
  }
  if (expected !== current) {
    throw new AppError(
      'precondition_failed',
      `The ${what} changed since you loaded it (you have version ${expected}, it is now ${current}); reload and try again`,
      { currentVersion: current },
    );
  }
}

/** Edit a lead's profile. Both teams share the record; stage and owner change through their own use cases. */
export async function updateLead(deps: Deps, actor: Actor, id: string, input: UpdateLeadInput): Promise<ScoredLead> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const lead = await lockLead(trx, actor.workspaceId, id);
    if (!lead) throw notFound('Lead');
    assertVersion(lead.version, input.version, 'lead');
    await assertAccount(trx, actor.workspaceId, input.accountId);
    await assertStatus(trx, actor.workspaceId, input.status);
    const set: Record<string, unknown> = {};
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [field, column] of Object.entries(FIELD_COLUMNS)) {
      const value = input[field as keyof typeof FIELD_COLUMNS];
      if (value !== undefined && value !== lead[column]) {
        set[column] = value;
        changed[field] = { from: lead[column], to: value };
      }
    }
    if (input.email !== undefined && input.email !== lead.email) {
      set.email = input.email;
      changed.email = { from: lead.email, to: input.email };
    }
    if (input.properties !== undefined) {
      const merged = { ...lead.properties, ...input.properties };
      for (const [k, v] of Object.entries(input.properties)) if (v === null) delete merged[k];
      set.properties = JSON.stringify(merged);
      changed.properties = { from: lead.properties, to: merged };
    }
    if (Object.keys(set).length === 0) return withScore(trx, actor.workspaceId, lead);
    const updated = await trx
      .updateTable('leads')
      .set({ ...set, updated_at: now, version: lead.version + 1 })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: { code?: string }) => {
        if (error.code === '23505') throw new AppError('conflict', `Another lead already has email ${input.email}`, { field: 'email' });
        throw error;
      });
    await recordActivity(trx, actor, { kind: 'lead.updated', at: now, leadId: id, accountId: updated.account_id, data: { changed } });
    return rescoreLead(trx, actor.workspaceId, updated, now);
  });
}

/**
 * Move a lead between stages of the actor's own team. Moving it to the handoff stage hands it
 * to sales in the same transaction; disqualifying needs a disqualify reason.
 */
export async function moveLeadStage(
  deps: Deps,
  actor: Actor,
  id: string,
  input: { stage: string; reason?: string | undefined; note?: string | undefined; version?: number | undefined },
): Promise<ScoredLead> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const locked = await lockLeadForMove(trx, actor.workspaceId, id);
    if (!locked) throw notFound('Lead');
    const { lead, facts } = locked;
    if (input.version !== undefined) assertVersion(lead.version, input.version, 'lead');
    const agreement = await getEffectiveAgreement(trx, actor.workspaceId, locked.agreement);
    const doc = agreement.document;
    const check = checkStageMove(doc, actor.team, lead.stage, input.stage);
    if (!check.ok) {
      if (check.code === 'forbidden') throw new AppError('forbidden', check.message);
      throw invalid(`body.${check.path}`, check.message);
    }
    if (actor.team === 'sales' && actor.level !== 'lead' && lead.owner_id !== actor.userId) {
      throw new AppError('forbidden', 'This lead is owned by another rep; ask the sales lead to move it');
    }
    if (check.to.role === 'handoff') {
      return withScore(trx, actor.workspaceId, (await startHandoff(trx, actor, lead, agreement, now, { fromStage: lead.stage, facts })).lead);
    }
    let reasonCode: string | null = null;
    if (check.to.role === 'disqualified') {
      if (!input.reason) throw invalid('body.reason', `a disqualify reason is required (${doc.reasons.disqualify.map((r) => r.code).join(', ')})`);
      reasonCode = requireReason(doc, 'disqualify', input.reason, input.note).code;
    }
    const updated = await trx
      .updateTable('leads')
      .set({ stage: check.to.key, stage_changed_at: now, updated_at: now, version: lead.version + 1 })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await scheduleNurtureEnd(trx, actor.workspaceId, doc, id, check.to.key, now);
    await recordActivity(trx, actor, {
      kind: 'lead.stage_changed',
      at: now,
      leadId: id,
      accountId: lead.account_id,
      data: { from: lead.stage, to: check.to.key, reason: reasonCode, note: input.note ?? null },
    });
    return withScore(trx, actor.workspaceId, updated);
  });
}

/**
 * Move many leads, each as if moved alone (its own transaction and checks), so one refusal does
 * not undo the others. Refusals come back with the error's code and message.
 */
export async function moveLeadsStage(
  deps: Deps,
  actor: Actor,
  ids: readonly string[],
  input: { stage: string; reason?: string | undefined; note?: string | undefined },
): Promise<{ moved: string[]; refused: { id: string; code: string; message: string }[] }> {
  const moved: string[] = [];
  const refused: { id: string; code: string; message: string }[] = [];
  for (const id of ids) {
    try {
      await moveLeadStage(deps, actor, id, input);
      moved.push(id);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      refused.push({ id, code: error.code, message: error.message });
    }
  }
  return { moved, refused };
}

/** Sales returns a lead it holds to marketing (nurture or disqualified, as the reason says). */
export async function handBackLead(deps: Deps, actor: Actor, id: string, input: { reason: string; note?: string | undefined }): Promise<ScoredLead> {
  if (actor.team !== 'sales') throw new AppError('forbidden', 'Only sales hands leads back to marketing');
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const lead = await lockLead(trx, actor.workspaceId, id);
    if (!lead) throw notFound('Lead');
    const { document: doc } = await getEffectiveAgreement(trx, actor.workspaceId);
    const from = stageByKey(doc, lead.stage);
    if (from?.team !== 'sales')
      throw new AppError('conflict', `The lead is in ${from?.name ?? lead.stage}, not a sales stage; only a lead sales holds can be handed back`);
    if (actor.level !== 'lead' && lead.owner_id !== actor.userId) throw new AppError('forbidden', 'This lead is owned by another rep');
    const reason = requireReason(doc, 'handBack', input.reason, input.note);
    const updated = await trx
      .updateTable('leads')
      .set({ stage: reason.to, owner_id: null, stage_changed_at: now, updated_at: now, version: lead.version + 1 })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await scheduleNurtureEnd(trx, actor.workspaceId, doc, id, reason.to, now);
    // Marketing holds the lead now, so sales' first-contact deadline no longer applies.
    const accepted = await trx
      .selectFrom('handoffs')
      .select('id')
      .where('workspace_id', '=', actor.workspaceId)
      .where('lead_id', '=', id)
      .where('status', '=', 'accepted')
      .where('first_contact_at', 'is', null)
      .execute();
    for (const h of accepted) await cancelTimers(trx, actor.workspaceId, h.id, now, ['handoff.first_contact']);
    await recordActivities(trx, actor, [
      {
        kind: 'lead.handed_back',
        at: now,
        leadId: id,
        accountId: lead.account_id,
        data: { reason: reason.code, reasonLabel: reason.label, note: input.note ?? null },
      },
      { kind: 'lead.stage_changed', at: now, leadId: id, accountId: lead.account_id, data: { from: lead.stage, to: reason.to, reason: reason.code } },
    ]);
    return withScore(trx, actor.workspaceId, updated);
  });
}

export async function addLeadNote(deps: Deps, actor: Actor, id: string, body: string): Promise<void> {
  const lead = await getLead(deps, actor, id);
  await recordActivity(deps.db, actor, { kind: 'note', at: deps.clock.now(), leadId: id, accountId: lead.account_id, data: { body } });
}

/**
 * Merging can move a lead across the team line (the survivor takes the duplicate's handoff),
 * so a member may merge only leads in their own team's stages; team leads and admins any.
 */
async function assertMayMerge(trx: Kysely<DB>, actor: Actor, leads: Lead[]): Promise<void> {
  if (actor.level === 'lead' || actor.isAdmin || actor.via === 'system') return;
  const { document: doc } = await getEffectiveAgreement(trx, actor.workspaceId);
  for (const lead of leads) {
    const stage = stageByKey(doc, lead.stage);
    if (stage && (stage.team !== actor.team || stage.role === 'handoff')) {
      throw new AppError('forbidden', `${lead.email} is in ${stage.name}, which ${actor.team} does not own; ask a team lead to merge`);
    }
  }
}

/**
 * Fold a duplicate lead into this one: its timeline, handoffs, deals and timers move over,
 * blank fields are filled from it, and the duplicate is deleted. One transaction.
 */
export async function mergeLeads(deps: Deps, actor: Actor, keepId: string, mergeId: string): Promise<ScoredLead> {
  if (keepId === mergeId) throw invalid('body.mergeId', 'a lead cannot be merged into itself');
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const ws = actor.workspaceId;
    // Lock in the order the sweep and the handoff actions use (timers, handoffs, then leads),
    // so a merge never deadlocks with an accept or a firing timer.
    await trx
      .selectFrom('timers')
      .select('id')
      .where('workspace_id', '=', ws)
      .where('subject_id', '=', mergeId)
      .where('kind', '=', 'lead.nurture_end')
      .forUpdate()
      .execute();
    await trx.selectFrom('handoffs').select('id').where('workspace_id', '=', ws).where('lead_id', 'in', [keepId, mergeId]).orderBy('id').forUpdate().execute();
    const keep = await lockLead(trx, ws, keepId);
    const dup = await lockLead(trx, ws, mergeId);
    if (!keep) throw notFound('Lead');
    if (!dup) throw invalid('body.mergeId', 'no such lead in this workspace');
    await assertMayMerge(trx, actor, [keep, dup]);
    const open = await trx
      .selectFrom('handoffs')
      .select(['id', 'lead_id'])
      .where('workspace_id', '=', ws)
      .where('lead_id', 'in', [keepId, mergeId])
      .where('status', '=', 'open')
      .execute();
    if (open.length > 1) throw new AppError('conflict', 'Both leads have an open handoff; resolve one first');
    const fill: Record<string, unknown> = {};
    for (const column of Object.values(FIELD_COLUMNS)) if (keep[column] == null && dup[column] != null) fill[column] = dup[column];
    // A lead in a handoff keeps that state; otherwise the survivor keeps its own stage.
    const openDup = open.find((h) => h.lead_id === mergeId);
    if (openDup) Object.assign(fill, { stage: dup.stage, owner_id: dup.owner_id, stage_changed_at: dup.stage_changed_at });
    for (const table of ['activities', 'handoffs', 'deals', 'notifications', 'events', 'identities', 'score_points', 'score_history'] as const) {
      await trx.updateTable(table).set({ lead_id: keepId }).where('workspace_id', '=', ws).where('lead_id', '=', mergeId).execute();
    }
    await trx
      .updateTable('timers')
      .set({ subject_id: keepId })
      .where('workspace_id', '=', ws)
      .where('subject_id', '=', mergeId)
      .where('kind', '=', 'lead.nurture_end')
      .execute();
    // Both people's behaviour is one person's now (the duplicate's scores go with it).
    const dupScores = await trx
      .selectFrom('lead_scores')
      .select('interest_mass')
      .where('workspace_id', '=', ws)
      .where('lead_id', '=', mergeId)
      .executeTakeFirst();
    await trx.deleteFrom('leads').where('workspace_id', '=', ws).where('id', '=', mergeId).execute();
    // Score rows have no foreign key (see migration 008): they go with their lead here.
    await trx.deleteFrom('lead_scores').where('workspace_id', '=', ws).where('lead_id', '=', mergeId).execute();
    if (dupScores?.interest_mass) {
      await trx
        .insertInto('lead_scores')
        .values({ workspace_id: ws, lead_id: keepId, interest_mass: dupScores.interest_mass })
        .onConflict((oc) => oc.columns(['workspace_id', 'lead_id']).doUpdateSet({ interest_mass: sql`lead_scores.interest_mass + excluded.interest_mass` }))
        .execute();
    }
    const merged = await trx
      .updateTable('leads')
      .set({
        ...fill,
        properties: JSON.stringify({ ...dup.properties, ...keep.properties }),
        updated_at: now,
        version: keep.version + 1,
      })
      .where('workspace_id', '=', ws)
      .where('id', '=', keepId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, {
      kind: 'lead.merged',
      at: now,
      leadId: keepId,
      accountId: merged.account_id,
      data: { mergedId: mergeId, mergedEmail: dup.email, filled: Object.keys(fill) },
    });
    return rescoreLead(trx, ws, merged, now);
  });
}

const SORTS = {
  created: { column: 'id', dir: 'asc' },
  '-created': { column: 'id', dir: 'desc' },
  updated: { column: 'updated_at', dir: 'asc' },
  '-updated': { column: 'updated_at', dir: 'desc' },
  email: { column: 'email', dir: 'asc' },
  '-email': { column: 'email', dir: 'desc' },
} as const;

/** Leads with filters and keyset pagination: the cursor carries the last row's sort value and id. */
export async function listLeads(deps: Deps, actor: Actor, f: ListLeadsQuery): Promise<{ items: ScoredLead[]; nextCursor: string | null }> {
  let q = deps.db
    .selectFrom('leads')
    .leftJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
    .selectAll('leads')
    .select([sql<number>`coalesce(s.fit_score, 0)`.as('fit_score'), sql<number>`coalesce(s.interest_score, 0)`.as('interest_score'), 's.score_class'])
    .where('leads.workspace_id', '=', actor.workspaceId);
  if (f.stage)
    q = q.where(
      'stage',
      'in',
      f.stage.split(',').map((s) => s.trim()),
    );
  if (f.team) {
    const { document } = await getEffectiveAgreement(deps.db, actor.workspaceId);
    q = q.where(
      'stage',
      'in',
      document.stages.filter((s) => s.team === f.team).map((s) => s.key),
    );
  }
  if (f.owner === 'me') q = q.where('owner_id', '=', actor.userId);
  else if (f.owner === 'none') q = q.where('owner_id', 'is', null);
  else if (f.owner) {
    if (!/^[0-9a-f-]{36}$/i.test(f.owner)) throw invalid('query.owner', 'a user id, "me" or "none"');
    q = q.where('owner_id', '=', f.owner);
  }
  if (f.status) q = q.where('status', '=', f.status);
  if (f.source) q = q.where('source', '=', f.source);
  if (f.persona) q = q.where('persona', '=', f.persona);
  if (f.class) q = q.where('s.score_class', '=', f.class);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        eb('email', 'ilike', pattern),
        eb('company', 'ilike', pattern),
        eb(sql<string>`coalesce(first_name, '') || ' ' || coalesce(last_name, '')`, 'ilike', pattern),
      ]),
    );
  }
  const sort = SORTS[f.sort];
  if (f.cursor) {
    const [value, id] = decodeCursor(f.cursor, 'query.cursor');
    const op = sort.dir === 'asc' ? '>' : '<';
    if (sort.column === 'id') q = q.where('id', op, id);
    else {
      const v = sort.column === 'updated_at' ? new Date(String(value)) : String(value);
      q = q.where((eb) => eb.or([eb(sort.column, op, v as never), eb.and([eb(sort.column, '=', v as never), eb('id', op, id)])]));
    }
  }
  q = q.orderBy(sort.column, sort.dir);
  if (sort.column !== 'id') q = q.orderBy('id', sort.dir);
  const rows = await q.limit(f.limit + 1).execute();
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > f.limit && last
      ? encodeCursor(sort.column === 'id' ? null : sort.column === 'updated_at' ? last.updated_at.toISOString() : last.email, last.id)
      : null;
  return { items, nextCursor };
}

export type { ActivityInput };

export interface StageMove {
  key: string;
  name: string;
  team: 'marketing' | 'sales';
  role: string;
  allowed: boolean;
  /** Why not, in words for the person; null when allowed. */
  why: string | null;
}

export interface LeadActions {
  moves: StageMove[];
  handBack: boolean;
  merge: boolean;
  edit: boolean;
  note: boolean;
  reasons: { disqualify: Reason[]; handBack: Reason[]; reject: Reason[] };
}

interface Reason {
  code: string;
  label: string;
  noteRequired: boolean;
}

/**
 * What this person may do to this lead, by the same rules the use cases enforce, so a page can
 * offer exactly those actions (the server still checks each one when it is taken).
 */
export async function leadActions(deps: Deps, actor: Actor, id: string): Promise<LeadActions> {
  const lead = await getLeadIn(deps.db, actor, id);
  const { document: doc } = await getEffectiveAgreement(deps.db, actor.workspaceId);
  const holdsIt = actor.level === 'lead' || lead.owner_id === actor.userId;
  const moves = doc.stages
    .filter((s) => s.key !== lead.stage)
    .map((s): StageMove => {
      const check = checkStageMove(doc, actor.team, lead.stage, s.key);
      let why = check.ok ? null : check.message;
      if (!why && actor.team === 'sales' && !holdsIt) why = 'this lead is owned by another rep; ask the sales lead to move it';
      return { key: s.key, name: s.name, team: s.team, role: s.role, allowed: why === null, why };
    });
  const stage = stageByKey(doc, lead.stage);
  const ownStage = stage?.team === actor.team && stage.role !== 'handoff';
  const reasons = (kind: 'disqualify' | 'handBack' | 'reject') =>
    doc.reasons[kind].map((r) => ({ code: r.code, label: r.label, noteRequired: r.noteRequired }));
  return {
    moves,
    handBack: actor.team === 'sales' && stage?.team === 'sales' && holdsIt,
    merge: isLeadOrAdmin(actor) || ownStage,
    edit: true,
    note: true,
    reasons: { disqualify: reasons('disqualify'), handBack: reasons('handBack'), reject: reasons('reject') },
  };
}

const isLeadOrAdmin = (actor: Actor) => actor.level === 'lead' || actor.isAdmin;
