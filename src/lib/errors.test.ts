import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installErrorHandler } from '../http/errors.js';
import { AppError, ERROR_STATUS, type ErrorCode, forbidden, invalid, invalidMany, notFound, statusOf } from './errors.js';

/** The table the issue documents: one status per code, and nothing else. */
const DOCUMENTED: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  precondition_required: 428,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};
const CODES = Object.keys(DOCUMENTED) as ErrorCode[];

describe('the code-to-status table', () => {
  it('has exactly the documented codes', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...CODES].sort());
  });

  it.each(CODES)('maps %s to its documented status, through the table, statusOf and AppError', (code) => {
    expect(ERROR_STATUS[code]).toBe(DOCUMENTED[code]);
    expect(statusOf(code)).toBe(DOCUMENTED[code]);
    expect(new AppError(code, 'x').status).toBe(DOCUMENTED[code]);
  });

  it('keeps client errors in 4xx and server errors in 5xx', () => {
    for (const code of CODES) {
      const status = ERROR_STATUS[code];
      if (code === 'internal' || code === 'unavailable') expect(status).toBeGreaterThanOrEqual(500);
      else expect(status).toBeLessThan(500);
    }
  });
});

describe('error helpers', () => {
  it('invalid names the field in the message and in details.problems', () => {
    const e = invalid('body.reason', 'unknown reason code');
    expect(e).toBeInstanceOf(AppError);
    expect(e.code).toBe('validation_failed');
    expect(e.status).toBe(400);
    expect(e.message).toBe('body.reason: unknown reason code');
    expect(e.details).toEqual({ problems: [{ path: 'body.reason', message: 'unknown reason code' }] });
  });

  it('invalidMany lists every problem and leads the message with the first', () => {
    const e = invalidMany(
      [
        { path: 'stages[2].team', message: 'required' },
        { path: 'sla.acceptWithin', message: 'not a duration' },
      ],
      'The agreement is invalid',
    );
    expect(e.code).toBe('validation_failed');
    expect(e.message).toBe('The agreement is invalid: stages[2].team: required');
    expect((e.details as { problems: unknown[] }).problems).toHaveLength(2);
    expect(invalidMany([]).message).toBe('The request is invalid');
  });

  it('notFound and forbidden carry their codes', () => {
    expect(notFound('Lead')).toMatchObject({ code: 'not_found', message: 'Lead not found', status: 404 });
    expect(forbidden('no')).toMatchObject({ code: 'forbidden', message: 'no', status: 403 });
  });
});

describe('the HTTP error handler', () => {
  let app: FastifyInstance;
  const dbErrors: Record<string, { code: string; constraint?: string }> = {
    unique: { code: '23505', constraint: 'leads_email' },
    foreign: { code: '23503', constraint: 'deals_lead_fkey' },
    format: { code: '22P02' },
    serialization: { code: '40001' },
  };

  beforeAll(async () => {
    const f = Fastify({ bodyLimit: 2048 }).withTypeProvider<ZodTypeProvider>();
    f.setValidatorCompiler(validatorCompiler);
    f.setSerializerCompiler(serializerCompiler);
    installErrorHandler(f);
    f.get('/throw/:code', async (request) => {
      const code = (request.params as { code: ErrorCode }).code;
      throw new AppError(code, `thrown ${code}`, code === 'conflict' ? { field: 'email' } : undefined);
    });
    f.get('/crash', async () => {
      throw new Error('secret connection string postgres://u:p@h/db');
    });
    f.get('/db/:kind', async (request) => {
      const e = Object.assign(new Error('db said no'), dbErrors[(request.params as { kind: string }).kind]);
      throw e;
    });
    f.post(
      '/echo',
      { schema: { body: z.object({ name: z.string(), count: z.number().int(), tags: z.array(z.string()).optional() }).strict() } },
      async (request) => ({
        ok: request.body.name,
      }),
    );
    f.get('/q', { schema: { querystring: z.object({ limit: z.coerce.number().int().min(1) }) } }, async () => ({ ok: true }));
    await f.ready();
    app = f;
  });
  afterAll(async () => {
    await app.close();
  });

  function expectShape(body: unknown): { code: string; message: string; details: unknown } {
    expect(Object.keys(body as object)).toEqual(['error']);
    const error = (body as { error: Record<string, unknown> }).error;
    expect(Object.keys(error).sort()).toEqual(['code', 'details', 'message']);
    expect(error.code).toEqual(expect.any(String));
    expect(String(error.message).length).toBeGreaterThan(0);
    return error as { code: string; message: string; details: unknown };
  }

  it.each(CODES)('answers a thrown AppError %s with its status and the error body', async (code) => {
    const res = await app.inject({ method: 'GET', url: `/throw/${code}` });
    expect(res.statusCode).toBe(DOCUMENTED[code]);
    const error = expectShape(res.json());
    expect(error.code).toBe(code);
    expect(error.message).toBe(`thrown ${code}`);
    expect(error.details).toEqual(code === 'conflict' ? { field: 'email' } : null);
  });

  it('answers an unexpected error with 500 internal and does not leak its message', async () => {
    const res = await app.inject({ method: 'GET', url: '/crash' });
    expect(res.statusCode).toBe(500);
    const error = expectShape(res.json());
    expect(error.code).toBe('internal');
    expect(res.body).not.toContain('postgres://');
  });

  it.each([
    ['unique', 409, 'conflict'],
    ['foreign', 400, 'validation_failed'],
    ['format', 400, 'validation_failed'],
    ['serialization', 409, 'conflict'],
  ])('maps a database %s violation to %i %s', async (kind, status, code) => {
    const res = await app.inject({ method: 'GET', url: `/db/${kind}` });
    expect(res.statusCode).toBe(status);
    expect(expectShape(res.json()).code).toBe(code);
  });

  it('answers a schema failure with 400 naming each field path', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { name: 3, count: 1.5, tags: ['a', 2] } });
    expect(res.statusCode).toBe(400);
    const error = expectShape(res.json());
    expect(error.code).toBe('validation_failed');
    const paths = (error.details as { problems: { path: string }[] }).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['body.count', 'body.name', 'body.tags.1']);
    expect(error.message).toMatch(/^body\./);
  });

  it('names each unknown field in a strict body', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'a', count: 1, colour: 'red', size: 2 } });
    expect(res.statusCode).toBe(400);
    const error = expectShape(res.json());
    const paths = (error.details as { problems: { path: string }[] }).problems.map((p) => p.path).sort();
    expect(paths).toEqual(['body.colour', 'body.size']);
  });

  it('names query parameters as query.<name>', async () => {
    const res = await app.inject({ method: 'GET', url: '/q?limit=0' });
    expect(res.statusCode).toBe(400);
    const error = expectShape(res.json());
    expect((error.details as { problems: { path: string }[] }).problems.map((p) => p.path)).toEqual(['query.limit']);
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(expectShape(res.json()).code).toBe('invalid_json');
  });

  it('answers an empty JSON body with 400 invalid_json', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(res.statusCode).toBe(400);
    expect(expectShape(res.json()).code).toBe('invalid_json');
  });

  it('answers an oversized body with 413 payload_too_large, stating the limit', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'x'.repeat(5000), count: 1 } });
    expect(res.statusCode).toBe(413);
    const error = expectShape(res.json());
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain('2048');
  });

  it('answers an unsupported content type with 415', async () => {
    const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(res.statusCode).toBe(415);
    expect(expectShape(res.json()).code).toBe('unsupported_media_type');
  });

  it('answers an unknown route with 404 not_found in the same shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(res.statusCode).toBe(404);
    const error = expectShape(res.json());
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('No route for GET /nowhere');
  });
});
