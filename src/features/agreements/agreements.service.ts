import { type Kysely, sql } from 'kysely';
import type { AgreementRow, DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { type AgreementDocument, DEFAULT_AGREEMENT, type DiffEntry, diffAgreements, validateAgreement } from '../../domain/agreement.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, type FieldProblem, invalidMany, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export interface EffectiveAgreement {
  /** 0 for the built-in default. */
  version: number;
  id: string | null;
  signed: boolean;
  document: AgreementDocument;
}

// Documents of versions that have been active, by id. A version's document can change only
// while it is a draft, so once seen active it never changes; most requests then read two
// small columns instead of fetching and parsing the whole document.
const activeDocuments = new Map<string, AgreementDocument>();

/**
 * The agreement in force: the active signed version, or the built-in default, unsigned.
 * A caller that already read which version is active (`known`) saves the lookup.
 */
export async function getEffectiveAgreement(db: Kysely<DB>, workspaceId: string, known?: { id: string; version: number } | null): Promise<EffectiveAgreement> {
  const row =
    known !== undefined
      ? known
      : await db.selectFrom('agreements').select(['id', 'version']).where('workspace_id', '=', workspaceId).where('status', '=', 'active').executeTakeFirst();
  if (!row) return { version: 0, id: null, signed: false, document: DEFAULT_AGREEMENT };
  let document = activeDocuments.get(row.id);
  if (!document) {
    const full = await db
      .selectFrom('agreements')
      .select('document')
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    document = full.document as unknown as AgreementDocument;
    if (activeDocuments.size >= 1000) activeDocuments.clear();
    activeDocuments.set(row.id, document);
  }
  return { version: row.version, id: row.id, signed: true, document };
}

function assertCanEdit(actor: Actor): void {
  if (actor.level !== 'lead' && !actor.isAdmin) throw new AppError('forbidden', 'Only a team lead or an administrator can edit the agreement');
}

/** Validate a document, including that every person named in routing is in this workspace. */
async function validateForWorkspace(db: Kysely<DB>, workspaceId: string, input: unknown): Promise<AgreementDocument> {
  const result = validateAgreement(input);
  if (!result.ok)
    throw invalidMany(
      result.problems.map((p) => ({ path: p.path === '(document)' ? 'document' : `document.${p.path}`, message: p.message })),
      'The agreement is invalid',
    );
  const doc = result.document;
  const emails = new Set<string>();
  const problems: FieldProblem[] = [];
  const refs: { path: string; email: string }[] = [];
  doc.routing.rules.forEach((r, i) => {
    r.pool.forEach((m, j) => {
      refs.push({ path: `document.routing.rules[${i}].pool[${j}].user`, email: m.user });
    });
  });
  doc.routing.fallbackPool.forEach((m, j) => {
    refs.push({ path: `document.routing.fallbackPool[${j}].user`, email: m.user });
  });
  if (refs.length) {
    const users = await db.selectFrom('users').select(['email', 'team']).where('workspace_id', '=', workspaceId).execute();
    const byEmail = new Map(users.map((u) => [u.email.toLowerCase(), u.team]));
    for (const ref of refs) {
      const team = byEmail.get(ref.email.toLowerCase());
      if (!team) problems.push({ path: ref.path, message: `no user with email ${ref.email} in this workspace` });
      else if (team !== 'sales') problems.push({ path: ref.path, message: `${ref.email} is not on the sales team` });
      emails.add(ref.email.toLowerCase());
    }
  }
  if (problems.length) throw invalidMany(problems, 'The agreement is invalid');
  return doc;
}

export async function listAgreements(deps: Deps, actor: Actor): Promise<AgreementRow[]> {
  return deps.db.selectFrom('agreements').selectAll().where('workspace_id', '=', actor.workspaceId).orderBy('version', 'desc').execute();
}

/** One version by id or by number. */
export async function getAgreement(deps: Deps, actor: Actor, idOrVersion: string): Promise<AgreementRow> {
  let q = deps.db.selectFrom('agreements').selectAll().where('workspace_id', '=', actor.workspaceId);
  if (/^\d+$/.test(idOrVersion)) q = q.where('version', '=', Number(idOrVersion));
  else if (/^[0-9a-f-]{36}$/i.test(idOrVersion)) q = q.where('id', '=', idOrVersion);
  else throw notFound('Agreement');
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('Agreement');
  return row;
}

export async function createDraft(deps: Deps, actor: Actor, document: unknown): Promise<AgreementRow> {
  assertCanEdit(actor);
  const doc = await validateForWorkspace(deps.db, actor.workspaceId, document);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    // Two drafts started at once would otherwise both take the next number and one would fail.
    await lockAgreements(trx, actor.workspaceId);
    const last = await trx
      .selectFrom('agreements')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('workspace_id', '=', actor.workspaceId)
      .executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    const row = await trx
      .insertInto('agreements')
      .values({
        workspace_id: actor.workspaceId,
        id: uuidv7(),
        version,
        status: 'draft',
        document: JSON.stringify(doc),
        created_by: actor.userId,
        created_at: now,
        updated_at: now,
        proposed_at: null,
        marketing_signed_by: null,
        marketing_signed_at: null,
        sales_signed_by: null,
        sales_signed_at: null,
        activated_at: null,
        superseded_at: null,
        returned_by: null,
        returned_at: null,
        return_comment: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, { kind: 'agreement.drafted', at: now, data: { agreementId: row.id, version } });
    return row;
  });
}

/** Lock a version for a state change and check it is in the state the change needs. */
async function lockVersion(trx: Kysely<DB>, actor: Actor, id: string, expected: AgreementRow['status'], what: string): Promise<AgreementRow> {
  const row = await trx.selectFrom('agreements').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).forUpdate().executeTakeFirst();
  if (!row) throw notFound('Agreement');
  if (row.status !== expected) throw new AppError('conflict', `Version ${row.version} is ${row.status}; only a ${expected} version can be ${what}`);
  return row;
}

export async function updateDraft(deps: Deps, actor: Actor, id: string, document: unknown): Promise<AgreementRow> {
  assertCanEdit(actor);
  const doc = await validateForWorkspace(deps.db, actor.workspaceId, document);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    await lockVersion(trx, actor, id, 'draft', 'edited');
    const row = await trx
      .updateTable('agreements')
      .set({ document: JSON.stringify(doc), updated_at: now })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, { kind: 'agreement.edited', at: now, data: { agreementId: id, version: row.version } });
    return row;
  });
}

export async function proposeAgreement(deps: Deps, actor: Actor, id: string): Promise<AgreementRow> {
  assertCanEdit(actor);
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const current = await lockVersion(trx, actor, id, 'draft', 'proposed');
    // Routing may name people who have left since the draft was written.
    await validateForWorkspace(trx, actor.workspaceId, current.document);
    const row = await trx
      .updateTable('agreements')
      .set({ status: 'proposed', proposed_at: now, updated_at: now })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, { kind: 'agreement.proposed', at: now, data: { agreementId: id, version: row.version } });
    return row;
  });
}

/**
 * The marketing lead and the sales lead each sign a proposed version. The second signature
 * makes it active and retires the version it replaces, in one transaction.
 */
export async function signAgreement(deps: Deps, actor: Actor, id: string): Promise<AgreementRow> {
  if (actor.level !== 'lead') throw new AppError('forbidden', 'Only the marketing lead or the sales lead can sign the agreement');
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const current = await lockVersion(trx, actor, id, 'proposed', 'signed');
    const side = actor.team;
    if ((side === 'marketing' ? current.marketing_signed_by : current.sales_signed_by) !== null) {
      throw new AppError('conflict', `Version ${current.version} is already signed for ${side}`);
    }
    const signed =
      side === 'marketing' ? { marketing_signed_by: actor.userId, marketing_signed_at: now } : { sales_signed_by: actor.userId, sales_signed_at: now };
    const bothSigned = side === 'marketing' ? current.sales_signed_by !== null : current.marketing_signed_by !== null;
    if (bothSigned) {
      // Activations in a workspace take turns: two versions completed at the same moment would
      // otherwise each see no active version to retire, and the second would fail on the
      // one-active index instead of superseding the first.
      await lockAgreements(trx, actor.workspaceId);
      const previous = await getEffectiveAgreement(trx, actor.workspaceId);
      await trx
        .updateTable('agreements')
        .set({ status: 'superseded', superseded_at: now, updated_at: now })
        .where('workspace_id', '=', actor.workspaceId)
        .where('status', '=', 'active')
        .execute();
      const renamed = await renameRoleStages(trx, actor.workspaceId, previous.document, current.document as unknown as AgreementDocument, now);
      if (renamed.length) await recordActivity(trx, actor, { kind: 'agreement.stages_renamed', at: now, data: { agreementId: id, renamed } });
    }
    const row = await trx
      .updateTable('agreements')
      .set({ ...signed, updated_at: now, ...(bothSigned ? { status: 'active' as const, activated_at: now } : {}) })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, { kind: 'agreement.signed', at: now, data: { agreementId: id, version: row.version, side } });
    if (bothSigned) await recordActivity(trx, actor, { kind: 'agreement.activated', at: now, data: { agreementId: id, version: row.version } });
    return row;
  });
}

/** Version numbering and activation in a workspace take turns, across processes. */
async function lockAgreements(trx: Kysely<DB>, workspaceId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`agreement:${workspaceId}`}))`.execute(trx);
}

const RENAMEABLE_ROLES = ['entry', 'handoff', 'accepted', 'nurture', 'disqualified'] as const;

/**
 * A new version may call a stage the software relies on by another key (MQL becomes "ready").
 * Leads in the old key move to the new one, so a lead being handed off stays in the handoff
 * stage, nurture still ends, and nobody is left in a stage the agreement no longer has.
 */
async function renameRoleStages(
  trx: Kysely<DB>,
  workspaceId: string,
  before: AgreementDocument,
  after: AgreementDocument,
  now: Date,
): Promise<{ from: string; to: string; leads: number }[]> {
  const renamed: { from: string; to: string; leads: number }[] = [];
  for (const role of RENAMEABLE_ROLES) {
    const from = before.stages.find((s) => s.role === role)?.key;
    const to = after.stages.find((s) => s.role === role)?.key;
    if (!from || !to || from === to || after.stages.some((s) => s.key === from)) continue;
    const result = await trx
      .updateTable('leads')
      .set((eb) => ({ stage: to, updated_at: now, version: eb('version', '+', 1) }))
      .where('workspace_id', '=', workspaceId)
      .where('stage', '=', from)
      .executeTakeFirst();
    renamed.push({ from, to, leads: Number(result.numUpdatedRows) });
  }
  return renamed;
}

/** Either lead sends a proposed version back to draft with a comment; signatures are cleared. */
export async function returnAgreement(deps: Deps, actor: Actor, id: string, comment: string): Promise<AgreementRow> {
  if (actor.level !== 'lead') throw new AppError('forbidden', 'Only the marketing lead or the sales lead can send the agreement back');
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    await lockVersion(trx, actor, id, 'proposed', 'sent back');
    const row = await trx
      .updateTable('agreements')
      .set({
        status: 'draft',
        returned_by: actor.userId,
        returned_at: now,
        return_comment: comment,
        marketing_signed_by: null,
        marketing_signed_at: null,
        sales_signed_by: null,
        sales_signed_at: null,
        updated_at: now,
      })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, { kind: 'agreement.returned', at: now, data: { agreementId: id, version: row.version, comment } });
    return row;
  });
}

/** Diff two versions; "0" or "default" names the built-in default. */
export async function diffVersions(deps: Deps, actor: Actor, from: string, to: string): Promise<DiffEntry[]> {
  const load = async (ref: string) => (ref === '0' || ref === 'default' ? DEFAULT_AGREEMENT : (await getAgreement(deps, actor, ref)).document);
  return diffAgreements(await load(from), await load(to));
}
