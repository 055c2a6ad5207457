import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, setup } from './harness.js';

/** What the web app asks of the server beyond the record itself: allowed actions, live updates, column mapping, its own files. */
describe('serving the web app', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setup();
  });

  it('tells each person which moves they may make on a lead, and why not', async () => {
    const lead = (await ctx.as(ctx.people.marketer).post('/api/leads', { email: 'moves@example.org', stage: 'lead' })).body;
    const mine = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}/actions`);
    expect(mine.status).toBe(200);
    const move = (key: string) => mine.body.moves.find((m: { key: string }) => m.key === key);
    expect(move('mql')).toMatchObject({ allowed: true, why: null, role: 'handoff' });
    expect(move('sal')).toMatchObject({ allowed: false });
    expect(move('sal').why).toMatch(/owned by sales/);
    expect(mine.body.handBack).toBe(false);
    expect(mine.body.reasons.disqualify.length).toBeGreaterThan(0);

    const rep = await ctx.as(ctx.people.rep1).get(`/api/leads/${lead.id}/actions`);
    expect(rep.body.moves.every((m: { allowed: boolean }) => !m.allowed)).toBe(true);
    expect(rep.body.merge).toBe(false);
    const other = await ctx.as(ctx.people.rep1).get('/api/leads/00000000-0000-7000-8000-000000000000/actions');
    expect(other.status).toBe(404);
  });

  it('moves many leads at once, each checked as if alone, and lists the ones refused with why', async () => {
    const marketer = ctx.as(ctx.people.marketer);
    const ours = (await marketer.post('/api/leads', { email: 'bulk1@example.org', stage: 'lead' })).body;
    const handedOff = (await marketer.post('/api/leads', { email: 'bulk2@example.org', stage: 'mql' })).body;
    const missing = '0190a0a0-0000-7000-8000-000000000000';
    const res = await marketer.post('/api/leads/bulk/stage', { ids: [ours.id, handedOff.id, missing], stage: 'nurture' });
    expect(res.status).toBe(200);
    expect(res.body.moved).toEqual([ours.id]);
    expect(res.body.refused.map((r: { id: string; code: string }) => [r.id, r.code])).toEqual([
      [handedOff.id, 'forbidden'],
      [missing, 'not_found'],
    ]);
    expect((await marketer.get(`/api/leads/${ours.id}`)).body.stage).toBe('nurture');
    expect((await marketer.get(`/api/leads/${handedOff.id}`)).body.stage).toBe('mql');
    const empty = await marketer.post('/api/leads/bulk/stage', { ids: [], stage: 'nurture' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('ids');
  });

  it('maps a HubSpot header to fields, and names a mapping to a field that does not exist', async () => {
    const ok = await ctx.as(ctx.people.marketer).post('/api/imports/mapping', {
      entity: 'leads',
      format: 'hubspot',
      header: ['First Name', 'Email', 'Favourite colour'],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.columns).toEqual([
      { column: 'First Name', field: 'firstName' },
      { column: 'Email', field: 'email' },
      { column: 'Favourite colour', field: null },
    ]);
    expect(ok.body.fields).toContain('email');
    const bad = await ctx.as(ctx.people.marketer).post('/api/imports/mapping', {
      entity: 'leads',
      format: 'custom',
      header: ['E'],
      mapping: { E: 'e_mail' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].path).toBe('body.mapping.E');
  });

  it('streams new timeline entries of the workspace to an open page, and only of that workspace', async () => {
    const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const other = await setup();
    const received: { kind: string; leadId: string | null }[] = [];
    const req = http.get(`${base}/api/live`, { headers: { authorization: `Bearer ${ctx.people.marketer.key}` } });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    let buffer = '';
    res.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(message)?.[1];
        if (/^event: activity$/m.test(message) && data) received.push(JSON.parse(data));
      }
    });
    // The stream reads the clock of the server; the manual clock stands still, so entries are "now".
    await new Promise((r) => setTimeout(r, 300));
    const mine = (await ctx.as(ctx.people.marketer).post('/api/leads', { email: 'live@example.org', stage: 'lead' })).body;
    await other.as(other.people.marketer).post('/api/leads', { email: 'elsewhere@example.org', stage: 'lead' });
    const deadline = Date.now() + 10_000;
    while (!received.some((a) => a.leadId === mine.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    expect(received.filter((a) => a.leadId === mine.id).map((a) => a.kind)).toContain('lead.created');
    expect(received.every((a) => a.leadId === mine.id)).toBe(true);
    await other.app.close();
  });

  it('offers the demo sign-ins without a sign-in, or says there is no demo', async () => {
    const res = await ctx.as(null).get('/api/auth/demo');
    expect([200, 404]).toContain(res.status);
    if (res.status === 200) expect(res.body.people.length).toBeGreaterThan(0);
  });

  it('asks for a sign-in before streaming', async () => {
    const res = await ctx.as(null).get('/api/live');
    expect(res.status).toBe(401);
  });

  afterAll(async () => {
    await ctx.app.close();
  });
});

describe('the web app’s files', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  it('serves the page shell at / and at any page address, and JSON errors under /api', async () => {
    const home = await ctx.app.inject({ method: 'GET', url: '/' });
    expect(home.statusCode).toBe(200);
    expect(home.headers['content-type']).toMatch(/text\/html/);
    const built = home.body.includes('<div id="root">');
    // Without a build the server says how to make one; with it, every page address gets the shell.
    if (!built) {
      expect(home.body).toContain('npm run build:web');
      return;
    }
    const deep = await ctx.app.inject({ method: 'GET', url: '/leads/0190a0a0-0000-7000-8000-000000000000' });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toBe(home.body);
    expect(deep.headers['cache-control']).toBe('no-cache');
    const api = await ctx.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('not_found');
    const missing = await ctx.app.inject({ method: 'GET', url: '/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(home.body)?.[1];
    expect(script).toBeDefined();
    const asset = await ctx.app.inject({ method: 'GET', url: script as string });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
  });
});
