import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, countRows, type Person, type Res, setup } from './harness.js';

/** Workspace A acts; workspace B holds records A must never see or touch. */
let a: Ctx;
let b: Ctx;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are loose JSON.
type Json = any;

const TABLES = ['leads', 'accounts', 'deals', 'handoffs', 'activities', 'agreements', 'timers', 'notifications'] as const;

/** B's records, made through B's own API. */
const theirs = {} as {
  lead: Json;
  heldLead: Json;
  account: Json;
  deal: Json;
  handoff: Json;
  acceptedHandoff: Json;
  draft: Json;
  proposed: Json;
  notification: Json;
  apiKeyId: string;
  absenceId: string;
  user: Person;
};

async function snapshot(ctx: Ctx): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = await countRows(ctx, t);
  return out;
}

/** B's records as B reads them, to prove nothing about them changed. */
async function bState(): Promise<unknown> {
  const as = b.as(b.people.salesLead);
  return {
    lead: (await as.get(`/api/leads/${theirs.lead.id}`)).body,
    heldLead: (await as.get(`/api/leads/${theirs.heldLead.id}`)).body,
    account: (await as.get(`/api/accounts/${theirs.account.id}`)).body,
    deal: (await as.get(`/api/deals/${theirs.deal.id}`)).body,
    handoff: (await as.get(`/api/handoffs/${theirs.handoff.id}`)).body,
    agreements: (await as.get('/api/agreements')).body,
    users: (await b.as(b.people.admin).get('/api/users')).body,
    keys: (await b.as(b.people.admin).get('/api/api-keys')).body,
  };
}

beforeAll(async () => {
  [a, b] = await Promise.all([setup(), setup()]);
  const mkt = b.as(b.people.marketer);
  theirs.account = (await mkt.post('/api/accounts', { name: 'Their Co', domain: 'theirco.io' })).body;
  theirs.lead = (await mkt.post('/api/leads', { email: 'secret@theirco.io', firstName: 'Secret', company: 'Their Co' })).body;
  await mkt.post(`/api/leads/${theirs.lead.id}/notes`, { body: 'private note' });
  const handed = (await mkt.post('/api/leads', { email: 'handed@theirco.io', stage: 'mql' })).body;
  theirs.handoff = (await b.as(b.people.salesLead).get(`/api/handoffs?leadId=${handed.id}`)).body.items[0];
  const held = (await mkt.post('/api/leads', { email: 'held@theirco.io', stage: 'mql' })).body;
  const heldHandoff = (await b.as(b.people.salesLead).get(`/api/handoffs?leadId=${held.id}`)).body.items[0];
  theirs.acceptedHandoff = (await b.as(b.people.salesLead).post(`/api/handoffs/${heldHandoff.id}/accept`, {})).body;
  theirs.heldLead = (await mkt.get(`/api/leads/${held.id}`)).body;
  theirs.deal = (await b.as(b.people.rep1).post('/api/deals', { name: 'Their deal', leadId: theirs.lead.id, amount: 99 })).body;
  theirs.proposed = (await b.as(b.people.marketingLead).post('/api/agreements', {})).body;
  await b.as(b.people.marketingLead).post(`/api/agreements/${theirs.proposed.id}/propose`, {});
  theirs.draft = (await b.as(b.people.salesLead).post('/api/agreements', {})).body;
  const notes = await b.as(b.people.marketer).get('/api/notifications');
  theirs.notification = notes.body.items[0];
  theirs.apiKeyId = (await b.as(b.people.rep2).post('/api/api-keys', { name: 'their script' })).body.apiKey.id;
  theirs.absenceId = (await b.as(b.people.rep2).post('/api/absences', { startsAt: '2026-03-10T00:00:00Z', endsAt: '2026-03-12T00:00:00Z' })).body.id;
  theirs.user = b.people.rep2;
  for (const [k, v] of Object.entries(theirs)) expect(v, k).toBeDefined();
  expect(theirs.notification?.id).toBeDefined();
  expect(theirs.draft.id).toBeDefined();
});
afterAll(async () => {
  await Promise.all([a?.app.close(), b?.app.close()]);
});

function expectNotFound(res: Res, what: string): void {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(404);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe('not_found');
  // The answer must not leak the other workspace's data.
  expect(JSON.stringify(res.body)).not.toMatch(/secret@theirco|Their Co|private note/);
}

type Call = [label: string, who: keyof Ctx['people'], method: 'get' | 'post' | 'patch' | 'put' | 'delete', url: () => string, body?: () => unknown];

const calls: Call[] = [
  ['GET lead', 'marketer', 'get', () => `/api/leads/${theirs.lead.id}`],
  ['PATCH lead', 'marketer', 'patch', () => `/api/leads/${theirs.lead.id}`, () => ({ title: 'hijacked', version: 1 })],
  ['move lead stage', 'marketer', 'post', () => `/api/leads/${theirs.lead.id}/stage`, () => ({ stage: 'lead' })],
  ['hand lead off', 'marketer', 'post', () => `/api/leads/${theirs.lead.id}/stage`, () => ({ stage: 'mql' })],
  ['disqualify lead', 'marketer', 'post', () => `/api/leads/${theirs.lead.id}/stage`, () => ({ stage: 'disqualified', reason: 'spam' })],
  ['sales moves held lead', 'salesLead', 'post', () => `/api/leads/${theirs.heldLead.id}/stage`, () => ({ stage: 'sql' })],
  ['hand back lead', 'salesLead', 'post', () => `/api/leads/${theirs.heldLead.id}/hand-back`, () => ({ reason: 'went_dark' })],
  ['note on lead', 'marketer', 'post', () => `/api/leads/${theirs.lead.id}/notes`, () => ({ body: 'planted' })],
  ['lead timeline', 'marketer', 'get', () => `/api/leads/${theirs.lead.id}/timeline`],
  ['merge into their lead', 'marketer', 'post', () => `/api/leads/${theirs.lead.id}/merge`, () => ({ mergeId: theirs.heldLead.id })],
  ['GET account', 'marketer', 'get', () => `/api/accounts/${theirs.account.id}`],
  ['PATCH account', 'marketer', 'patch', () => `/api/accounts/${theirs.account.id}`, () => ({ name: 'hijacked', version: 1 })],
  [
    'merge into their account',
    'marketer',
    'post',
    () => `/api/accounts/${theirs.account.id}/merge`,
    () => ({ mergeId: '00000000-0000-4000-8000-00000000000a' }),
  ],
  ['account timeline', 'marketer', 'get', () => `/api/accounts/${theirs.account.id}/timeline`],
  ['GET deal', 'rep1', 'get', () => `/api/deals/${theirs.deal.id}`],
  ['PATCH deal', 'rep1', 'patch', () => `/api/deals/${theirs.deal.id}`, () => ({ status: 'won', version: 1 })],
  ['GET handoff', 'salesLead', 'get', () => `/api/handoffs/${theirs.handoff.id}`],
  ['accept handoff', 'salesLead', 'post', () => `/api/handoffs/${theirs.handoff.id}/accept`, () => ({})],
  ['reject handoff', 'salesLead', 'post', () => `/api/handoffs/${theirs.handoff.id}/reject`, () => ({ reason: 'not_ready' })],
  ['withdraw handoff', 'marketer', 'post', () => `/api/handoffs/${theirs.handoff.id}/withdraw`, () => ({})],
  ['reassign handoff', 'salesLead', 'post', () => `/api/handoffs/${theirs.handoff.id}/reassign`, () => ({})],
  ['record first contact', 'salesLead', 'post', () => `/api/handoffs/${theirs.acceptedHandoff.id}/contact`, () => ({})],
  ['GET agreement by id', 'marketingLead', 'get', () => `/api/agreements/${theirs.proposed.id}`],
  ['edit their draft', 'marketingLead', 'put', () => `/api/agreements/${theirs.draft.id}`, () => ({ document: theirs.draft.document })],
  ['propose their draft', 'marketingLead', 'post', () => `/api/agreements/${theirs.draft.id}/propose`, () => ({})],
  ['sign their agreement', 'salesLead', 'post', () => `/api/agreements/${theirs.proposed.id}/sign`, () => ({})],
  ['return their agreement', 'salesLead', 'post', () => `/api/agreements/${theirs.proposed.id}/return`, () => ({ comment: 'no' })],
  ['diff against their agreement', 'marketingLead', 'get', () => `/api/agreements/diff?from=0&to=${theirs.proposed.id}`],
  ['GET user', 'admin', 'get', () => `/api/users/${theirs.user.user.id}`],
  ['PATCH user', 'admin', 'patch', () => `/api/users/${theirs.user.user.id}`, () => ({ active: false })],
  ['revoke their API key', 'admin', 'delete', () => `/api/api-keys/${theirs.apiKeyId}`],
  ['delete their absence', 'admin', 'delete', () => `/api/absences/${theirs.absenceId}`],
];

describe("another workspace's ids", () => {
  it.each(calls)('%s answers 404 and writes nothing', async (label, who, method, url, body) => {
    const beforeA = await snapshot(a);
    const beforeB = await snapshot(b);
    const stateB = await bState();
    const client = a.as(a.people[who]);
    const res = method === 'get' || method === 'delete' ? await client[method](url()) : await client[method](url(), body?.(), { 'if-match': '"1"' });
    expectNotFound(res, label);
    expect(await snapshot(a)).toEqual(beforeA);
    expect(await snapshot(b)).toEqual(beforeB);
    expect(await bState()).toEqual(stateB);
  });

  it('marking their notification read marks nothing', async () => {
    const res = await a.as(a.people.marketer).post(`/api/notifications/${theirs.notification.id}/read`, {});
    expect(res.status === 404 || (res.status === 200 && res.body.marked === 0)).toBe(true);
    const mine = await b.as(b.people.marketer).get('/api/notifications');
    expect(mine.body.items.find((n: Json) => n.id === theirs.notification.id).readAt).toBeNull();
  });

  it("a version number names only this workspace's agreement", async () => {
    const res = await a.as(a.people.marketingLead).get(`/api/agreements/${theirs.proposed.version}`);
    if (res.status === 200) expect(res.body.id).not.toBe(theirs.proposed.id);
    else expectNotFound(res, 'agreement by version');
  });
});

describe("references to another workspace's records in a body", () => {
  async function refused(send: () => Promise<Res>, field: string): Promise<void> {
    const beforeA = await snapshot(a);
    const beforeB = await snapshot(b);
    const res = await send();
    expect([400, 404], JSON.stringify(res.body)).toContain(res.status);
    if (res.status === 400) expect(res.body.error.details.problems.map((p: { path: string }) => p.path)).toContain(field);
    expect(await snapshot(a)).toEqual(beforeA);
    expect(await snapshot(b)).toEqual(beforeB);
  }

  it('a lead cannot point at their account or their user', async () => {
    await refused(() => a.as(a.people.marketer).post('/api/leads', { email: 'ref1@example.com', accountId: theirs.account.id }), 'body.accountId');
    await refused(() => a.as(a.people.marketer).post('/api/leads', { email: 'ref2@example.com', ownerId: theirs.user.user.id }), 'body.ownerId');
    const mine = (await a.as(a.people.marketer).post('/api/leads', { email: 'ref3@example.com' })).body;
    await refused(() => a.as(a.people.marketer).patch(`/api/leads/${mine.id}`, { accountId: theirs.account.id }, { 'if-match': '"1"' }), 'body.accountId');
    expect((await a.as(a.people.marketer).get(`/api/leads/${mine.id}`)).body).toMatchObject({ accountId: null, version: 1 });
  });

  it('a deal cannot point at their lead, account or user', async () => {
    await refused(() => a.as(a.people.rep1).post('/api/deals', { name: 'x', leadId: theirs.lead.id }), 'body.leadId');
    await refused(() => a.as(a.people.rep1).post('/api/deals', { name: 'x', accountId: theirs.account.id }), 'body.accountId');
    await refused(() => a.as(a.people.rep1).post('/api/deals', { name: 'x', ownerId: theirs.user.user.id }), 'body.ownerId');
  });

  it('an account cannot be owned by their user', async () => {
    await refused(() => a.as(a.people.marketer).post('/api/accounts', { name: 'Mine', ownerId: theirs.user.user.id }), 'body.ownerId');
  });

  it('merging cannot pull in their lead or account', async () => {
    const mine = (await a.as(a.people.marketer).post('/api/leads', { email: 'merge.target@example.com' })).body;
    await refused(() => a.as(a.people.marketer).post(`/api/leads/${mine.id}/merge`, { mergeId: theirs.lead.id }), 'body.mergeId');
    const acct = (await a.as(a.people.marketer).post('/api/accounts', { name: 'Merge target' })).body;
    await refused(() => a.as(a.people.marketer).post(`/api/accounts/${acct.id}/merge`, { mergeId: theirs.account.id }), 'body.mergeId');
    expect((await b.as(b.people.marketer).get(`/api/leads/${theirs.lead.id}`)).status).toBe(200);
    expect((await b.as(b.people.marketer).get(`/api/accounts/${theirs.account.id}`)).status).toBe(200);
  });

  it('an absence cannot be recorded for their user', async () => {
    await refused(
      () => a.as(a.people.admin).post('/api/absences', { userId: theirs.user.user.id, startsAt: '2026-03-10T00:00:00Z', endsAt: '2026-03-11T00:00:00Z' }),
      'body.userId',
    );
  });
});

describe('lists', () => {
  it("never include the other workspace's rows, even when filtered by their ids", async () => {
    const theirIds = new Set<string>([
      theirs.lead.id,
      theirs.heldLead.id,
      theirs.account.id,
      theirs.deal.id,
      theirs.handoff.id,
      theirs.acceptedHandoff.id,
      theirs.draft.id,
      theirs.proposed.id,
      theirs.notification.id,
      theirs.apiKeyId,
      theirs.absenceId,
      ...Object.values(b.people).map((p) => p.user.id),
    ]);
    const urls: [keyof Ctx['people'], string][] = [
      ['marketer', '/api/leads?limit=500'],
      ['marketer', `/api/leads?accountId=${theirs.account.id}`],
      ['marketer', '/api/leads?q=theirco'],
      ['marketer', '/api/leads?q=secret'],
      ['marketer', '/api/accounts?limit=500'],
      ['marketer', '/api/accounts?q=their'],
      ['rep1', '/api/deals?limit=500'],
      ['rep1', `/api/deals?leadId=${theirs.lead.id}`],
      ['rep1', `/api/deals?accountId=${theirs.account.id}`],
      ['salesLead', '/api/handoffs?limit=500'],
      ['salesLead', `/api/handoffs?leadId=${theirs.heldLead.id}`],
      ['salesLead', `/api/handoffs?assigneeId=${theirs.acceptedHandoff.assigneeId}`],
      ['marketingLead', '/api/agreements'],
      ['admin', '/api/users'],
      ['admin', '/api/api-keys'],
      ['admin', '/api/absences'],
      ['marketer', '/api/notifications'],
    ];
    for (const [who, url] of urls) {
      const res = await a.as(a.people[who]).get(url);
      expect(res.status, url).toBe(200);
      for (const item of res.body.items) expect(theirIds.has(item.id), `${url} leaked ${item.id}`).toBe(false);
      expect(JSON.stringify(res.body), url).not.toMatch(/theirco|Their Co|their script/);
    }
  });

  it("the agreement in force is the workspace's own", async () => {
    const res = await a.as(a.people.marketingLead).get('/api/agreement');
    expect(res.status).toBe(200);
    expect(res.body.pending).toBeNull();
  });

  it('uniqueness is per workspace: the same lead email and account domain are free in another', async () => {
    expect((await a.as(a.people.marketer).post('/api/accounts', { name: 'Ours', domain: 'theirco.io' })).status).toBe(201);
    const res = await a.as(a.people.marketer).post('/api/leads', { email: 'SECRET@theirco.io' });
    expect(res.status).toBe(201);
    expect(res.body.accountId).not.toBe(theirs.account.id);
  });

  it('a lead is auto-linked only to an account of its own workspace', async () => {
    await b.as(b.people.marketer).post('/api/accounts', { name: 'Only B', domain: 'only-b.io' });
    const res = await a.as(a.people.marketer).post('/api/leads', { email: 'x@only-b.io' });
    expect(res.status).toBe(201);
    expect(res.body.accountId).toBeNull();
  });

  it('handoffs are routed only to people of the workspace', async () => {
    const res = await a.as(a.people.marketer).post('/api/leads', { email: 'route.me@example.com', stage: 'mql' });
    const h = (await a.as(a.people.salesLead).get(`/api/handoffs?leadId=${res.body.id}`)).body.items[0];
    const aIds = Object.values(a.people).map((p) => p.user.id);
    if (h.assigneeId !== null) expect(aIds).toContain(h.assigneeId);
  });
});

describe('credentials', () => {
  it('an API key of one workspace cannot read the other', async () => {
    const res = await a.as(a.people.admin).get(`/api/leads/${theirs.lead.id}`);
    expectNotFound(res, 'lead through A key');
    const me = await a.as(a.people.admin).get('/api/me');
    expect(me.body.workspace.id).toBe(a.workspace.id);
  });

  it("a key rewritten to name the other workspace's id is refused with 401", async () => {
    const key = a.people.admin.key;
    const forged = key.replace(a.workspace.id.replaceAll('-', ''), b.workspace.id.replaceAll('-', ''));
    expect(forged).not.toBe(key);
    const res = await a.as(null).get('/api/leads', { authorization: `Bearer ${forged}` });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it("a session cookie rewritten to name the other workspace's id is refused with 401", async () => {
    const address = `cookie.person.${a.workspace.slug}@example.com`;
    const created = await a.as(a.people.admin).post('/api/users', { email: address, name: 'Cookie', team: 'sales', password: 'long enough password' });
    expect(created.status).toBe(201);
    const login = await a.as(null).post('/api/auth/login', { email: address, password: 'long enough password' });
    expect(login.status).toBe(200);
    const raw = login.headers['set-cookie'];
    const line = (Array.isArray(raw) ? raw : [String(raw)]).find((c) => c.startsWith('tandem_session=')) as string;
    const value = (line.split(';')[0] as string).slice('tandem_session='.length);
    const token = value.split('.')[1];
    expect((await a.as(null).get('/api/me', { cookie: `tandem_session=${value}` })).status).toBe(200);
    const res = await a.as(null).get('/api/me', { cookie: `tandem_session=${b.workspace.id}.${token}` });
    expect(res.status).toBe(401);
  });

  it('signing in picks the workspace: the same email in both needs the slug', async () => {
    const body = { email: `twin.${a.workspace.slug}@example.com`, name: 'Twin', team: 'marketing', password: 'twin password 123' };
    expect((await a.as(a.people.admin).post('/api/users', body)).status).toBe(201);
    expect((await b.as(b.people.admin).post('/api/users', body)).status).toBe(201);
    const ambiguous = await a.as(null).post('/api/auth/login', { email: body.email, password: body.password });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error.details.problems[0].path).toBe('workspace');
    const inB = await a.as(null).post('/api/auth/login', { email: body.email, password: body.password, workspace: b.workspace.slug });
    expect(inB.status).toBe(200);
    expect(inB.body.workspace.id).toBe(b.workspace.id);
  });
});
