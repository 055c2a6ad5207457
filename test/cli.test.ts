/**
 * The command line, run as a real process: `node bin/tandem.mjs ...` against an embedded
 * database in a temporary directory, or the PostgreSQL server in DATABASE_URL.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { uuidv7 } from '../src/lib/ids.js';
import { agreementDoc } from './handoff-kit.js';

const run = promisify(execFile);
const url = process.env.DATABASE_URL;
const dir = mkdtempSync(join(tmpdir(), 'tandem-cli-'));
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
if (url) env.DATABASE_URL = url;
else {
  delete env.DATABASE_URL;
  env.TANDEM_DATA_DIR = join(dir, 'data');
}
const slug = `cli-${uuidv7().slice(-12)}`;

async function tandem(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/tandem.mjs', ...args], { cwd: process.cwd(), env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const BAD_YAML = [
  'name: Broken',
  'stages: []',
  'sla:',
  '  acceptWithin: four hours',
  '  firstContactWithin: 8h',
  'calendar:',
  '  timeZone: Nowhere/Land',
  '  workingDays: [1, 2, 3, 4, 5]',
  '  hours: { start: "09:00", end: "17:00" }',
].join('\n');

type Out = Awaited<ReturnType<typeof tandem>>;
const early: Record<string, Out> = {};

// Each run starts a process (a few seconds), and the embedded database cannot be shared by two
// processes at once; so the commands that never open the database run alongside the first one that does.
beforeAll(async () => {
  const [created, help, unknown, noTeam, bad, notYaml] = await Promise.all([
    tandem('workspace', 'create', '--slug', slug, '--name', 'CLI test'),
    tandem('help'),
    tandem('frobnicate'),
    tandem('user', 'add', '--workspace', slug, '--email', 'x@cli.test', '--name', 'X'),
    tandem('agreement', 'import', file('bad.yaml', BAD_YAML), '--workspace', slug),
    tandem('agreement', 'import', file('broken.yaml', 'sla: [unclosed'), '--workspace', slug),
  ]);
  Object.assign(early, { help, unknown, noTeam, bad, notYaml });
  expect(created.code, created.stderr).toBe(0);
  expect(created.stdout).toContain(`Created workspace ${slug}`);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tandem on the command line', () => {
  it('prints help with every command, and exits 2 on an unknown one', async () => {
    const help = early.help as Out;
    expect(help.code).toBe(0);
    for (const cmd of ['serve', 'migrate', 'user add', 'agreement export', 'agreement import', 'agreement diff']) expect(help.stdout).toContain(cmd);
    const unknown = early.unknown as Out;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('reports the schema as up to date when migrate runs again', async () => {
    const again = await tandem('migrate');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe('The schema is up to date.');
  });

  it('adds a user, and asks for the missing options', async () => {
    const added = await tandem('user', 'add', '--workspace', slug, '--email', 'sally@cli.test', '--name', 'Sally Sales', '--team', 'sales', '--level', 'lead');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^Added sally@cli\.test \(sales lead\) id [0-9a-f-]{36}/);
    const noTeam = early.noTeam as Out;
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toContain('Usage: tandem user add');
  });

  it('exports, imports and diffs agreements', async () => {
    const exported = await tandem('agreement', 'export', '--workspace', slug, '--format', 'json');
    expect(exported.code, exported.stderr).toBe(0);
    const doc = JSON.parse(exported.stdout);
    expect(doc.name).toMatch(/unsigned/i);
    expect(doc.sla).toEqual({ acceptWithin: '4h', firstContactWithin: '8h' });
    doc.sla.acceptWithin = '2h';
    doc.routing.fallbackPool = [{ user: 'sally@cli.test', weight: 2 }];
    // Edited and brought back as YAML: the import reads either.
    const path = file('agreement.yaml', toYaml(doc));
    const imported = await tandem('agreement', 'import', path, '--workspace', slug);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Stored as draft version 1');

    const fromFile = await tandem('agreement', 'diff', '0', path, '--workspace', slug);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toContain('~ sla.acceptWithin: "4h" -> "2h"');
    expect(fromFile.stdout).toContain('~ routing.fallbackPool: [] -> [{"user":"sally@cli.test","weight":2}]');
    const fromVersion = await tandem('agreement', 'diff', '0', '1', '--workspace', slug);
    expect(fromVersion.stdout).toBe(fromFile.stdout);
  });

  it('refuses an invalid file with problems that name their paths, and exits 1', async () => {
    const res = early.bad as Out;
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('is not a valid agreement');
    for (const path of ['sla.acceptWithin', 'stages', 'leadStatuses', 'reasons', 'nurture'])
      expect(res.stderr).toMatch(new RegExp(`^\\s+${path.replace('.', '\\.')}: `, 'm'));
    const notYaml = early.notYaml as Out;
    expect(notYaml.code).toBe(1);
    expect(notYaml.stderr).toContain('(document): not valid JSON or YAML');
  });

  it('refuses a file whose routing names someone outside the workspace, naming the path', async () => {
    const doc = agreementDoc({ routing: { fallbackPool: [{ user: 'nobody@cli.test', weight: 1 }] } });
    const res = await tandem('agreement', 'import', file('ghost.json', JSON.stringify(doc)), '--workspace', slug);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('document.routing.fallbackPool[0].user: no user with email nobody@cli.test');
  });

  it('imports a CSV with a progress line, dry run first, reports bad rows by row and column, and exports', async () => {
    const csv = file(
      'contacts.csv',
      [
        'Record ID,First Name,Last Name,Email,Job Title,Lifecycle Stage',
        '1,Ann,Able,ann@cli-import.example,CTO,lead',
        '2,Bad,Row,not-an-email,CEO,lead',
        '3,Cy,Cole,cy@cli-import.example,,subscriber',
      ].join('\n'),
    );
    const dry = await tandem('import', csv, '--entity', 'leads', '--format', 'hubspot', '--dry-run', '--workspace', slug);
    expect(dry.stdout).toContain('Dry run (nothing written): 3 rows');
    expect(dry.stdout).toContain('2 would be new');
    expect(dry.stdout).toMatch(/row 2 \(line 3\), email: "not-an-email" is not an email address/);
    expect(dry.stderr).toMatch(/3 rows\s+[\d,]+ rows\/s/);
    expect(dry.code).toBe(1);
    const real = await tandem('import', csv, '--entity', 'leads', '--format', 'hubspot', '--workspace', slug);
    expect(real.stdout).toContain('Imported: 3 rows');
    expect(real.stdout).toContain('2 new');
    const out = join(dir, 'leads.csv');
    const exported = await tandem('export', 'leads', '--out', out, '--workspace', slug);
    expect(exported.code).toBe(0);
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).toContain('email,first_name');
    expect(text).toContain('ann@cli-import.example');
    expect(text).not.toContain('not-an-email');
    const bad = await tandem('import', csv, '--entity', 'people', '--workspace', slug);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--entity must be one of leads, accounts, deals');
  });
});
