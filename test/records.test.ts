import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, countRows, type Person, type Res, setup } from './harness.js';

let ctx: Ctx;
beforeAll(async () => {
  ctx = await setup();
});
afterAll(async () => {
  await ctx.app.close();
});

let seq = 0;
/** A fresh, unique email, so tests in this file never collide. */
function email(local = 'lead', domain = 'example.com'): string {
  seq += 1;
  return `${local}.${seq}@${domain}`;
}
function uniqueDomain(stem: string): string {
  seq += 1;
  return `${stem}${seq}.io`;
}

function expectError(res: Res, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
}

function paths(res: Res): string[] {
  return (res.body.error.details?.problems ?? []).map((p: { path: string }) => p.path);
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are loose JSON.
type Json = any;

async function createLead(person: Person, body: Record<string, unknown>): Promise<Json> {
  const res = await ctx.as(person).post('/api/leads', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function createAccount(body: Record<string, unknown>): Promise<Json> {
  const res = await ctx.as(ctx.people.marketer).post('/api/accounts', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

function personById(id: string | null): Person {
  const found = Object.values(ctx.people).find((p) => p.user.id === id);
  if (!found) throw new Error(`no person ${id}`);
  return found;
}

/** Marketing hands the lead off; its assignee accepts it. The lead ends in SAL, owned by the assignee. */
async function handOffAndAccept(leadId: string): Promise<{ handoff: Json; assignee: Person }> {
  const moved = await ctx.as(ctx.people.marketer).post(`/api/leads/${leadId}/stage`, { stage: 'mql' });
  expect(moved.status).toBe(200);
  const list = await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${leadId}&status=open`);
  const handoff = list.body.items[0];
  const assignee = personById(handoff.assigneeId);
  const accepted = await ctx.as(assignee).post(`/api/handoffs/${handoff.id}/accept`, {});
  expect(accepted.status).toBe(200);
  return { handoff, assignee };
}

async function timelineKinds(path: string): Promise<Json[]> {
  const res = await ctx.as(ctx.people.marketer).get(`${path}/timeline?limit=500`);
  expect(res.status).toBe(200);
  return res.body.items;
}

describe('POST /api/leads', () => {
  it('creates a lead in the entry stage, owned by its creator, with ETag "1"', async () => {
    const addr = email('jane');
    const res = await ctx.as(ctx.people.marketer).post('/api/leads', {
      email: addr,
      firstName: 'Jane',
      lastName: 'Doe',
      title: 'CTO',
      phone: '+1 555 0100',
      country: 'US',
      company: 'Acme',
      source: 'webinar',
      persona: 'technical',
      status: 'new',
      properties: { score: 42, vip: true },
    });
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({
      email: addr,
      name: 'Jane Doe',
      title: 'CTO',
      phone: '+1 555 0100',
      country: 'US',
      company: 'Acme',
      source: 'webinar',
      persona: 'technical',
      status: 'new',
      properties: { score: 42, vip: true },
      stage: 'subscriber',
      ownerId: ctx.people.marketer.user.id,
      version: 1,
    });
    const got = await ctx.as(ctx.people.rep1).get(`/api/leads/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
    expect(got.headers.etag).toBe('"1"');
  });

  it('refuses an email that exists in another case with 409, pointing at the existing lead, and writes nothing', async () => {
    const first = await createLead(ctx.people.marketer, { email: email('Mixed.Case', 'Example.COM') });
    const before = await countRows(ctx, 'leads');
    const res = await ctx.as(ctx.people.marketer).post('/api/leads', { email: first.email.toLowerCase() });
    expectError(res, 409, 'conflict');
    expect(res.body.error.details).toMatchObject({ field: 'email', existingId: first.id });
    const upper = await ctx.as(ctx.people.marketer).post('/api/leads', { email: first.email.toUpperCase() });
    expectError(upper, 409, 'conflict');
    expect(await countRows(ctx, 'leads')).toBe(before);
  });

  it('refuses a lead status the agreement does not list, naming body.status', async () => {
    const before = await countRows(ctx, 'leads');
    const res = await ctx.as(ctx.people.marketer).post('/api/leads', { email: email(), status: 'hot' });
    expectError(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.status']);
    expect(await countRows(ctx, 'leads')).toBe(before);
  });

  it('refuses an owner who is not in the workspace, naming body.ownerId', async () => {
    const before = await countRows(ctx, 'leads');
    const res = await ctx.as(ctx.people.marketer).post('/api/leads', { email: email(), ownerId: '00000000-0000-4000-8000-000000000000' });
    expectError(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.ownerId']);
    expect(await countRows(ctx, 'leads')).toBe(before);
  });

  it('creates an unowned lead when ownerId is null', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email(), ownerId: null });
    expect(lead.ownerId).toBeNull();
  });

  it('links a new lead to the account whose domain matches its email, case-insensitively', async () => {
    const domain = uniqueDomain('linked');
    const account = await createAccount({ name: 'Linked Inc', domain });
    const lead = await createLead(ctx.people.marketer, { email: `someone@${domain.toUpperCase()}` });
    expect(lead.accountId).toBe(account.id);
    const other = await createLead(ctx.people.marketer, { email: email('x', uniqueDomain('unrelated')) });
    expect(other.accountId).toBeNull();
    const accountLeads = await ctx.as(ctx.people.marketer).get(`/api/leads?accountId=${account.id}`);
    expect(accountLeads.body.items.map((l: Json) => l.id)).toEqual([lead.id]);
  });

  it('keeps an explicit accountId over the domain match', async () => {
    const domain = uniqueDomain('matched');
    await createAccount({ name: 'Matched', domain });
    const chosen = await createAccount({ name: 'Chosen' });
    const lead = await createLead(ctx.people.marketer, { email: `a@${domain}`, accountId: chosen.id });
    expect(lead.accountId).toBe(chosen.id);
  });

  it('creating a lead straight into MQL creates it and hands it off in one step', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email(), stage: 'mql' });
    expect(lead.stage).toBe('mql');
    const handoffs = await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${lead.id}`);
    expect(handoffs.body.items).toHaveLength(1);
    expect(handoffs.body.items[0]).toMatchObject({ status: 'open', fromStage: 'subscriber' });
  });
});

describe('PATCH /api/leads/:id', () => {
  it('needs If-Match or version: without either it answers 428 and changes nothing', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email(), title: 'Before' });
    const res = await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'After' });
    expectError(res, 428, 'precondition_required');
    expect(res.body.error.details.currentVersion).toBe(1);
    const got = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`);
    expect(got.body.title).toBe('Before');
    expect(got.body.version).toBe(1);
  });

  it('accepts the ETag as If-Match and answers the next ETag', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    const first = await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'VP' }, { 'if-match': '"1"' });
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe('"2"');
    expect(first.body).toMatchObject({ title: 'VP', version: 2 });
    const second = await ctx.as(ctx.people.rep1).patch(`/api/leads/${lead.id}`, { phone: '123' }, { 'if-match': first.headers.etag as string });
    expect(second.status).toBe(200);
    expect(second.headers.etag).toBe('"3"');
    const weak = await ctx.as(ctx.people.rep1).patch(`/api/leads/${lead.id}`, { phone: '456' }, { 'if-match': 'W/"3"' });
    expect(weak.status).toBe(200);
    expect(weak.body.version).toBe(4);
    const byBody = await ctx.as(ctx.people.rep1).patch(`/api/leads/${lead.id}`, { phone: '789', version: 4 });
    expect(byBody.status).toBe(200);
    expect(byBody.body.version).toBe(5);
  });

  it('refuses a stale If-Match with 412 and keeps the newer value', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email(), title: 'Original' });
    const alice = await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'Alice was here' }, { 'if-match': '"1"' });
    expect(alice.status).toBe(200);
    const bob = await ctx.as(ctx.people.rep1).patch(`/api/leads/${lead.id}`, { title: 'Bob overwrites' }, { 'if-match': '"1"' });
    expectError(bob, 412, 'precondition_failed');
    expect(bob.body.error.details.currentVersion).toBe(2);
    const got = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`);
    expect(got.body.title).toBe('Alice was here');
    expect(got.body.version).toBe(2);
  });

  it('refuses a stale body version with 412 too', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'one' }, { 'if-match': '"1"' });
    expectError(await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'two', version: 1 }), 412, 'precondition_failed');
  });

  it('refuses If-Match and body.version that disagree, and an If-Match that is not a version', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    expectError(await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'x', version: 2 }, { 'if-match': '"1"' }), 400, 'validation_failed');
    const bad = await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'x' }, { 'if-match': 'banana' });
    expectError(bad, 400, 'validation_failed');
    expect(paths(bad)).toEqual(['headers.if-match']);
    expect((await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`)).body.version).toBe(1);
  });

  it('moving the stage counts as a change: an If-Match taken before it is stale', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    const moved = await ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/stage`, { stage: 'lead' });
    expect(moved.status).toBe(200);
    expect(moved.headers.etag).toBe('"2"');
    expectError(await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'stale' }, { 'if-match': '"1"' }), 412, 'precondition_failed');
  });

  it('refuses a stage move with a stale If-Match with 412 and leaves the stage', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    await ctx.as(ctx.people.marketer).patch(`/api/leads/${lead.id}`, { title: 'edited' }, { 'if-match': '"1"' });
    const res = await ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/stage`, { stage: 'lead' }, { 'if-match': '"1"' });
    expectError(res, 412, 'precondition_failed');
    expect((await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`)).body).toMatchObject({ stage: 'subscriber', version: 2 });
  });

  it('merges custom properties and deletes the ones set to null', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email(), properties: { plan: 'pro', seats: 10, trial: true } });
    const res = await ctx
      .as(ctx.people.marketer)
      .patch(`/api/leads/${lead.id}`, { properties: { seats: 25, trial: null, region: 'emea' } }, { 'if-match': '"1"' });
    expect(res.status).toBe(200);
    expect(res.body.properties).toEqual({ plan: 'pro', seats: 25, region: 'emea' });
    const again = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`);
    expect(again.body.properties).toEqual({ plan: 'pro', seats: 25, region: 'emea' });
  });

  it('clears a field set to null and records what changed on the timeline', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email(), phone: '111', title: 'Boss' });
    const res = await ctx.as(ctx.people.rep2).patch(`/api/leads/${lead.id}`, { phone: null, title: 'Chief' }, { 'if-match': '"1"' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ phone: null, title: 'Chief' });
    const entries = await timelineKinds(`/api/leads/${lead.id}`);
    const updated = entries.find((e) => e.kind === 'lead.updated');
    expect(updated).toMatchObject({
      actorId: ctx.people.rep2.user.id,
      data: { changed: { phone: { from: '111', to: null }, title: { from: 'Boss', to: 'Chief' } } },
    });
  });

  it('refuses to change the email to one another lead has (in any case) with 409 and keeps both', async () => {
    const a = await createLead(ctx.people.marketer, { email: email('taken') });
    const b = await createLead(ctx.people.marketer, { email: email('free') });
    const res = await ctx.as(ctx.people.marketer).patch(`/api/leads/${b.id}`, { email: a.email.toUpperCase() }, { 'if-match': '"1"' });
    expectError(res, 409, 'conflict');
    const got = await ctx.as(ctx.people.marketer).get(`/api/leads/${b.id}`);
    expect(got.body.email).toBe(b.email);
    expect(got.body.version).toBe(1);
  });

  it('answers 404 for a lead that does not exist', async () => {
    expectError(
      await ctx.as(ctx.people.marketer).patch('/api/leads/00000000-0000-4000-8000-000000000000', { title: 'x' }, { 'if-match': '"1"' }),
      404,
      'not_found',
    );
  });
});

describe('notes and the lead timeline', () => {
  it('shows notes, stage changes and handoff steps, with who and when', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    const note = await ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/notes`, { body: 'Met at the conference' });
    expect(note.status).toBe(201);
    ctx.clock.advance(60_000);
    const { handoff, assignee } = await handOffAndAccept(lead.id);
    await ctx.as(assignee).post(`/api/leads/${lead.id}/notes`, { body: 'Called, good fit' });

    const items = await timelineKinds(`/api/leads/${lead.id}`);
    const kinds = items.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['lead.created', 'note', 'lead.stage_changed', 'handoff.created', 'handoff.accepted']));
    const notes = items.filter((e) => e.kind === 'note');
    expect(notes.map((e) => e.data.body).sort()).toEqual(['Called, good fit', 'Met at the conference']);
    expect(notes.find((e) => e.data.body === 'Met at the conference')).toMatchObject({
      actorId: ctx.people.marketer.user.id,
      actorType: 'api_key',
      leadId: lead.id,
    });
    expect(items.find((e) => e.kind === 'handoff.accepted')).toMatchObject({ actorId: assignee.user.id, handoffId: handoff.id });
    const stageChanges = items.filter((e) => e.kind === 'lead.stage_changed').map((e) => `${e.data.from}->${e.data.to}`);
    expect(stageChanges).toEqual(expect.arrayContaining(['subscriber->mql', 'mql->sal']));
    for (const e of items) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
    // Newest first.
    const times = items.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('pages the timeline by cursor without losing or repeating entries', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    for (let i = 0; i < 7; i++) {
      await ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/notes`, { body: `note ${i}` });
      if (i % 2 === 0) ctx.clock.advance(1000);
    }
    const all = await timelineKinds(`/api/leads/${lead.id}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Res = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}/timeline?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((e: Json) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    expect(new Set(seen).size).toBe(8);
  });

  it('refuses an empty note with 400 and writes nothing', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email() });
    const before = await countRows(ctx, 'activities');
    const res = await ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/notes`, { body: '   ' });
    expectError(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.body']);
    expect(await countRows(ctx, 'activities')).toBe(before);
  });
});

describe('accounts', () => {
  it('creates, reads and edits an account with optimistic concurrency', async () => {
    const domain = uniqueDomain('acct');
    const created = await ctx
      .as(ctx.people.marketer)
      .post('/api/accounts', { name: 'Acct', domain: domain.toUpperCase(), employees: 50, properties: { tier: 'gold' } });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({ name: 'Acct', domain, employees: 50, properties: { tier: 'gold' }, version: 1 });
    const id = created.body.id;
    expectError(await ctx.as(ctx.people.rep1).patch(`/api/accounts/${id}`, { industry: 'SaaS' }), 428, 'precondition_required');
    const ok = await ctx.as(ctx.people.rep1).patch(`/api/accounts/${id}`, { industry: 'SaaS', properties: { tier: null, arr: 1000 } }, { 'if-match': '"1"' });
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.body).toMatchObject({ industry: 'SaaS', properties: { arr: 1000 }, version: 2 });
    const stale = await ctx.as(ctx.people.marketer).patch(`/api/accounts/${id}`, { industry: 'Retail' }, { 'if-match': '"1"' });
    expectError(stale, 412, 'precondition_failed');
    expect((await ctx.as(ctx.people.marketer).get(`/api/accounts/${id}`)).body.industry).toBe('SaaS');
  });

  it('refuses a domain another account has (in any case) with 409, on create and on edit', async () => {
    const domain = uniqueDomain('dup');
    await createAccount({ name: 'First', domain });
    const before = await countRows(ctx, 'accounts');
    const dup = await ctx.as(ctx.people.marketer).post('/api/accounts', { name: 'Second', domain: domain.toUpperCase() });
    expectError(dup, 409, 'conflict');
    expect(await countRows(ctx, 'accounts')).toBe(before);
    const other = await createAccount({ name: 'Third', domain: uniqueDomain('other') });
    const edit = await ctx.as(ctx.people.marketer).patch(`/api/accounts/${other.id}`, { domain }, { 'if-match': '"1"' });
    expectError(edit, 409, 'conflict');
    expect((await ctx.as(ctx.people.marketer).get(`/api/accounts/${other.id}`)).body.domain).toBe(other.domain);
  });

  it('lists accounts by text search on name and domain, and pages them', async () => {
    const stem = `zq${Date.now().toString(36)}`;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await createAccount({ name: `${stem} Company ${i}`, domain: `${stem}${i}.com` })).id);
    const byName = await ctx.as(ctx.people.marketer).get(`/api/accounts?q=${stem.toUpperCase()}%20company`);
    expect(byName.body.items.map((a: Json) => a.id).sort()).toEqual([...made].sort());
    const byDomain = await ctx.as(ctx.people.marketer).get(`/api/accounts?q=${stem}3.com`);
    expect(byDomain.body.items.map((a: Json) => a.id)).toEqual([made[3]]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Res = await ctx.as(ctx.people.marketer).get(`/api/accounts?q=${stem}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...res.body.items.map((a: Json) => a.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...made].sort());
  });

  it("shows the account's timeline: its leads' notes and changes", async () => {
    const domain = uniqueDomain('tl');
    const account = await createAccount({ name: 'Timeline Co', domain });
    const lead = await createLead(ctx.people.marketer, { email: `p@${domain}` });
    await ctx.as(ctx.people.marketer).post(`/api/leads/${lead.id}/notes`, { body: 'account-level note' });
    const items = await timelineKinds(`/api/accounts/${account.id}`);
    expect(items.map((e) => e.kind)).toEqual(expect.arrayContaining(['account.created', 'lead.created', 'note']));
    expect(items.find((e) => e.kind === 'note').data.body).toBe('account-level note');
  });
});

describe('POST /api/accounts/:id/merge', () => {
  it("moves the duplicate's leads, deals and history to the survivor and deletes the duplicate", async () => {
    const dupDomain = uniqueDomain('dupco');
    const keep = await createAccount({ name: 'Keep Co', properties: { a: 1 } });
    const dup = await createAccount({ name: 'Dup Co', domain: dupDomain, industry: 'Fintech', properties: { a: 2, b: 3 } });
    const lead = await createLead(ctx.people.marketer, { email: `x@${dupDomain}` });
    expect(lead.accountId).toBe(dup.id);
    const deal = await ctx.as(ctx.people.rep1).post('/api/deals', { name: 'Dup deal', accountId: dup.id, amount: 100 });
    expect(deal.status).toBe(201);
    const before = await countRows(ctx, 'accounts');

    const res = await ctx.as(ctx.people.marketer).post(`/api/accounts/${keep.id}/merge`, { mergeId: dup.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: keep.id, name: 'Keep Co', domain: dupDomain, industry: 'Fintech', properties: { a: 1, b: 3 } });
    expect(res.body.version).toBe(2);
    expect(await countRows(ctx, 'accounts')).toBe(before - 1);
    expectError(await ctx.as(ctx.people.marketer).get(`/api/accounts/${dup.id}`), 404, 'not_found');
    expect((await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`)).body.accountId).toBe(keep.id);
    expect((await ctx.as(ctx.people.marketer).get(`/api/deals/${deal.body.id}`)).body.accountId).toBe(keep.id);
    const items = await timelineKinds(`/api/accounts/${keep.id}`);
    const kinds = items.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['account.merged', 'lead.created', 'deal.created']));
    expect(
      items
        .filter((e) => e.kind === 'account.created')
        .map((e) => e.data.name)
        .sort(),
    ).toEqual(['Dup Co', 'Keep Co']);
    // The survivor took the domain: new leads from it link to the survivor.
    const later = await createLead(ctx.people.marketer, { email: `later@${dupDomain}` });
    expect(later.accountId).toBe(keep.id);
  });

  it('refuses merging an account into itself, or a missing duplicate, with 400 and writes nothing', async () => {
    const keep = await createAccount({ name: 'Alone' });
    const before = await countRows(ctx, 'activities');
    const self = await ctx.as(ctx.people.marketer).post(`/api/accounts/${keep.id}/merge`, { mergeId: keep.id });
    expectError(self, 400, 'validation_failed');
    expect(paths(self)).toEqual(['body.mergeId']);
    const missing = await ctx.as(ctx.people.marketer).post(`/api/accounts/${keep.id}/merge`, { mergeId: '00000000-0000-4000-8000-000000000000' });
    expectError(missing, 400, 'validation_failed');
    expect(paths(missing)).toEqual(['body.mergeId']);
    expect(await countRows(ctx, 'activities')).toBe(before);
    expect((await ctx.as(ctx.people.marketer).get(`/api/accounts/${keep.id}`)).body.version).toBe(1);
  });
});

describe('POST /api/leads/:id/merge', () => {
  it("moves the duplicate's timeline, deals and handoffs to the survivor and deletes the duplicate", async () => {
    const keep = await createLead(ctx.people.marketer, { email: email('keep'), firstName: 'Kim', properties: { a: 'keep' } });
    const dup = await createLead(ctx.people.marketer, { email: email('dup'), lastName: 'Duplicate', company: 'DupCo', properties: { a: 'dup', b: 'dup' } });
    await ctx.as(ctx.people.marketer).post(`/api/leads/${dup.id}/notes`, { body: 'note on the duplicate' });
    const { handoff, assignee } = await handOffAndAccept(dup.id);
    const deal = await ctx.as(assignee).post('/api/deals', { name: 'Dup deal', leadId: dup.id });
    expect(deal.status).toBe(201);
    const dupEntries = (await timelineKinds(`/api/leads/${dup.id}`)).map((e) => e.id);
    const before = await countRows(ctx, 'leads');

    const res = await ctx.as(ctx.people.marketingLead).post(`/api/leads/${keep.id}/merge`, { mergeId: dup.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: keep.id,
      email: keep.email,
      firstName: 'Kim',
      lastName: 'Duplicate',
      company: 'DupCo',
      properties: { a: 'keep', b: 'dup' },
    });
    expect(await countRows(ctx, 'leads')).toBe(before - 1);
    expectError(await ctx.as(ctx.people.marketer).get(`/api/leads/${dup.id}`), 404, 'not_found');

    const keepEntries = await timelineKinds(`/api/leads/${keep.id}`);
    const keepIds = keepEntries.map((e) => e.id);
    for (const id of dupEntries) expect(keepIds).toContain(id);
    expect(keepEntries.find((e) => e.kind === 'lead.merged')).toMatchObject({ data: { mergedId: dup.id, mergedEmail: dup.email } });
    expect(keepEntries.some((e) => e.kind === 'note' && e.data.body === 'note on the duplicate')).toBe(true);
    expect((await ctx.as(ctx.people.marketer).get(`/api/deals/${deal.body.id}`)).body.leadId).toBe(keep.id);
    const h = await ctx.as(ctx.people.salesLead).get(`/api/handoffs/${handoff.id}`);
    expect(h.status).toBe(200);
    expect(h.body.leadId).toBe(keep.id);
    expect((await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${dup.id}`)).body.items).toEqual([]);
    // The duplicate's email is free again.
    expect((await ctx.as(ctx.people.marketer).post('/api/leads', { email: dup.email })).status).toBe(201);
  });

  it("takes over the duplicate's open handoff, which can then be accepted on the survivor", async () => {
    const keep = await createLead(ctx.people.marketer, { email: email('keep') });
    const dup = await createLead(ctx.people.marketer, { email: email('dup'), stage: 'mql' });
    const open = (await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${dup.id}`)).body.items[0];
    const res = await ctx.as(ctx.people.marketingLead).post(`/api/leads/${keep.id}/merge`, { mergeId: dup.id });
    expect(res.status).toBe(200);
    expect(res.body.stage).toBe('mql');
    expect(res.body.ownerId).toBe(open.assigneeId);
    const accepted = await ctx.as(ctx.people.salesLead).post(`/api/handoffs/${open.id}/accept`, {});
    expect(accepted.status).toBe(200);
    expect((await ctx.as(ctx.people.marketer).get(`/api/leads/${keep.id}`)).body.stage).toBe('sal');
  });

  it('refuses merging two leads that both have an open handoff with 409 and keeps both', async () => {
    const a = await createLead(ctx.people.marketer, { email: email(), stage: 'mql' });
    const b = await createLead(ctx.people.marketer, { email: email(), stage: 'mql' });
    const before = await countRows(ctx, 'leads');
    expectError(await ctx.as(ctx.people.marketingLead).post(`/api/leads/${a.id}/merge`, { mergeId: b.id }), 409, 'conflict');
    expect(await countRows(ctx, 'leads')).toBe(before);
  });

  it('refuses a marketing member merging a lead that is being handed off (403) and changes nothing', async () => {
    const keep = await createLead(ctx.people.marketer, { email: email('keep') });
    const dup = await createLead(ctx.people.marketer, { email: email('dup'), stage: 'mql' });
    const before = await countRows(ctx, 'leads');
    expectError(await ctx.as(ctx.people.marketer).post(`/api/leads/${keep.id}/merge`, { mergeId: dup.id }), 403, 'forbidden');
    expect(await countRows(ctx, 'leads')).toBe(before);
    expect((await ctx.as(ctx.people.marketer).get(`/api/leads/${dup.id}`)).body.stage).toBe('mql');
  });

  it('refuses merging a lead into itself with 400 naming body.mergeId', async () => {
    const a = await createLead(ctx.people.marketer, { email: email() });
    const res = await ctx.as(ctx.people.marketer).post(`/api/leads/${a.id}/merge`, { mergeId: a.id });
    expectError(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['body.mergeId']);
  });
});

describe('deals', () => {
  it("creates a deal linked to a lead, taking the lead's account, and edits it with If-Match", async () => {
    const domain = uniqueDomain('dealco');
    const account = await createAccount({ name: 'Deal Co', domain });
    const lead = await createLead(ctx.people.marketer, { email: `buyer@${domain}` });
    const created = await ctx
      .as(ctx.people.rep1)
      .post('/api/deals', { name: 'Big deal', amount: '12500.50', currency: 'EUR', leadId: lead.id, closeDate: '2026-06-30' });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.body).toMatchObject({
      name: 'Big deal',
      amount: '12500.50',
      currency: 'EUR',
      stage: 'qualification',
      status: 'open',
      closeDate: '2026-06-30',
      leadId: lead.id,
      accountId: account.id,
      ownerId: ctx.people.rep1.user.id,
      version: 1,
    });
    const id = created.body.id;
    expectError(await ctx.as(ctx.people.rep1).patch(`/api/deals/${id}`, { amount: 1 }), 428, 'precondition_required');
    const ok = await ctx.as(ctx.people.rep2).patch(`/api/deals/${id}`, { amount: 15000, stage: 'proposal' }, { 'if-match': '"1"' });
    expect(ok.status).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.body).toMatchObject({ amount: '15000.00', stage: 'proposal', version: 2 });
    const stale = await ctx.as(ctx.people.rep1).patch(`/api/deals/${id}`, { stage: 'negotiation' }, { 'if-match': '"1"' });
    expectError(stale, 412, 'precondition_failed');
    expect((await ctx.as(ctx.people.rep1).get(`/api/deals/${id}`)).body.stage).toBe('proposal');
    const dealsOfLead = await ctx.as(ctx.people.marketer).get(`/api/deals?leadId=${lead.id}`);
    expect(dealsOfLead.body.items.map((d: Json) => d.id)).toEqual([id]);
  });

  it('winning a deal moves its lead from a sales stage to customer, on the timeline', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email('win') });
    const { assignee } = await handOffAndAccept(lead.id);
    const deal = await ctx.as(assignee).post('/api/deals', { name: 'Win me', leadId: lead.id, amount: 500 });
    const version = (await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`)).body.version;
    const won = await ctx.as(assignee).patch(`/api/deals/${deal.body.id}`, { status: 'won' }, { 'if-match': '"1"' });
    expect(won.status).toBe(200);
    expect(won.body.status).toBe('won');
    const after = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`);
    expect(after.body.stage).toBe('customer');
    expect(after.body.version).toBe(version + 1);
    const entries = await timelineKinds(`/api/leads/${lead.id}`);
    expect(entries.find((e) => e.kind === 'lead.stage_changed' && e.data.to === 'customer')).toMatchObject({
      dealId: deal.body.id,
      data: { from: 'sal', to: 'customer' },
    });
    expect(entries.some((e) => e.kind === 'deal.won')).toBe(true);
  });

  it('winning a deal leaves a lead that marketing holds where it is', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email('mkt') });
    const deal = await ctx.as(ctx.people.rep1).post('/api/deals', { name: 'Early', leadId: lead.id });
    const won = await ctx.as(ctx.people.rep1).patch(`/api/deals/${deal.body.id}`, { status: 'won' }, { 'if-match': '"1"' });
    expect(won.status).toBe(200);
    const after = await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`);
    expect(after.body.stage).toBe('subscriber');
    expect(after.body.version).toBe(1);
  });

  it('creating a deal already won makes its sales-held lead a customer', async () => {
    const lead = await createLead(ctx.people.marketer, { email: email('won') });
    const { assignee } = await handOffAndAccept(lead.id);
    expect((await ctx.as(assignee).post('/api/deals', { name: 'Done', leadId: lead.id, status: 'won' })).status).toBe(201);
    expect((await ctx.as(ctx.people.marketer).get(`/api/leads/${lead.id}`)).body.stage).toBe('customer');
  });

  it('refuses references to records that do not exist, naming the field, and writes nothing', async () => {
    const before = await countRows(ctx, 'deals');
    for (const field of ['leadId', 'accountId', 'ownerId']) {
      const res = await ctx.as(ctx.people.rep1).post('/api/deals', { name: 'Ghost', [field]: '00000000-0000-4000-8000-000000000000' });
      expectError(res, 400, 'validation_failed');
      expect(paths(res)).toEqual([`body.${field}`]);
    }
    expect(await countRows(ctx, 'deals')).toBe(before);
  });

  it('filters deals by status and owner', async () => {
    const mine = await ctx.as(ctx.people.rep2).post('/api/deals', { name: 'Rep2 lost', status: 'lost', lostReason: 'price' });
    const all = await ctx.as(ctx.people.rep2).get('/api/deals?owner=me&status=lost&limit=500');
    expect(all.body.items.map((d: Json) => d.id)).toContain(mine.body.id);
    for (const d of all.body.items) expect(d).toMatchObject({ ownerId: ctx.people.rep2.user.id, status: 'lost' });
    const others = await ctx.as(ctx.people.rep1).get('/api/deals?owner=me&limit=500');
    expect(others.body.items.map((d: Json) => d.id)).not.toContain(mine.body.id);
  });
});

describe('GET /api/leads filters', () => {
  const tag = `filters-${Date.now().toString(36)}`;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const m = ctx.people.marketer;
    ids.jane = (
      await createLead(m, {
        email: email('jane.smith'),
        firstName: 'Jane',
        lastName: 'Smith',
        company: 'Globex',
        source: tag,
        persona: 'economic',
        status: 'new',
      })
    ).id;
    ids.percent = (await createLead(m, { email: email('pc'), company: '100% Foods', source: tag, persona: 'technical' })).id;
    ids.thousand = (await createLead(m, { email: email('th'), company: '1000 Foods', source: tag, persona: 'technical', status: 'qualified' })).id;
    ids.unowned = (await createLead(m, { email: email('nobody'), ownerId: null, source: tag })).id;
    ids.byLead = (await createLead(ctx.people.marketingLead, { email: email('ml'), source: tag, stage: 'lead' })).id;
    const sold = await createLead(m, { email: email('sold'), source: tag, company: 'Initech' });
    ids.sales = sold.id;
    await handOffAndAccept(sold.id);
  });

  async function find(query: string, as: Person = ctx.people.marketer): Promise<string[]> {
    const res = await ctx.as(as).get(`/api/leads?source=${tag}&limit=500&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items.map((l: Json) => l.id).sort();
  }
  const sorted = (...names: string[]) => names.map((n) => ids[n]).sort();

  it('filters by source', async () => {
    expect(await find('')).toEqual(sorted('jane', 'percent', 'thousand', 'unowned', 'byLead', 'sales'));
  });

  it('filters by one stage or several', async () => {
    expect(await find('stage=lead')).toEqual(sorted('byLead'));
    expect(await find('stage=lead,sal')).toEqual(sorted('byLead', 'sales'));
  });

  it('filters by the team that owns the stage', async () => {
    expect(await find('team=sales')).toEqual(sorted('sales'));
    expect(await find('team=marketing')).toEqual(sorted('jane', 'percent', 'thousand', 'unowned', 'byLead'));
  });

  it('filters by owner: me, none, or a user id', async () => {
    expect(await find('owner=me', ctx.people.marketingLead)).toEqual(sorted('byLead'));
    expect(await find('owner=none')).toEqual(sorted('unowned'));
    expect(await find(`owner=${ctx.people.marketingLead.user.id}`)).toEqual(sorted('byLead'));
    expect(await find('owner=me')).toEqual(sorted('jane', 'percent', 'thousand'));
  });

  it('filters by status and persona', async () => {
    expect(await find('status=qualified')).toEqual(sorted('thousand'));
    expect(await find('persona=technical')).toEqual(sorted('percent', 'thousand'));
    expect(await find('persona=technical&status=qualified')).toEqual(sorted('thousand'));
  });

  it('searches text in name, email and company, case-insensitively', async () => {
    expect(await find('q=jane%20smith')).toEqual(sorted('jane'));
    expect(await find('q=SMITH')).toEqual(sorted('jane'));
    expect(await find('q=globex')).toEqual(sorted('jane'));
    expect(await find(`q=${encodeURIComponent('nobody.')}`)).toEqual(sorted('unowned'));
    expect(await find('q=initech')).toEqual(sorted('sales'));
  });

  it('treats % and _ in the search text literally', async () => {
    expect(await find(`q=${encodeURIComponent('100%')}`)).toEqual(sorted('percent'));
    expect(await find(`q=${encodeURIComponent('_')}`)).toEqual([]);
  });

  it('refuses an owner that is neither me, none nor a user id with 400 naming query.owner', async () => {
    const res = await ctx.as(ctx.people.marketer).get('/api/leads?owner=bob');
    expectError(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['query.owner']);
  });
});

describe('GET /api/leads pagination', () => {
  const tag = `paging-${Date.now().toString(36)}`;
  const made: string[] = [];

  beforeAll(async () => {
    // 23 leads over a few instants, several sharing a timestamp, emails in mixed order.
    for (let i = 0; i < 23; i++) {
      const local = `${String.fromCharCode(97 + ((i * 7) % 26))}${i}`;
      made.push((await createLead(ctx.people.marketer, { email: email(local), source: tag })).id);
      if (i % 4 === 3) ctx.clock.advance(1000);
    }
    // Touch some so updated_at differs from created order, with ties.
    for (const id of made.filter((_, i) => i % 3 === 0)) {
      await ctx.as(ctx.people.marketer).patch(`/api/leads/${id}`, { title: 'touched' }, { 'if-match': '"1"' });
      if (made.indexOf(id) % 2 === 0) ctx.clock.advance(500);
    }
  });

  it.each(['created', '-created', 'updated', '-updated', 'email', '-email'])('walks every page sorted by %s with no duplicates or gaps', async (sort) => {
    const whole = await ctx.as(ctx.people.marketer).get(`/api/leads?source=${tag}&sort=${sort}&limit=500`);
    expect(whole.body.nextCursor).toBeNull();
    const expected: string[] = whole.body.items.map((l: Json) => l.id);
    expect([...expected].sort()).toEqual([...made].sort());

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Res = await ctx
        .as(ctx.people.marketer)
        .get(`/api/leads?source=${tag}&sort=${sort}&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(5);
      seen.push(...res.body.items.map((l: Json) => l.id));
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBe(5);
    expect(seen).toEqual(expected);

    // The single page is really in the asked order.
    const key = sort.replace('-', '');
    const values = whole.body.items.map((l: Json) => (key === 'email' ? l.email : key === 'updated' ? l.updatedAt : l.id));
    const desc = sort.startsWith('-');
    for (let i = 1; i < values.length; i++) {
      if (key === 'email') continue; // database collation decides; the id order check above covers consistency
      if (desc) expect(values[i] <= values[i - 1]).toBe(true);
      else expect(values[i] >= values[i - 1]).toBe(true);
    }
  });

  it('refuses a cursor it did not give out with 400 naming query.cursor', async () => {
    const res = await ctx.as(ctx.people.marketer).get('/api/leads?cursor=not-a-cursor');
    expectError(res, 400, 'validation_failed');
    expect(paths(res)).toEqual(['query.cursor']);
  });
});
