import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { Ingestor } from '../src/features/tracking/tracking.ingest.js';
import { parsePayload } from '../src/features/tracking/tracking.parse.js';
import { buildServer } from '../src/http/server.js';
import { type Ctx, countRows, setup } from './harness.js';
import { hasSharedData, SHARED_DATA } from './shared-data.js';

const DATA = SHARED_DATA;

let ctx: Ctx;
let writeKey: string;

beforeAll(async () => {
  ctx = await setup();
  const created = await ctx.as(ctx.people.marketingLead).post('/api/write-keys', { name: 'website' });
  expect(created.status).toBe(201);
  writeKey = created.body.key;
});
afterAll(() => ctx.app.close());

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });

async function send(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await ctx.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', ...basic(writeKey), ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

async function eventsOf(messageIds: string[]) {
  return ctx.database.db
    .selectFrom('events')
    .selectAll()
    .where('workspace_id', '=', ctx.workspace.id)
    .where('message_id', 'in', messageIds)
    .orderBy('at')
    .execute();
}

async function leadByEmail(email: string) {
  return ctx.database.db.selectFrom('leads').selectAll().where('workspace_id', '=', ctx.workspace.id).where('email', '=', email).executeTakeFirst();
}

let n = 0;
const mid = (label: string) => `${label}-${++n}-${Date.now()}`;

describe('write keys', () => {
  it('are created by the marketing lead or an admin, not by a rep', async () => {
    const res = await ctx.as(ctx.people.rep1).post('/api/write-keys', { name: 'nope' });
    expect(res.status).toBe(403);
    const list = await ctx.as(ctx.people.rep1).get('/api/write-keys');
    expect(list.status).toBe(200);
    expect(list.body.items.map((k: { key: string }) => k.key)).toContain(writeKey);
  });

  it('stop working once revoked', async () => {
    const made = await ctx.as(ctx.people.admin).post('/api/write-keys', { name: 'old site' });
    const key = made.body.key as string;
    const payload = { batch: [{ type: 'track', event: 'Visited', anonymousId: 'anon-revoke', messageId: mid('revoke') }] };
    expect((await send('/v1/batch', payload, basic(key))).status).toBe(200);
    expect((await ctx.as(ctx.people.admin).delete(`/api/write-keys/${made.body.id}`)).status).toBe(204);
    const refused = await send('/v1/batch', { batch: [{ ...payload.batch[0], messageId: mid('revoke') }] }, basic(key));
    expect(refused.status).toBe(401);
  });

  it('are required: no key, or a made-up one, gets 401 and stores nothing', async () => {
    const before = await countRows(ctx, 'events');
    const event = { type: 'track', event: 'X', anonymousId: 'a', messageId: mid('nokey') };
    const none = await ctx.app.inject({ method: 'POST', url: '/v1/track', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(event) });
    expect(none.statusCode).toBe(401);
    const made = `wk_${ctx.workspace.id.replaceAll('-', '')}_${'0'.repeat(36)}`;
    expect((await send('/v1/track', event, basic(made))).status).toBe(401);
    expect(await countRows(ctx, 'events')).toBe(before);
  });
});

describe('settings for Segment’s browser library', () => {
  it('point analytics.js at this server for a known write key, and are not found for another', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: `/v1/projects/${writeKey}/settings`,
      headers: { host: 'tandem.example:4000', 'x-forwarded-proto': 'https' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.json().integrations['Segment.io']).toEqual({ apiKey: writeKey, apiHost: 'tandem.example:4000/v1', protocol: 'https' });
    const unknown = await ctx.app.inject({ method: 'GET', url: '/v1/projects/wk_nothing/settings' });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('the tracking API', () => {
  it('creates the lead on identify and joins the visitor’s anonymous history to it', async () => {
    const anon = `anon-${mid('a')}`;
    const early = [
      { type: 'page', name: 'Pricing', anonymousId: anon, properties: { path: '/pricing' }, messageId: mid('p'), timestamp: '2026-03-01T10:00:00Z' },
      {
        type: 'track',
        event: 'Whitepaper Downloaded',
        anonymousId: anon,
        properties: { title: 'ROI' },
        context: { campaign: { name: 'spring-webinar', source: 'linkedin', medium: 'paid' } },
        messageId: mid('t'),
        timestamp: '2026-03-01T10:05:00Z',
      },
    ];
    expect((await send('/v1/batch', { batch: early })).body).toMatchObject({ success: true, stored: 2, duplicates: 0 });
    const identify = {
      type: 'identify',
      anonymousId: anon,
      userId: 'user-grace',
      traits: { email: 'Grace.Hopper@Navy.example', name: 'Grace Hopper', title: 'Rear Admiral', company: 'US Navy', plan: 'enterprise' },
      messageId: mid('i'),
    };
    expect((await send('/v1/identify', identify)).status).toBe(200);
    const lead = await leadByEmail('grace.hopper@navy.example');
    expect(lead).toMatchObject({ first_name: 'Grace', last_name: 'Hopper', title: 'Rear Admiral', company: 'US Navy', stage: 'subscriber' });
    expect(lead?.properties).toMatchObject({ plan: 'enterprise' });
    const events = await eventsOf([...early.map((e) => e.messageId), identify.messageId]);
    expect(events).toHaveLength(3);
    expect(events.every((e) => e.lead_id === lead?.id)).toBe(true);
    const touch = events.find((e) => e.type === 'track');
    expect(touch?.campaign).toEqual({ name: 'spring-webinar', source: 'linkedin', medium: 'paid' });
    expect(touch?.name).toBe('Whitepaper Downloaded');

    // The lead's timeline shows its behaviour among everything else, newest first.
    const timeline = await ctx.as(ctx.people.rep1).get(`/api/leads/${lead?.id}/timeline`);
    expect(timeline.status).toBe(200);
    const kinds = timeline.body.items.map((i: { kind: string }) => i.kind);
    expect(kinds).toEqual(expect.arrayContaining(['event.page', 'event.track', 'event.identify', 'lead.created']));
    expect(timeline.body.items.find((i: { kind: string }) => i.kind === 'event.track').data).toMatchObject({
      name: 'Whitepaper Downloaded',
      campaign: { name: 'spring-webinar' },
    });
    const onlyEvents = await ctx.as(ctx.people.rep1).get(`/api/leads/${lead?.id}/timeline?limit=1`);
    expect(onlyEvents.body.items).toHaveLength(1);
    expect(onlyEvents.body.nextCursor).toEqual(expect.any(String));
    const next = await ctx.as(ctx.people.rep1).get(`/api/leads/${lead?.id}/timeline?limit=10&cursor=${encodeURIComponent(onlyEvents.body.nextCursor)}`);
    expect(next.body.items.map((i: { id: string }) => i.id)).not.toContain(onlyEvents.body.items[0].id);
    expect(next.body.items.length).toBe(kinds.length - 1);

    // Later calls by userId alone reach the same lead.
    const later = { type: 'track', userId: 'user-grace', event: 'Demo Requested', messageId: mid('t') };
    expect((await send('/v1/t', later)).status).toBe(200);
    expect((await eventsOf([later.messageId]))[0]?.lead_id).toBe(lead?.id);
  });

  it('updates an existing lead’s profile without wiping what the traits leave out', async () => {
    const created = await ctx.as(ctx.people.marketer).post('/api/leads', { email: 'ada@engine.example', firstName: 'Ada', phone: '+44 1' });
    expect(created.status).toBe(201);
    const res = await send('/v1/identify', { userId: 'ada-1', traits: { email: 'ADA@engine.example', title: 'Analyst' }, messageId: mid('i') });
    expect(res.status).toBe(200);
    const lead = await leadByEmail('ada@engine.example');
    expect(lead).toMatchObject({ first_name: 'Ada', phone: '+44 1', title: 'Analyst', version: 2 });
  });

  it('stores each messageId once, however often the batch is retried', async () => {
    const batch = [1, 2, 3].map((i) => ({ type: 'track', event: 'Clicked', anonymousId: 'anon-retry', properties: { i }, messageId: mid('retry') }));
    expect((await send('/v1/batch', { batch })).body).toMatchObject({ stored: 3, duplicates: 0 });
    const again = await send('/v1/batch', { batch });
    expect(again.body).toMatchObject({ success: true, stored: 0, duplicates: 3 });
    const twice = await Promise.all([send('/v1/batch', { batch }), send('/v1/batch', { batch })]);
    expect(twice.map((r) => r.status)).toEqual([200, 200]);
    expect(await eventsOf(batch.map((e) => e.messageId))).toHaveLength(3);
  });

  it('accepts text/plain with the key in the body, gzip under a form content type, and a Bearer key', async () => {
    const plain = { type: 'track', event: 'Plain', anonymousId: 'anon-forms', writeKey, messageId: mid('plain') };
    const a = await ctx.app.inject({ method: 'POST', url: '/v1/t', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(plain) });
    expect(a.statusCode).toBe(200);
    const gz = gzipSync(JSON.stringify({ batch: [{ type: 'page', anonymousId: 'anon-forms', messageId: mid('gz') }], sentAt: new Date().toISOString() }));
    const b = await ctx.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip', ...basic(writeKey) },
      payload: gz,
    });
    expect(b.statusCode).toBe(200);
    const c = await send('/v1/page', { anonymousId: 'anon-forms', name: 'Home', messageId: mid('bearer') }, { authorization: `Bearer ${writeKey}` });
    expect(c.status).toBe(200);
    expect(await countRows(ctx, 'events')).toBeGreaterThan(0);
  });

  it('corrects the sender’s clock with sentAt, as Segment does', async () => {
    const now = ctx.clock.now().getTime();
    // The device's clock runs an hour ahead: it says the event happened 10 s before sending.
    const ahead = now + 3_600_000;
    const event = {
      type: 'track',
      event: 'Skewed',
      anonymousId: 'anon-skew',
      originalTimestamp: new Date(ahead - 10_000).toISOString(),
      sentAt: new Date(ahead).toISOString(),
      messageId: mid('skew'),
    };
    expect((await send('/v1/track', event)).status).toBe(200);
    expect((await eventsOf([event.messageId]))[0]?.at.getTime()).toBe(now - 10_000);
  });

  it('creates the account on group and ties the person to it', async () => {
    const anon = `anon-${mid('g')}`;
    await send('/v1/identify', { anonymousId: anon, traits: { email: 'lin@acme-rockets.example' }, messageId: mid('i') });
    const group = {
      type: 'group',
      anonymousId: anon,
      groupId: 'acme-1',
      traits: { name: 'Acme Rockets', website: 'https://www.acme-rockets.example/about', industry: 'Aerospace', employees: 420 },
      messageId: mid('g'),
    };
    expect((await send('/v1/group', group)).status).toBe(200);
    const account = await ctx.database.db
      .selectFrom('accounts')
      .selectAll()
      .where('workspace_id', '=', ctx.workspace.id)
      .where('domain', '=', 'acme-rockets.example')
      .executeTakeFirstOrThrow();
    expect(account).toMatchObject({ name: 'Acme Rockets', industry: 'Aerospace', employees: 420 });
    expect((await leadByEmail('lin@acme-rockets.example'))?.account_id).toBe(account.id);
    // A second group call with new traits updates the same account.
    await send('/v1/g', { ...group, traits: { employees: 450 }, messageId: mid('g') });
    const again = await ctx.database.db
      .selectFrom('accounts')
      .select(['employees'])
      .where('workspace_id', '=', ctx.workspace.id)
      .where('id', '=', account.id)
      .executeTakeFirstOrThrow();
    expect(again.employees).toBe(450);
    // Another person's call that changes the industry moves the fit of everyone at the account
    // (the default rules give a target industry 15 points); one that repeats it writes nothing.
    const fitOf = async (email: string) =>
      (
        await ctx.database.db
          .selectFrom('leads')
          .innerJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
          .select('s.fit_score')
          .where('leads.workspace_id', '=', ctx.workspace.id)
          .where('leads.email', '=', email)
          .executeTakeFirstOrThrow()
      ).fit_score;
    const before = await fitOf('lin@acme-rockets.example');
    const other = `anon-${mid('g')}`;
    await send('/v1/identify', { anonymousId: other, traits: { email: 'max@acme-rockets.example' }, messageId: mid('i') });
    await send('/v1/g', { ...group, anonymousId: other, traits: { industry: 'Software' }, messageId: mid('g') });
    expect(await fitOf('lin@acme-rockets.example')).toBe(before + 15);
    const version = async () =>
      (
        await ctx.database.db
          .selectFrom('accounts')
          .select('version')
          .where('workspace_id', '=', ctx.workspace.id)
          .where('id', '=', account.id)
          .executeTakeFirstOrThrow()
      ).version;
    const changedVersion = await version();
    await send('/v1/g', { ...group, anonymousId: other, traits: { industry: 'Software', employees: 450 }, messageId: mid('g') });
    expect(await version()).toBe(changedVersion);
  });

  it('follows an alias from an old id to the user', async () => {
    await send('/v1/identify', { userId: 'new-id-7', traits: { email: 'alias@example.org' }, messageId: mid('i') });
    const old = { type: 'track', event: 'Old', userId: 'old-id-7', messageId: mid('t') };
    await send('/v1/track', old);
    expect((await eventsOf([old.messageId]))[0]?.lead_id).toBeNull();
    expect((await send('/v1/alias', { previousId: 'old-id-7', userId: 'new-id-7', messageId: mid('a') })).status).toBe(200);
    const lead = await leadByEmail('alias@example.org');
    expect((await eventsOf([old.messageId]))[0]?.lead_id).toBe(lead?.id);
  });
});

describe('bad input', () => {
  async function rejected(path: string, body: unknown, headers: Record<string, string> = {}) {
    const before = await countRows(ctx, 'events');
    const leads = await countRows(ctx, 'leads');
    const res = await send(path, body, headers);
    expect(res.status).toBe(400);
    expect(await countRows(ctx, 'events')).toBe(before);
    expect(await countRows(ctx, 'leads')).toBe(leads);
    return res.body.error;
  }

  it('names the event and field that broke the spec, and stores nothing of that request', async () => {
    const batch = [
      { type: 'identify', userId: 'u-bad', traits: { email: 'bad.batch@example.com' }, messageId: mid('ok') },
      { type: 'track', event: 'Fine', anonymousId: 'x', messageId: mid('ok') },
      { type: 'track', anonymousId: 'x', messageId: mid('bad') },
      { type: 'launch', anonymousId: 'x' },
      { type: 'group', userId: 'u' },
    ];
    const error = await rejected('/v1/batch', { batch });
    expect(error.code).toBe('validation_failed');
    expect(error.details.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 2, path: 'batch[2].event' }),
        expect.objectContaining({ index: 3, path: 'batch[3].type' }),
        expect.objectContaining({ index: 4, path: 'batch[4].groupId' }),
      ]),
    );
    expect(await leadByEmail('bad.batch@example.com')).toBeUndefined();
  });

  it('refuses invalid JSON, a missing id, and a wrong timestamp', async () => {
    expect((await rejected('/v1/batch', '{"batch": [')).code).toBe('invalid_json');
    expect((await rejected('/v1/track', { event: 'No one' })).details.problems[0].path).toBe('body.userId');
    expect((await rejected('/v1/track', { event: 'E', userId: 'u', timestamp: 'yesterday' })).details.problems[0].path).toBe('body.timestamp');
    expect((await rejected('/v1/identify', { userId: 'u', traits: 'not an object' })).details.problems[0].path).toBe('body.traits');
  });

  it('holds to Segment’s limits: 32 KB an event, 2,500 events and 500 KB a request', async () => {
    const big = { type: 'track', event: 'Big', anonymousId: 'x', properties: { blob: 'x'.repeat(33 * 1024) } };
    const error = await rejected('/v1/batch', { batch: [big] });
    expect(error.details.problems[0]).toMatchObject({ index: 0, path: 'batch[0]' });
    const many = Array.from({ length: 2501 }, (_, i) => ({ type: 'track', event: 'E', anonymousId: 'x', messageId: `many-${i}` }));
    expect((await rejected('/v1/batch', { batch: many })).details.problems[0].path).toBe('batch');
    const heavy = Array.from({ length: 20 }, (_, i) => ({
      type: 'track',
      event: 'E',
      anonymousId: 'x',
      properties: { blob: 'y'.repeat(30 * 1024) },
      messageId: `heavy-${i}`,
    }));
    expect((await rejected('/v1/batch', { batch: heavy })).message).toMatch(/500 KB/);
  });
});

describe.skipIf(!hasSharedData)('payloads from Segment’s own testers (from ../shared/data)', () => {
  it('accepts every fixture and template', async () => {
    const payloads: unknown[] = [];
    const fixtures = join(DATA, 'segment-fixtures', 'fixtures');
    for (const dir of readdirSync(fixtures)) {
      for (const file of readdirSync(join(fixtures, dir)))
        payloads.push(JSON.parse(readFileSync(join(fixtures, dir, file), 'utf8').replaceAll('{{id}}', mid('fx'))));
    }
    const templates = join(DATA, 'segment-templates', 'templates');
    let i = 0;
    for (const file of readdirSync(templates)) {
      for (const line of readFileSync(join(templates, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const filled = line
          .replaceAll('{{id}}', () => `tpl-${++i}-${Date.now()}`)
          .replaceAll('{{now.utc}}', new Date().toISOString())
          .replaceAll('{{email}}', `person${i}@templates.example`)
          .replace(/\{\{[\w.]+\}\}/g, 'value');
        payloads.push(JSON.parse(filled));
      }
    }
    expect(payloads.length).toBeGreaterThan(90);
    const before = await countRows(ctx, 'events');
    for (const [k, payload] of payloads.entries()) {
      const res = await send('/v1/batch', { batch: [payload] });
      expect(res.status, `payload ${k}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    expect(await countRows(ctx, 'events')).toBe(before + payloads.length);
  });
});

describe('group commit', () => {
  it('writes requests that arrive the moment the previous group is answered (no request is left waiting)', async () => {
    const ingestor = new Ingestor(ctx.database.db, ctx.clock);
    let k = 0;
    const request = () =>
      Array.from({ length: 3 }, () => ({
        ...parsePayload(
          Buffer.from(JSON.stringify({ type: 'track', event: 'Tick', anonymousId: 'gc', messageId: `gc-${++k}-${Date.now()}` })),
          'track',
          ctx.clock.now(),
        ).events[0],
      }));
    for (let round = 0; round < 25; round++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => ingestor.submit(ctx.workspace.id, request() as never)));
      expect(results.every((r) => r.stored === 3)).toBe(true);
    }
    await ingestor.flush();
    expect(ingestor.queued).toBe(0);
  });
});

describe('back-pressure', () => {
  it('answers 429 with Retry-After when more is waiting than the queue holds', async () => {
    const app = await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://', TANDEM_INGEST_QUEUE: '5' }), database: ctx.database, clock: ctx.clock });
    try {
      const batch = (k: number) => ({
        batch: Array.from({ length: 4 }, (_, i) => ({ type: 'track', event: 'Load', anonymousId: 'q', messageId: `${mid('q')}-${k}-${i}` })),
      });
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          app.inject({
            method: 'POST',
            url: '/v1/batch',
            headers: { 'content-type': 'application/json', ...basic(writeKey) },
            payload: JSON.stringify(batch(k)),
          }),
        ),
      );
      const limited = results.filter((r) => r.statusCode === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0]?.headers['retry-after']).toBe('1');
      expect(results.filter((r) => r.statusCode === 200).length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});
