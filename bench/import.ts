import { fork } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { IMPORT_NODE_FLAGS } from '../src/cli/import-flags.js';
import type { Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { uuidv7 } from '../src/lib/ids.js';
import type { Target } from './ingest.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
/** Every twentieth row repeats an earlier person's email with newer details. */
const DUPLICATE_EVERY = 20;

/** A HubSpot contacts export: its column names, lifecycle stages and lead statuses, quoting where needed. */
async function writeHubspotCsv(path: string): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(
    'Record ID,First Name,Last Name,Email,Phone Number,Job Title,Company Name,Country/Region,Lifecycle Stage,Lead Status,Original Source,Create Date\n',
  );
  const stages = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer'];
  const statuses = ['NEW', 'OPEN', 'IN_PROGRESS', 'ATTEMPTED_TO_CONTACT', 'CONNECTED', 'UNQUALIFIED', ''];
  const titles = ['VP Sales', 'Head of Marketing', '"Director, IT"', 'Engineer', 'Marketing Manager', 'CFO'];
  const countries = ['United States', 'Germany', 'France', 'United Kingdom', 'Japan'];
  let chunk = '';
  for (let i = 1; i <= ROWS; i++) {
    // A duplicate row repeats the person ten rows earlier (never itself a duplicate row).
    const person = i % DUPLICATE_EVERY === 0 ? i - 10 : i;
    chunk += `${100000 + i},Ann${person},"O'Neil ${person}",person${person}@company${person % 5000}.example,+1 555 ${String(person).padStart(7, '0')},${titles[i % titles.length]},Company ${person % 5000},${countries[i % countries.length]},${stages[i % stages.length]},${statuses[i % statuses.length]},ORGANIC_SEARCH,2025-0${1 + (i % 9)}-1${i % 10} 10:00\n`;
    if (i % 5000 === 0) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

interface ChildReport {
  rows: number;
  parseSeconds: number;
  importSeconds: number;
  /** CPU time of the import process (its JavaScript, and the embedded database's work): steadier than wall time on a shared machine. */
  parseCpuSeconds: number;
  importCpuSeconds: number;
  maxRssMb: number;
  /** Resident memory once the database was open, before the file: the database engine's own share. */
  openedRssMb: number;
  result: { inserted: number; updated: number; skipped: number; failed: number; problems: unknown[] };
}

/** Importing a generated million-row HubSpot export with duplicates, beside a parse-only pass over the same file. */
export async function benchImport(t: Target, open: () => Promise<Database>, log: (s: string) => void): Promise<{ lines: string[]; problems: string[] }> {
  const out = { lines: [] as string[], problems: [] as string[] };
  const dir = mkdtempSync(join(os.tmpdir(), 'tandem-import-'));
  const file = join(dir, 'hubspot-contacts.csv');
  try {
    log(`  import: writing a ${ROWS.toLocaleString('en-US')}-row HubSpot export`);
    await writeHubspotCsv(file);
    const database = await open();
    await migrateToLatest(database.db);
    const ws = uuidv7();
    await sql`INSERT INTO workspaces (id, slug, name, created_at) VALUES (${ws}::uuid, ${`import-${ws.slice(-12)}`}, 'Import benchmark', now())`.execute(
      database.db,
    );
    await database.close();
    log('  import: parse-only pass, then the import, in a child process');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DATABASE_URL;
    delete env.TANDEM_DATA_DIR;
    if (t.kind === 'embedded') env.TANDEM_DATA_DIR = t.dataDir;
    else env.DATABASE_URL = t.url;
    const child = fork(fileURLToPath(new URL('./import-child.ts', import.meta.url)), [file, ws], {
      execArgv: [
        ...IMPORT_NODE_FLAGS,
        '--import',
        'tsx',
        ...(process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : []),
      ],
      env,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const report = await new Promise<ChildReport>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ChildReport));
      child.once('exit', (code) => reject(new Error(`the import process exited with code ${code}`)));
    });
    const check = await open();
    const leads = await sql<{ n: number }>`SELECT count(*)::int AS n FROM leads WHERE workspace_id = ${ws}::uuid`.execute(check.db);
    await check.close();
    const distinct = ROWS - Math.floor(ROWS / DUPLICATE_EVERY);
    const r = report.result;
    if (leads.rows[0]?.n !== distinct) out.problems.push(`import: ${leads.rows[0]?.n} leads stored, expected ${distinct}`);
    if (r.failed) out.problems.push(`import: ${r.failed} rows failed, first ${JSON.stringify(r.problems[0])}`);
    const mb = statSync(file).size / 2 ** 20;
    out.lines.push(
      `  Import of a ${ROWS.toLocaleString('en-US')}-row HubSpot export (${mb.toFixed(0)} MB, every ${DUPLICATE_EVERY}th row a duplicate; policy update)`,
      `    Tandem import                     ${report.importSeconds.toFixed(1).padStart(7)} s   ${Math.round(report.rows / report.importSeconds).toLocaleString('en-US')} rows/s; ${r.inserted.toLocaleString('en-US')} new, ${r.updated.toLocaleString('en-US')} updated; peak memory ${report.maxRssMb.toFixed(0)} MB (${report.openedRssMb.toFixed(0)} MB with the database open, before the file); ${report.importCpuSeconds.toFixed(1)} s CPU in the import process`,
      `    parse-only pass over the file     ${report.parseSeconds.toFixed(1).padStart(7)} s   ${Math.round(report.rows / report.parseSeconds).toLocaleString('en-US')} rows/s; ${report.parseCpuSeconds.toFixed(1)} s CPU`,
      `    target < 60 s ................... ${report.importSeconds < 60 ? 'PASS' : 'FAIL'}`,
      // The embedded database engine holds its own memory whatever is imported; what the import adds is what must stay flat.
      `    target < 500 MB peak ............ ${report.maxRssMb < 500 ? 'PASS' : 'FAIL'} (process); import's own growth ${(report.maxRssMb - report.openedRssMb).toFixed(0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
