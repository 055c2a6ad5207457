import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_AGREEMENT } from '../src/domain/agreement.js';
import { type Ctx, countRows, type Person, type Res, setup } from './harness.js';

let ctx: Ctx;
// biome-ignore lint/suspicious/noExplicitAny: response bodies are loose JSON.
type Json = any;

/** Records the bad requests aim at. */
let lead: Json;
let heldLead: Json;
let holder: Person;
let openHandoff: Json;
let deal: Json;
let account: Json;

const TABLES = ['leads', 'accounts', 'deals', 'handoffs', 'activities', 'agreements', 'timers', 'notifications'] as const;

async function snapshot(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = await countRows(ctx, t);
  const users = await ctx.database.db.selectFrom('users').select('id').where('workspace_id', '=', ctx.workspace.id).execute();
  out.users = users.length;
  return out;
}

/** The records' versions: a refused request must not bump any of them. */
async function versions(): Promise<unknown> {
  const as = ctx.as(ctx.people.salesLead);
  return [
    (await as.get(`/api/leads/${lead.id}`)).body.version,
    (await as.get(`/api/leads/${heldLead.id}`)).body.version,
    (await as.get(`/api/accounts/${account.id}`)).body.version,
    (await as.get(`/api/deals/${deal.id}`)).body.version,
    (await as.get(`/api/handoffs/${openHandoff.id}`)).body.status,
  ];
}

/** Send a bad request and prove it was answered with the error shape and wrote nothing. */
async function refused(send: () => Promise<Res>, status: number, code: string): Promise<Res> {
  const before = await snapshot();
  const v = await versions();
  const res = await send();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  expect(await snapshot()).toEqual(before);
  expect(await versions()).toEqual(v);
  return res;
}

function paths(res: Res): string[] {
  return (res.body.error.details?.problems ?? []).map((p: { path: string }) => p.path);
}

/** A raw request, for bodies the JSON client cannot send. */
async function raw(person: Person, method: 'POST' | 'PATCH' | 'PUT', url: string, payload: string, headers: Record<string, string> = {}): Promise<Res> {
  const res = await ctx.app.inject({
    method,
    url,
    payload,
    headers: { authorization: `Bearer ${person.key}`, 'content-type': 'application/json', ...headers },
  });
  return { status: res.statusCode, body: JSON.parse(res.body), headers: res.headers };
}

beforeAll(async () => {
  ctx = await setup();
  const mkt = ctx.as(ctx.people.marketer);
  account = (await mkt.post('/api/accounts', { name: 'Valid Co', domain: 'valid.io' })).body;
  lead = (await mkt.post('/api/leads', { email: 'valid@valid.io' })).body;
  const handed = (await mkt.post('/api/leads', { email: 'handed@valid.io', stage: 'mql' })).body;
  openHandoff = (await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${handed.id}`)).body.items[0];
  const held = (await mkt.post('/api/leads', { email: 'held@valid.io', stage: 'mql' })).body;
  const h = (await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${held.id}`)).body.items[0];
  await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${h.id}/accept`, {});
  heldLead = (await mkt.get(`/api/leads/${held.id}`)).body;
  holder = Object.values(ctx.people).find((p) => p.user.id === heldLead.ownerId) as Person;
  expect(heldLead.stage).toBe('sal');
  expect(holder).toBeDefined();
  deal = (await ctx.as(ctx.people.rep1).post('/api/deals', { name: 'Valid deal', leadId: lead.id })).body;
});
afterAll(async () => {
  await ctx.app.close();
});

describe('malformed JSON', () => {
  const bodies = ['{"email":', '{email: "x@y.io"}', "{'a':1}", '{"a":1,}', 'nul', '{"a":"\\x"}'];
  it.each(bodies)('POST /api/leads with %s answers 400 invalid_json', async (payload) => {
    await refused(() => raw(ctx.people.marketer, 'POST', '/api/leads', payload), 400, 'invalid_json');
  });

  /** Paths name their record as :lead, :deal or :handoff; the records exist only once beforeAll ran. */
  const at = (path: string): string => path.replace(':lead', lead.id).replace(':deal', deal.id).replace(':handoff', openHandoff.id);
  it.each([
    ['PATCH', '/api/leads/:lead', 'marketer'],
    ['POST', '/api/leads/:lead/stage', 'marketer'],
    ['POST', '/api/accounts', 'marketer'],
    ['POST', '/api/deals', 'rep1'],
    ['PATCH', '/api/deals/:deal', 'rep1'],
    ['POST', '/api/handoffs/:handoff/reject', 'salesLead'],
    ['POST', '/api/handoffs/:handoff/accept', 'salesLead'],
    ['POST', '/api/agreements', 'marketingLead'],
    ['POST', '/api/users', 'admin'],
  ] as const)('%s %s answers 400 invalid_json', async (method, path, who) => {
    await refused(() => raw(ctx.people[who], method, at(path), '{"stage": "sql"', { 'if-match': '"1"' }), 400, 'invalid_json');
  });

  it('an empty body declared as JSON answers 400 invalid_json', async () => {
    await refused(() => raw(ctx.people.salesLead, 'POST', `/api/handoffs/${openHandoff.id}/accept`, ''), 400, 'invalid_json');
  });

  it('a body that is not JSON at all answers 415', async () => {
    await refused(
      () => raw(ctx.people.marketer, 'POST', '/api/leads', '<lead email="x@y.io"/>', { 'content-type': 'application/xml' }),
      415,
      'unsupported_media_type',
    );
  });

  it('a JSON array or string where an object is expected answers 400 naming body', async () => {
    const arr = await refused(() => raw(ctx.people.marketer, 'POST', '/api/leads', '[{"email":"x@y.io"}]'), 400, 'validation_failed');
    expect(paths(arr)).toEqual(['body']);
    const str = await refused(() => raw(ctx.people.marketer, 'POST', '/api/leads', '"x@y.io"'), 400, 'validation_failed');
    expect(paths(str)).toEqual(['body']);
  });
});

describe('wrong types answer 400 naming the field path in details.problems', () => {
  type Case = [label: string, who: keyof Ctx['people'], method: 'post' | 'patch', url: () => string, body: Record<string, unknown>, path: string];
  const cases: Case[] = [
    ['lead email as a number', 'marketer', 'post', () => '/api/leads', { email: 42 }, 'body.email'],
    ['lead email not an email', 'marketer', 'post', () => '/api/leads', { email: 'not-an-email' }, 'body.email'],
    ['lead without email', 'marketer', 'post', () => '/api/leads', { firstName: 'No Email' }, 'body.email'],
    ['lead firstName as an object', 'marketer', 'post', () => '/api/leads', { email: 'a@b.io', firstName: { x: 1 } }, 'body.firstName'],
    ['lead title too long', 'marketer', 'post', () => '/api/leads', { email: 'a@b.io', title: 'x'.repeat(201) }, 'body.title'],
    ['lead accountId not a uuid', 'marketer', 'post', () => '/api/leads', { email: 'a@b.io', accountId: 'acme' }, 'body.accountId'],
    ['nested property value', 'marketer', 'post', () => '/api/leads', { email: 'a@b.io', properties: { plan: { tier: 1 } } }, 'body.properties.plan'],
    ['properties as an array', 'marketer', 'post', () => '/api/leads', { email: 'a@b.io', properties: [1, 2] }, 'body.properties'],
    ['patch version as a string', 'marketer', 'patch', () => `/api/leads/${lead.id}`, { title: 'x', version: 'one' }, 'body.version'],
    ['patch version zero', 'marketer', 'patch', () => `/api/leads/${lead.id}`, { title: 'x', version: 0 }, 'body.version'],
    ['stage as a number', 'marketer', 'post', () => `/api/leads/${lead.id}/stage`, { stage: 5 }, 'body.stage'],
    ['unknown stage', 'marketer', 'post', () => `/api/leads/${lead.id}/stage`, { stage: 'golden' }, 'body.stage'],
    ['account without a name', 'marketer', 'post', () => '/api/accounts', { domain: 'x.io' }, 'body.name'],
    ['account employees as text', 'marketer', 'post', () => '/api/accounts', { name: 'A', employees: 'many' }, 'body.employees'],
    ['account employees negative', 'marketer', 'post', () => '/api/accounts', { name: 'A', employees: -1 }, 'body.employees'],
    ['account domain not a domain', 'marketer', 'post', () => '/api/accounts', { name: 'A', domain: 'http://x' }, 'body.domain'],
    ['deal amount negative', 'rep1', 'post', () => '/api/deals', { name: 'D', amount: -5 }, 'body.amount'],
    ['deal amount with 3 decimals', 'rep1', 'post', () => '/api/deals', { name: 'D', amount: '1.234' }, 'body.amount'],
    ['deal currency not ISO', 'rep1', 'post', () => '/api/deals', { name: 'D', currency: 'euro' }, 'body.currency'],
    ['deal status unknown', 'rep1', 'post', () => '/api/deals', { name: 'D', status: 'maybe' }, 'body.status'],
    ['deal close date impossible', 'rep1', 'post', () => '/api/deals', { name: 'D', closeDate: '2026-13-45' }, 'body.closeDate'],
    ['deal patch status unknown', 'rep1', 'patch', () => `/api/deals/${deal.id}`, { status: 'maybe', version: 1 }, 'body.status'],
    ['handoff reason as a number', 'salesLead', 'post', () => `/api/handoffs/${openHandoff.id}/reject`, { reason: 7 }, 'body.reason'],
    ['handoff reject without reason', 'salesLead', 'post', () => `/api/handoffs/${openHandoff.id}/reject`, {}, 'body.reason'],
    ['reassign userId not a uuid', 'salesLead', 'post', () => `/api/handoffs/${openHandoff.id}/reassign`, { userId: 'rob' }, 'body.userId'],
    ['user team unknown', 'admin', 'post', () => '/api/users', { email: 'n@b.io', name: 'N', team: 'finance' }, 'body.team'],
    ['user isAdmin as a string', 'admin', 'post', () => '/api/users', { email: 'n@b.io', name: 'N', team: 'sales', isAdmin: 'yes' }, 'body.isAdmin'],
    ['absence start not a time', 'rep1', 'post', () => '/api/absences', { startsAt: 'yesterday', endsAt: '2026-03-10T00:00:00Z' }, 'body.startsAt'],
    [
      'absence ending before it starts',
      'rep1',
      'post',
      () => '/api/absences',
      { startsAt: '2026-03-10T00:00:00Z', endsAt: '2026-03-09T00:00:00Z' },
      'body.endsAt',
    ],
  ];

  it.each(cases)('%s', async (_label, who, method, url, body, path) => {
    const res = await refused(() => ctx.as(ctx.people[who])[method](url(), body), 400, 'validation_failed');
    expect(paths(res)).toContain(path);
    for (const p of res.body.error.details.problems) expect(typeof p.message).toBe('string');
  });

  it('an invalid agreement document names the path inside the document', async () => {
    const res = await refused(() => ctx.as(ctx.people.marketingLead).post('/api/agreements', { document: { stages: 'none' } }), 400, 'validation_failed');
    expect(paths(res).some((p) => /(^|\.)document\.stages$/.test(p))).toBe(true);
  });

  it('lists every wrong field, not only the first', async () => {
    const res = await refused(() => ctx.as(ctx.people.marketer).post('/api/leads', { email: 1, firstName: 2, phone: false }), 400, 'validation_failed');
    expect(paths(res).sort()).toEqual(['body.email', 'body.firstName', 'body.phone']);
  });
});

describe('unknown fields are rejected by name', () => {
  const cases: [string, keyof Ctx['people'], 'post' | 'patch', () => string, Record<string, unknown>, string][] = [
    ['lead create', 'marketer', 'post', () => '/api/leads', { email: 'u@b.io', nickname: 'J' }, 'body.nickname'],
    ['lead patch cannot set the stage', 'marketer', 'patch', () => `/api/leads/${lead.id}`, { stage: 'sql', version: 1 }, 'body.stage'],
    [
      'lead patch cannot set the owner',
      'rep1',
      'patch',
      () => `/api/leads/${lead.id}`,
      { ownerId: '00000000-0000-4000-8000-000000000000', version: 1 },
      'body.ownerId',
    ],
    ['stage move', 'marketer', 'post', () => `/api/leads/${lead.id}/stage`, { stage: 'lead', force: true }, 'body.force'],
    ['account create', 'marketer', 'post', () => '/api/accounts', { name: 'A', website: 'a.io' }, 'body.website'],
    ['deal create', 'rep1', 'post', () => '/api/deals', { name: 'D', probability: 0.5 }, 'body.probability'],
    ['handoff accept', 'salesLead', 'post', () => `/api/handoffs/${openHandoff.id}/accept`, { skipSla: true }, 'body.skipSla'],
    ['user create', 'admin', 'post', () => '/api/users', { email: 'r@b.io', name: 'R', team: 'sales', role: 'owner' }, 'body.role'],
    ['api key create', 'rep1', 'post', () => '/api/api-keys', { name: 'k', scopes: ['all'] }, 'body.scopes'],
  ];
  it.each(cases)('%s', async (_label, who, method, url, body, path) => {
    const res = await refused(() => ctx.as(ctx.people[who])[method](url(), body), 400, 'validation_failed');
    expect(paths(res)).toContain(path);
  });

  it('sign-in refuses unknown fields too', async () => {
    const res = await refused(() => ctx.as(null).post('/api/auth/login', { email: 'a@b.io', password: 'whatever', admin: true }), 400, 'validation_failed');
    expect(paths(res)).toContain('body.admin');
  });
});

describe('bodies over the size limit', () => {
  const MiB = 1024 * 1024;

  it('answer 413 on create, and write nothing', async () => {
    const payload = JSON.stringify({ email: 'big@b.io', properties: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, 'x'.repeat(8000)])) });
    expect(payload.length).toBeGreaterThan(MiB);
    const res = await refused(() => raw(ctx.people.marketer, 'POST', '/api/leads', payload), 413, 'payload_too_large');
    expect(res.body.error.message).toContain(String(MiB));
  });

  it('answer 413 on a note, before any length rule is checked', async () => {
    const payload = JSON.stringify({ body: 'x'.repeat(MiB + 10) });
    await refused(() => raw(ctx.people.marketer, 'POST', `/api/leads/${lead.id}/notes`, payload), 413, 'payload_too_large');
  });

  it('answer 413 on an edit', async () => {
    const payload = JSON.stringify({ title: 'x'.repeat(2 * MiB), version: 1 });
    await refused(() => raw(ctx.people.marketer, 'PATCH', `/api/leads/${lead.id}`, payload), 413, 'payload_too_large');
  });

  it('a body just under the limit is not refused for its size', async () => {
    const payload = JSON.stringify({ body: 'x'.repeat(MiB - 100) });
    const res = await raw(ctx.people.marketer, 'POST', `/api/leads/${lead.id}/notes`, payload);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(paths(res)).toEqual(['body.body']);
  });
});

describe('unknown reason codes answer 400 naming body.reason and listing the allowed codes', () => {
  const allowed = (kind: 'reject' | 'handBack' | 'disqualify') => DEFAULT_AGREEMENT.reasons[kind].map((r) => r.code);

  it('on rejecting a handoff', async () => {
    const res = await refused(() => ctx.as(ctx.people.salesLead).post(`/api/handoffs/${openHandoff.id}/reject`, { reason: 'meh' }), 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.reason']);
    expect(res.body.error.details.allowed).toEqual(allowed('reject'));
    for (const code of allowed('reject')) expect(res.body.error.message).toContain(code);
  });

  it('on handing a lead back', async () => {
    const res = await refused(() => ctx.as(holder).post(`/api/leads/${heldLead.id}/hand-back`, { reason: 'meh' }), 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.reason']);
    expect(res.body.error.details.allowed).toEqual(allowed('handBack'));
  });

  it('on handing back with a code that belongs to another list', async () => {
    const res = await refused(() => ctx.as(holder).post(`/api/leads/${heldLead.id}/hand-back`, { reason: 'bad_fit' }), 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.reason']);
  });

  it('on disqualifying a lead', async () => {
    const res = await refused(
      () => ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/stage`, { stage: 'disqualified', reason: 'meh' }),
      400,
      'validation_failed',
    );
    expect(paths(res)).toEqual(['body.reason']);
    expect(res.body.error.details.allowed).toEqual(allowed('disqualify'));
  });

  it('on disqualifying without any reason', async () => {
    const res = await refused(() => ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/stage`, { stage: 'disqualified' }), 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.reason']);
    for (const code of allowed('disqualify')) expect(res.body.error.message).toContain(code);
  });

  it('a reason that needs a note, given without one, answers 400 naming body.note', async () => {
    const res = await refused(
      () => ctx.as(ctx.people.salesLead).post(`/api/handoffs/${openHandoff.id}/reject`, { reason: 'wrong_person' }),
      400,
      'validation_failed',
    );
    expect(paths(res)).toEqual(['body.note']);
  });
});

describe('ids in the path that are not UUIDs answer 400 naming params.id', () => {
  const cases: [keyof Ctx['people'], 'get' | 'post' | 'patch' | 'delete' | 'put', string, Record<string, unknown>?][] = [
    ['marketer', 'get', '/api/leads/123'],
    ['marketer', 'patch', '/api/leads/abc', { title: 'x', version: 1 }],
    ['marketer', 'post', '/api/leads/abc/stage', { stage: 'lead' }],
    ['marketer', 'post', '/api/leads/abc/notes', { body: 'x' }],
    ['marketer', 'post', `/api/leads/${encodeURIComponent("1' OR '1'='1")}/merge`, { mergeId: '00000000-0000-4000-8000-000000000000' }],
    ['marketer', 'get', '/api/leads/abc/timeline'],
    ['marketer', 'get', '/api/accounts/abc'],
    ['marketer', 'patch', '/api/accounts/abc', { name: 'x', version: 1 }],
    ['rep1', 'get', '/api/deals/abc'],
    ['rep1', 'patch', '/api/deals/abc', { name: 'x', version: 1 }],
    ['salesLead', 'get', '/api/handoffs/abc'],
    ['salesLead', 'post', '/api/handoffs/xyz/accept', {}],
    ['salesLead', 'post', '/api/handoffs/xyz/reject', { reason: 'not_ready' }],
    ['marketingLead', 'put', '/api/agreements/xyz', { document: {} }],
    ['marketingLead', 'post', '/api/agreements/xyz/sign', {}],
    ['admin', 'get', '/api/users/xyz'],
    ['admin', 'delete', '/api/api-keys/1'],
  ];
  it.each(cases)('%s %s %s', async (who, method, url, body) => {
    const client = ctx.as(ctx.people[who]);
    const res = await refused(() => (method === 'get' || method === 'delete' ? client[method](url) : client[method](url, body)), 400, 'validation_failed');
    expect(paths(res)).toEqual(['params.id']);
  });

  it('an agreement reference that is neither a number nor an id names params.ref', async () => {
    const res = await refused(() => ctx.as(ctx.people.marketingLead).get('/api/agreements/latest'), 400, 'validation_failed');
    expect(paths(res)).toEqual(['params.ref']);
  });

  it('a well-formed id that does not exist answers 404', async () => {
    await refused(() => ctx.as(ctx.people.marketer).get('/api/leads/00000000-0000-4000-8000-000000000000'), 404, 'not_found');
    await refused(() => ctx.as(ctx.people.salesLead).post('/api/handoffs/00000000-0000-4000-8000-000000000000/accept', {}), 404, 'not_found');
  });
});

describe('query strings', () => {
  it.each([
    ['/api/leads?limit=0', 'query.limit'],
    ['/api/leads?limit=many', 'query.limit'],
    ['/api/leads?limit=501', 'query.limit'],
    ['/api/leads?sort=name', 'query.sort'],
    ['/api/leads?team=finance', 'query.team'],
    ['/api/leads?accountId=acme', 'query.accountId'],
    ['/api/leads?owner=bob', 'query.owner'],
    ['/api/leads?cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
    ['/api/deals?status=maybe', 'query.status'],
    ['/api/handoffs?queue=everyone', 'query.queue'],
  ])('%s answers 400 naming %s', async (url, path) => {
    const res = await refused(() => ctx.as(ctx.people.salesLead).get(url), 400, 'validation_failed');
    expect(paths(res)).toContain(path);
  });
});

describe('other refusals keep the error shape', () => {
  it('an unknown route answers 404 not_found', async () => {
    await refused(() => ctx.as(ctx.people.marketer).get('/api/nothing-here'), 404, 'not_found');
    await refused(() => ctx.as(ctx.people.marketer).delete(`/api/leads/${lead.id}`), 404, 'not_found');
  });

  it('a stale version answers 412 and a missing one 428', async () => {
    await refused(() => ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'x' }, { 'if-match': '"99"' }), 412, 'precondition_failed');
    await refused(() => ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'x' }), 428, 'precondition_required');
  });

  it('a duplicate answers 409 conflict', async () => {
    await refused(() => ctx.as(ctx.people.marketer).post('/api/leads', { email: 'VALID@valid.io' }), 409, 'conflict');
    await refused(() => ctx.as(ctx.people.marketer).post('/api/accounts', { name: 'Again', domain: 'VALID.io' }), 409, 'conflict');
  });

  it('acting on a closed handoff answers 409 conflict', async () => {
    const closed = (await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${heldLead.id}&status=accepted`)).body.items[0];
    await refused(() => ctx.as(ctx.people.salesLead).post(`/api/handoffs/${closed.id}/accept`, {}), 409, 'conflict');
  });
});
