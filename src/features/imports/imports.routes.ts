import { Readable } from 'node:stream';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps, idParams } from '../../http/context.js';
import { AppError } from '../../lib/errors.js';
import { DUPLICATE_POLICIES } from './import.service.js';
import { createImport, exportCsv, getImport, listImports, uploadFile } from './imports.service.js';
import { ENTITIES, FIELDS, FORMATS, mappingProblems, mappingSchema, resolveMapping } from './mapping.js';

const importOut = z.object({
  id: z.uuid(),
  entity: z.enum(ENTITIES),
  format: z.string(),
  dryRun: z.boolean(),
  status: z.enum(['waiting', 'running', 'done', 'failed']),
  fileName: z.string().nullable(),
  rows: z.number(),
  inserted: z.number().describe('Rows written as new records (on a dry run: that would be)'),
  updated: z.number(),
  skipped: z.number(),
  failed: z.number().describe('Rows with a problem; nothing of them was written'),
  problemCount: z.number(),
  problems: z.array(z.unknown()).describe('The first 1,000 problems: { row, line, column, message }'),
  notes: z.array(z.string()),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const options = z
  .object({
    entity: z.enum(ENTITIES),
    format: z.enum(FORMATS).default('custom').describe('hubspot and salesforce recognise those tools’ export columns and values'),
    mapping: mappingSchema.optional().describe('Column name → field (email, firstName, …, properties.<key>); overrides the format’s'),
    duplicates: z.enum(DUPLICATE_POLICIES).default('update').describe('When a row’s email (leads) or domain (accounts) exists already'),
    dryRun: z.boolean().default(false),
    fileName: z.string().max(300).optional(),
  })
  .strict();

const queryOptions = z
  .object({
    entity: z.enum(ENTITIES),
    format: z.enum(FORMATS).default('custom'),
    duplicates: z.enum(DUPLICATE_POLICIES).default('update'),
    dryRun: z.enum(['true', 'false', '1', '0']).default('false'),
    mapping: z.string().max(20_000).optional().describe('The column mapping as JSON'),
  })
  .strict();

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream', 'application/vnd.ms-excel'];

export async function importsRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/imports',
    { schema: { tags: ['imports'], summary: 'Recent imports', response: { 200: z.object({ items: z.array(importOut) }), ...commonErrors } } },
    async (request) => ({ items: await listImports(deps, actorOf(request)) }),
  );
  app.post(
    '/api/imports',
    {
      schema: {
        tags: ['imports'],
        summary: 'Describe an import; then send the file with PUT /api/imports/{id}/file',
        body: options,
        response: { 201: importOut, ...commonErrors },
      },
    },
    async (request, reply) => reply.status(201).send(await createImport(deps, actorOf(request), request.body)),
  );
  app.post(
    '/api/imports/mapping',
    {
      schema: {
        tags: ['imports'],
        summary: 'Which field each column of a file header would fill, by the preset of the format and the mapping given; and the fields there are',
        body: z
          .object({
            entity: z.enum(ENTITIES),
            format: z.enum(FORMATS),
            header: z.array(z.string().max(200)).max(500),
            mapping: mappingSchema.optional(),
          })
          .strict(),
        response: {
          200: z.object({ columns: z.array(z.object({ column: z.string(), field: z.string().nullable() })), fields: z.array(z.string()) }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { entity, format, header, mapping } = request.body;
      const problems = mappingProblems(entity, mapping);
      if (problems.length)
        throw new AppError('validation_failed', `body.${problems[0]?.path}: ${problems[0]?.message}`, {
          problems: problems.map((p) => ({ ...p, path: `body.${p.path}` })),
        });
      const resolved = resolveMapping(entity, format, header, mapping);
      return { columns: header.map((column, i) => ({ column, field: resolved.fields[i] ?? null })), fields: [...FIELDS[entity]] };
    },
  );

  app.get(
    '/api/imports/:id',
    { schema: { tags: ['imports'], summary: 'An import’s progress and result', params: idParams, response: { 200: importOut, ...commonErrors } } },
    async (request) => getImport(deps, actorOf(request), request.params.id),
  );

  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    // The file streams straight into the importer, so its size is not bounded by memory.
    scope.addContentTypeParser(CSV_TYPES, (_request, payload, done) => done(null, payload));
    scope.put(
      '/api/imports/:id/file',
      {
        schema: {
          tags: ['imports'],
          summary: 'Send the CSV file (Content-Type: text/csv) and run the import; progress shows on GET /api/imports/{id}',
          params: idParams,
          response: { 200: importOut, ...commonErrors },
        },
      },
      async (request) => uploadFile(deps, actorOf(request), request.params.id, fileOf(request.body)),
    );
    scope.post(
      '/api/imports/upload',
      {
        schema: {
          tags: ['imports'],
          summary: 'Describe and run an import in one request: options in the query, the CSV as the body',
          querystring: queryOptions,
          response: { 200: importOut, ...commonErrors },
        },
      },
      async (request) => {
        const q = request.query;
        let mapping: Record<string, string> | undefined;
        if (q.mapping) {
          const parsed = mappingSchema.safeParse(safeJson(q.mapping));
          if (!parsed.success)
            throw new AppError('validation_failed', 'query.mapping: give a JSON object of column name to field', {
              problems: [{ path: 'query.mapping', message: 'not a mapping' }],
            });
          mapping = parsed.data;
        }
        const actor = actorOf(request);
        const created = await createImport(deps, actor, {
          entity: q.entity,
          format: q.format,
          duplicates: q.duplicates,
          dryRun: q.dryRun === 'true' || q.dryRun === '1',
          mapping,
        });
        return uploadFile(deps, actor, created.id, fileOf(request.body));
      },
    );
  });

  app.get(
    '/api/exports/:entity',
    {
      schema: {
        tags: ['imports'],
        summary: 'Every lead, account or deal as CSV (streamed); `leads.csv` works too',
        params: z.object({ entity: z.string() }),
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const entity = request.params.entity.replace(/\.csv$/, '');
      if (!(ENTITIES as readonly string[]).includes(entity)) throw new AppError('not_found', `No export of "${entity}"; use leads, accounts or deals`);
      const actor = actorOf(request);
      reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${entity}.csv"`);
      return reply.send(exportCsv(deps, actor, entity as (typeof ENTITIES)[number]));
    },
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function fileOf(body: unknown): Readable {
  if (body instanceof Readable) return body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Readable.from([body]);
  throw new AppError('unsupported_media_type', 'Send the file as the body with Content-Type: text/csv');
}
