import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { chromium } from 'playwright-core';
import type { Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createUser } from '../src/features/users/users.service.js';
import { createWorkspace } from '../src/features/workspaces/workspaces.service.js';
import { pageShell } from '../src/http/home.js';
import { systemClock } from '../src/lib/clock.js';
import { uuidv7 } from '../src/lib/ids.js';
import { forkServer, stopServer } from './child.js';
import type { Target } from './ingest.js';

const LEADS = Number(process.env.BENCH_WEB_LEADS ?? 100_000);
const SCROLL_SECONDS = Number(process.env.BENCH_WEB_SECONDS ?? 10);
const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'bench-password-1';
/** A frame this long is a visible stutter. */
const LONG_FRAME_MS = 50;

interface ScrollRun {
  frames: number[];
  /** Rows the table had loaded when the scrolling stopped. */
  rowsLoaded: number;
  /** The most table rows in the page at any frame (the virtualized window). */
  maxRowsInPage: number;
  /** How far down the list the scrolling got, in rows. */
  rowsScrolled: number;
}

/** Frame times while a scroller moves down by `step` pixels every frame for `seconds`. */
const scrollScript = (selector: string, seconds: number, step: number) => `
  new Promise((resolve) => {
    const box = document.querySelector(${JSON.stringify(selector)});
    const frames = [];
    let maxRows = 0;
    let last = performance.now();
    const end = last + ${seconds * 1000};
    function tick(now) {
      frames.push(now - last);
      last = now;
      maxRows = Math.max(maxRows, document.querySelectorAll('tbody tr').length);
      box.scrollTop += ${step};
      if (now < end) requestAnimationFrame(tick);
      else resolve({ frames: frames.slice(1), maxRowsInPage: maxRows, rowsScrolled: Math.round(box.scrollTop / 44),
        rowsLoaded: Number((document.body.innerText.match(/([\\d,]+) leads loaded/) || [0, '0'])[1].replace(/,/g, '')) });
    }
    requestAnimationFrame(tick);
  })`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const line = (label: string, r: ScrollRun) =>
  `${label.padEnd(28)} frames ${String(r.frames.length).padStart(4)}  p50 ${pct(r.frames, 50).toFixed(1).padStart(5)} ms  p95 ${pct(r.frames, 95).toFixed(1).padStart(5)} ms  p99 ${pct(r.frames, 99).toFixed(1).padStart(5)} ms  over ${LONG_FRAME_MS} ms: ${r.frames.filter((f) => f > LONG_FRAME_MS).length}`;

/**
 * The leads table at 100,000 leads, in Debian's Chromium: time to the first rows, then frame
 * times while it scrolls down 13 rows a frame for ten seconds (loading pages from the server as
 * it goes), beside the same scroll on a plain page of the same height (the browser's own floor
 * on this machine, measured in the same run).
 */
export async function benchWeb(t: Target, open: () => Promise<Database>, log: (s: string) => void): Promise<{ lines: string[]; problems: string[] }> {
  const out = { lines: [] as string[], problems: [] as string[] };
  if (!existsSync(CHROMIUM) || !pageShell()) {
    out.problems.push(`web: needs Chromium at ${CHROMIUM} and a built app (npm run build:web)`);
    return out;
  }
  log(`  web: seeding ${LEADS.toLocaleString('en-US')} leads`);
  const database = await open();
  await migrateToLatest(database.db);
  const workspace = await createWorkspace(database.db, systemClock, { slug: `web-${uuidv7().slice(-12)}`, name: 'Web benchmark' });
  const email = `bench.${workspace.id.slice(-8)}@web.example`;
  await createUser({ db: database.db, clock: systemClock }, workspace.id, null, { email, name: 'Bench Marketer', team: 'marketing', password: PASSWORD });
  await sql`INSERT INTO leads (workspace_id, id, email, first_name, last_name, company, title, stage, stage_changed_at, created_at, updated_at, properties)
    SELECT ${workspace.id}::uuid, gen_random_uuid(), 'person' || g || '@company' || (g % 5000) || '.example', 'Person', 'Number ' || g,
      'Company ' || (g % 5000), (ARRAY['VP Sales', 'Head of Marketing', 'Engineer'])[1 + g % 3], (ARRAY['subscriber', 'lead', 'nurture'])[1 + g % 3],
      now(), now() - (g || ' seconds')::interval, now(), '{}'::jsonb
    FROM generate_series(1, ${LEADS}::int) AS g`.execute(database.db);
  if (t.kind === 'embedded') await sql`VACUUM ANALYZE leads`.execute(database.db);
  await database.close();

  const server = await forkServer('./server.ts', t, { LOG_LEVEL: 'warn' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const base = `http://127.0.0.1:${server.port}`;
    // The floor: the same scroll on a static page as tall as the loaded rows, in the same browser.
    await page.setContent(`<div id="box" style="height:600px;overflow:auto"><div style="height:${LEADS * 44}px"></div></div>`);
    const floor = (await page.evaluate(scrollScript('#box', SCROLL_SECONDS, 600))) as ScrollRun;

    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('main#main').waitFor();
    const started = performance.now();
    await page.goto(`${base}/leads`);
    await page.locator('tbody tr').first().waitFor();
    const firstRowsMs = performance.now() - started;
    const run = (await page.evaluate(scrollScript('.vgrid-body', SCROLL_SECONDS, 600))) as ScrollRun;

    out.lines.push(
      `  web, leads table at ${LEADS.toLocaleString('en-US')} leads (${t.kind}): first rows ${firstRowsMs.toFixed(0)} ms after opening the page; ${run.rowsScrolled.toLocaleString('en-US')} rows scrolled past in ${SCROLL_SECONDS} s, ${run.rowsLoaded.toLocaleString('en-US')} loaded, at most ${run.maxRowsInPage} rows in the page`,
      `    ${line('leads table', run)}`,
      `    ${line('floor: plain page, same scroll', floor)}`,
    );
    if (run.maxRowsInPage > 200) out.problems.push(`web: ${run.maxRowsInPage} rows in the page at once; the table is not virtualized`);
  } finally {
    await browser.close();
    await stopServer(server.child);
  }
  return out;
}
