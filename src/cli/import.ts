import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Actor } from '../domain/access.js';
import { DUPLICATE_POLICIES, type DuplicatePolicy, type ImportCounts, runImport } from '../features/imports/import.service.js';
import { exportCsv } from '../features/imports/imports.service.js';
import { ENTITIES, type Entity, FORMATS, type Format, mappingSchema } from '../features/imports/mapping.js';
import { systemClock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';

export interface ImportArgs {
  file: string;
  entity: string | undefined;
  format: string | undefined;
  duplicates: string | undefined;
  mapping: string | undefined;
  dryRun: boolean;
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback?: T): T {
  if (value === undefined && fallback) return fallback;
  if (value && (allowed as readonly string[]).includes(value)) return value as T;
  throw new AppError('validation_failed', `--${name} must be one of ${allowed.join(', ')}${value ? ` (got "${value}")` : ''}`);
}

/**
 * `tandem import FILE`: stream the file into the importer with a progress line on stderr
 * (a bar with rows per second on a terminal, a line every few seconds otherwise).
 */
export async function importFile(db: Kysely<DB>, actor: Actor, args: ImportArgs): Promise<number> {
  const entity = oneOf<Entity>('entity', args.entity, ENTITIES);
  const format = oneOf<Format>('format', args.format, FORMATS, 'custom');
  const duplicates = oneOf<DuplicatePolicy>('duplicates', args.duplicates, DUPLICATE_POLICIES, 'update');
  let mapping: Record<string, string> | undefined;
  if (args.mapping) {
    const parsed = mappingSchema.safeParse(JSON.parse(args.mapping));
    if (!parsed.success) throw new AppError('validation_failed', '--mapping must be a JSON object of column name to field');
    mapping = parsed.data;
  }
  const size = statSync(args.file).size;
  let read = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      read += chunk.length;
      done(null, chunk);
    },
  });
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const show = (c: ImportCounts, final = false) => {
    const secs = (performance.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(c.rows / secs) : 0;
    const share = size ? Math.min(1, read / size) : 1;
    const text = `${c.rows.toLocaleString('en-US')} rows  ${rate.toLocaleString('en-US')} rows/s  ${c.inserted.toLocaleString('en-US')} new, ${c.updated.toLocaleString('en-US')} updated, ${c.skipped.toLocaleString('en-US')} skipped, ${c.failed.toLocaleString('en-US')} with problems`;
    if (tty) {
      const width = 24;
      const filled = Math.round(share * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(share * 100)}%  ${text}\u001b[K${final ? '\n' : ''}`);
    } else if (final || performance.now() - lastLine > 2000) {
      lastLine = performance.now();
      process.stderr.write(`${Math.round(share * 100)}%  ${text}\n`);
    }
  };
  const source = createReadStream(args.file).pipe(counter);
  const result = await runImport({ db, clock: systemClock }, actor, source, { entity, format, duplicates, dryRun: args.dryRun, mapping }, (c) => show(c));
  show(result, true);
  const verb = args.dryRun ? 'Dry run (nothing written)' : 'Imported';
  console.log(
    `${verb}: ${result.rows} rows in ${result.seconds.toFixed(1)} s; ${result.inserted} ${args.dryRun ? 'would be new' : 'new'}, ${result.updated} ${args.dryRun ? 'would update' : 'updated'}, ${result.skipped} skipped, ${result.failed} with problems.`,
  );
  for (const note of result.notes) console.log(`note: ${note}`);
  for (const p of result.problems.slice(0, 50)) console.log(`row ${p.row} (line ${p.line})${p.column ? `, ${p.column}` : ''}: ${p.message}`);
  if (result.problemCount > 50) console.log(`… and ${result.problemCount - 50} more problems`);
  return result.failed > 0 ? 1 : 0;
}

/** `tandem export ENTITY [--out FILE]`: CSV to a file or stdout. */
export async function exportEntity(db: Kysely<DB>, actor: Actor, entity: string | undefined, out: string | undefined): Promise<number> {
  const which = oneOf<Entity>('entity', entity, ENTITIES);
  await pipeline(exportCsv({ db, clock: systemClock }, actor, which), out ? createWriteStream(out) : process.stdout);
  return 0;
}
