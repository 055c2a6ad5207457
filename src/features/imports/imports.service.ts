import type { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, notFound } from '../../lib/errors.js';
import { uuidv7 } from '../../lib/ids.js';
import { checkOptions, type ImportOptions, type ImportResult, runImport } from './import.service.js';
import type { Entity } from './mapping.js';

export interface Deps {
  db: Kysely<DB>;
  clock: Clock;
}

export interface ImportView {
  id: string;
  entity: Entity;
  format: string;
  dryRun: boolean;
  status: 'waiting' | 'running' | 'done' | 'failed';
  fileName: string | null;
  rows: number;
  inserted: number;
  updated: number;
  skipped: number;
  failed: number;
  problemCount: number;
  problems: unknown[];
  notes: string[];
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

type ImportRow = Awaited<ReturnType<typeof load>>;

async function load(db: Kysely<DB>, workspaceId: string, id: string) {
  const row = await db.selectFrom('imports').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Import');
  return row;
}

function present(r: ImportRow): ImportView {
  return {
    id: r.id,
    entity: r.entity,
    format: r.format,
    dryRun: r.dry_run,
    status: r.status,
    fileName: r.file_name,
    rows: r.rows,
    inserted: r.inserted,
    updated: r.updated,
    skipped: r.skipped,
    failed: r.failed,
    problemCount: r.problem_count,
    problems: r.problems,
    notes: r.notes,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
  };
}

/** Describe an import (what, how, dry run or not); the file follows with `uploadFile`. */
export async function createImport(deps: Deps, actor: Actor, opts: ImportOptions & { fileName?: string | undefined }): Promise<ImportView> {
  checkOptions(actor, opts);
  const now = deps.clock.now();
  const row = {
    workspace_id: actor.workspaceId,
    id: uuidv7(now.getTime()),
    entity: opts.entity,
    format: opts.format,
    options: JSON.stringify({ mapping: opts.mapping ?? null, duplicates: opts.duplicates }),
    dry_run: opts.dryRun,
    status: 'waiting' as const,
    file_name: opts.fileName ?? null,
    error: null,
    created_by: actor.via === 'system' ? null : actor.userId,
    created_at: now,
    started_at: null,
    finished_at: null,
  };
  await deps.db.insertInto('imports').values(row).execute();
  return present(await load(deps.db, actor.workspaceId, row.id));
}

export async function getImport(deps: Deps, actor: Actor, id: string): Promise<ImportView> {
  return present(await load(deps.db, actor.workspaceId, id));
}

export async function listImports(deps: Deps, actor: Actor): Promise<ImportView[]> {
  const rows = await deps.db.selectFrom('imports').selectAll().where('workspace_id', '=', actor.workspaceId).orderBy('id', 'desc').limit(50).execute();
  return rows.map(present);
}

/** Run a waiting import on the file, recording progress on the import as it goes. */
export async function uploadFile(deps: Deps, actor: Actor, id: string, file: Readable): Promise<ImportView> {
  const row = await load(deps.db, actor.workspaceId, id);
  if (row.status !== 'waiting') throw new AppError('conflict', `This import is ${row.status}; create a new one for another file`);
  const claimed = await deps.db
    .updateTable('imports')
    .set({ status: 'running', started_at: deps.clock.now() })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'waiting')
    .returning('id')
    .executeTakeFirst();
  if (!claimed) throw new AppError('conflict', 'This import has already started');
  const options = row.options as { mapping: Record<string, string> | null; duplicates: ImportOptions['duplicates'] };
  const opts: ImportOptions = {
    entity: row.entity,
    format: row.format as ImportOptions['format'],
    mapping: options.mapping ?? undefined,
    duplicates: options.duplicates,
    dryRun: row.dry_run,
  };
  const progress = async (c: { rows: number; inserted: number; updated: number; skipped: number; failed: number }) => {
    await deps.db.updateTable('imports').set(c).where('workspace_id', '=', actor.workspaceId).where('id', '=', id).execute();
  };
  let result: ImportResult;
  try {
    result = await runImport(deps, actor, file, opts, progress);
  } catch (error) {
    const message = error instanceof AppError ? error.message : 'The import failed on our side; it has been logged';
    const details = error instanceof AppError ? ((error.details as { problems?: unknown[] } | undefined)?.problems ?? []) : [];
    await deps.db
      .updateTable('imports')
      .set({ status: 'failed', error: message, problems: JSON.stringify(details), problem_count: details.length, finished_at: deps.clock.now() })
      .where('workspace_id', '=', actor.workspaceId)
      .where('id', '=', id)
      .execute();
    file.resume();
    throw error;
  }
  await deps.db
    .updateTable('imports')
    .set({
      status: 'done',
      rows: result.rows,
      inserted: result.inserted,
      updated: result.updated,
      skipped: result.skipped,
      failed: result.failed,
      problems: JSON.stringify(result.problems),
      problem_count: result.problemCount,
      notes: JSON.stringify(result.notes),
      finished_at: deps.clock.now(),
    })
    .where('workspace_id', '=', actor.workspaceId)
    .where('id', '=', id)
    .execute();
  return present(await load(deps.db, actor.workspaceId, id));
}

const EXPORTS: Record<Entity, { columns: string[]; query: (ws: string, after: string | null, limit: number) => ReturnType<typeof sql> }> = {
  leads: {
    columns: [
      'id',
      'email',
      'first_name',
      'last_name',
      'title',
      'phone',
      'company',
      'country',
      'source',
      'persona',
      'status',
      'stage',
      'owner_email',
      'account_domain',
      'fit_score',
      'interest_score',
      'score_class',
      'created_at',
      'updated_at',
    ],
    query: (
      ws,
      after,
      limit,
    ) => sql`SELECT l.id, l.email, l.first_name, l.last_name, l.title, l.phone, l.company, l.country, l.source, l.persona, l.status, l.stage,
        u.email AS owner_email, a.domain AS account_domain, coalesce(s.fit_score, 0) AS fit_score, round(coalesce(s.interest_score, 0)::numeric, 1) AS interest_score,
        s.score_class, l.created_at, l.updated_at
      FROM leads l
      LEFT JOIN lead_scores s ON s.workspace_id = l.workspace_id AND s.lead_id = l.id
      LEFT JOIN accounts a ON a.workspace_id = l.workspace_id AND a.id = l.account_id
      LEFT JOIN users u ON u.workspace_id = l.workspace_id AND u.id = l.owner_id
      WHERE l.workspace_id = ${ws}::uuid ${after ? sql`AND l.id > ${after}::uuid` : sql``}
      ORDER BY l.id LIMIT ${limit}`,
  },
  accounts: {
    columns: ['id', 'name', 'domain', 'industry', 'employees', 'country', 'region', 'owner_email', 'created_at', 'updated_at'],
    query: (
      ws,
      after,
      limit,
    ) => sql`SELECT a.id, a.name, a.domain, a.industry, a.employees, a.country, a.region, u.email AS owner_email, a.created_at, a.updated_at
      FROM accounts a LEFT JOIN users u ON u.workspace_id = a.workspace_id AND u.id = a.owner_id
      WHERE a.workspace_id = ${ws}::uuid ${after ? sql`AND a.id > ${after}::uuid` : sql``}
      ORDER BY a.id LIMIT ${limit}`,
  },
  deals: {
    columns: [
      'id',
      'name',
      'amount',
      'currency',
      'stage',
      'status',
      'close_date',
      'lead_email',
      'account_domain',
      'owner_email',
      'lost_reason',
      'created_at',
      'updated_at',
    ],
    query: (
      ws,
      after,
      limit,
    ) => sql`SELECT d.id, d.name, d.amount, d.currency, d.stage, d.status, d.close_date, l.email AS lead_email, a.domain AS account_domain,
        u.email AS owner_email, d.lost_reason, d.created_at, d.updated_at
      FROM deals d
      LEFT JOIN leads l ON l.workspace_id = d.workspace_id AND l.id = d.lead_id
      LEFT JOIN accounts a ON a.workspace_id = d.workspace_id AND a.id = d.account_id
      LEFT JOIN users u ON u.workspace_id = d.workspace_id AND u.id = d.owner_id
      WHERE d.workspace_id = ${ws}::uuid ${after ? sql`AND d.id > ${after}::uuid` : sql``}
      ORDER BY d.id LIMIT ${limit}`,
  },
};

/** Every record of an entity as CSV, read a page at a time so memory stays flat. */
export function exportCsv(deps: Deps, actor: Actor, entity: Entity): Readable {
  const spec = EXPORTS[entity];
  const out = stringify({ header: true, columns: spec.columns, cast: { date: (d) => d.toISOString() } });
  (async () => {
    let after: string | null = null;
    for (;;) {
      const page = await spec.query(actor.workspaceId, after, 5_000).execute(deps.db);
      const rows = page.rows as Record<string, unknown>[];
      for (const r of rows) {
        if (!out.write(r)) await new Promise((resolve) => out.once('drain', resolve));
      }
      if (rows.length < 5_000) break;
      after = rows[rows.length - 1]?.id as string;
    }
    out.end();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}
