import { sql } from 'kysely';
import type { Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { DEFAULT_SCORING, type ScoringDocument } from '../src/domain/scoring.js';
import { previewRescore, rescoreAll } from '../src/features/scoring/scoring.repo.js';
import { uuidv7 } from '../src/lib/ids.js';
import type { Target } from './ingest.js';

const LEADS = Number(process.env.BENCH_RESCORE_LEADS ?? 1_000_000);
const ACCOUNTS = 10_000;
const EVENTS = Number(process.env.BENCH_RESCORE_EVENTS ?? 1_000_000);
const ACTIVE_LEADS = 200_000;

/** Deterministic ids from a number, so leads, accounts and events refer to each other in set-based SQL. */
const idSql = (prefix: string, g: string) => `('00000000-0000-4000-${prefix}-' || lpad(to_hex(${g}), 12, '0'))::uuid`;

/**
 * Rescoring a million leads after a rule change (set-based), beside the floor of writing every
 * lead once (an UPDATE that rewrites each row) in the same run.
 */
export async function benchRescore(t: Target, open: () => Promise<Database>, log: (s: string) => void): Promise<{ lines: string[]; problems: string[] }> {
  const out = { lines: [] as string[], problems: [] as string[] };
  const database = await open();
  try {
    const db = database.db;
    await migrateToLatest(db);
    const ws = uuidv7();
    log(`  rescoring: seeding ${LEADS.toLocaleString('en-US')} leads, ${ACCOUNTS.toLocaleString('en-US')} accounts, ${EVENTS.toLocaleString('en-US')} events`);
    const seedStart = performance.now();
    await sql`INSERT INTO workspaces (id, slug, name, created_at) VALUES (${ws}::uuid, ${`rescore-${ws.slice(-12)}`}, 'Rescore benchmark', now())`.execute(db);
    await sql
      .raw(`INSERT INTO accounts (workspace_id, id, name, domain, industry, employees, country, created_at, updated_at)
      SELECT '${ws}'::uuid, ${idSql('8000', 'g')}, 'Account ' || g, 'account' || g || '.example',
        (ARRAY['Software', 'Financial Services', 'Healthcare', 'Manufacturing', 'Retail', 'Education'])[1 + g % 6],
        (ARRAY[12, 60, 150, 400, 1200, 8000])[1 + (g * 7) % 6], (ARRAY['US', 'DE', 'FR', 'GB', 'JP'])[1 + g % 5], now(), now()
      FROM generate_series(1, ${ACCOUNTS}) AS g`)
      .execute(db);
    await sql
      .raw(`INSERT INTO leads (workspace_id, id, email, first_name, title, country, persona, source, account_id, stage, stage_changed_at, created_at, updated_at)
      SELECT '${ws}'::uuid, ${idSql('9000', 'g')}, 'lead' || g || (ARRAY['@gmail.com', '@corp.example', '@mail.example'])[1 + g % 3], 'Lead ' || g,
        (ARRAY['VP Sales', 'Head of Marketing', 'Marketing Manager', 'Engineer', 'Director of IT', 'Student', 'Chief Revenue Officer'])[1 + g % 7],
        (ARRAY['US', 'DE', 'FR', 'GB', 'JP'])[1 + g % 5], (ARRAY['economic_buyer', 'champion', 'user'])[1 + g % 3], 'website',
        ${idSql('8000', `(1 + g % ${ACCOUNTS})`)}, (ARRAY['subscriber', 'lead', 'nurture'])[1 + g % 3], now(), now(), now()
      FROM generate_series(1, ${LEADS}) AS g`)
      .execute(db);
    await sql
      .raw(`INSERT INTO events (workspace_id, id, message_id, type, name, lead_id, at, received_at, properties, context, scored)
      SELECT '${ws}'::uuid, ${idSql('a000', 'g')}, 'seed-' || g, CASE WHEN g % 4 = 0 THEN 'track' ELSE 'page' END,
        CASE WHEN g % 4 = 0 THEN (ARRAY['Form Submitted', 'Email Clicked', 'Whitepaper Downloaded', 'Demo Requested'])[1 + (g / 4) % 4] ELSE 'Page' END,
        ${idSql('9000', `(1 + g % ${ACTIVE_LEADS})`)}, now() - ((g % 90) || ' days')::interval, now(),
        jsonb_build_object('path', (ARRAY['/pricing', '/blog/a', '/docs', '/'])[1 + (g / 4) % 4]), '{}', true
      FROM generate_series(1, ${EVENTS}) AS g`)
      .execute(db);
    await sql`ANALYZE`.execute(db);
    const seeded = (performance.now() - seedStart) / 1000;

    log('  rescoring: first scoring of every lead');
    const now = new Date();
    let start = performance.now();
    const first = await db.transaction().execute((trx) => rescoreAll(trx, ws, DEFAULT_SCORING, now, 'bench'));
    const firstSeconds = (performance.now() - start) / 1000;
    // A rule change meets a database at rest, not one just loaded: autovacuum (PostgreSQL) or
    // Tandem's maintenance job (embedded) has cleared the first scoring's dead rows and counted
    // the new tables by then.
    await sql`VACUUM (ANALYZE)`.execute(db);

    // A rule change: a higher fit threshold, a new fit rule, more points for pricing views.
    const changed: ScoringDocument = {
      ...DEFAULT_SCORING,
      fit: {
        rules: [...DEFAULT_SCORING.fit.rules, { id: 'target-country', label: 'Target market', field: 'country', op: 'oneOf', value: ['US', 'GB'], points: 10 }],
      },
      interest: {
        ...DEFAULT_SCORING.interest,
        rules: DEFAULT_SCORING.interest.rules.map((r) => (r.id === 'pricing-page' ? { ...r, points: 15, cap: { points: 45, days: 7 } } : r)),
      },
      thresholds: { fit: 45, interest: 30 },
    };
    log('  rescoring: preview of the rule change');
    start = performance.now();
    const preview = await previewRescore(db, ws, changed, now, DEFAULT_SCORING);
    const previewSeconds = (performance.now() - start) / 1000;
    log('  rescoring: the rule change');
    start = performance.now();
    // As activation does: the rules the stored points were granted under come along.
    const moved = await db.transaction().execute((trx) => rescoreAll(trx, ws, changed, now, 'bench', DEFAULT_SCORING));
    const changeSeconds = (performance.now() - start) / 1000;

    log('  rescoring: a change of fit rules and thresholds only');
    const fitOnly: ScoringDocument = { ...changed, thresholds: { fit: 50, interest: 30 } };
    start = performance.now();
    const movedFit = await db.transaction().execute((trx) => rescoreAll(trx, ws, fitOnly, now, 'bench', changed));
    const fitSeconds = (performance.now() - start) / 1000;

    log('  rescoring: floors (rewrite every score row once; every lead row once)');
    start = performance.now();
    await db.transaction().execute((trx) => sql`UPDATE lead_scores SET fit_score = fit_score + 0 WHERE workspace_id = ${ws}::uuid`.execute(trx));
    const floorSeconds = (performance.now() - start) / 1000;
    // Where scores lived before they had a table of their own: each lead's whole row.
    start = performance.now();
    await db.transaction().execute((trx) => sql`UPDATE leads SET updated_at = updated_at WHERE workspace_id = ${ws}::uuid`.execute(trx));
    const wideFloorSeconds = (performance.now() - start) / 1000;

    const counts = await sql<{ leads: number; points: number; classed: number }>`SELECT
      (SELECT count(*)::int FROM leads WHERE workspace_id = ${ws}::uuid) AS leads,
      (SELECT count(*)::int FROM score_points WHERE workspace_id = ${ws}::uuid) AS points,
      (SELECT count(*)::int FROM lead_scores WHERE workspace_id = ${ws}::uuid AND score_class IS NOT NULL) AS classed`.execute(db);
    const c = counts.rows[0];
    if (c?.leads !== LEADS) out.problems.push(`rescoring: ${c?.leads} leads seeded, expected ${LEADS}`);
    if (c?.classed !== LEADS) out.problems.push(`rescoring: ${c?.classed} of ${LEADS} leads have a class after rescoring`);
    if (preview.leads !== LEADS) out.problems.push(`rescoring: the preview counted ${preview.leads} leads`);
    if (preview.classChanges !== moved && moved < preview.classChanges)
      out.problems.push(`rescoring: preview said ${preview.classChanges} class changes, rescoring moved ${moved} leads`);
    const target = t.kind === 'embedded' ? 20 : 10;
    out.lines.push(
      `  Rescoring ${LEADS.toLocaleString('en-US')} leads (${EVENTS.toLocaleString('en-US')} events, ${(c?.points ?? 0).toLocaleString('en-US')} points granted; seeded in ${seeded.toFixed(1)} s)`,
      `    first scoring of every lead       ${firstSeconds.toFixed(1).padStart(7)} s   (${first.toLocaleString('en-US')} leads written)`,
      `    preview of a rule change          ${previewSeconds.toFixed(1).padStart(7)} s   (${preview.classChanges.toLocaleString('en-US')} would change class)`,
      `    rescoring after the rule change   ${changeSeconds.toFixed(1).padStart(7)} s   (${moved.toLocaleString('en-US')} leads moved)`,
      `    a fit-only change (points kept)   ${fitSeconds.toFixed(1).padStart(7)} s   (${movedFit.toLocaleString('en-US')} leads moved)`,
      `    floor: rewrite every score once   ${floorSeconds.toFixed(1).padStart(7)} s`,
      `    (every lead's whole row once      ${wideFloorSeconds.toFixed(1).padStart(7)} s: the floor when scores lived in it)`,
      `    target < ${target} s .................... ${changeSeconds < target ? 'PASS' : 'FAIL'}`,
    );
  } finally {
    await database.close();
  }
  return out;
}
