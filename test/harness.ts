import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../src/config.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { User } from '../src/db/schema.js';
import { type Actor, systemActor } from '../src/domain/access.js';
import { actorFromUser, createApiKey } from '../src/features/auth/auth.service.js';
import { createUser } from '../src/features/users/users.service.js';
import { createWorkspace, type Workspace } from '../src/features/workspaces/workspaces.service.js';
import type { App } from '../src/http/context.js';
import { buildServer } from '../src/http/server.js';
import { type Clock, ManualClock } from '../src/lib/clock.js';
import { uuidv7 } from '../src/lib/ids.js';

let shared: Promise<Database> | undefined;

/**
 * The database the suite runs on: PostgreSQL when DATABASE_URL is set, otherwise an in-memory
 * embedded database. One per worker process; each test makes its own workspace.
 */
export function testDatabase(): Promise<Database> {
  shared ??= (async () => {
    const url = process.env.DATABASE_URL;
    const database = await openDatabase(url ? { databaseUrl: url, poolSize: 5 } : { dataDir: 'memory://' });
    if (!url) await migrateToLatest(database.db);
    return database;
  })();
  return shared;
}

export const dbKind = (): 'postgres' | 'embedded' => (process.env.DATABASE_URL ? 'postgres' : 'embedded');

export interface Person {
  user: User;
  actor: Actor;
  key: string;
}

export interface Ctx {
  database: Database;
  app: App;
  clock: ManualClock;
  workspace: Workspace;
  system: Actor;
  people: {
    marketer: Person;
    marketingLead: Person;
    rep1: Person;
    rep2: Person;
    salesLead: Person;
    admin: Person;
  };
  /** Another person in this workspace. */
  addPerson(input: {
    name: string;
    team: 'marketing' | 'sales';
    level?: 'member' | 'lead';
    isAdmin?: boolean;
    handoffCapacity?: number | null;
    routingWeight?: number;
  }): Promise<Person>;
  as(person: Person | null): Client;
}

export interface Client {
  get(url: string, headers?: Record<string, string>): Promise<Res>;
  post(url: string, body?: unknown, headers?: Record<string, string>): Promise<Res>;
  put(url: string, body?: unknown, headers?: Record<string, string>): Promise<Res>;
  patch(url: string, body?: unknown, headers?: Record<string, string>): Promise<Res>;
  delete(url: string, headers?: Record<string, string>): Promise<Res>;
}

export interface Res {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected loosely.
  body: any;
  headers: LightMyRequestResponse['headers'];
}

function client(app: App, key: string | null): Client {
  const send = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> => {
    const res = await app.inject({
      method,
      url,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
    let parsed: unknown = null;
    if (res.body) {
      try {
        parsed = JSON.parse(res.body);
      } catch {
        parsed = res.body;
      }
    }
    return { status: res.statusCode, body: parsed, headers: res.headers };
  };
  return {
    get: (url, headers) => send('GET', url, undefined, headers),
    post: (url, body, headers) => send('POST', url, body ?? {}, headers),
    put: (url, body, headers) => send('PUT', url, body ?? {}, headers),
    patch: (url, body, headers) => send('PATCH', url, body ?? {}, headers),
    delete: (url, headers) => send('DELETE', url, undefined, headers),
  };
}

/** A workspace with two marketers, three sales people and an admin, and a server on a manual clock. */
export async function setup(opts: { clock?: ManualClock; start?: string } = {}): Promise<Ctx> {
  const database = await testDatabase();
  const clock = opts.clock ?? new ManualClock(opts.start ?? '2026-03-02T09:00:00Z');
  const deps = { db: database.db, clock: clock as Clock };
  const workspace = await createWorkspace(database.db, clock, { slug: `t-${uuidv7().slice(-12)}`, name: 'Test workspace' });
  let n = 0;
  const addPerson: Ctx['addPerson'] = async (input) => {
    n += 1;
    const user = await createUser(deps, workspace.id, null, {
      email: `${input.name.toLowerCase().replace(/\W+/g, '.')}.${n}@example.com`,
      name: input.name,
      team: input.team,
      level: input.level ?? 'member',
      isAdmin: input.isAdmin ?? false,
      handoffCapacity: input.handoffCapacity ?? null,
      routingWeight: input.routingWeight ?? 1,
    });
    const actor = actorFromUser(user, 'api_key');
    const { key } = await createApiKey(deps, actor, 'test');
    return { user, actor, key };
  };
  const people = {
    marketer: await addPerson({ name: 'Mia Marketer', team: 'marketing' }),
    marketingLead: await addPerson({ name: 'Lena Marketing Lead', team: 'marketing', level: 'lead' }),
    rep1: await addPerson({ name: 'Rob Rep', team: 'sales' }),
    rep2: await addPerson({ name: 'Sara Rep', team: 'sales' }),
    salesLead: await addPerson({ name: 'Sam Sales Lead', team: 'sales', level: 'lead' }),
    admin: await addPerson({ name: 'Ada Admin', team: 'marketing', isAdmin: true }),
  };
  const app = await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://' }), database, clock });
  return {
    database,
    app,
    clock,
    workspace,
    system: systemActor(workspace.id),
    people,
    addPerson,
    as: (person) => client(app, person?.key ?? null),
  };
}

/** Counts rows of a table in one workspace: tests use it to prove a rejected request wrote nothing. */
export async function countRows(
  ctx: Ctx,
  table: 'leads' | 'accounts' | 'deals' | 'handoffs' | 'activities' | 'agreements' | 'timers' | 'notifications' | 'events' | 'identities',
): Promise<number> {
  const row = await ctx.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', ctx.workspace.id)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
