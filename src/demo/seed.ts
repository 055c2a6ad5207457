import type { Insertable, Kysely } from 'kysely';
import type { AgreementsTable, DB, UsersTable } from '../db/schema.js';
import type { AgreementDocument } from '../domain/agreement.js';
import { DEFAULT_SCORING } from '../domain/scoring.js';
import { forgetCredentials } from '../features/auth/credential-cache.js';
import { recountOpenHandoffs } from '../features/handoffs/handoffs.repo.js';
import { rescoreAll } from '../features/scoring/scoring.repo.js';
import { deleteWorkspace } from '../features/workspaces/workspaces.service.js';
import type { Clock } from '../lib/clock.js';
import { uuidv7 } from '../lib/ids.js';
import { hashPassword, newToken, sha256 } from '../lib/secrets.js';
import { renderBehaviour } from './behaviour.js';
import { insertRows } from './insert.js';
import { Rng } from './random.js';
import { emptyRows, Renderer } from './render.js';
import {
  type Absence,
  buildAccounts,
  buildLeads,
  DAY,
  ensureOpenHandoffs,
  type HandoffSim,
  HOUR,
  indexStory,
  MINUTE,
  type Person,
  person,
  routeAll,
  simulateLead,
  stagesOf,
  type World,
} from './story.js';
import { agreementV1, agreementV2, emailOf, TEAM } from './team.js';

export const DEMO_SLUG = 'demo';
export const DEMO_PASSWORD = 'tandem-demo';
const DEMO_NAME = 'Northwind Analytics (demo)';
/** Fixed, so every demo workspace tells the same story (ids and "now" aside). */
const SEED = 20_240_917;

export interface SeedOptions {
  log?: (line: string) => void;
  /** Multiplies accounts, leads and open handoffs (1 = 2,000 accounts and 20,000 leads); tests use a small share. */
  scale?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Create the demo workspace, or replace it: a year of a B2B company's marketing and sales work
 * under a signed handoff agreement, with a live queue of handoffs whose timers are still running.
 * The history is simulated in memory, then written in one transaction with multi-row inserts.
 */
export async function seedDemo(db: Kysely<DB>, clock: Clock, opts: SeedOptions = {}): Promise<{ text: string }> {
  const started = performance.now();
  const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
  const log = (line: string) => opts.log?.(`  ${line} (${elapsed()} s)`);
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 10)) throw new Error('scale must be above 0 and at most 10');
  const now = clock.now().getTime();
  const rng = new Rng(SEED);
  const workspaceId = uuidv7(now - 400 * DAY);
  const workspaceCreatedAt = now - 400 * DAY;

  // scrypt is deliberately slow: hash once, every demo user shares the password.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const people = new Map<string, Person>();
  const users: Insertable<UsersTable>[] = TEAM.map((p, i) => {
    const at = new Date(workspaceCreatedAt + i * MINUTE);
    const id = uuidv7(at.getTime());
    people.set(p.key, { key: p.key, id, name: p.name, email: emailOf(p.key), team: p.team, level: p.level, weight: p.weight, capacity: p.capacity });
    return {
      workspace_id: workspaceId,
      id,
      email: emailOf(p.key),
      name: p.name,
      team: p.team,
      level: p.level,
      is_admin: p.isAdmin,
      password_hash: passwordHash,
      active: true,
      routing_weight: p.weight,
      handoff_capacity: p.capacity,
      created_at: at,
      updated_at: at,
    };
  });

  const v1 = agreementV1(now);
  const v2 = agreementV2(v1);
  const w: World = {
    rng,
    now,
    v1At: now - 304 * DAY,
    v1,
    workspaceCreatedAt,
    people,
    absences: [],
    stages: stagesOf(v1),
  };
  const id = (key: string) => person(w, key).id;
  // One rep is away right now (their Asia-Pacific leads wait for the sales lead), another was away in the past.
  const absences: Absence[] = [
    { userId: id('ava'), from: startOfDay(now - 3 * DAY), to: startOfDay(now + 6 * DAY), note: 'Annual leave' },
    { userId: id('emma'), from: startOfDay(now - 130 * DAY), to: startOfDay(now - 123 * DAY), note: 'Vacation' },
  ];
  w.absences = absences;

  const accounts = buildAccounts(w, Math.max(10, Math.round(2000 * scale)));
  const leads = buildLeads(w, Math.max(50, Math.round(20_000 * scale)), accounts);
  for (const a of accounts) a.id = uuidv7(a.createdAt);
  for (const lead of leads) simulateLead(w, lead);
  ensureOpenHandoffs(w, leads, Math.max(5, Math.round(36 * scale)));
  const handoffs: HandoffSim[] = [];
  for (const lead of leads) handoffs.push(...indexStory(lead));
  const counts = routeAll(w, handoffs);
  log(`simulated ${fmt(leads.length)} leads and ${fmt(handoffs.length)} handoffs`);

  const rows = emptyRows();
  const renderer = new Renderer(w, workspaceId, rows);
  for (const lead of leads) renderer.render(lead);

  const t = (ms: number) => new Date(ms);
  const agreementActs: { at: number; kind: string; by: string; data: Record<string, unknown> }[] = [];
  const v1Id = uuidv7(w.v1At - 12 * DAY);
  const v2Id = uuidv7(now - 6 * DAY);
  const v2Proposed = now - 5 * DAY;
  const agreements: Insertable<AgreementsTable>[] = [
    {
      ...agreementRow(workspaceId, v1Id, 1, 'active', v1, id('olivia'), w.v1At - 12 * DAY),
      updated_at: t(w.v1At),
      proposed_at: t(w.v1At - 8 * DAY),
      marketing_signed_by: id('olivia'),
      marketing_signed_at: t(w.v1At - 6 * DAY),
      sales_signed_by: id('daniel'),
      sales_signed_at: t(w.v1At),
      activated_at: t(w.v1At),
    },
    {
      ...agreementRow(workspaceId, v2Id, 2, 'proposed', v2, id('olivia'), now - 6 * DAY),
      updated_at: t(v2Proposed + HOUR),
      proposed_at: t(v2Proposed),
      marketing_signed_by: id('olivia'),
      marketing_signed_at: t(v2Proposed + HOUR),
    },
  ];
  agreementActs.push(
    { at: w.v1At - 12 * DAY, kind: 'agreement.drafted', by: 'olivia', data: { agreementId: v1Id, version: 1 } },
    { at: w.v1At - 8 * DAY, kind: 'agreement.proposed', by: 'olivia', data: { agreementId: v1Id, version: 1 } },
    { at: w.v1At - 6 * DAY, kind: 'agreement.signed', by: 'olivia', data: { agreementId: v1Id, version: 1, side: 'marketing' } },
    { at: w.v1At, kind: 'agreement.signed', by: 'daniel', data: { agreementId: v1Id, version: 1, side: 'sales' } },
    { at: w.v1At, kind: 'agreement.activated', by: 'daniel', data: { agreementId: v1Id, version: 1 } },
    { at: now - 6 * DAY, kind: 'agreement.drafted', by: 'olivia', data: { agreementId: v2Id, version: 2 } },
    { at: v2Proposed, kind: 'agreement.proposed', by: 'olivia', data: { agreementId: v2Id, version: 2 } },
    { at: v2Proposed + HOUR, kind: 'agreement.signed', by: 'olivia', data: { agreementId: v2Id, version: 2, side: 'marketing' } },
  );
  const absenceRows = absences.map((a) => {
    const createdAt = a.from - 10 * DAY;
    const absenceId = uuidv7(createdAt);
    agreementActs.push({
      at: createdAt,
      kind: 'absence.created',
      by: [...people.values()].find((p) => p.id === a.userId)?.key ?? 'daniel',
      data: { absenceId, userId: a.userId, startsAt: t(a.from).toISOString(), endsAt: t(a.to).toISOString() },
    });
    return { workspace_id: workspaceId, id: absenceId, user_id: a.userId, starts_at: t(a.from), ends_at: t(a.to), note: a.note, created_at: t(createdAt) };
  });
  // The website forms post leads with marketing ops' API key; its secret is thrown away.
  const keyCreated = workspaceCreatedAt + DAY;
  const key = `tdm_${workspaceId.replaceAll('-', '')}_${newToken(30)}`;
  const keyId = uuidv7(keyCreated);
  const lastForm = rows.activities.reduce((max, a) => (a.actor_type === 'api_key' && a.at > max ? a.at : max), t(keyCreated));
  agreementActs.push({ at: keyCreated, kind: 'api_key.created', by: 'priya', data: { keyId, name: 'Website forms' } });
  for (const a of agreementActs) {
    rows.activities.push({
      workspace_id: workspaceId,
      id: uuidv7(a.at),
      at: t(a.at),
      kind: a.kind,
      actor_id: id(a.by),
      actor_type: 'user',
      lead_id: null,
      account_id: null,
      deal_id: null,
      handoff_id: null,
      data: a.data,
    });
  }
  log(`rendered ${fmt(rows.activities.length)} activities`);

  await db.transaction().execute(async (trx) => {
    const previous = await trx.selectFrom('workspaces').select('id').where('slug', '=', DEMO_SLUG).executeTakeFirst();
    if (previous) await deleteWorkspace(trx, previous.id);
    forgetCredentials();
    log('removed the previous demo workspace, if any');
    await trx
      .insertInto('workspaces')
      .values({ id: workspaceId, slug: DEMO_SLUG, name: DEMO_NAME, created_at: t(workspaceCreatedAt) })
      .execute();
    await insertRows(trx, 'users', users);
    await insertRows(trx, 'absences', absenceRows);
    await insertRows(trx, 'api_keys', [
      {
        workspace_id: workspaceId,
        id: keyId,
        name: 'Website forms',
        key_hash: sha256(key),
        prefix: `${key.slice(0, 12)}…${key.slice(-4)}`,
        user_id: id('priya'),
        created_at: t(keyCreated),
        last_used_at: lastForm,
        revoked_at: null,
      },
    ]);
    await insertRows(trx, 'agreements', agreements);
    await insertRows(
      trx,
      'accounts',
      accounts.map((a) => ({
        workspace_id: workspaceId,
        id: a.id,
        name: a.name,
        domain: a.domain,
        industry: a.industry,
        employees: a.employees,
        country: a.country.code,
        region: a.country.region,
        owner_id: a.ownerId,
        properties: a.properties,
        version: 1,
        created_at: t(a.createdAt),
        updated_at: t(a.createdAt),
      })),
    );
    log(`accounts ${fmt(accounts.length)}`);
    await insertRows(trx, 'leads', rows.leads);
    log(`leads ${fmt(rows.leads.length)}`);
    await insertRows(trx, 'handoffs', rows.handoffs);
    log(`handoffs ${fmt(rows.handoffs.length)}`);
    await insertRows(trx, 'deals', rows.deals);
    log(`deals ${fmt(rows.deals.length)}`);
    await insertRows(trx, 'activities', rows.activities);
    log(`activities ${fmt(rows.activities.length)}`);
    await insertRows(trx, 'notifications', rows.notifications);
    await insertRows(trx, 'timers', rows.timers);
    const behaviour = renderBehaviour(rng, workspaceId, rows.leads, now);
    await insertRows(trx, 'identities', behaviour.identities);
    await insertRows(trx, 'events', behaviour.events);
    await insertRows(trx, 'write_keys', [
      {
        workspace_id: workspaceId,
        id: uuidv7(now),
        key: demoWriteKey(workspaceId),
        name: 'northwind.example website',
        created_by: id('priya'),
        created_at: new Date(now - 300 * DAY),
        revoked_at: null,
      },
    ]);
    log(`events ${fmt(behaviour.events.length)}`);
    // Every lead scored under the built-in rules, from its profile, account and behaviour.
    await rescoreAll(trx, workspaceId, DEFAULT_SCORING, new Date(now), 'demo');
    log('leads scored');
    await recountOpenHandoffs(trx, workspaceId);
    await insertRows(
      trx,
      'routing_counters',
      [...counts].flatMap(([pool, byUser]) => [...byUser].map(([userId, n]) => ({ workspace_id: workspaceId, pool, user_id: userId, assigned: n }))),
    );
    log(`notifications ${fmt(rows.notifications.length)}, timers ${fmt(rows.timers.length)}`);
  });

  const stages = new Map<string, number>();
  for (const l of rows.leads) stages.set(l.stage, (stages.get(l.stage) ?? 0) + 1);
  const byStatus = new Map<string, number>();
  for (const h of rows.handoffs) byStatus.set(h.status, (byStatus.get(h.status) ?? 0) + 1);
  const deals = new Map<string, number>();
  for (const d of rows.deals) deals.set(d.status, (deals.get(d.status) ?? 0) + 1);
  const list = (m: Map<string, number>, order: string[]) =>
    order
      .filter((k) => m.has(k))
      .map((k) => `${k} ${fmt(m.get(k) ?? 0)}`)
      .join(', ');
  const text = [
    `Demo workspace "${DEMO_NAME}" (slug ${DEMO_SLUG}) ready in ${elapsed()} s:`,
    `  ${users.length} people, ${fmt(accounts.length)} accounts, ${fmt(rows.leads.length)} leads, ${fmt(rows.deals.length)} deals, ${fmt(rows.activities.length)} activities`,
    `  leads by stage: ${list(
      stages,
      v1.stages.map((s) => s.key),
    )}`,
    `  handoffs: ${list(byStatus, ['open', 'accepted', 'rejected', 'reassigned', 'withdrawn'])}`,
    `  deals: ${list(deals, ['open', 'won', 'lost'])}`,
    '  agreement: version 1 active, version 2 proposed and waiting for the sales lead to sign',
  ].join('\n');
  return { text };
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

function agreementRow(
  workspaceId: string,
  id: string,
  version: number,
  status: 'active' | 'proposed',
  doc: AgreementDocument,
  createdBy: string,
  createdAt: number,
): Insertable<AgreementsTable> {
  return {
    workspace_id: workspaceId,
    id,
    version,
    status,
    document: { ...doc },
    created_by: createdBy,
    created_at: new Date(createdAt),
    updated_at: new Date(createdAt),
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
  };
}

/** How to sign in to the demo: the password and one person per role, read from the database. */
/** The demo workspace's sign-ins to suggest, one per kind of person; null without a demo workspace. */
export async function demoPeople(db: Kysely<DB>): Promise<{ workspaceId: string; workspace: string; people: { email: string; role: string }[] } | null> {
  const ws = await db.selectFrom('workspaces').select(['id', 'name']).where('slug', '=', DEMO_SLUG).executeTakeFirst();
  if (!ws) return null;
  const users = await db
    .selectFrom('users')
    .select(['id', 'email', 'team', 'level', 'is_admin'])
    .where('workspace_id', '=', ws.id)
    .where('active', '=', true)
    .where('password_hash', 'is not', null)
    .orderBy('created_at')
    .orderBy('email')
    .execute();
  const open = await db
    .selectFrom('handoffs')
    .select(['assignee_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workspace_id', '=', ws.id)
    .where('status', '=', 'open')
    .groupBy('assignee_id')
    .execute();
  const openBy = new Map(open.map((r) => [r.assignee_id, Number(r.n)]));
  const marketingLead = users.find((u) => u.team === 'marketing' && u.level === 'lead' && u.is_admin) ?? users.find((u) => u.is_admin);
  const marketer = users.find((u) => u.team === 'marketing' && u.level === 'member' && !u.is_admin);
  const salesLead = users.find((u) => u.team === 'sales' && u.level === 'lead');
  // The rep with the fullest queue shows the most on first sign-in.
  const rep = users.filter((u) => u.team === 'sales' && u.level === 'member').sort((a, b) => (openBy.get(b.id) ?? 0) - (openBy.get(a.id) ?? 0))[0];
  const picks: [typeof marketingLead, string][] = [
    [marketingLead, marketingLead?.is_admin && marketingLead.level === 'lead' ? 'marketing lead, administrator' : 'administrator'],
    [marketer, 'marketer'],
    [salesLead, 'sales lead'],
    [rep, `sales rep, ${openBy.get(rep?.id ?? '') ?? 0} open handoffs`],
  ];
  const people = picks.flatMap(([u, role]) => (u ? [{ email: u.email, role }] : []));
  return { workspaceId: ws.id, workspace: ws.name, people };
}

export async function demoSignIns(db: Kysely<DB>): Promise<string> {
  const demo = await demoPeople(db);
  if (!demo || demo.people.length === 0) return '';
  const ws = { id: demo.workspaceId, name: demo.workspace };
  const found = demo.people.map((p) => [p, p.role] as const);
  const width = Math.max(...found.map(([u]) => u.email.length));
  const key = await db
    .selectFrom('write_keys')
    .select('key')
    .where('workspace_id', '=', ws.id)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .executeTakeFirst();
  return [
    `Demo workspace "${ws.name}": sign in with password ${DEMO_PASSWORD} as`,
    ...found.map(([u, role]) => `  ${u.email.padEnd(width)}  ${role}`),
    ...(key ? [`Tracking (Segment-compatible): POST /v1/batch with write key ${key.key}`] : []),
  ].join('\n');
}

/** The demo's write key: fixed for a given workspace, so it can be printed again at each start. */
export function demoWriteKey(workspaceId: string): string {
  return `wk_${workspaceId.replaceAll('-', '')}_${sha256(`tandem-demo-write-key:${workspaceId}`).slice(0, 32)}`;
}
