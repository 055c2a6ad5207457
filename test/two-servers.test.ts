/**
 * Two real Tandem processes on one PostgreSQL database: a lead is handed off once however many
 * servers are asked at the same moment, and every durable timer fires exactly once, on time,
 * while both processes sweep (one of them restarting in the middle of the clock).
 *
 * Runs only on PostgreSQL (DATABASE_URL). The processes get a database of their own on that
 * server, because their sweepers fire every due timer they can see and the other test files'
 * manual clocks are far in the past of the real one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { actorFromUser, createApiKey } from '../src/features/auth/auth.service.js';
import { createUser } from '../src/features/users/users.service.js';
import { createWorkspace } from '../src/features/workspaces/workspaces.service.js';
import { systemClock } from '../src/lib/clock.js';
import { uuidv7 } from '../src/lib/ids.js';
import { agreementDoc } from './handoff-kit.js';

const url = process.env.DATABASE_URL;
const LEADS = 8;

interface Server {
  name: string;
  port: number;
  proc: ChildProcess;
  out: string[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe.skipIf(!url)('two Tandem processes on one PostgreSQL', () => {
  const dbName = `tandem_two_${uuidv7().slice(-12).replace(/-/g, '')}`;
  let dbUrl = url ? Object.assign(new URL(url), { pathname: `/${dbName}` }).toString() : '';
  /** False when the server would not let us create a database and the shared one is used. */
  let ownDb = true;
  let database: Database;
  let workspaceId: string;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const servers: Server[] = [];
  const retired: Server[] = [];

  async function start(name: string, port: number): Promise<Server> {
    const proc = spawn(process.execPath, ['bin/tandem.mjs', 'serve'], {
      cwd: process.cwd(),
      env: { ...process.env, DATABASE_URL: dbUrl, PORT: String(port), HOST: '127.0.0.1', TANDEM_SWEEP_INTERVAL_MS: '100', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server: Server = { name, port, proc, out: [] };
    proc.stdout?.on('data', (d: Buffer) => server.out.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => server.out.push(d.toString()));
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (proc.exitCode !== null) throw new Error(`${name} exited ${proc.exitCode}:\n${server.out.join('')}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return server;
      await sleep(100);
    }
    throw new Error(`${name} did not answer /health:\n${server.out.join('')}`);
  }

  async function stop(server: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.proc.once('exit', () => resolve()));
    server.proc.kill(signal);
    const timer = setTimeout(() => server.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async function call(server: Server, who: string, method: 'GET' | 'POST', path: string, body?: unknown) {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${keys[who]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely.
    return { status: res.status, body: (await res.json()) as any };
  }

  /** How many timers each process says it fired, from its own log. */
  function firedByLog(server: Server): number {
    let n = 0;
    for (const line of server.out.join('').split('\n')) {
      if (!line.includes('"timers fired"')) continue;
      n += (JSON.parse(line) as { fired: number }).fired;
    }
    return n;
  }

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${dbName}`);
    } catch (error) {
      // Without CREATEDB the processes share the test database; they may then also fire other
      // tests' overdue timers, so the per-process counts below are only a lower bound.
      console.warn(`two-servers: using the shared database (${(error as Error).message})`);
      ownDb = false;
      dbUrl = url as string;
    }
    await admin.end();
    database = await openDatabase({ databaseUrl: dbUrl, poolSize: 4 });
    await migrateToLatest(database.db);
    const deps = { db: database.db, clock: systemClock };
    const ws = await createWorkspace(database.db, systemClock, { slug: `two-servers-${dbName.slice(-8)}`, name: 'Two servers' });
    workspaceId = ws.id;
    for (const [name, team, level] of [
      ['marketer', 'marketing', 'member'],
      ['marketingLead', 'marketing', 'lead'],
      ['rep1', 'sales', 'member'],
      ['rep2', 'sales', 'member'],
      ['salesLead', 'sales', 'lead'],
    ] as const) {
      const user = await createUser(deps, ws.id, null, { email: `${name.toLowerCase()}@two.test`, name, team, level });
      ids[name] = user.id;
      keys[name] = (await createApiKey(deps, actorFromUser(user, 'api_key'), 'test')).key;
    }
    const [a, b] = await Promise.all([freePort(), freePort()]);
    servers.push(...(await Promise.all([start('A', a), start('B', b)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...servers, ...retired].map((s) => stop(s)));
    await database?.close();
    if (!ownDb) return;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }, 30_000);

  const leadIds: string[] = [];
  let handedOffAt = 0;

  it('hands each lead off exactly once when both servers are asked at the same moment, keeping round robin across them', async () => {
    const [A, B] = servers as [Server, Server];
    const draft = await call(A, 'marketingLead', 'POST', '/api/agreements', {
      document: agreementDoc({
        sla: { acceptWithin: '2s', firstContactWithin: '1h' },
        calendar: { timeZone: 'UTC', workingDays: [1, 2, 3, 4, 5, 6, 7], hours: { start: '00:00', end: '24:00' }, holidays: [] },
        routing: {
          fallbackPool: [
            { user: 'rep1@two.test', weight: 1 },
            { user: 'rep2@two.test', weight: 1 },
          ],
        },
      }),
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    expect((await call(B, 'marketingLead', 'POST', `/api/agreements/${draft.body.id}/propose`)).status).toBe(200);
    const signatures = await Promise.all([
      call(A, 'marketingLead', 'POST', `/api/agreements/${draft.body.id}/sign`),
      call(B, 'salesLead', 'POST', `/api/agreements/${draft.body.id}/sign`),
    ]);
    expect(signatures.map((s) => s.status)).toEqual([200, 200]);
    expect((await call(B, 'marketer', 'GET', '/api/agreement')).body).toMatchObject({ signed: true, version: 1 });

    for (let i = 0; i < LEADS; i++) {
      const created = await call(i % 2 ? A : B, 'marketer', 'POST', '/api/leads', { email: `lead${i}@two${i}.test` });
      expect(created.status).toBe(201);
      leadIds.push(created.body.id);
    }
    handedOffAt = Date.now();
    const results = await Promise.all(
      leadIds.flatMap((id) => [
        call(A, 'marketer', 'POST', `/api/leads/${id}/stage`, { stage: 'mql' }),
        call(B, 'marketingLead', 'POST', `/api/leads/${id}/stage`, { stage: 'mql' }),
      ]),
    );
    for (let i = 0; i < LEADS; i++) {
      const pair = [results[2 * i], results[2 * i + 1]].map((r) => r?.status ?? 0).sort();
      expect(pair[0], JSON.stringify(results[2 * i]?.body)).toBe(200);
      expect(pair[1]).toBeGreaterThanOrEqual(400);
      expect(pair[1]).toBeLessThan(500);
    }
    const handoffs = await database.db.selectFrom('handoffs').selectAll().where('workspace_id', '=', workspaceId).execute();
    expect(handoffs).toHaveLength(LEADS);
    expect(new Set(handoffs.map((h) => h.lead_id)).size).toBe(LEADS);
    const perRep = (id: string) => handoffs.filter((h) => h.assignee_id === id).length;
    expect([perRep(ids.rep1 as string), perRep(ids.rep2 as string)]).toEqual([LEADS / 2, LEADS / 2]);
    const created = await database.db
      .selectFrom('activities')
      .select('lead_id')
      .where('workspace_id', '=', workspaceId)
      .where('kind', '=', 'handoff.created')
      .execute();
    expect(created).toHaveLength(LEADS);
  });

  it('fires every timer exactly once and on time while both servers sweep, one of them restarting mid-clock', async () => {
    // Server A goes down and comes back with the clocks running; B sweeps alone meanwhile.
    const A = servers[0] as Server;
    await stop(A);
    retired.push(A);
    servers[0] = await start('A again', A.port);

    // Each lead: rep -> (3s) the other rep -> (6s) the unassigned queue.
    const until = handedOffAt + 20_000;
    let rows: { lead_id: string; status: string; assignee_id: string | null }[] = [];
    while (Date.now() < until) {
      rows = await database.db.selectFrom('handoffs').select(['lead_id', 'status', 'assignee_id']).where('workspace_id', '=', workspaceId).execute();
      if (rows.length === 3 * LEADS) break;
      await sleep(200);
    }
    expect(rows).toHaveLength(3 * LEADS);
    await Promise.all(servers.map((s) => stop(s)));
    retired.push(...servers.splice(0));

    const db = database.db;
    const handoffs = await db.selectFrom('handoffs').selectAll().where('workspace_id', '=', workspaceId).execute();
    const timers = await db.selectFrom('timers').selectAll().where('workspace_id', '=', workspaceId).execute();
    const acts = await db.selectFrom('activities').selectAll().where('workspace_id', '=', workspaceId).execute();
    const notes = await db.selectFrom('notifications').selectAll().where('workspace_id', '=', workspaceId).execute();

    for (const leadId of leadIds) {
      const chain = handoffs.filter((h) => h.lead_id === leadId).sort((x, y) => x.created_at.getTime() - y.created_at.getTime());
      expect(chain.map((h) => h.status)).toEqual(['reassigned', 'reassigned', 'open']);
      expect(chain[1]?.previous_handoff_id).toBe(chain[0]?.id);
      expect(chain[2]?.previous_handoff_id).toBe(chain[1]?.id);
      expect(chain[2]?.assignee_id).toBeNull();
      expect(new Set([chain[0]?.assignee_id, chain[1]?.assignee_id])).toEqual(new Set([ids.rep1, ids.rep2]));
      for (const h of chain.slice(0, 2)) {
        for (const kind of ['handoff.reminded', 'handoff.breached', 'handoff.escalated', 'handoff.reassigned']) {
          expect(
            acts.filter((a) => a.kind === kind && a.handoff_id === h.id),
            `${kind} for ${h.id}`,
          ).toHaveLength(1);
        }
        expect(notes.filter((n) => n.kind === 'handoff.assigned' && n.handoff_id === h.id)).toHaveLength(1);
        expect(notes.filter((n) => n.kind === 'handoff.escalated' && n.handoff_id === h.id && n.user_id === ids.salesLead)).toHaveLength(1);
        // Not before it was due, and not lost while a server restarted: the surviving server fires
        // it. The bound is loose on purpose (a liveness check, not a speed test): a 2-core CI
        // machine starting a process can starve the other one for a second or two.
        const breach = acts.find((a) => a.kind === 'handoff.breached' && a.handoff_id === h.id);
        expect(breach && breach.at.getTime() - h.due_at.getTime()).toBeGreaterThanOrEqual(0);
        expect(breach && breach.at.getTime() - h.due_at.getTime()).toBeLessThan(6000);
        expect(h.breached_at?.getTime()).toBe(h.due_at.getTime());
      }
      expect(notes.filter((n) => n.kind === 'handoff.unassigned' && n.handoff_id === chain[2]?.id)).toHaveLength(1);
      expect(handoffs.filter((h) => h.lead_id === leadId && h.status === 'open')).toHaveLength(1);
    }
    // Every due timer fired once: claimed once (one attempt), never failed, and the processes'
    // own counts add up to exactly the timers fired.
    const fired = timers.filter((t) => t.fired_at);
    expect(fired.length).toBeGreaterThanOrEqual(LEADS * 8);
    for (const t of fired) expect({ kind: t.kind, attempts: t.attempts, error: t.last_error }).toEqual({ kind: t.kind, attempts: 1, error: null });
    const logged = retired.map(firedByLog);
    const total = logged.reduce((x, y) => x + y, 0);
    if (ownDb) expect(total, retired.map((s) => `${s.name}: ${firedByLog(s)}`).join(', ')).toBe(fired.length);
    else expect(total).toBeGreaterThanOrEqual(fired.length);
    expect(logged.filter((n) => n > 0).length, 'both servers took part in sweeping').toBeGreaterThanOrEqual(2);
    const due = timers.filter((t) => !t.fired_at && !t.cancelled_at);
    for (const t of due) expect(t.due_at.getTime()).toBeGreaterThan(handedOffAt);
  }, 40_000);
});
