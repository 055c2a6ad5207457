import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, setup } from './harness.js';

let ctx: Ctx;
// biome-ignore lint/suspicious/noExplicitAny: the document is inspected loosely.
let doc: any;
beforeAll(async () => {
  ctx = await setup();
  const res = await ctx.as(null).get('/api/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  doc = res.body;
});
afterAll(async () => {
  await ctx.app.close();
});

// biome-ignore lint/suspicious/noExplicitAny: schema fragments are loose JSON.
function bodySchema(path: string, method: string): any {
  const op = doc.paths[path]?.[method];
  expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
  const schema = op.requestBody?.content?.['application/json']?.schema;
  expect(schema, `${method.toUpperCase()} ${path} request body`).toBeDefined();
  return schema;
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document describing the Tandem API', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
  });

  it('lists the main paths with their methods', () => {
    const expected: [string, string[]][] = [
      ['/api/leads', ['get', 'post']],
      ['/api/leads/{id}', ['get', 'patch']],
      ['/api/leads/{id}/stage', ['post']],
      ['/api/leads/{id}/hand-back', ['post']],
      ['/api/leads/{id}/merge', ['post']],
      ['/api/leads/{id}/notes', ['post']],
      ['/api/leads/{id}/timeline', ['get']],
      ['/api/accounts', ['get', 'post']],
      ['/api/accounts/{id}', ['get', 'patch']],
      ['/api/accounts/{id}/merge', ['post']],
      ['/api/deals', ['get', 'post']],
      ['/api/deals/{id}', ['get', 'patch']],
      ['/api/handoffs', ['get']],
      ['/api/handoffs/{id}', ['get']],
      ['/api/handoffs/{id}/accept', ['post']],
      ['/api/handoffs/{id}/reject', ['post']],
      ['/api/handoffs/{id}/withdraw', ['post']],
      ['/api/handoffs/{id}/reassign', ['post']],
      ['/api/agreement', ['get']],
      ['/api/agreements', ['get', 'post']],
      ['/api/agreements/{id}/sign', ['post']],
      ['/api/auth/login', ['post']],
      ['/api/me', ['get']],
      ['/api/api-keys', ['get', 'post']],
      ['/api/users', ['get', 'post']],
      ['/health', ['get']],
    ];
    for (const [path, methods] of expected) {
      expect(doc.paths[path], path).toBeDefined();
      for (const m of methods) expect(doc.paths[path][m], `${m.toUpperCase()} ${path}`).toBeDefined();
    }
  });

  it('does not list itself or the docs', () => {
    expect(doc.paths['/api/openapi.json']).toBeUndefined();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs'))).toBe(false);
  });

  it('describes request bodies with their fields, required ones and strictness', () => {
    const lead = bodySchema('/api/leads', 'post');
    expect(lead.type).toBe('object');
    expect(Object.keys(lead.properties)).toEqual(expect.arrayContaining(['email', 'firstName', 'company', 'stage', 'properties']));
    expect(lead.required).toEqual(['email']);
    expect(lead.additionalProperties).toBe(false);

    const patch = bodySchema('/api/leads/{id}', 'patch');
    expect(Object.keys(patch.properties)).toContain('version');
    expect(patch.properties.stage).toBeUndefined();

    const reject = bodySchema('/api/handoffs/{id}/reject', 'post');
    expect(reject.required).toContain('reason');

    const deal = bodySchema('/api/deals', 'post');
    expect(deal.properties.status.enum).toEqual(['open', 'won', 'lost']);

    const login = bodySchema('/api/auth/login', 'post');
    expect(login.required).toEqual(expect.arrayContaining(['email', 'password']));
  });

  it('describes path ids as UUIDs and query filters with their types', () => {
    const params = doc.paths['/api/leads/{id}'].get.parameters;
    const id = params.find((p: { name: string; in: string }) => p.name === 'id' && p.in === 'path');
    expect(id.required).toBe(true);
    expect(id.schema.format).toBe('uuid');
    const query = doc.paths['/api/leads'].get.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name);
    expect(query).toEqual(expect.arrayContaining(['stage', 'owner', 'team', 'status', 'q', 'persona', 'source', 'cursor', 'limit', 'sort']));
  });

  it('describes responses, including the error shape', () => {
    const responses = doc.paths['/api/leads'].post.responses;
    expect(responses['201']).toBeDefined();
    const err = responses['400'].content['application/json'].schema;
    expect(err.properties.error.required).toEqual(expect.arrayContaining(['code', 'message', 'details']));
    expect(doc.paths['/api/leads/{id}'].patch.responses['412']).toBeDefined();
    expect(doc.paths['/api/leads/{id}'].patch.responses['428']).toBeDefined();
  });

  it('declares both ways to authenticate', () => {
    expect(doc.components.securitySchemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'tandem_session' });
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});

describe('GET /docs', () => {
  it('returns a readable HTML page', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs' });
    const page = res.statusCode >= 300 && res.statusCode < 400 ? await ctx.app.inject({ method: 'GET', url: String(res.headers.location) }) : res;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/<html/i);
  });
});
