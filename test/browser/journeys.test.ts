/// <reference lib="dom" />
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_AGREEMENT } from '../../src/domain/agreement.js';
import { actorFromUser, createApiKey } from '../../src/features/auth/auth.service.js';
import { createUser } from '../../src/features/users/users.service.js';
import { createWorkspace } from '../../src/features/workspaces/workspaces.service.js';
import type { App } from '../../src/http/context.js';
import { pageShell } from '../../src/http/home.js';
import { buildServer } from '../../src/http/server.js';
import { systemClock } from '../../src/lib/clock.js';
import { uuidv7 } from '../../src/lib/ids.js';
import { testDatabase } from '../harness.js';

/**
 * The main journeys, walked in Debian's Chromium against the real server and database, as the
 * people would: a marketer hands a lead off; the rep sees it arrive without reloading, opens it
 * and rejects it with a reason; marketing sees the rejection; both team leads sign a new version
 * of the agreement; an import with a bad row. Each page is checked with axe-core, and each step
 * leaves a screenshot in test-results/screens.
 */
const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium';
const built = pageShell() !== null;
const SCREENS = join(import.meta.dirname, '..', '..', 'test-results', 'screens');
const PASSWORD = 'journey-password-1';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

if (process.env.TANDEM_REQUIRE_BROWSER && (!existsSync(CHROMIUM) || !built)) {
  throw new Error(
    `The browser tests must run here, but ${existsSync(CHROMIUM) ? 'the web app is not built (npm run build:web)' : `there is no Chromium at ${CHROMIUM}`}`,
  );
}

interface Person {
  email: string;
  name: string;
  key: string;
}

describe.skipIf(!existsSync(CHROMIUM) || !built)('the web app, in a browser', () => {
  let app: App;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const people = {} as Record<'marketer' | 'marketingLead' | 'rep' | 'salesLead', Person>;
  let leadId: string;
  const suffix = uuidv7().slice(-8);

  const call = async (who: Person, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization: `Bearer ${who.key}` }, ...(payload ? { payload: payload as object } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    const database = await testDatabase();
    const deps = { db: database.db, clock: systemClock };
    const workspace = await createWorkspace(database.db, systemClock, { slug: `web-${suffix}`, name: 'Journey Co' });
    const add = async (name: string, team: 'marketing' | 'sales', level: 'member' | 'lead', isAdmin = false): Promise<Person> => {
      const email = `${name.toLowerCase().split(' ')[0]}.${suffix}@journey.example`;
      const user = await createUser(deps, workspace.id, null, { email, name, team, level, isAdmin, password: PASSWORD });
      const { key } = await createApiKey(deps, actorFromUser(user, 'api_key'), 'journey');
      return { email, name, key };
    };
    people.marketer = await add('Mia Marketer', 'marketing', 'member');
    people.marketingLead = await add('Lena Lead', 'marketing', 'lead', true);
    people.rep = await add('Rob Rep', 'sales', 'member');
    people.salesLead = await add('Sam Sales', 'sales', 'lead');
    app = await buildServer({ config: loadConfig({ TANDEM_DATA_DIR: 'memory://', TANDEM_SECURE_COOKIES: 'false' }), database });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    // Version 1, signed: every handoff goes to Rob, so the journey knows whose queue to watch.
    const v1 = await call(people.marketingLead, 'POST', '/api/agreements', {
      document: {
        ...DEFAULT_AGREEMENT,
        name: 'Journey Co agreement',
        routing: { accountOwnerFirst: true, rules: [], fallbackPool: [{ user: people.rep.email, weight: 1 }] },
      },
    });
    await call(people.marketingLead, 'POST', `/api/agreements/${v1.id}/propose`);
    await call(people.marketingLead, 'POST', `/api/agreements/${v1.id}/sign`);
    await call(people.salesLead, 'POST', `/api/agreements/${v1.id}/sign`);
    const lead = await call(people.marketer, 'POST', '/api/leads', {
      email: `ada.${suffix}@prospect.example`,
      firstName: 'Ada',
      lastName: 'Journey',
      title: 'VP Engineering',
      company: 'Prospect Ltd',
      stage: 'lead',
    });
    leadId = lead.id;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  // A failed journey leaves a picture of every page it had open.
  afterEach(async (test) => {
    if (test.task.result?.state !== 'fail') return;
    let n = 0;
    for (const c of contexts)
      for (const p of c.pages())
        await p.screenshot({ path: join(SCREENS, `failed-${test.task.name.slice(0, 30).replace(/\W+/g, '-')}-${n++}.png`), fullPage: true }).catch(() => {});
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await app?.close();
  });

  async function signIn(who: Person, viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => {
      throw e;
    });
    await page.goto(`${base}/`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('main#main').waitFor();
    return page;
  }

  /** Wait until the locator's element shows the text (playwright-core has no test matchers of its own). */
  const shows = (loc: Locator, text: string | RegExp, timeout = 10_000) => loc.filter({ hasText: text }).first().waitFor({ timeout });
  const visible = (loc: Locator, timeout = 10_000) => loc.first().waitFor({ timeout });
  async function until(check: () => Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
    const end = Date.now() + timeout;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });

  /** WCAG 2 A and AA rules, by axe-core in the page; serious and critical findings fail the test. */
  async function expectAccessible(page: Page, what: string): Promise<void> {
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const axe = (
        window as unknown as {
          axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
        }
      ).axe;
      const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${what}: ${JSON.stringify(serious)}`).toEqual([]);
  }

  it('turns away a wrong password with a message, and signs in with the right one', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/leads`);
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('Email').fill(people.marketer.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await shows(page.getByRole('alert'), 'do not match');
    await shot(page, '01-sign-in-error');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The address asked for before signing in is where the person lands.
    await page.getByRole('heading', { name: 'Leads', level: 1 }).waitFor();
  });

  it('a marketer hands a lead off; the rep sees it arrive without reloading, opens it and rejects it with a reason; marketing sees why', async () => {
    const rep = await signIn(people.rep);
    await rep.getByRole('heading', { name: 'Your queue' }).waitFor();
    await visible(rep.getByText('No leads waiting on you'));

    const marketer = await signIn(people.marketer);
    await marketer.getByRole('link', { name: 'Leads', exact: true }).click();
    await marketer.getByLabel('Search').fill('Ada');
    await marketer.getByRole('link', { name: 'Ada Journey' }).click();
    await marketer.getByRole('heading', { name: 'Ada Journey' }).waitFor();
    await expectAccessible(marketer, 'lead page');
    await marketer.getByRole('button', { name: 'Hand off to sales' }).click();
    await marketer.getByRole('dialog').getByRole('button', { name: 'Hand off' }).click();
    const open = marketer.getByTestId('open-handoff');
    await shows(open, 'Rob Rep');
    await shot(marketer, '02-marketer-handed-off');

    // The rep's page was never reloaded: the handoff arrives over the live stream.
    const item = rep.getByTestId('queue-item').filter({ hasText: 'Ada Journey' });
    await item.waitFor({ timeout: 15_000 });
    await shows(item, 'left');
    await shot(rep, '03-rep-queue-live');
    await expectAccessible(rep, 'rep home');

    await item.getByRole('link', { name: 'Ada Journey' }).click();
    await rep.getByRole('heading', { name: 'Ada Journey' }).waitFor();
    await rep.getByRole('button', { name: 'Reject Ada Journey' }).click();
    const dialog = rep.getByRole('dialog');
    await dialog.getByLabel('Reason').selectOption('wrong_person');
    // This reason needs a note: the button waits for one and the field says so.
    expect(await dialog.getByRole('button', { name: 'Reject lead' }).isDisabled()).toBe(true);
    await visible(dialog.getByText('This reason needs a note'));
    await dialog.getByLabel(/Note/).fill('An intern doing research; the CTO decides.');
    await dialog.getByRole('button', { name: 'Reject lead' }).click();
    await visible(rep.getByText('rejected it: Not the decision maker or influencer'));
    await shot(rep, '04-rep-rejected');

    await marketer.getByRole('link', { name: 'Home', exact: true }).click();
    const rejections = marketer.getByTestId('rejections');
    await shows(rejections, 'Ada Journey');
    await shows(rejections, 'Not the decision maker or influencer');
    await shows(rejections, 'An intern doing research');
    await shot(marketer, '05-marketer-sees-rejection');
    await expectAccessible(marketer, 'marketer home');
  });

  it('both team leads sign a new version of the agreement', async () => {
    const mlead = await signIn(people.marketingLead);
    await mlead.getByRole('link', { name: 'Agreement', exact: true }).click();
    await expectAccessible(mlead, 'agreement');
    await mlead.getByRole('button', { name: 'Start a new version' }).click();
    const accept = mlead.getByLabel('Accept or reject within');
    await accept.fill('2x');
    // Checked as it is typed: a bad duration is named next to the field and nothing is saved.
    await visible(mlead.getByText('a duration such as').first(), 10_000);
    await accept.fill('2h');
    await visible(mlead.getByText('All changes saved'), 10_000);
    await shows(mlead.getByRole('region', { name: /What changes/ }).or(mlead.locator('section', { hasText: 'What changes against' })), 'sla.acceptWithin');
    await shot(mlead, '06-agreement-draft');
    await mlead.getByRole('button', { name: 'Propose for signature' }).click();
    await mlead.getByRole('button', { name: 'Sign for marketing' }).click();
    await visible(mlead.getByText('waiting on sales'));

    const slead = await signIn(people.salesLead);
    await visible(slead.getByText(/waiting on you/));
    await slead.getByRole('link', { name: 'Agreement', exact: true }).click();
    await slead.getByRole('button', { name: 'Sign for sales' }).click();
    await visible(slead.getByText('Version 2, signed by both team leads.'));
    await slead.getByRole('tab', { name: 'In force' }).click();
    await visible(slead.getByText(/within\s*2h/));
    await shot(slead, '07-agreement-signed');
  });

  it('an import with a bad row: the dry run names the row and column, the import keeps the good rows', async () => {
    const page = await signIn(people.marketer);
    await page.getByRole('link', { name: 'Import' }).click();
    const csv = [
      'First Name,Last Name,Email,Job Title,Company Name,Lifecycle Stage',
      `Grace,Hopper,grace.${suffix}@navy.example,Rear Admiral,US Navy,lead`,
      `Bad,Row,not-an-email,Engineer,Nowhere,lead`,
      `Alan,Turing,alan.${suffix}@bletchley.example,Cryptanalyst,GCCS,subscriber`,
    ].join('\n');
    await page.getByLabel('CSV file').setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await until(async () => (await page.getByLabel('Field for column Email').inputValue()) === 'email', 'the HubSpot mapping of Email');
    await expectAccessible(page, 'import');
    await page.getByRole('button', { name: 'Check the file (dry run)' }).click();
    const result = page.getByTestId('import-result');
    await shows(result, 'Dry run');
    await shows(result, '1 problem');
    await shows(result.getByRole('row', { name: /not-an-email|Email/ }).last(), '2');
    await shot(page, '08-import-dry-run');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await shows(result, 'Import: done', 20_000);
    await shows(result.getByText('New', { exact: true }).locator('..'), '2');
    await shot(page, '09-import-done');
    await page.getByRole('link', { name: 'Leads', exact: true }).click();
    await page.getByLabel('Search').fill('Grace');
    await visible(page.getByRole('link', { name: 'Grace Hopper' }));
  });

  it('a marketer creates a lead (a bad email is named at the field) and edits its profile', async () => {
    const page = await signIn(people.marketer);
    await page.getByRole('link', { name: 'Leads', exact: true }).click();
    await page.getByRole('button', { name: 'New lead' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Email').fill('not an email');
    await dialog.getByLabel('First name').fill('Katherine');
    await dialog.getByLabel('Last name').fill('Johnson');
    await dialog.getByRole('button', { name: 'Create lead' }).click();
    await visible(dialog.locator('.field-invalid').filter({ hasText: 'Email' }));
    await shot(page, '10a-new-lead-error');
    await dialog.getByLabel('Email').fill(`katherine.${suffix}@nasa.example`);
    await dialog.getByRole('button', { name: 'Create lead' }).click();
    await page.getByRole('heading', { name: 'Katherine Johnson' }).waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('dialog').getByLabel('Title').fill('Mathematician');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await shows(page.locator('dl.facts'), 'Mathematician');
    await shot(page, '10b-lead-edited');
    // Bulk: select her in the table and move her on; the server checks each lead it is given.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Leads', exact: true }).click();
    await page.getByLabel('Search').fill('Katherine');
    // The search applies after a pause and reloads the list (which clears a selection).
    await page.waitForURL(/q=Katherine/);
    await shows(page.getByText(/leads loaded/), '1 leads loaded');
    await page.getByRole('checkbox', { name: 'Select Katherine Johnson' }).check();
    await page.getByLabel('Move to').selectOption('lead');
    await page.getByRole('region', { name: 'Bulk actions' }).getByRole('button', { name: 'Move' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Move them' }).click();
    await visible(page.getByText('Moved 1 to Lead'));
  });

  it('a marketer saves a filtered view and shares it; a rep opens it', async () => {
    const page = await signIn(people.marketer);
    await page.getByRole('link', { name: 'Leads', exact: true }).click();
    await page.getByLabel('Stage').selectOption('lead');
    await page.getByRole('button', { name: 'Save this view' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Working leads');
    await dialog.getByLabel('Share with everyone in the workspace').check();
    await dialog.getByRole('button', { name: 'Save view' }).click();
    await visible(page.getByRole('button', { name: /Working leads/ }));
    await shot(page, '10c-saved-view');

    const rep = await signIn(people.rep);
    await rep.getByRole('link', { name: 'Leads', exact: true }).click();
    await rep.getByRole('button', { name: /Working leads/ }).click();
    await until(async () => (await rep.getByLabel('Stage').inputValue()) === 'lead', 'the view’s stage filter');
    expect(await rep.getByRole('button', { name: 'Delete the view Working leads' }).count()).toBe(0);
  });

  it('the rep’s queue and the lead page work on a 390 px phone', async () => {
    await call(people.marketer, 'POST', '/api/leads', { email: `lin.${suffix}@prospect.example`, firstName: 'Lin', lastName: 'Phone', stage: 'mql' });
    const phone = await signIn(people.rep, { width: 390, height: 844 });
    const item = phone.getByTestId('queue-item').filter({ hasText: 'Lin Phone' });
    await item.waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await shot(phone, '10-phone-queue');
    await item.getByRole('link', { name: 'Lin Phone' }).click();
    await phone.getByRole('heading', { name: 'Lin Phone' }).waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.getByRole('button', { name: 'Accept Lin Phone' }).click();
    await visible(phone.getByText('accepted the handoff'));
    await shot(phone, '11-phone-lead');
    await phone.getByRole('button', { name: 'Menu' }).click();
    await phone.getByRole('link', { name: 'Settings' }).click();
    await phone.getByRole('heading', { name: 'Settings' }).waitFor();
  });

  it('a team lead edits the scoring rules in the form and previews the effect; a bad value is named at its field', async () => {
    const page = await signIn(people.marketingLead);
    await page.getByRole('link', { name: 'Scoring', exact: true }).click();
    await page.getByLabel('Good fit from').fill('5');
    await page.getByRole('button', { name: 'Preview the effect' }).click();
    await shows(page.locator('section', { hasText: 'What would change' }), 'leads change class');
    const firstPoints = page.getByLabel('Points').first();
    await firstPoints.fill('5000');
    await page.getByRole('button', { name: 'Preview the effect' }).click();
    await visible(page.locator('.field-invalid').filter({ has: page.getByLabel('Points').first() }));
    await shot(page, '13a-scoring-form');
    await expectAccessible(page, 'scoring form');
  });

  it('a website using Segment’s own analytics.js, pointed at Tandem by cdnURL alone, creates the lead and hands it to a rep', async () => {
    const { key } = await call(people.marketingLead, 'POST', '/api/write-keys', { name: 'Website' });
    const library = readFileSync(createRequire(import.meta.url).resolve('@segment/analytics-next/dist/umd/index.js'), 'utf8');
    // The site is served from another origin, as a customer's site would be: every call crosses origins.
    const site = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Customer site</title><h1>Pricing</h1>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/pricing`;
    const email = `grace.${suffix}@site.example`;
    try {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(siteUrl);
      await page.addScriptTag({ content: library });
      await page.evaluate(
        async ({ writeKey, cdnURL, email }) => {
          type Lib = {
            AnalyticsBrowser: {
              load: (s: object) => Promise<[{ identify: (id: string, t: object) => Promise<unknown>; track: (e: string) => Promise<unknown> }]>;
            };
          };
          const [analytics] = await (window as unknown as { AnalyticsNext: Lib }).AnalyticsNext.AnalyticsBrowser.load({ writeKey, cdnURL });
          await analytics.identify('site-user-1', { email, name: 'Grace Site', title: 'VP Engineering' });
          await analytics.track('Demo Requested');
        },
        { writeKey: key, cdnURL: base, email },
      );
      let lead: { id: string; stage: string; ownerId: string | null } | undefined;
      await until(async () => {
        lead = (await call(people.marketer, 'GET', `/api/leads?q=${encodeURIComponent(email)}`)).items[0];
        return lead?.stage === 'mql';
      }, 'the lead from the site, handed off');
      const handoffs = await call(people.marketer, 'GET', `/api/handoffs?leadId=${lead?.id}`);
      expect(handoffs.items[0]).toMatchObject({ status: 'open' });
      expect(handoffs.items[0].assigneeId).toBe(lead?.ownerId);
    } finally {
      site.close();
    }
  });

  it('every screen opens for a team lead and passes the accessibility check', async () => {
    const page = await signIn(people.marketingLead);
    for (const [link, heading] of [
      ['Leads', 'Leads'],
      ['Accounts', 'Accounts'],
      ['Scoring', 'Scoring rules'],
      ['Settings', 'Settings'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      // Checked once the page has its data (the live stream stays open, so the network is never idle).
      await page.locator('.loading').waitFor({ state: 'detached' });
      await expectAccessible(page, link);
    }
    await page.getByRole('link', { name: 'Leads', exact: true }).click();
    await page.getByRole('tab', { name: 'Board by stage' }).click();
    await visible(page.getByRole('region', { name: 'MQL' }).or(page.locator('section[aria-label="MQL"]')));
    await shot(page, '12-board');
    await page.goto(`${base}/leads/${leadId}`);
    await page.getByRole('heading', { name: 'Scores' }).waitFor();
    await visible(page.getByText('Fit (good from'));
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Edit Rob Rep' }).click();
    await page.getByRole('dialog').getByLabel('Open handoffs at most').fill('5');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await visible(page.getByText('Rob Rep updated'));
    expect((await call(people.marketingLead, 'GET', '/api/users')).items.find((u: { email: string }) => u.email === people.rep.email).handoffCapacity).toBe(5);
    await page.getByRole('tab', { name: 'Website tracking' }).click();
    await page.getByRole('button', { name: 'Create a write key' }).click();
    await visible(page.getByText('cdnURL').first());
    await shot(page, '13-settings-tracking');
  });
});
