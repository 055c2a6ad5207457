import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, type ErrorCode, statusOf } from '../lib/errors.js';

interface Problem {
  path: string;
  message: string;
}

function body(code: ErrorCode, message: string, details?: unknown) {
  return { error: { code, message, details: details ?? null } };
}

/** Database errors that are the caller's fault, by PostgreSQL SQLSTATE. */
function fromDatabase(error: { code?: string; constraint?: string; detail?: string }): AppError | null {
  if (error.code === '23505') return new AppError('conflict', 'A record with the same unique value already exists', { constraint: error.constraint ?? null });
  if (error.code === '23503') return new AppError('validation_failed', 'A referenced record does not exist', { constraint: error.constraint ?? null });
  if (error.code === '22P02' || error.code === '22007' || error.code === '22008') return new AppError('validation_failed', 'A value has the wrong format');
  if (error.code === '40001' || error.code === '40P01') return new AppError('conflict', 'A concurrent change got in the way; retry the request');
  return null;
}

/** One mapping from any error to `{ error: { code, message, details } }` with the table's status. */
export function installErrorHandler(app: FastifyInstance, opts: { pageShell?: (() => string) | null } = {}): void {
  app.setErrorHandler((error: FastifyError & { code?: string }, request, reply) => {
    let appError: AppError | null = null;
    if (error instanceof AppError) appError = error;
    else if (hasZodFastifySchemaValidationErrors(error)) {
      // Service errors say "query.cursor"; Fastify says "querystring". One name for clients.
      const where = error.validationContext === 'querystring' ? 'query' : (error.validationContext ?? 'body');
      const problems: Problem[] = error.validation.flatMap((v) => {
        const at = [where, ...v.instancePath.split('/').filter(Boolean)];
        // A strict object names its unknown keys only in params; name each one as its own field.
        const keys = v.keyword === 'unrecognized_keys' ? (v.params as { keys?: unknown }).keys : undefined;
        if (Array.isArray(keys) && keys.length > 0) return keys.map((k) => ({ path: [...at, String(k)].join('.'), message: 'unknown field' }));
        return [{ path: at.join('.'), message: v.message ?? 'invalid' }];
      });
      const first = problems[0];
      appError = new AppError('validation_failed', first ? `${first.path}: ${first.message}` : 'The request is invalid', { problems });
    } else if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause?.issues }, 'response did not match its schema');
    } else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      appError = new AppError('payload_too_large', `The request body is larger than the limit of ${app.initialConfig.bodyLimit} bytes`);
    } else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      appError = new AppError('unsupported_media_type', 'Send JSON with Content-Type: application/json');
    } else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      appError = new AppError('invalid_json', 'The request body is empty; send a JSON object');
    } else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error instanceof SyntaxError && error.statusCode === 400)) {
      appError = new AppError('invalid_json', `The request body is not valid JSON: ${error.message}`);
    } else if (error.statusCode === 404) {
      appError = new AppError('not_found', error.message);
    } else if (error.statusCode === 429) {
      appError = new AppError('rate_limited', error.message);
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      appError = new AppError('bad_request', error.message);
    } else {
      appError = fromDatabase(error as { code?: string });
    }
    if (!appError) {
      request.log.error({ err: error }, 'unhandled error');
      return reply.status(500).send(body('internal', 'Something went wrong on our side; it has been logged'));
    }
    return reply.status(statusOf(appError.code)).send(body(appError.code, appError.message, appError.details));
  });

  app.setNotFoundHandler((request, reply) => {
    // The web app routes in the browser: any page address it does not serve as a file gets its shell.
    if (opts.pageShell && isPageRequest(request.method, request.url)) {
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(opts.pageShell());
    }
    reply.status(404).send(body('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`));
  });
}

/** A browser asking for a page of the web app, not for the API, the docs or a missing file. */
function isPageRequest(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const path = url.split('?')[0] ?? '';
  if (/^\/(api|v1|docs|assets)(\/|$)/.test(path)) return false;
  return !/\.[a-z0-9]+$/i.test(path);
}
