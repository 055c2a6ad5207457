import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../src/lib/secrets.js';
import { type Ctx, countRows, type Person, type Res, setup } from './harness.js';

let ctx: Ctx;
/** A person with a password, shared by the tests that only sign in (scrypt is slow on purpose). */
let shared: { id: string; email: string };
beforeAll(async () => {
  ctx = await setup();
  shared = await personWithPassword();
});
afterAll(async () => {
  await ctx.app.close();
});

const PASSWORD = 'correct horse battery';

function expectError(res: Res, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toEqual(expect.any(String));
}

function setCookies(res: Res): string[] {
  const raw = res.headers['set-cookie'];
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [String(raw)];
}

/** The session cookie a login set, as a request header value. */
function sessionCookie(res: Res): string {
  const line = setCookies(res).find((c) => c.startsWith('tandem_session='));
  if (!line) throw new Error('no session cookie was set');
  return line.split(';')[0] as string;
}

async function login(email: string, password: string, extra: Record<string, unknown> = {}): Promise<Res> {
  return ctx.as(null).post('/api/auth/login', { email, password, ...extra });
}

async function userCount(): Promise<number> {
  const rows = await ctx.database.db.selectFrom('users').select('id').where('workspace_id', '=', ctx.workspace.id).execute();
  return rows.length;
}

async function sessionsOf(userId: string): Promise<number> {
  const rows = await ctx.database.db
    .selectFrom('sessions')
    .select('token_hash')
    .where('workspace_id', '=', ctx.workspace.id)
    .where('user_id', '=', userId)
    .execute();
  return rows.length;
}

let n = 0;
/** A person with a password, added by the admin through the API. */
async function personWithPassword(team: 'marketing' | 'sales' = 'marketing'): Promise<{ id: string; email: string }> {
  n += 1;
  // Unique across workspaces too: on a shared PostgreSQL the same address would need the workspace slug.
  const email = `pw.user.${n}.${ctx.workspace.slug}@example.com`;
  const res = await ctx.as(ctx.people.admin).post('/api/users', { email, name: `Password User ${n}`, team, password: PASSWORD });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

describe('POST /api/auth/login', () => {
  it('signs in with email and password and sets an HttpOnly, SameSite session cookie', async () => {
    const u = await personWithPassword();
    const res = await login(u.email, PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: u.id, email: u.email, team: 'marketing', active: true });
    expect(res.body.workspace).toMatchObject({ id: ctx.workspace.id, slug: ctx.workspace.slug });
    expect(res.body.via).toBe('session');
    const line = setCookies(res).find((c) => c.startsWith('tandem_session='));
    expect(line).toBeDefined();
    expect(line).toMatch(/;\s*HttpOnly/i);
    expect(line).toMatch(/;\s*SameSite=(Lax|Strict)/i);
    expect(line).toMatch(/;\s*Path=\//i);
    expect(line).toMatch(/;\s*Expires=/i);
    expect(await sessionsOf(u.id)).toBe(1);
  });

  it('matches the email case-insensitively', async () => {
    const u = shared;
    const res = await login(u.email.toUpperCase(), PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(u.id);
  });

  it('refuses a wrong password with 401, sets no cookie and opens no session', async () => {
    const u = await personWithPassword();
    const res = await login(u.email, 'wrong password!');
    expectError(res, 401, 'unauthenticated');
    expect(setCookies(res).some((c) => c.startsWith('tandem_session='))).toBe(false);
    expect(await sessionsOf(u.id)).toBe(0);
  });

  it('answers an unknown email exactly like a wrong password, so it does not reveal who exists', async () => {
    const u = shared;
    const wrong = await login(u.email, 'wrong password!');
    const unknown = await login('nobody.here@example.com', 'wrong password!');
    expectError(unknown, 401, 'unauthenticated');
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses a person who has no password (API-key only) with 401', async () => {
    expectError(await login(ctx.people.marketer.user.email, 'anything at all'), 401, 'unauthenticated');
  });

  it('refuses a missing password with 400 naming body.password', async () => {
    const res = await ctx.as(null).post('/api/auth/login', { email: 'x@example.com' });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details.problems.map((p: { path: string }) => p.path)).toContain('body.password');
  });

  it('never returns the password hash', async () => {
    const u = shared;
    const res = await login(u.email, PASSWORD);
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|passwordHash|password_hash|"password"/i);
  });
});

describe('GET /api/me', () => {
  it('answers with the signed-in person when the session cookie is sent', async () => {
    const u = shared;
    const cookie = sessionCookie(await login(u.email, PASSWORD));
    const me = await ctx.as(null).get('/api/me', { cookie });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ id: u.id, email: u.email, team: 'marketing' });
    expect(me.body.via).toBe('session');
  });

  it('answers with the key owner when an API key is sent', async () => {
    const me = await ctx.as(ctx.people.rep1).get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(ctx.people.rep1.user.id);
    expect(me.body.via).toBe('api_key');
  });

  it('refuses a made-up or tampered session cookie with 401', async () => {
    const u = shared;
    const cookie = sessionCookie(await login(u.email, PASSWORD));
    const [name, value] = cookie.split('=') as [string, string];
    const [ws, token] = value.split('.') as [string, string];
    const tampered = `${name}=${ws}.${token.slice(0, -2)}xx`;
    expectError(await ctx.as(null).get('/api/me', { cookie: tampered }), 401, 'unauthenticated');
    expectError(await ctx.as(null).get('/api/me', { cookie: 'tandem_session=garbage' }), 401, 'unauthenticated');
    expectError(await ctx.as(null).get('/api/me', { cookie: `${name}=00000000-0000-4000-8000-000000000000.${token}` }), 401, 'unauthenticated');
  });

  it('stops accepting a session after it expires', async () => {
    const u = shared;
    const cookie = sessionCookie(await login(u.email, PASSWORD));
    expect((await ctx.as(null).get('/api/me', { cookie })).status).toBe(200);
    const before = ctx.clock.now();
    try {
      ctx.clock.advance(15 * 86_400_000);
      expectError(await ctx.as(null).get('/api/me', { cookie }), 401, 'unauthenticated');
    } finally {
      ctx.clock.set(before);
    }
  });
});

describe('POST /api/auth/logout', () => {
  it('ends the session: the cookie is cleared, the row deleted, and the old cookie refused', async () => {
    const u = await personWithPassword();
    const cookie = sessionCookie(await login(u.email, PASSWORD));
    expect(await sessionsOf(u.id)).toBe(1);
    const out = await ctx.as(null).post('/api/auth/logout', {}, { cookie });
    expect(out.status).toBe(204);
    const cleared = setCookies(out).find((c) => c.startsWith('tandem_session='));
    expect(cleared).toBeDefined();
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
    expect(await sessionsOf(u.id)).toBe(0);
    expectError(await ctx.as(null).get('/api/me', { cookie }), 401, 'unauthenticated');
  });

  it('ends only that session; another sign-in of the same person keeps working', async () => {
    const u = shared;
    const first = sessionCookie(await login(u.email, PASSWORD));
    const second = sessionCookie(await login(u.email, PASSWORD));
    expect(first).not.toBe(second);
    await ctx.as(null).post('/api/auth/logout', {}, { cookie: first });
    expect((await ctx.as(null).get('/api/me', { cookie: second })).status).toBe(200);
  });
});

describe('API keys', () => {
  it('shows a new key once, and stores only its hash', async () => {
    const created = await ctx.as(ctx.people.marketer).post('/api/api-keys', { name: 'nightly import' });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^tdm_[0-9a-f]{32}_[A-Za-z0-9_-]{20,}$/);
    expect(created.body.apiKey).toMatchObject({ name: 'nightly import', userId: ctx.people.marketer.user.id, revokedAt: null });
    expect(created.body.apiKey.prefix).not.toBe(key);
    expect(key).not.toContain(created.body.apiKey.prefix.replace('…', ''));

    const row = await ctx.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('workspace_id', '=', ctx.workspace.id)
      .where('id', '=', created.body.apiKey.id)
      .executeTakeFirstOrThrow();
    const secret = key.split('_').slice(2).join('_');
    for (const value of Object.values(row)) {
      expect(String(value)).not.toContain(key);
      expect(String(value)).not.toContain(secret);
    }
    expect(row.key_hash).toBe(sha256(key));

    const list = await ctx.as(ctx.people.marketer).get('/api/api-keys');
    expect(list.status).toBe(200);
    expect(list.body.items.map((k: { id: string }) => k.id)).toContain(created.body.apiKey.id);
    expect(JSON.stringify(list.body)).not.toContain(secret);

    const me = await ctx.as(null).get('/api/me', { authorization: `Bearer ${key}` });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(ctx.people.marketer.user.id);
  });

  it('refuses a revoked key with 401', async () => {
    const created = await ctx.as(ctx.people.rep1).post('/api/api-keys', { name: 'temporary' });
    const auth = { authorization: `Bearer ${created.body.key}` };
    expect((await ctx.as(null).get('/api/leads', auth)).status).toBe(200);
    const revoked = await ctx.as(ctx.people.rep1).delete(`/api/api-keys/${created.body.apiKey.id}`);
    expect(revoked.status).toBe(204);
    expectError(await ctx.as(null).get('/api/leads', auth), 401, 'unauthenticated');
    expectError(await ctx.as(null).post('/api/leads', { email: 'revoked@example.com' }, auth), 401, 'unauthenticated');
    const list = await ctx.as(ctx.people.rep1).get('/api/api-keys');
    expect(list.body.items.find((k: { id: string }) => k.id === created.body.apiKey.id).revokedAt).not.toBeNull();
  });

  it("does not let a member see or revoke someone else's key", async () => {
    const created = await ctx.as(ctx.people.rep2).post('/api/api-keys', { name: 'rep2 script' });
    const listed = await ctx.as(ctx.people.rep1).get('/api/api-keys');
    expect(listed.body.items.map((k: { id: string }) => k.id)).not.toContain(created.body.apiKey.id);
    expectError(await ctx.as(ctx.people.rep1).delete(`/api/api-keys/${created.body.apiKey.id}`), 404, 'not_found');
    expect((await ctx.as(null).get('/api/me', { authorization: `Bearer ${created.body.key}` })).status).toBe(200);
  });

  it("lets an admin revoke anyone's key", async () => {
    const created = await ctx.as(ctx.people.rep2).post('/api/api-keys', { name: 'to be revoked by admin' });
    expect((await ctx.as(ctx.people.admin).delete(`/api/api-keys/${created.body.apiKey.id}`)).status).toBe(204);
    expectError(await ctx.as(null).get('/api/me', { authorization: `Bearer ${created.body.key}` }), 401, 'unauthenticated');
  });

  it('refuses made-up and truncated keys with 401', async () => {
    const key = ctx.people.marketer.key;
    const lastChanged = `${key.slice(0, -1)}${key.endsWith('X') ? 'Y' : 'X'}`;
    for (const bad of [lastChanged, key.slice(0, 40), 'tdm_nothing', 'not-a-key', '']) {
      expectError(await ctx.as(null).get('/api/me', { authorization: `Bearer ${bad}` }), 401, 'unauthenticated');
    }
  });

  it('refuses a key name that is empty', async () => {
    const res = await ctx.as(ctx.people.marketer).post('/api/api-keys', { name: '   ' });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details.problems[0].path).toBe('body.name');
  });
});

describe('requests without credentials', () => {
  it('get 401 on every /api route the OpenAPI document lists, and write nothing', async () => {
    const doc = (await ctx.as(null).get('/api/openapi.json')).body;
    const before = await Promise.all((['leads', 'accounts', 'deals', 'handoffs', 'activities', 'agreements'] as const).map((t) => countRows(ctx, t)));
    const publicRoutes = new Set(['POST /api/auth/login', 'POST /api/auth/logout', 'GET /api/auth/demo']);
    let tried = 0;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/api/')) continue;
      for (const method of Object.keys(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const verb = method.toUpperCase();
        if (publicRoutes.has(`${verb} ${path}`)) continue;
        const url = path.replace(/\{id\}/g, '00000000-0000-4000-8000-000000000001').replace(/\{ref\}/g, '1');
        const res = await ctx.app.inject({ method: verb as 'GET', url, ...(verb === 'GET' || verb === 'DELETE' ? {} : { payload: {} }) });
        expect(res.statusCode, `${verb} ${path}`).toBe(401);
        expect(res.json().error.code, `${verb} ${path}`).toBe('unauthenticated');
        tried += 1;
      }
    }
    expect(tried).toBeGreaterThan(25);
    const after = await Promise.all((['leads', 'accounts', 'deals', 'handoffs', 'activities', 'agreements'] as const).map((t) => countRows(ctx, t)));
    expect(after).toEqual(before);
  });

  it('get 401 with an unknown scheme or an empty bearer', async () => {
    expectError(await ctx.as(null).get('/api/leads', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'unauthenticated');
    expectError(await ctx.as(null).get('/api/leads', { authorization: 'Bearer ' }), 401, 'unauthenticated');
    const before = await countRows(ctx, 'leads');
    expectError(await ctx.as(null).post('/api/leads', { email: 'anon@example.com' }), 401, 'unauthenticated');
    expect(await countRows(ctx, 'leads')).toBe(before);
  });
});

describe('public endpoints', () => {
  it('GET /health answers 200 when the database answers, without credentials', async () => {
    const res = await ctx.as(null).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: expect.stringMatching(/^(embedded|postgres)$/) });
  });

  it('GET /api/openapi.json answers without credentials', async () => {
    const res = await ctx.as(null).get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\./);
  });

  it('GET /docs answers with HTML without credentials, with or without a query string', async () => {
    for (const url of ['/docs', '/docs/', '/docs?tag=leads']) {
      const res = await ctx.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/text\/html/);
    }
  });

  it('a public path prefix does not open the API behind it', async () => {
    for (const url of ['/docs/../api/leads', '/api/leads?next=/docs/', '/health/../api/leads']) {
      const res = await ctx.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
    }
  });
});

describe('user management', () => {
  it.each(['marketer', 'marketingLead', 'rep1', 'salesLead'] as const)('refuses %s creating a user with 403 and writes nothing', async (who) => {
    const before = await userCount();
    const res = await ctx.as(ctx.people[who]).post('/api/users', { email: `made.by.${who}@example.com`, name: 'Sneaky', team: 'sales', isAdmin: true });
    expectError(res, 403, 'forbidden');
    expect(await userCount()).toBe(before);
  });

  it('refuses a non-admin changing a user (e.g. making themselves admin) with 403', async () => {
    const me = ctx.people.rep1;
    const res = await ctx.as(me).patch(`/api/users/${me.user.id}`, { isAdmin: true });
    expectError(res, 403, 'forbidden');
    const row = await ctx.database.db
      .selectFrom('users')
      .select('is_admin')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('id', '=', me.user.id)
      .executeTakeFirstOrThrow();
    expect(row.is_admin).toBe(false);
  });

  it('lets an admin create a user, and refuses the same email in another case with 409', async () => {
    const res = await ctx.as(ctx.people.admin).post('/api/users', { email: 'New.Person@example.com', name: 'New Person', team: 'sales', level: 'lead' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: 'New.Person@example.com', team: 'sales', level: 'lead', isAdmin: false, active: true });
    const before = await userCount();
    const dup = await ctx.as(ctx.people.admin).post('/api/users', { email: 'new.person@EXAMPLE.com', name: 'Again', team: 'sales' });
    expectError(dup, 409, 'conflict');
    expect(await userCount()).toBe(before);
  });

  it('refuses unknown fields when creating a user', async () => {
    const before = await userCount();
    const res = await ctx.as(ctx.people.admin).post('/api/users', { email: 'role.field@example.com', name: 'Role', team: 'sales', role: 'owner' });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details.problems.map((p: { path: string }) => p.path)).toContain('body.role');
    expect(await userCount()).toBe(before);
  });

  it("stops a deactivated person's API key, sessions and sign-in", async () => {
    const u = await personWithPassword('sales');
    const cookie = sessionCookie(await login(u.email, PASSWORD));
    const user = await ctx.database.db
      .selectFrom('users')
      .selectAll()
      .where('workspace_id', '=', ctx.workspace.id)
      .where('id', '=', u.id)
      .executeTakeFirstOrThrow();
    const keyRes = await ctx.as(null).post('/api/api-keys', { name: 'their key' }, { cookie });
    expect(keyRes.status).toBe(201);
    const person: Person = { user, actor: ctx.people.rep1.actor, key: keyRes.body.key };
    expect((await ctx.as(person).get('/api/me')).status).toBe(200);

    const off = await ctx.as(ctx.people.admin).patch(`/api/users/${u.id}`, { active: false });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);

    expectError(await ctx.as(person).get('/api/me'), 401, 'unauthenticated');
    const before = await countRows(ctx, 'leads');
    expectError(await ctx.as(person).post('/api/leads', { email: 'after.deactivation@example.com', stage: 'sql' }), 401, 'unauthenticated');
    expect(await countRows(ctx, 'leads')).toBe(before);
    expectError(await ctx.as(null).get('/api/me', { cookie }), 401, 'unauthenticated');
    expectError(await login(u.email, PASSWORD), 401, 'unauthenticated');
  });

  it('lets an admin set a new password; the old one stops working', async () => {
    const u = await personWithPassword();
    const res = await ctx.as(ctx.people.admin).patch(`/api/users/${u.id}`, { password: 'a brand new secret' });
    expect(res.status).toBe(200);
    expectError(await login(u.email, PASSWORD), 401, 'unauthenticated');
    expect((await login(u.email, 'a brand new secret')).status).toBe(200);
  });

  it('refuses a password shorter than 10 characters, naming body.password', async () => {
    const res = await ctx.as(ctx.people.admin).post('/api/users', { email: 'short.pw@example.com', name: 'Short', team: 'sales', password: 'short' });
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details.problems[0].path).toBe('body.password');
  });
});
