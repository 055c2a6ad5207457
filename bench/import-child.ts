/**
 * One import in its own process, so its peak memory is its own: a parse-only pass over the
 * file (the baseline), then the import itself; reports timings, counts and peak RSS over IPC.
 */
import { createReadStream } from 'node:fs';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { systemActor } from '../src/domain/access.js';
import { csvChunks } from '../src/features/imports/csv.js';
import { runImport } from '../src/features/imports/import.service.js';
import { systemClock } from '../src/lib/clock.js';

const [file, workspaceId] = process.argv.slice(2) as [string, string];
// As `tandem import` opens it: the embedded database in a thread of its own.
const database = await openDatabase(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { dataDir: process.env.TANDEM_DATA_DIR as string, ownThread: true },
);
await migrateToLatest(database.db);
const openedRssMb = process.memoryUsage().rss / 2 ** 20;
let start = performance.now();
let cpu = process.cpuUsage();
let rows = 0;
for await (const records of csvChunks(createReadStream(file))) rows += records.length;
const parseSeconds = (performance.now() - start) / 1000;
const cpuSeconds = (used: NodeJS.CpuUsage) => (used.user + used.system) / 1e6;
const parseCpuSeconds = cpuSeconds(process.cpuUsage(cpu));
start = performance.now();
cpu = process.cpuUsage();
const result = await runImport({ db: database.db, clock: systemClock }, systemActor(workspaceId), createReadStream(file), {
  entity: 'leads',
  format: 'hubspot',
  duplicates: 'update',
  dryRun: false,
});
const importSeconds = (performance.now() - start) / 1000;
const importCpuSeconds = cpuSeconds(process.cpuUsage(cpu));
await database.close();
process.send?.({
  rows: rows - 1,
  parseSeconds,
  importSeconds,
  parseCpuSeconds,
  importCpuSeconds,
  result: { ...result, problems: result.problems.slice(0, 5) },
  maxRssMb: process.resourceUsage().maxRSS / 1024,
  openedRssMb,
});
process.disconnect?.();
