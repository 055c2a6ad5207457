import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { DEMO_PASSWORD, DEMO_SLUG, demoSignIns, seedDemo } from '../demo/seed.js';
import { systemActor } from '../domain/access.js';
import { DEFAULT_AGREEMENT, diffAgreements, parseAgreementText } from '../domain/agreement.js';
import { createDraft, getAgreement, getEffectiveAgreement } from '../features/agreements/agreements.service.js';
import { createUser } from '../features/users/users.service.js';
import { createWorkspace, findWorkspaceBySlug } from '../features/workspaces/workspaces.service.js';
import { systemClock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { exportEntity, importFile } from './import.js';
import { openMigrated } from './runtime.js';
import { serve } from './serve.js';

const HELP = `Tandem: one lead lifecycle for marketing and sales.

Usage: tandem <command> [options]

  serve [--demo]                      Start the server (PORT, default 4000). --demo creates the demo
                                      workspace when the database is new.
  demo                                Create or refresh the demo workspace.
  migrate                             Bring the database schema up to date.
  workspace create --slug S --name N  Create a workspace.
  user add --workspace S --email E --name N --team marketing|sales
           [--level member|lead] [--admin] [--password P]
  agreement export [--workspace S] [--version N] [--format yaml|json]
  agreement import FILE [--workspace S]   Validate FILE and store it as a new draft.
  agreement diff A B [--workspace S]      A and B are files or version numbers (0 = default).
  import FILE --entity leads|accounts|deals [--format hubspot|salesforce|custom]
         [--duplicates update|skip|fail] [--mapping JSON] [--dry-run] [--workspace S]
                                      Import a CSV file, streamed, with progress.
  export leads|accounts|deals [--out FILE] [--workspace S]   Export as CSV.

Environment: DATABASE_URL (PostgreSQL; otherwise embedded in TANDEM_DATA_DIR, default ./.tandem),
PORT, HOST, LOG_LEVEL. Exit codes: 0 ok, 1 error, 2 bad usage.`;

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openMigrated>>) => Promise<T>, options: { ownThread?: boolean } = {}): Promise<T> {
  const opened = await openMigrated(undefined, options);
  try {
    return await fn(opened);
  } finally {
    await opened.database.close();
  }
}

async function workspaceId(db: Parameters<typeof findWorkspaceBySlug>[0], slug: string | undefined): Promise<string> {
  const ws = await findWorkspaceBySlug(db, slug ?? DEMO_SLUG);
  if (!ws) throw new AppError('not_found', `No workspace "${slug ?? DEMO_SLUG}"; create it with: tandem workspace create`);
  return ws.id;
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  const args = parseArgs({
    args: argv.slice(1),
    allowPositionals: true,
    strict: false,
    options: {
      demo: { type: 'boolean' },
      workspace: { type: 'string' },
      slug: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      team: { type: 'string' },
      level: { type: 'string' },
      admin: { type: 'boolean' },
      password: { type: 'string' },
      version: { type: 'string' },
      format: { type: 'string' },
      entity: { type: 'string' },
      duplicates: { type: 'string' },
      mapping: { type: 'string' },
      'dry-run': { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  const v = args.values as Record<string, string | boolean | undefined>;
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  switch (command) {
    case 'serve':
      await serve({ demo: Boolean(v.demo) });
      return 0;
    case 'migrate': {
      const config = loadConfig();
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      const applied = await migrateToLatest(database.db);
      await database.close();
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The schema is up to date.');
      return 0;
    }
    case 'demo':
      return withDb(async ({ database }) => {
        const summary = await seedDemo(database.db, systemClock, { log: (line) => console.log(line) });
        console.log(summary.text);
        console.log(await demoSignIns(database.db));
        return 0;
      });
    case 'workspace':
      if (sub !== 'create' || !str('slug') || !str('name')) return usage('workspace create --slug S --name N');
      return withDb(async ({ database }) => {
        const ws = await createWorkspace(database.db, systemClock, { slug: str('slug') as string, name: str('name') as string });
        console.log(`Created workspace ${ws.slug} (${ws.id})`);
        return 0;
      });
    case 'user':
      if (sub !== 'add' || !str('email') || !str('name') || !str('team')) return usage('user add --workspace S --email E --name N --team marketing|sales');
      return withDb(async ({ database }) => {
        const ws = await workspaceId(database.db, str('workspace'));
        const user = await createUser({ db: database.db, clock: systemClock }, ws, null, {
          email: str('email') as string,
          name: str('name') as string,
          team: str('team') as 'marketing' | 'sales',
          level: (str('level') ?? 'member') as 'member' | 'lead',
          isAdmin: Boolean(v.admin),
          ...(str('password') ? { password: str('password') as string } : {}),
        });
        console.log(`Added ${user.email} (${user.team} ${user.level}${user.is_admin ? ', admin' : ''}) id ${user.id}`);
        return 0;
      });
    case 'agreement':
      return agreementCommand(
        sub,
        rest.filter((r) => !r.startsWith('--') && !Object.values(v).includes(r)),
        str,
      );
    case 'import': {
      if (!sub) return usage('import FILE --entity leads|accounts|deals');
      return withDb(
        async ({ database }) => {
          const ws = await workspaceId(database.db, str('workspace'));
          return importFile(database.db, systemActor(ws), {
            file: sub,
            entity: str('entity'),
            format: str('format'),
            duplicates: str('duplicates'),
            mapping: str('mapping'),
            dryRun: Boolean(v['dry-run']),
          });
        },
        // The embedded database writes one batch while the next is read, checked and encoded.
        { ownThread: true },
      );
    }
    case 'export':
      return withDb(async ({ database }) => {
        const ws = await workspaceId(database.db, str('workspace'));
        return exportEntity(database.db, systemActor(ws), sub, str('out'));
      });
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return 0;
    default:
      return usage(`unknown command "${command}"`);
  }
}

async function agreementCommand(sub: string | undefined, positionals: string[], str: (k: string) => string | undefined): Promise<number> {
  if (sub === 'diff') {
    const [a, b] = positionals;
    if (!a || !b) return usage('agreement diff A B');
    return withDb(async ({ database }) => {
      const load = async (ref: string) => {
        if (/^\d+$/.test(ref)) {
          if (ref === '0') return DEFAULT_AGREEMENT;
          const ws = await workspaceId(database.db, str('workspace'));
          return (await getAgreement({ db: database.db, clock: systemClock }, systemActor(ws), ref)).document;
        }
        const parsed = parseAgreementText(readFileSync(ref, 'utf8'));
        if (!parsed.ok) throw new AppError('validation_failed', `${ref} is not a valid agreement`, { problems: parsed.problems });
        return parsed.document;
      };
      const changes = diffAgreements(await load(a), await load(b));
      if (changes.length === 0) console.log('No differences.');
      for (const c of changes) {
        const fmt = (x: unknown) => JSON.stringify(x);
        if (c.change === 'added') console.log(`+ ${c.path}: ${fmt(c.after)}`);
        else if (c.change === 'removed') console.log(`- ${c.path}: ${fmt(c.before)}`);
        else console.log(`~ ${c.path}: ${fmt(c.before)} -> ${fmt(c.after)}`);
      }
      return 0;
    });
  }
  if (sub === 'export') {
    return withDb(async ({ database }) => {
      const ws = await workspaceId(database.db, str('workspace'));
      const deps = { db: database.db, clock: systemClock };
      const version = str('version');
      const doc = version ? (await getAgreement(deps, systemActor(ws), version)).document : (await getEffectiveAgreement(database.db, ws)).document;
      process.stdout.write(str('format') === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : toYaml(doc));
      return 0;
    });
  }
  if (sub === 'import') {
    const [file] = positionals;
    if (!file) return usage('agreement import FILE');
    const parsed = parseAgreementText(readFileSync(file, 'utf8'));
    if (!parsed.ok) {
      console.error(`${file} is not a valid agreement:`);
      for (const p of parsed.problems) console.error(`  ${p.path}: ${p.message}`);
      return 1;
    }
    return withDb(async ({ database }) => {
      const ws = await workspaceId(database.db, str('workspace'));
      const row = await createDraft({ db: database.db, clock: systemClock }, systemActor(ws), parsed.document);
      console.log(`Stored as draft version ${row.version}. Propose it and have both leads sign it to make it active.`);
      return 0;
    });
  }
  return usage('agreement export|import|diff');
}

function usage(message: string): number {
  console.error(`Usage: tandem ${message}\nRun "tandem help" for all commands.`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof AppError) {
      console.error(`Error (${error.code}): ${error.message}`);
      const problems = (error.details as { problems?: { path: string; message: string }[] } | undefined)?.problems;
      for (const p of problems ?? []) console.error(`  ${p.path}: ${p.message}`);
    } else console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);

export { DEMO_PASSWORD };
