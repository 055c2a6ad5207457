import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { App } from '../src/http/context.js';
import { buildServer } from '../src/http/server.js';
import { systemClock } from '../src/lib/clock.js';
import { type Ctx, setup } from './harness.js';

/**
 * The real Segment and RudderStack clients, pointed at Tandem through a proxy that misbehaves
 * the way networks do: the first request fails with 503, and one later request is committed
 * by Tandem but its answer never reaches the client. Halfway through, the Tandem server is
 * replaced by a new one on the same database (a restart). Every event must be stored once.
 */
let ctx: Ctx;
let writeKey: string;
let backend: App;
let backendPort = 0;
let proxy: http.Server;
let proxyUrl = '';
const seen = { requests: 0, failedFirst: 0, droppedAnswers: 0 };
let failNext = true;
let dropAnswerAt = 2;

async function startBackend(): Promise<void> {
  backend = await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://' }), database: ctx.database, clock: systemClock });
  await backend.listen({ port: 0, host: '127.0.0.1' });
  backendPort = (backend.server.address() as AddressInfo).port;
}

beforeAll(async () => {
  ctx = await setup();
  writeKey = (await ctx.as(ctx.people.marketingLead).post('/api/write-keys', { name: 'clients' })).body.key;
  await startBackend();
  proxy = http.createServer((req, res) => {
    seen.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failNext) {
        failNext = false;
        seen.failedFirst += 1;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"try again"}');
        return;
      }
      const drop = seen.requests === dropAnswerAt;
      const forward = http.request({ host: '127.0.0.1', port: backendPort, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        const body: Buffer[] = [];
        answer.on('data', (c: Buffer) => body.push(c));
        answer.on('end', () => {
          if (drop) {
            // Tandem has committed; the client never hears so, and must retry.
            seen.droppedAnswers += 1;
            res.writeHead(502).end();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body));
        });
      });
      forward.on('error', () => res.writeHead(502).end());
      forward.end(Buffer.concat(chunks));
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy.close();
  await backend.close();
  await ctx.app.close();
});

async function storedFor(run: string): Promise<number[]> {
  const rows = await ctx.database.db
    .selectFrom('events')
    .select(sql<string>`properties->>'seq'`.as('seq'))
    .where('workspace_id', '=', ctx.workspace.id)
    .where(sql<string>`properties->>'run'`, '=', run)
    .execute();
  return rows.map((r) => Number(r.seq)).sort((a, b) => a - b);
}

async function restartBackend(): Promise<void> {
  await backend.close();
  await startBackend();
}

describe('real tracking clients', () => {
  it('@segment/analytics-node: nothing lost, nothing doubled across a 503, a lost answer and a restart', async () => {
    failNext = true;
    seen.requests = 0;
    dropAnswerAt = 3;
    const run = `segment-${Date.now()}`;
    const analytics = new Analytics({ writeKey, host: proxyUrl, flushAt: 5, flushInterval: 20, maxRetries: 10 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.identify({ userId: `seg-user-${run}`, traits: { email: `${run}@segment.example`, name: 'Sam Segment' } });
    for (let seq = 0; seq < 20; seq++) analytics.track({ userId: `seg-user-${run}`, event: 'Feature Used', properties: { run, seq } });
    await analytics.flush();
    await restartBackend();
    for (let seq = 20; seq < 40; seq++) analytics.track({ userId: `seg-user-${run}`, event: 'Feature Used', properties: { run, seq } });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    expect(seen.failedFirst).toBeGreaterThan(0);
    expect(seen.droppedAnswers).toBeGreaterThan(0);
    expect(await storedFor(run)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const lead = await ctx.database.db
      .selectFrom('leads')
      .select('id')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('email', '=', `${run}@segment.example`)
      .executeTakeFirst();
    expect(lead).toBeDefined();
    const linked = await ctx.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', ctx.workspace.id)
      .where('lead_id', '=', lead?.id as string)
      .executeTakeFirstOrThrow();
    expect(Number(linked.n)).toBe(41);
  }, 60_000);

  it('@rudderstack/rudder-sdk-node (gzip under a form content type): nothing lost, nothing doubled', async () => {
    failNext = true;
    seen.requests = 0;
    dropAnswerAt = 3;
    const run = `rudder-${Date.now()}`;
    const client = new RudderAnalytics(writeKey, { dataPlaneUrl: proxyUrl, flushAt: 5, flushInterval: 20, retryCount: 5, logLevel: 'error' });
    client.identify({ userId: `rs-user-${run}`, traits: { email: `${run}@rudder.example` } });
    for (let seq = 0; seq < 15; seq++) client.track({ userId: `rs-user-${run}`, event: 'Report Viewed', properties: { run, seq } });
    await new Promise<void>((resolve, reject) => client.flush((error?: Error) => (error ? reject(error) : resolve())));
    await restartBackend();
    for (let seq = 15; seq < 30; seq++) client.track({ userId: `rs-user-${run}`, event: 'Report Viewed', properties: { run, seq } });
    await new Promise<void>((resolve, reject) => client.flush((error?: Error) => (error ? reject(error) : resolve())));
    // The client flushes in the background too; wait until its queue has drained.
    const deadline = Date.now() + 20_000;
    while ((await storedFor(run)).length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(seen.failedFirst).toBeGreaterThan(0);
    expect(await storedFor(run)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  }, 60_000);
});
