import type { Kysely } from 'kysely';
import type { DB, Deal } from '../../db/schema.js';
import { type Actor, assertTeam } from '../../domain/access.js';
import { stageByKey, stageWithRole } from '../../domain/agreement.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { invalid, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';
import { getEffectiveAgreement } from '../agreements/agreements.service.js';
import { assertVersion } from '../leads/leads.service.js';
import type { CreateDealInput, ListDealsQuery, UpdateDealInput } from './deals.schema.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

const COLUMNS = {
  name: 'name',
  currency: 'currency',
  stage: 'stage',
  status: 'status',
  closeDate: 'close_date',
  leadId: 'lead_id',
  accountId: 'account_id',
  ownerId: 'owner_id',
  lostReason: 'lost_reason',
} as const;

async function assertRefs(
  db: Kysely<DB>,
  ws: string,
  input: { leadId?: string | null | undefined; accountId?: string | null | undefined; ownerId?: string | null | undefined },
): Promise<void> {
  const checks = [
    ['leadId', 'leads', input.leadId],
    ['accountId', 'accounts', input.accountId],
    ['ownerId', 'users', input.ownerId],
  ] as const;
  for (const [field, table, id] of checks) {
    if (!id) continue;
    const row = await db.selectFrom(table).select('id').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    if (!row) throw invalid(`body.${field}`, `no such ${table.slice(0, -1)} in this workspace`);
  }
}

/** A won deal makes its lead a customer, when sales holds the lead. */
async function closeLoop(trx: Kysely<DB>, actor: Actor, deal: Deal, now: Date): Promise<void> {
  if (deal.status !== 'won' || !deal.lead_id) return;
  const { document: doc } = await getEffectiveAgreement(trx, actor.workspaceId);
  const won = stageWithRole(doc, 'won');
  const lead = await trx
    .selectFrom('leads')
    .selectAll()
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', deal.lead_id)
    .forUpdate()
    .executeTakeFirst();
  if (!lead || lead.stage === won.key || stageByKey(doc, lead.stage)?.team !== 'sales') return;
  await trx
    .updateTable('leads')
    .set({ stage: won.key, stage_changed_at: now, updated_at: now, version: lead.version + 1 })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', lead.id)
    .execute();
  await recordActivity(trx, actor, {
    kind: 'lead.stage_changed',
    at: now,
    leadId: lead.id,
    accountId: lead.account_id,
    dealId: deal.id,
    data: { from: lead.stage, to: won.key, dealWon: deal.id },
  });
}

export async function createDeal(deps: Deps, actor: Actor, input: CreateDealInput): Promise<Deal> {
  assertTeam(actor, 'sales', 'create deals');
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    await assertRefs(trx, actor.workspaceId, input);
    let accountId = input.accountId ?? null;
    if (!accountId && input.leadId) {
      const lead = await trx
        .selectFrom('leads')
        .select('account_id')
        .where('workspace_id', '=', actor.workspaceId)
        .where('id', '=', input.leadId)
        .executeTakeFirst();
      accountId = lead?.account_id ?? null;
    }
    const deal = await trx
      .insertInto('deals')
      .values({
        workspace_id: actor.workspaceId,
        id: uuidv7(now.getTime()),
        name: input.name,
        amount: String(input.amount),
        currency: input.currency,
        stage: input.stage,
        status: input.status,
        close_date: input.closeDate ?? null,
        lead_id: input.leadId ?? null,
        account_id: accountId,
        owner_id: input.ownerId ?? actor.userId,
        lost_reason: input.lostReason ?? null,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, {
      kind: 'deal.created',
      at: now,
      dealId: deal.id,
      leadId: deal.lead_id,
      accountId: deal.account_id,
      data: { name: deal.name, amount: deal.amount, currency: deal.currency, status: deal.status },
    });
    await closeLoop(trx, actor, deal, now);
    return deal;
  });
}

export async function getDeal(deps: Deps, actor: Actor, id: string): Promise<Deal> {
  const deal = await deps.db.selectFrom('deals').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!deal) throw notFound('Deal');
  return deal;
}

export async function updateDeal(deps: Deps, actor: Actor, id: string, input: UpdateDealInput): Promise<Deal> {
  assertTeam(actor, 'sales', 'change deals');
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const deal = await trx.selectFrom('deals').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!deal) throw notFound('Deal');
    assertVersion(deal.version, input.version, 'deal');
    await assertRefs(trx, actor.workspaceId, input);
    const set: Record<string, unknown> = {};
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [field, column] of Object.entries(COLUMNS)) {
      const value = input[field as keyof typeof COLUMNS];
      if (value !== undefined && value !== deal[column]) {
        set[column] = value;
        changed[field] = { from: deal[column], to: value };
      }
    }
    if (input.amount !== undefined && Number(input.amount) !== Number(deal.amount)) {
      set.amount = String(input.amount);
      changed.amount = { from: deal.amount, to: String(input.amount) };
    }
    if (Object.keys(set).length === 0) return deal;
    const updated = await trx
      .updateTable('deals')
      .set({ ...set, updated_at: now, version: deal.version + 1 })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const kind = changed.status ? `deal.${updated.status === 'open' ? 'reopened' : updated.status}` : 'deal.updated';
    await recordActivity(trx, actor, { kind, at: now, dealId: id, leadId: updated.lead_id, accountId: updated.account_id, data: { changed } });
    if (changed.status) await closeLoop(trx, actor, updated, now);
    return updated;
  });
}

export async function listDeals(deps: Deps, actor: Actor, f: ListDealsQuery): Promise<{ items: Deal[]; nextCursor: string | null }> {
  let q = deps.db.selectFrom('deals').selectAll().where('workspace_id', '=', actor.workspaceId);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.leadId) q = q.where('lead_id', '=', f.leadId);
  if (f.accountId) q = q.where('account_id', '=', f.accountId);
  if (f.owner === 'me') q = q.where('owner_id', '=', actor.userId);
  else if (f.owner) {
    if (!/^[0-9a-f-]{36}$/i.test(f.owner)) throw invalid('query.owner', 'a user id or "me"');
    q = q.where('owner_id', '=', f.owner);
  }
  if (f.cursor) q = q.where('id', '<', decodeCursor(f.cursor, 'query.cursor')[1]);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > f.limit && last ? encodeCursor(null, last.id) : null };
}
