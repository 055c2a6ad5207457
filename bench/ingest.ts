import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { uuidv7 } from '../src/lib/ids.js';
import { forkServer, stopServer } from './child.js';
import { seed } from './setup.js';
import { CpuMeter, sleepUntil, summarize } from './stats.js';

export interface Target {
  kind: 'embedded' | 'postgres';
  dataDir?: string;
  url?: string;
}

const EVENTS_PER_REQUEST = 100;
/**
 * Clients posting at once. With 16, the PostgreSQL server idled a third of the time: each client
 * waits for its answer, so the load was bound by round trips, not by the server. The run at 64
 * measures what the server can take; the one at 16, what fewer clients see.
 */
const CONNECTION_LEVELS = [16, 64] as const;
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 15);
const BACKGROUND_PER_SECOND = 5_000;
const QUALIFYING = 100;
/**
 * Qualifying requests sent first, under the same load, and not counted (their times are printed).
 * The first qualifying request after the server starts plans the statements of qualifying,
 * routing and notifying: on the embedded database it took 70 ms where the next took 14 and 3 ms,
 * and it had been the slowest of the hundred in every traced run. The ingest levels have their
 * warm-up too.
 */
const QUALIFYING_WARMUP = 3;
const COPY_ROWS = 100_000;
const USERS = 5_000;

export interface IngestOutcome {
  lines: string[];
  problems: string[];
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(port: number, path: string, body: string, key: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Body {
  json: string;
  events: number;
}

/** Requests of 100 everyday events (page views, clicks) from known visitors and some anonymous ones. */
function makeBodies(count: number, tag: string): Body[] {
  const bodies: Body[] = [];
  const paths = ['/blog/alignment', '/docs/api', '/careers', '/blog/sla', '/'];
  let n = 0;
  for (let b = 0; b < count; b++) {
    const batch = [];
    for (let i = 0; i < EVENTS_PER_REQUEST; i++) {
      n += 1;
      const who = n % 20 === 0 ? { anonymousId: `anon-${tag}-${n % 997}` } : { userId: `u${(n * 7919) % USERS}` };
      batch.push(
        n % 3 === 0
          ? { type: 'track', event: 'Email Opened', ...who, properties: { campaign: 'newsletter-11', n }, messageId: `${tag}-${n}` }
          : {
              type: 'page',
              name: 'Article',
              ...who,
              properties: { path: paths[n % paths.length], title: 'Why sales and marketing drift apart' },
              messageId: `${tag}-${n}`,
            },
      );
    }
    bodies.push({ json: JSON.stringify({ batch, sentAt: new Date().toISOString() }), events: batch.length });
  }
  return bodies;
}

/** As many requests as the server takes, from a fixed number of connections; events acknowledged per second. */
async function closedLoop(
  port: number,
  key: string,
  bodies: Body[],
  seconds: number,
  connections = 16,
): Promise<{ eventsPerSecond: number; failures: string[]; sent: number }> {
  let next = 0;
  let acked = 0;
  const failures: string[] = [];
  const until = performance.now() + seconds * 1000;
  const start = performance.now();
  let end = start;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until && next < bodies.length) {
        const body = bodies[next++] as Body;
        const res = await post(port, '/v1/batch', body.json, key);
        if (res.status === 200) acked += body.events;
        else if (res.status === 429) await new Promise((r) => setTimeout(r, 50));
        else if (failures.length < 5) failures.push(`${res.status} ${res.text.slice(0, 200)}`);
        end = performance.now();
      }
    }),
  );
  if (next >= bodies.length) failures.push(`ran out of prepared requests after ${next}; raise the count`);
  return { eventsPerSecond: acked / ((end - start) / 1000), failures, sent: next };
}

/** The same kind of rows written with COPY in one transaction: the database's write ceiling. */
async function copyCeiling(t: Target, workspaceId: string): Promise<number> {
  const now = new Date().toISOString();
  const lines: string[] = [];
  for (let i = 0; i < COPY_ROWS; i++) {
    const props = JSON.stringify({ path: '/blog/alignment', title: 'Why sales and marketing drift apart' }).replaceAll('"', '""');
    lines.push(`${workspaceId},${uuidv7()},copy-${i},page,Article,,u${i % USERS},,${now},${now},"${props}",{}`);
  }
  const csv = `${lines.join('\n')}\n`;
  const columns = '(workspace_id, id, message_id, type, name, anonymous_id, user_id, group_id, at, received_at, properties, context)';
  if (t.kind === 'embedded') {
    const db = await PGlite.create(t.dataDir as string);
    try {
      const start = performance.now();
      await db.exec('BEGIN');
      await db.query(`COPY events ${columns} FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob([csv]) });
      await db.exec('COMMIT');
      return COPY_ROWS / ((performance.now() - start) / 1000);
    } finally {
      await db.close();
    }
  }
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    const start = performance.now();
    await client.query('BEGIN');
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(`COPY events ${columns} FROM STDIN WITH (FORMAT csv)`));
      stream.on('error', reject);
      stream.on('finish', () => resolve());
      stream.end(csv);
    });
    await client.query('COMMIT');
    return COPY_ROWS / ((performance.now() - start) / 1000);
  } finally {
    await client.end();
  }
}

/**
 * The ingest benchmark on one database: throughput of /v1/batch (validated, deduplicated,
 * committed, scored) beside the parse-only and COPY ceilings, then speed to lead under load.
 */
export async function benchIngest(t: Target, open: () => Promise<Database>, log: (s: string) => void): Promise<IngestOutcome> {
  const out: IngestOutcome = { lines: [], problems: [] };
  let database = await open();
  await migrateToLatest(database.db);
  const s = await seed(database.db, USERS + QUALIFYING + QUALIFYING_WARMUP);
  const now = new Date();
  const key = `wk_${s.workspaceId.replaceAll('-', '')}_${randomUUID().replaceAll('-', '')}`;
  await database.db
    .insertInto('write_keys')
    .values({ workspace_id: s.workspaceId, id: uuidv7(), key, name: 'bench', created_by: null, created_at: now, revoked_at: null })
    .execute();
  const identities = s.leadIds.map((leadId, i) => ({
    workspace_id: s.workspaceId,
    kind: 'user' as const,
    // Website visitors, then the leads that will request a demo (q), then those that warm up (r).
    value: i < USERS ? `u${i}` : i < USERS + QUALIFYING ? `q${i - USERS}` : `r${i - USERS - QUALIFYING}`,
    lead_id: leadId,
    account_id: null,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < identities.length; i += 1000)
    await database.db
      .insertInto('identities')
      .values(identities.slice(i, i + 1000))
      .execute();
  await database.close();

  const expectedRate = t.kind === 'embedded' ? 10_000 : 20_000;
  let server = await forkServer('./server.ts', t, { LOG_LEVEL: 'warn' });
  const levels: { connections: number; run: Awaited<ReturnType<typeof closedLoop>>; cpu: ReturnType<CpuMeter['read']> }[] = [];
  let lead: ReturnType<typeof summarize>;
  const warmup: number[] = [];
  let qualifyFailures = 0;
  try {
    await closedLoop(server.port, key, makeBodies(20, `warm-${t.kind}`), 2);
    for (const connections of CONNECTION_LEVELS) {
      log(`  ingest: ${connections} connections posting ${EVENTS_PER_REQUEST} events a request for ${SECONDS} s`);
      const bodies = makeBodies(Math.ceil((SECONDS * expectedRate * 3) / EVENTS_PER_REQUEST), `ev-${t.kind}-${connections}`);
      const meter = new CpuMeter(server.child.pid as number);
      const run = await closedLoop(server.port, key, bodies, SECONDS, connections);
      levels.push({ connections, run, cpu: meter.read() });
      out.problems.push(...run.failures.map((f) => `ingest, ${connections} connections: ${f}`));
    }

    log(`  speed to lead: ${QUALIFYING} demo requests at 10/s while ${BACKGROUND_PER_SECOND} other events/s arrive`);
    const background = makeBodies((BACKGROUND_PER_SECOND / EVENTS_PER_REQUEST) * 14, `bg-${t.kind}`);
    const bgRate = BACKGROUND_PER_SECOND / EVENTS_PER_REQUEST;
    const t0 = performance.now() + 50;
    let stopBackground = false;
    const bg = (async () => {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < background.length && !stopBackground; i++) {
        await sleepUntil(t0 + (i * 1000) / bgRate);
        pending.push(post(server.port, '/v1/batch', (background[i] as Body).json, key).catch(() => undefined));
      }
      await Promise.all(pending);
    })();
    const demo = async (userId: string, messageId: string): Promise<number> => {
      const due = performance.now();
      const body = JSON.stringify({ userId, event: 'Demo Requested', properties: { form: 'demo' }, messageId });
      const res = await post(server.port, '/v1/track', body, key);
      if (res.status !== 200) qualifyFailures += 1;
      return performance.now() - due;
    };
    for (let i = 0; i < QUALIFYING_WARMUP; i++) {
      await sleepUntil(t0 + 1000 + i * 100);
      warmup.push(await demo(`r${i}`, `demo-warmup-${t.kind}-${i}`));
    }
    const latencies: number[] = [];
    const start = t0 + 2000;
    await Promise.all(
      Array.from({ length: QUALIFYING }, async (_, i) => {
        await sleepUntil(start + i * 100);
        latencies.push(await demo(`q${i}`, `demo-${t.kind}-${i}`));
      }),
    );
    stopBackground = true;
    await bg;
    lead = summarize(latencies);
  } finally {
    await stopServer(server.child);
  }

  database = await open();
  const handed = await sql<{ n: number; notified: number }>`
    SELECT count(DISTINCT h.id)::int AS n, count(DISTINCT nt.id)::int AS notified
    FROM handoffs h
    JOIN identities i ON i.workspace_id = h.workspace_id AND i.lead_id = h.lead_id AND i.kind = 'user' AND i.value LIKE 'q%'
    LEFT JOIN notifications nt ON nt.workspace_id = h.workspace_id AND nt.handoff_id = h.id
    WHERE h.workspace_id = ${s.workspaceId}::uuid`.execute(database.db);
  const stored = await sql<{
    n: number;
    dup: number;
  }>`SELECT count(*)::int AS n, count(*) - count(DISTINCT message_id) AS dup FROM events WHERE workspace_id = ${s.workspaceId}::uuid`.execute(database.db);
  await database.close();
  const h = handed.rows[0];
  if (qualifyFailures) out.problems.push(`speed to lead: ${qualifyFailures} qualifying requests failed`);
  if ((h?.n ?? 0) !== QUALIFYING) out.problems.push(`speed to lead: ${h?.n ?? 0} handoffs for ${QUALIFYING} demo requests`);
  if ((h?.notified ?? 0) < QUALIFYING) out.problems.push(`speed to lead: only ${h?.notified ?? 0} handoffs notified someone`);
  if (Number(stored.rows[0]?.dup ?? 0) !== 0) out.problems.push(`ingest: ${stored.rows[0]?.dup} duplicated messageIds stored`);

  log('  parse-only ceiling');
  server = await forkServer('./parse-server.ts', t, { LOG_LEVEL: 'warn' });
  let parseOnly: Awaited<ReturnType<typeof closedLoop>>;
  try {
    parseOnly = await closedLoop(server.port, key, makeBodies(Math.ceil((5 * 100_000) / EVENTS_PER_REQUEST), `parse-${t.kind}`), 5);
  } finally {
    await stopServer(server.child);
  }

  log(`  COPY ceiling: ${COPY_ROWS.toLocaleString('en-US')} rows in one transaction`);
  const copy = await copyCeiling(t, s.workspaceId);

  const f = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
  const target = t.kind === 'embedded' ? 10_000 : 20_000;
  const best = Math.max(...levels.map((l) => l.run.eventsPerSecond));
  const cores = (c: (typeof levels)[number]['cpu']) =>
    `cores busy: server ${c.server.toFixed(2)}${t.kind === 'postgres' ? `, PostgreSQL ${c.postgres.toFixed(2)}` : ''}, load ${c.load.toFixed(2)}`;
  out.lines.push(
    `  Ingest, POST /v1/batch (${EVENTS_PER_REQUEST} events a request, ${SECONDS} s at each level; validated, deduplicated, committed, scored)`,
    ...levels.map((l) => `    Tandem, ${String(l.connections).padStart(2)} connections       ${f(l.run.eventsPerSecond)} events/s   (${cores(l.cpu)})`),
    `    (${(stored.rows[0]?.n ?? 0).toLocaleString('en-US')} events stored in all)`,
    `    parse-only ceiling              ${f(parseOnly.eventsPerSecond)} events/s   (same requests, a server that only parses)`,
    `    write ceiling (COPY, one tx)    ${f(copy)} rows/s`,
    `    target >= ${target.toLocaleString('en-US')} events/s ......... ${best >= target ? 'PASS' : 'FAIL'} (best level)`,
    `    target >= 1/3 of COPY ceiling ... ${best >= copy / 3 ? 'PASS' : 'FAIL'} (${((best / copy) * 100).toFixed(0)}%)`,
    `  Speed to lead (demo request → routed handoff + rep notified, committed before the 200) while ${BACKGROUND_PER_SECOND.toLocaleString('en-US')} events/s arrive`,
    `    n ${lead.n}   p50 ${lead.p50.toFixed(1)} ms   p90 ${lead.p90.toFixed(1)} ms   p99 ${lead.p99.toFixed(1)} ms   max ${lead.max.toFixed(1)} ms   (${h?.n ?? 0} handoffs, ${h?.notified ?? 0} notified)`,
    `    (before them, ${QUALIFYING_WARMUP} warm-up requests, not counted: ${warmup.map((w) => `${w.toFixed(1)} ms`).join(', ')})`,
    `    target p99 < 50 ms .............. ${lead.p99 < 50 ? 'PASS' : 'FAIL'}`,
  );
  return out;
}
