import { type Kysely, type RawBuilder, sql } from 'kysely';
import { binaryArray, type ElementType } from '../../db/binary-array.js';
import type { DB, Lead } from '../../db/schema.js';
import { systemActor } from '../../domain/access.js';
import { stageWithRole } from '../../domain/agreement.js';
import { uuidv7 } from '../../lib/ids.js';
import { recordActivity } from '../activities/activities.repo.js';
import { getEffectiveAgreement } from '../agreements/agreements.service.js';
import type { IncomingEvent } from './tracking.parse.js';

/** A stored event already tied to a lead: what scoring needs of it. */
export interface LinkedEvent {
  id: string;
  leadId: string;
  type: string;
  name: string | null;
  properties: Record<string, unknown>;
  at: Date;
}

export interface StoreResult {
  /** Events stored now. */
  stored: number;
  /** Events already stored under the same messageId (a client's retry). */
  duplicates: number;
}

/**
 * Store one workspace's events inside the caller's transaction: every new event in one
 * set-based insert (tied to the lead and account its ids already point to), then what identify,
 * group and alias calls change, in the order they were made. An event whose messageId is
 * already stored is skipped whole, so a retried batch changes nothing twice.
 */
export async function storeEvents(
  trx: Kysely<DB>,
  workspaceId: string,
  events: readonly IncomingEvent[],
  now: Date,
): Promise<{ fresh: Set<string>; touched: Set<string>; linked: LinkedEvent[] }> {
  const unique = new Map<string, IncomingEvent>();
  for (const e of events) if (!unique.has(e.messageId)) unique.set(e.messageId, e);
  const candidates = [...unique.values()];
  const at = now.getTime();
  const column = (type: ElementType, pick: (e: IncomingEvent) => unknown) => binaryArray(type, candidates.map(pick));
  // One binary array per column, so the database copies the values instead of parsing a JSON
  // document; each id is looked up by its own index probe (a join could hash every identity).
  // An event that names a known person is scored in this transaction (see scoreAfterEvents), so it
  // is stored as scored; one that is anonymous now is scored when an identify joins it to a lead.
  const identity = (kind: string, value: RawBuilder<unknown>, column: 'lead_id' | 'account_id') =>
    sql`(SELECT i.${sql.ref(column)} FROM identities i WHERE i.workspace_id = ${workspaceId}::uuid AND i.kind = ${kind} AND i.value = ${value})`;
  const inserted = await sql<{ message_id: string; id: string; lead_id: string | null }>`
    INSERT INTO events (workspace_id, id, message_id, type, name, anonymous_id, user_id, group_id, lead_id, account_id, at, received_at, properties, context, campaign, scored)
    SELECT ${workspaceId}::uuid, r.id, r.message_id, r.type, r.name, r.anonymous_id, r.user_id, r.group_id, r.lead_id, r.account_id, r.at, ${now}::timestamptz,
           coalesce(r.properties, '{}'), coalesce(r.context, '{}'), r.campaign, r.lead_id IS NOT NULL
    FROM (
      SELECT r.*, coalesce(${identity('user', sql`r.user_id`, 'lead_id')}, ${identity('anonymous', sql`r.anonymous_id`, 'lead_id')}) AS lead_id,
        ${identity('group', sql`r.group_id`, 'account_id')} AS account_id
      FROM unnest(${binaryArray(
        'uuid',
        candidates.map(() => uuidv7(at)),
      )}::uuid[], ${column('text', (e) => e.messageId)}::text[], ${column('text', (e) => e.type)}::text[],
           ${column('text', (e) => e.name)}::text[], ${column('text', (e) => e.anonymousId)}::text[], ${column('text', (e) => e.userId)}::text[],
           ${column('text', (e) => e.groupId)}::text[], ${column('timestamptz', (e) => e.at)}::timestamptz[], ${column('jsonb', (e) => e.properties)}::jsonb[],
           ${column('jsonb', (e) => e.context)}::jsonb[], ${column('jsonb', (e) => e.campaign)}::jsonb[])
        AS r(id, message_id, type, name, anonymous_id, user_id, group_id, at, properties, context, campaign)
      OFFSET 0
    ) r
    ON CONFLICT (workspace_id, message_id) DO NOTHING
    RETURNING message_id, id, lead_id`.execute(trx);
  const fresh = new Set(inserted.rows.map((r) => r.message_id));
  const linked: LinkedEvent[] = [];
  for (const r of inserted.rows) {
    const e = unique.get(r.message_id);
    if (r.lead_id && e) linked.push({ id: r.id, leadId: r.lead_id, type: e.type, name: e.name, properties: e.properties, at: e.at });
  }
  // Leads whose profile or account changed: their fit is scored again.
  const touched = new Set<string>();
  for (const e of unique.values()) {
    if (!fresh.has(e.messageId)) continue;
    let leads: (string | null)[] = [];
    if (e.type === 'identify') leads = [await applyIdentify(trx, workspaceId, e, now)];
    else if (e.type === 'group') leads = await applyGroup(trx, workspaceId, e, now);
    else if (e.type === 'alias') await applyAlias(trx, workspaceId, e, now);
    for (const id of leads) if (id) touched.add(id);
  }
  return { fresh, touched, linked };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FREE_MAIL = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'icloud.com',
  'aol.com',
  'proton.me',
  'gmx.com',
]);

/** Traits Tandem keeps in the lead's own columns; the rest go to its custom properties. */
function leadFields(traits: Record<string, unknown>): Partial<Pick<Lead, 'first_name' | 'last_name' | 'title' | 'phone' | 'company' | 'country'>> {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 500) : typeof v === 'number' ? String(v) : undefined);
  const out: Partial<Pick<Lead, 'first_name' | 'last_name' | 'title' | 'phone' | 'company' | 'country'>> = {};
  let first = text(traits.firstName ?? traits.first_name);
  let last = text(traits.lastName ?? traits.last_name);
  const full = text(traits.name);
  if (!first && !last && full) {
    const space = full.indexOf(' ');
    first = space > 0 ? full.slice(0, space) : full;
    last = space > 0 ? full.slice(space + 1) : undefined;
  }
  if (first) out.first_name = first;
  if (last) out.last_name = last;
  const title = text(traits.title ?? traits.jobTitle ?? traits.job_title);
  if (title) out.title = title;
  const phone = text(traits.phone);
  if (phone) out.phone = phone;
  const company = typeof traits.company === 'object' && traits.company ? text((traits.company as Record<string, unknown>).name) : text(traits.company);
  if (company) out.company = company;
  const address = typeof traits.address === 'object' && traits.address ? (traits.address as Record<string, unknown>) : {};
  const country = text(traits.country ?? address.country);
  if (country) out.country = country;
  return out;
}

const LEAD_TRAITS = new Set([
  'email',
  'name',
  'firstName',
  'first_name',
  'lastName',
  'last_name',
  'title',
  'jobTitle',
  'job_title',
  'phone',
  'company',
  'country',
  'address',
  'id',
]);

function extraTraits(traits: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(traits)) if (!LEAD_TRAITS.has(k) && v !== undefined) out[k] = v;
  return out;
}

async function identityLead(trx: Kysely<DB>, workspaceId: string, e: { userId: string | null; anonymousId: string | null }): Promise<string | null> {
  const ids = await trx
    .selectFrom('identities')
    .select(['kind', 'lead_id'])
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      eb.or([
        eb.and([eb('kind', '=', 'user'), eb('value', '=', e.userId ?? '')]),
        eb.and([eb('kind', '=', 'anonymous'), eb('value', '=', e.anonymousId ?? '')]),
      ]),
    )
    .where('lead_id', 'is not', null)
    .execute();
  return (ids.find((i) => i.kind === 'user') ?? ids[0])?.lead_id ?? null;
}

/** Point the given ids at a lead (or account), and tie their earlier events to it. */
async function link(
  trx: Kysely<DB>,
  workspaceId: string,
  ids: { kind: 'user' | 'anonymous'; value: string | null }[],
  leadId: string,
  accountId: string | null,
  now: Date,
): Promise<void> {
  const present = ids.filter((i): i is { kind: 'user' | 'anonymous'; value: string } => Boolean(i.value));
  if (present.length === 0) return;
  await trx
    .insertInto('identities')
    .values(
      present.map((i) => ({ workspace_id: workspaceId, kind: i.kind, value: i.value, lead_id: leadId, account_id: null, created_at: now, updated_at: now })),
    )
    .onConflict((oc) => oc.columns(['workspace_id', 'kind', 'value']).doUpdateSet({ lead_id: leadId, updated_at: now }))
    .execute();
  const users = present.filter((i) => i.kind === 'user').map((i) => i.value);
  const anonymous = present.filter((i) => i.kind === 'anonymous').map((i) => i.value);
  await trx
    .updateTable('events')
    .set((eb) => ({ lead_id: leadId, account_id: eb.fn.coalesce('account_id', eb.val(accountId)) }))
    .where('workspace_id', '=', workspaceId)
    .where('lead_id', 'is', null)
    .where((eb) => {
      const any = [];
      if (users.length) any.push(eb('user_id', 'in', users));
      if (anonymous.length) any.push(eb('anonymous_id', 'in', anonymous));
      return eb.or(any);
    })
    .execute();
}

/**
 * identify: find the lead by the ids it has used or by email, create it (in the agreement's
 * entry stage) when the traits carry an email nobody has, bring its profile up to date, and
 * tie the visitor's earlier anonymous events to it.
 */
async function applyIdentify(trx: Kysely<DB>, workspaceId: string, e: IncomingEvent, now: Date): Promise<string | null> {
  const traits = e.properties;
  const email = typeof traits.email === 'string' && EMAIL.test(traits.email.trim()) ? traits.email.trim().toLowerCase() : null;
  let leadId = await identityLead(trx, workspaceId, e);
  let lead: Lead | undefined;
  if (leadId) {
    lead = await trx.selectFrom('leads').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', leadId).forUpdate().executeTakeFirst();
  } else if (email) {
    lead = await trx
      .selectFrom('leads')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where(sql`lower(email)`, '=', email)
      .forUpdate()
      .executeTakeFirst();
  }
  const fields = leadFields(traits);
  const extra = extraTraits(traits);
  if (!lead && email) {
    const { document } = await getEffectiveAgreement(trx, workspaceId);
    const domain = email.split('@')[1] ?? '';
    const account = FREE_MAIL.has(domain)
      ? undefined
      : await trx.selectFrom('accounts').select('id').where('workspace_id', '=', workspaceId).where(sql`lower(domain)`, '=', domain).executeTakeFirst();
    const source = typeof e.campaign?.source === 'string' ? e.campaign.source : 'website';
    lead = await trx
      .insertInto('leads')
      .values({
        workspace_id: workspaceId,
        id: uuidv7(now.getTime()),
        email,
        ...fields,
        source,
        properties: JSON.stringify(extra),
        account_id: account?.id ?? null,
        stage: stageWithRole(document, 'entry').key,
        stage_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordActivity(trx, systemActor(workspaceId), {
      kind: 'lead.created',
      at: now,
      leadId: lead.id,
      accountId: lead.account_id,
      data: { via: 'tracking', messageId: e.messageId, stage: lead.stage, source },
    });
  } else if (lead) {
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== lead[k as keyof Lead]) set[k] = v;
    const merged = { ...lead.properties, ...extra };
    if (JSON.stringify(merged) !== JSON.stringify(lead.properties)) set.properties = JSON.stringify(merged);
    if (Object.keys(set).length) {
      await trx
        .updateTable('leads')
        .set((eb) => ({ ...set, updated_at: now, version: eb('version', '+', 1) }))
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', lead.id)
        .execute();
    }
  }
  leadId = lead?.id ?? null;
  if (leadId) {
    await link(
      trx,
      workspaceId,
      [
        { kind: 'user', value: e.userId },
        { kind: 'anonymous', value: e.anonymousId },
      ],
      leadId,
      lead?.account_id ?? null,
      now,
    );
  }
  return leadId;
}

/** group: create or update the account (by the group's id, else its domain) and tie the person to it. */
async function applyGroup(trx: Kysely<DB>, workspaceId: string, e: IncomingEvent, now: Date): Promise<string[]> {
  const traits = e.properties;
  const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 500) : null);
  const website = text(traits.domain) ?? text(traits.website);
  const domain = website
    ? website
        .replace(/^https?:\/\//i, '')
        .replace(/^www\./i, '')
        .split(/[/?#]/)[0]
        ?.toLowerCase() || null
    : null;
  const employeesRaw = traits.employees ?? traits.employee_count ?? traits.employeeCount;
  const employees =
    typeof employeesRaw === 'number'
      ? Math.max(0, Math.round(employeesRaw))
      : typeof employeesRaw === 'string' && /^\d+$/.test(employeesRaw)
        ? Number(employeesRaw)
        : null;
  const address = typeof traits.address === 'object' && traits.address ? (traits.address as Record<string, unknown>) : {};
  const fields = {
    ...(text(traits.name) ? { name: text(traits.name) as string } : {}),
    ...(text(traits.industry) ? { industry: text(traits.industry) } : {}),
    ...(employees !== null ? { employees } : {}),
    ...(text(traits.country ?? address.country) ? { country: text(traits.country ?? address.country) } : {}),
  };
  const known = await trx
    .selectFrom('identities')
    .select('account_id')
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', 'group')
    .where('value', '=', e.groupId as string)
    .executeTakeFirst();
  let accountId = known?.account_id ?? null;
  if (!accountId && domain) {
    accountId =
      (await trx.selectFrom('accounts').select('id').where('workspace_id', '=', workspaceId).where(sql`lower(domain)`, '=', domain).executeTakeFirst())?.id ??
      null;
  }
  // Whether the account's attributes changed: a group call that repeats them writes nothing.
  let changed = false;
  if (accountId) {
    const entries = Object.entries(fields);
    if (entries.length) {
      const updated = await trx
        .updateTable('accounts')
        .set((eb) => ({ ...fields, updated_at: now, version: eb('version', '+', 1) }))
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', accountId as string)
        .where((eb) => eb.or(entries.map(([column, value]) => eb(column as keyof typeof fields, 'is distinct from', value))))
        .returning('id')
        .executeTakeFirst();
      changed = updated !== undefined;
    }
  } else if (fields.name || domain) {
    accountId = uuidv7(now.getTime());
    await trx
      .insertInto('accounts')
      .values({
        workspace_id: workspaceId,
        id: accountId,
        ...fields,
        name: fields.name ?? domain ?? (e.groupId as string),
        domain,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await recordActivity(trx, systemActor(workspaceId), { kind: 'account.created', at: now, accountId, data: { via: 'tracking', messageId: e.messageId } });
  }
  if (!accountId) return [];
  await trx
    .insertInto('identities')
    .values({ workspace_id: workspaceId, kind: 'group', value: e.groupId as string, lead_id: null, account_id: accountId, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'kind', 'value']).doUpdateSet({ account_id: accountId, updated_at: now }))
    .execute();
  await trx
    .updateTable('events')
    .set({ account_id: accountId })
    .where('workspace_id', '=', workspaceId)
    .where('group_id', '=', e.groupId as string)
    .where('account_id', 'is', null)
    .execute();
  const leadId = await identityLead(trx, workspaceId, e);
  if (leadId) {
    await trx
      .updateTable('leads')
      .set((eb) => ({ account_id: accountId, updated_at: now, version: eb('version', '+', 1) }))
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', leadId)
      .where('account_id', 'is', null)
      .execute();
  }
  // The account's attributes feed the fit of everyone at it: when they change, all its leads
  // are scored again; otherwise only the lead that made the call (it may have just joined it).
  if (!changed) return leadId ? [leadId] : [];
  const people = await trx.selectFrom('leads').select('id').where('workspace_id', '=', workspaceId).where('account_id', '=', accountId).execute();
  return people.map((p) => p.id);
}

/** alias: the previous id (anonymous or a former user id) and the user id are one person. */
async function applyAlias(trx: Kysely<DB>, workspaceId: string, e: IncomingEvent, now: Date): Promise<void> {
  const leadId =
    (await identityLead(trx, workspaceId, { userId: e.userId, anonymousId: null })) ??
    (await identityLead(trx, workspaceId, { userId: e.previousId, anonymousId: e.previousId }));
  if (!leadId) return;
  const lead = await trx.selectFrom('leads').select('account_id').where('workspace_id', '=', workspaceId).where('id', '=', leadId).executeTakeFirst();
  await link(
    trx,
    workspaceId,
    [
      { kind: 'user', value: e.userId },
      { kind: 'user', value: e.previousId },
      { kind: 'anonymous', value: e.previousId },
    ],
    leadId,
    lead?.account_id ?? null,
    now,
  );
}
