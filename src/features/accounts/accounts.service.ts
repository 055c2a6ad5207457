import type { Kysely } from 'kysely';
import type { Account, DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { AppError, invalid, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';
import { assertVersion } from '../leads/leads.service.js';
import { rescoreAccountLeads } from '../scoring/scoring.service.js';
import type { CreateAccountInput, ListAccountsQuery, UpdateAccountInput } from './accounts.schema.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

const COLUMNS = {
  name: 'name',
  domain: 'domain',
  industry: 'industry',
  employees: 'employees',
  country: 'country',
  region: 'region',
  ownerId: 'owner_id',
} as const;

async function assertOwner(db: Kysely<DB>, workspaceId: string, ownerId: string | null | undefined): Promise<void> {
  if (!ownerId) return;
  const user = await db.selectFrom('users').select('id').where('workspace_id', '=', workspaceId).where('id', '=', ownerId).executeTakeFirst();
  if (!user) throw invalid('body.ownerId', 'no such user in this workspace');
}

function domainTaken(domain: string | null | undefined) {
  return (error: { code?: string }) => {
    if (error.code === '23505') throw new AppError('conflict', `An account with domain ${domain} already exists`, { field: 'domain' });
    throw error;
  };
}

export async function createAccount(deps: Deps, actor: Actor, input: CreateAccountInput): Promise<Account> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    await assertOwner(trx, actor.workspaceId, input.ownerId);
    const account = await trx
      .insertInto('accounts')
      .values({
        workspace_id: actor.workspaceId,
        id: uuidv7(now.getTime()),
        name: input.name,
        domain: input.domain ?? null,
        industry: input.industry ?? null,
        employees: input.employees ?? null,
        country: input.country ?? null,
        region: input.region ?? null,
        owner_id: input.ownerId ?? null,
        properties: JSON.stringify(input.properties ?? {}),
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(domainTaken(input.domain));
    await recordActivity(trx, actor, { kind: 'account.created', at: now, accountId: account.id, data: { name: account.name, domain: account.domain } });
    return account;
  });
}

export async function getAccount(deps: Deps, actor: Actor, id: string): Promise<Account> {
  const account = await deps.db.selectFrom('accounts').selectAll().where('workspace_id', '=', actor.workspaceId).where('id', '=', id).executeTakeFirst();
  if (!account) throw notFound('Account');
  return account;
}

export async function updateAccount(deps: Deps, actor: Actor, id: string, input: UpdateAccountInput): Promise<Account> {
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const account = await trx
      .selectFrom('accounts')
      .selectAll()
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!account) throw notFound('Account');
    assertVersion(account.version, input.version, 'account');
    await assertOwner(trx, actor.workspaceId, input.ownerId);
    const set: Record<string, unknown> = {};
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [field, column] of Object.entries(COLUMNS)) {
      const value = input[field as keyof typeof COLUMNS];
      if (value !== undefined && value !== account[column]) {
        set[column] = value;
        changed[field] = { from: account[column], to: value };
      }
    }
    if (input.properties) {
      const merged = { ...account.properties, ...input.properties };
      for (const [k, v] of Object.entries(input.properties)) if (v === null) delete merged[k];
      set.properties = JSON.stringify(merged);
      changed.properties = { from: account.properties, to: merged };
    }
    if (Object.keys(set).length === 0) return account;
    const updated = await trx
      .updateTable('accounts')
      .set({ ...set, updated_at: now, version: account.version + 1 })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(domainTaken(input.domain));
    await recordActivity(trx, actor, { kind: 'account.updated', at: now, accountId: id, data: { changed } });
    await rescoreAccountLeads(trx, actor.workspaceId, [id], now, 'account');
    return updated;
  });
}

/** Fold a duplicate account into this one: its leads, deals and history move; it is deleted. */
export async function mergeAccounts(deps: Deps, actor: Actor, keepId: string, mergeId: string): Promise<Account> {
  if (keepId === mergeId) throw invalid('body.mergeId', 'an account cannot be merged into itself');
  return deps.db.transaction().execute(async (trx) => {
    const now = deps.clock.now();
    const ws = actor.workspaceId;
    const rows = await trx.selectFrom('accounts').selectAll().where('workspace_id', '=', ws).where('id', 'in', [keepId, mergeId]).forUpdate().execute();
    const keep = rows.find((r) => r.id === keepId);
    const dup = rows.find((r) => r.id === mergeId);
    if (!keep) throw notFound('Account');
    if (!dup) throw invalid('body.mergeId', 'no such account in this workspace');
    for (const table of ['leads', 'deals', 'activities', 'events', 'identities'] as const) {
      await trx.updateTable(table).set({ account_id: keepId }).where('workspace_id', '=', ws).where('account_id', '=', mergeId).execute();
    }
    await trx.deleteFrom('accounts').where('workspace_id', '=', ws).where('id', '=', mergeId).execute();
    const fill: Record<string, unknown> = {};
    for (const column of Object.values(COLUMNS)) if (keep[column] == null && dup[column] != null) fill[column] = dup[column];
    const merged = await trx
      .updateTable('accounts')
      .set({ ...fill, properties: JSON.stringify({ ...dup.properties, ...keep.properties }), updated_at: now, version: keep.version + 1 })
      .where('workspace_id', '=', ws)
      .where('id', '=', keepId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, actor, {
      kind: 'account.merged',
      at: now,
      accountId: keepId,
      data: { mergedId: mergeId, mergedName: dup.name, mergedDomain: dup.domain, filled: Object.keys(fill) },
    });
    // The duplicate's leads now read this account's attributes, and this account may have gained some.
    await rescoreAccountLeads(trx, ws, [keepId], now, 'account');
    return merged;
  });
}

export async function listAccounts(deps: Deps, actor: Actor, f: ListAccountsQuery): Promise<{ items: Account[]; nextCursor: string | null }> {
  let q = deps.db.selectFrom('accounts').selectAll().where('workspace_id', '=', actor.workspaceId);
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('name', 'ilike', pattern), eb('domain', 'ilike', pattern)]));
  }
  if (f.owner === 'me') q = q.where('owner_id', '=', actor.userId);
  else if (f.owner === 'none') q = q.where('owner_id', 'is', null);
  else if (f.owner) {
    if (!/^[0-9a-f-]{36}$/i.test(f.owner)) throw invalid('query.owner', 'a user id, "me" or "none"');
    q = q.where('owner_id', '=', f.owner);
  }
  if (f.industry) q = q.where('industry', '=', f.industry);
  if (f.cursor) q = q.where('id', '<', decodeCursor(f.cursor, 'query.cursor')[1]);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  const items = rows.slice(0, f.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > f.limit && last ? encodeCursor(null, last.id) : null };
}
