import { type Insertable, type Kysely, sql } from 'kysely';
import type { AccountsTable, DB, LeadsTable, User, UsersTable } from '../src/db/schema.js';
import { DEFAULT_AGREEMENT, validateAgreement } from '../src/domain/agreement.js';
import { actorFromUser, createApiKey } from '../src/features/auth/auth.service.js';
import { systemClock } from '../src/lib/clock.js';
import { uuidv7 } from '../src/lib/ids.js';

export interface Seeded {
  workspaceId: string;
  marketer: User;
  /** API key acting as the marketer. */
  key: string;
  /** Leads in the `lead` stage, in the order the phases hand them out. */
  leadIds: string[];
}

// Fixed seed: every run routes the same mix of leads, so runs are comparable.
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Rows in chunks for multi-row inserts that stay under PostgreSQL's 65,535 bind parameters. */
function chunks<T>(rows: T[], size = 1000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const REGIONS = [
  { region: 'EMEA', countries: ['DE', 'FR', 'GB', 'NL', 'SE'] },
  { region: 'NA', countries: ['US', 'CA'] },
  { region: 'APAC', countries: ['JP', 'AU', 'SG'] },
  { region: 'LATAM', countries: ['BR', 'MX'] },
];
const INDUSTRIES = ['software', 'manufacturing', 'finance', 'retail', 'healthcare'];
const PERSONAS = ['economic_buyer', 'champion', 'user', 'technical'];

/**
 * A workspace shaped like a real team: 3 marketers, 8 sales people with routing weights and
 * some capacity limits, a signed agreement whose routing rules send leads through rule pools,
 * account owners and the fallback pool, 300 accounts (a quarter owned), and the leads.
 */
export async function seed(db: Kysely<DB>, leadCount: number): Promise<Seeded> {
  const rnd = random(20260302);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const now = new Date();
  const workspaceId = uuidv7();
  await db
    .insertInto('workspaces')
    .values({ id: workspaceId, slug: `bench-${workspaceId.slice(-12)}`, name: 'Benchmark', created_at: now })
    .execute();

  const person = (name: string, team: 'marketing' | 'sales', level: 'member' | 'lead', weight = 1, capacity: number | null = null): Insertable<UsersTable> => ({
    workspace_id: workspaceId,
    id: uuidv7(),
    email: `${name.toLowerCase()}@bench.example`,
    name,
    team,
    level,
    is_admin: level === 'lead',
    password_hash: null,
    routing_weight: weight,
    handoff_capacity: capacity,
    created_at: now,
    updated_at: now,
  });
  const marketing = [person('Mia', 'marketing', 'member'), person('Max', 'marketing', 'member'), person('Lena', 'marketing', 'lead')];
  // Two reps have a capacity the run exhausts, so routing's at-capacity path runs too.
  const sales = [
    person('Sam', 'sales', 'lead'),
    person('Rob', 'sales', 'member', 2),
    person('Sara', 'sales', 'member', 1, 300),
    person('Tom', 'sales', 'member', 1),
    person('Uma', 'sales', 'member', 3),
    person('Vic', 'sales', 'member', 1, 500),
    person('Wes', 'sales', 'member', 2),
    person('Xia', 'sales', 'member', 1),
  ];
  const users = await db
    .insertInto('users')
    .values([...marketing, ...sales])
    .returningAll()
    .execute();
  const byName = (name: string): User => users.find((u) => u.name === name) as User;
  const reps = sales.slice(1).map((s) => s.id);

  const member = (name: string, weight = 1) => ({ user: byName(name).email, weight });
  const checked = validateAgreement({
    ...DEFAULT_AGREEMENT,
    name: 'Benchmark agreement',
    routing: {
      accountOwnerFirst: true,
      rules: [
        { name: 'EMEA enterprise', when: { region: ['EMEA'], employees: { min: 1000 } }, pool: [member('Rob', 2), member('Sara')] },
        { name: 'EMEA', when: { region: ['EMEA'] }, pool: [member('Sara'), member('Tom'), member('Uma', 2)] },
        { name: 'North America', when: { country: ['US', 'CA'] }, pool: [member('Uma'), member('Vic', 2), member('Wes')] },
      ],
      fallbackPool: [member('Rob'), member('Tom'), member('Wes'), member('Xia', 2)],
    },
  });
  if (!checked.ok) throw new Error(`benchmark agreement is invalid: ${JSON.stringify(checked.problems)}`);
  await db
    .insertInto('agreements')
    .values({
      workspace_id: workspaceId,
      id: uuidv7(),
      version: 1,
      status: 'active',
      document: JSON.stringify(checked.document),
      created_by: byName('Lena').id,
      created_at: now,
      updated_at: now,
      proposed_at: now,
      marketing_signed_by: byName('Lena').id,
      marketing_signed_at: now,
      sales_signed_by: byName('Sam').id,
      sales_signed_at: now,
      activated_at: now,
      superseded_at: null,
      returned_by: null,
      returned_at: null,
      return_comment: null,
    })
    .execute();

  const accounts: Insertable<AccountsTable>[] = [];
  for (let i = 0; i < 300; i++) {
    const where = pick(REGIONS);
    accounts.push({
      workspace_id: workspaceId,
      id: uuidv7(),
      name: `Account ${i}`,
      domain: `account${i}.example`,
      industry: pick(INDUSTRIES),
      employees: Math.floor(10 + rnd() * 20000),
      country: pick(where.countries),
      region: where.region,
      owner_id: i % 4 === 0 ? pick(reps) : null,
      properties: '{}',
      created_at: now,
      updated_at: now,
    });
  }
  for (const rows of chunks(accounts)) await db.insertInto('accounts').values(rows).execute();

  const leads: Insertable<LeadsTable>[] = [];
  const created = new Date(now.getTime() - 30 * 86_400_000);
  for (let i = 0; i < leadCount; i++) {
    const account = rnd() < 0.7 ? pick(accounts) : null;
    leads.push({
      workspace_id: workspaceId,
      id: uuidv7(created.getTime() + i),
      email: `lead${i}@bench.example`,
      first_name: 'Lead',
      last_name: String(i),
      title: 'Head of Operations',
      phone: null,
      company: account?.name ?? `Company ${i}`,
      country: account?.country ?? pick(pick(REGIONS).countries),
      source: 'webinar',
      persona: pick(PERSONAS),
      properties: '{}',
      account_id: account?.id ?? null,
      stage: 'lead',
      status: 'new',
      owner_id: null,
      stage_changed_at: created,
      created_at: created,
      updated_at: created,
    });
  }
  for (const rows of chunks(leads)) await db.insertInto('leads').values(rows).execute();
  // Fresh statistics, as autovacuum would have gathered on a database that grew this large.
  await sql`ANALYZE users, accounts, leads, agreements`.execute(db);

  const marketer = byName('Mia');
  const { key } = await createApiKey({ db, clock: systemClock }, actorFromUser(marketer, 'api_key'), 'benchmark');
  return { workspaceId, marketer, key, leadIds: leads.map((l) => l.id) };
}
