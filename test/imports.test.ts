import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRows } from '../src/features/imports/csv.js';
import { type Ctx, countRows, setup } from './harness.js';
import { hasSharedData, SHARED_DATA } from './shared-data.js';

const DATA = SHARED_DATA;
const SALESFORCE = join(DATA, 'salesforce-export-sample');

let ctx: Ctx;
beforeAll(async () => {
  ctx = await setup();
});
afterAll(() => ctx.app.close());

async function upload(query: string, csv: string | Buffer, who = ctx.people.marketer) {
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/imports/upload?${query}`,
    headers: { authorization: `Bearer ${who.key}`, 'content-type': 'text/csv' },
    payload: csv,
  });
  return { status: res.statusCode, body: res.json() };
}

async function leadByEmail(email: string) {
  return ctx.database.db
    .selectFrom('leads')
    .leftJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
    .selectAll('leads')
    .select(['s.fit_score', 's.score_class'])
    .where('leads.workspace_id', '=', ctx.workspace.id)
    .where('email', '=', email)
    .executeTakeFirst();
}

describe.skipIf(!hasSharedData)('CSV parsing (csv-spectrum, from ../shared/data)', () => {
  it('reads every csv-spectrum file exactly as its JSON says', async () => {
    const dir = join(DATA, 'csv-spectrum');
    const files = readdirSync(join(dir, 'csvs')).filter((f) => f.endsWith('.csv'));
    expect(files.length).toBe(12);
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(dir, 'json', file.replace('.csv', '.json')), 'utf8')) as Record<string, string> | Record<string, string>[];
      const expected = Array.isArray(json) ? json : [json];
      // That file's JSON gives another phone number than its CSV holds; every other field must match.
      if (file === 'location_coordinates.csv') for (const e of expected) delete e['Contact Phone Number'];
      const rows: string[][] = [];
      for await (const { record } of csvRows(createReadStream(join(dir, 'csvs', file)))) rows.push(record);
      const [header, ...data] = rows;
      const objects = data.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i]])));
      if (file === 'location_coordinates.csv') for (const o of objects) delete o['Contact Phone Number'];
      expect(objects, file).toEqual(expected);
    }
  });
});

describe('importing leads', () => {
  it.skipIf(!hasSharedData)('takes a Salesforce export as it comes: byte-order mark, API field names, Status and LeadSource values', async () => {
    const file = readFileSync(join(SALESFORCE, 'Lead.csv'));
    expect(file.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const expected = parse(file, { bom: true, columns: true }) as Record<string, string>[];
    const before = await countRows(ctx, 'leads');
    const dry = await upload('entity=leads&format=salesforce&dryRun=true', file);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ status: 'done', dryRun: true, rows: expected.length, failed: 0, inserted: expected.length });
    expect(await countRows(ctx, 'leads')).toBe(before);

    const real = await upload('entity=leads&format=salesforce', file);
    expect(real.body).toMatchObject({ status: 'done', dryRun: false, rows: expected.length, inserted: expected.length, failed: 0 });
    expect(await countRows(ctx, 'leads')).toBe(before + expected.length);
    const first = expected[0] as Record<string, string>;
    const lead = await leadByEmail(first.Email as string);
    expect(lead).toMatchObject({ first_name: first.FirstName, last_name: first.LastName, source: first.LeadSource, country: first.Country });
    expect(lead?.properties).toMatchObject({ salesforce_id: first.Id });
    const qualified = expected.find((r) => r.Status === 'Qualified') as Record<string, string>;
    expect((await leadByEmail(qualified.Email as string))?.status).toBe('qualified');
  });

  it('drops a byte-order mark before the header and maps Salesforce statuses', async () => {
    const csv = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('Id,FirstName,LastName,Email,Status,LeadSource\n00Q000000000001,Zed,Zulu,zed@bom.example,Working - Contacted,Web\n'),
    ]);
    const res = await upload('entity=leads&format=salesforce', csv);
    expect(res.body).toMatchObject({ inserted: 1, failed: 0 });
    expect(await leadByEmail('zed@bom.example')).toMatchObject({
      first_name: 'Zed',
      status: 'attempting',
      source: 'Web',
      properties: { salesforce_id: '00Q000000000001' },
    });
  });

  it('maps HubSpot lifecycle stages and lead statuses, and never hands a lead off on import', async () => {
    const csv = [
      'Record ID,First Name,Last Name,Email,Job Title,Company Name,Lifecycle Stage,Lead Status,Country/Region',
      '101,Ann,Able,ann@hub.example,VP Marketing,Hub Co,subscriber,NEW,Germany',
      '102,Ben,Baker,ben@hub.example,Engineer,Hub Co,marketingqualifiedlead,IN_PROGRESS,France',
      '103,Cat,Cole,cat@hub.example,CFO,Hub Co,customer,CONNECTED,Spain',
    ].join('\n');
    const res = await upload('entity=leads&format=hubspot', csv, ctx.people.admin);
    expect(res.body).toMatchObject({ inserted: 3, failed: 0 });
    expect(res.body.notes.join(' ')).toMatch(/does not hand leads off/);
    expect(await leadByEmail('ann@hub.example')).toMatchObject({ stage: 'subscriber', status: 'new', title: 'VP Marketing', country: 'Germany' });
    expect(await leadByEmail('ben@hub.example')).toMatchObject({ stage: 'lead', status: 'attempting' });
    expect(await leadByEmail('cat@hub.example')).toMatchObject({ stage: 'customer', status: 'connected' });
    const handoffs = await ctx.database.db.selectFrom('handoffs').select('id').where('workspace_id', '=', ctx.workspace.id).execute();
    expect(handoffs).toEqual([]);
    // Scored on the way in: a VP title earns the senior-title fit points.
    expect((await leadByEmail('ann@hub.example'))?.fit_score).toBeGreaterThanOrEqual(25);
  });

  it('keeps a tool’s own statuses and stages on the lead instead of failing the row, and says so', async () => {
    const csv = ['Email,Lifecycle Stage,Lead Status,Create Date', 'custom@hub.example,1234567,PARTNER_REFERRAL,22.01.2024 (Mon)'].join('\n');
    const res = await upload('entity=leads&format=hubspot', csv);
    expect(res.body).toMatchObject({ inserted: 1, failed: 0 });
    expect(res.body.notes.join(' ')).toMatch(/original_status/);
    expect(res.body.notes.join(' ')).toMatch(/original_stage/);
    expect(res.body.notes.join(' ')).toMatch(/Creation dates that could not be read/);
    expect(await leadByEmail('custom@hub.example')).toMatchObject({
      stage: 'subscriber',
      status: null,
      properties: { original_status: 'PARTNER_REFERRAL', original_stage: '1234567' },
    });
  });

  it('reports each bad row by row, line and column, and writes none of it', async () => {
    const csv = [
      'email,firstName,stage,status',
      'good.one@rows.example,Good,lead,new',
      'not-an-email,Bad,lead,new',
      'good.two@rows.example,"Quoted, with comma",lead,',
      'bad.stage@rows.example,Bad,limbo,',
      ',Nobody,,',
      'bad.status@rows.example,Bad,,sleepy',
      'sales.stage@rows.example,Bad,sal,',
    ].join('\r\n');
    const before = await countRows(ctx, 'leads');
    const res = await upload('entity=leads', csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rows: 7, inserted: 2, failed: 5 });
    expect(res.body.problems).toEqual([
      expect.objectContaining({ row: 2, line: 3, column: 'email' }),
      expect.objectContaining({ row: 4, column: 'stage' }),
      expect.objectContaining({ row: 5, column: 'email', message: 'is required' }),
      expect.objectContaining({ row: 6, column: 'status' }),
      expect.objectContaining({ row: 7, column: 'stage', message: expect.stringMatching(/belongs to sales/) }),
    ]);
    expect(await countRows(ctx, 'leads')).toBe(before + 2);
    expect((await leadByEmail('good.two@rows.example'))?.first_name).toBe('Quoted, with comma');
    expect(await leadByEmail('bad.stage@rows.example')).toBeUndefined();
  });

  it('follows the duplicate policy: update, skip or fail', async () => {
    await upload('entity=leads', 'email,title\ndup@policy.example,Analyst\n');
    const skip = await upload('entity=leads&duplicates=skip', 'email,title\ndup@policy.example,Director\nDUP@policy.example,Chief\n');
    expect(skip.body).toMatchObject({ inserted: 0, skipped: 2, failed: 0 });
    expect((await leadByEmail('dup@policy.example'))?.title).toBe('Analyst');
    const fail = await upload(
      'entity=leads&duplicates=fail',
      'email,title\ndup@policy.example,Director\nfresh@policy.example,New\nfresh@policy.example,Again\n',
    );
    expect(fail.body).toMatchObject({ inserted: 1, failed: 2 });
    expect(fail.body.problems.map((p: { row: number }) => p.row).sort()).toEqual([1, 3]);
    const update = await upload('entity=leads&duplicates=update', 'email,title,phone\ndup@policy.example,Director,\n');
    expect(update.body).toMatchObject({ updated: 1, inserted: 0 });
    const lead = await leadByEmail('dup@policy.example');
    expect(lead).toMatchObject({ title: 'Director', version: 2 });
  });

  it('counts new and updated leads right across batches, and rescores the leads it updates', async () => {
    // 2,000 rows a batch: the last row repeats the first across the batch boundary, and the second
    // row repeats itself within the batch; one lead exists before the import.
    await upload('entity=leads', 'email,title\nbatch.known@cross.example,Engineer\n');
    const rows = Array.from({ length: 2_100 }, (_, i) => `batch${i}@cross.example,Engineer`);
    rows.splice(1, 0, 'batch1@cross.example,Analyst', 'batch.known@cross.example,VP Sales');
    rows.push('batch0@cross.example,Director of Marketing');
    const res = await upload('entity=leads&duplicates=update', `email,title\n${rows.join('\n')}\n`);
    expect(res.body).toMatchObject({ rows: 2_103, inserted: 2_100, updated: 3, skipped: 0, failed: 0 });
    expect(await leadByEmail('batch0@cross.example')).toMatchObject({ title: 'Director of Marketing', version: 2, fit_score: 25 });
    expect(await leadByEmail('batch.known@cross.example')).toMatchObject({ title: 'VP Sales', version: 2, fit_score: 25 });
    const again = await upload('entity=leads&duplicates=skip', 'email,title\nbatch5@cross.example,CEO\nnew.one@cross.example,CEO\n');
    expect(again.body).toMatchObject({ inserted: 1, skipped: 1, updated: 0 });
    // Over 4,096 ids were made in one millisecond of the test clock: later ids start a new one, so they sort after these.
    ctx.clock.advance(1);
  });

  it("links every lead to its domain's account and scores the account, in batches before and after the import has met it", async () => {
    // The first batches are prepared before the import has looked the domain up; later ones use what it learned.
    const account = await upload('entity=accounts', 'domain,name,employees\nacme-batches.example,Acme,1000\n');
    expect(account.body).toMatchObject({ inserted: 1, failed: 0 });
    const rows = Array.from({ length: 6_100 }, (_, i) => `p${i}@${i % 2 ? 'acme-batches' : 'nobody-batches'}.example`);
    const res = await upload('entity=leads', `email\n${rows.join('\n')}\n`);
    expect(res.body).toMatchObject({ inserted: 6_100, failed: 0 });
    const byDomain = await ctx.database.db
      .selectFrom('leads')
      .innerJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
      .select((eb) => [
        eb.fn<string>('split_part', ['leads.email', eb.val('@'), eb.val(2)]).as('domain'),
        eb.fn.countAll<number>().as('leads'),
        eb.fn.count<number>('leads.account_id').as('linked'),
        eb.fn.min<number>('s.fit_score').as('least'),
        eb.fn.max<number>('s.fit_score').as('most'),
      ])
      .where('leads.workspace_id', '=', ctx.workspace.id)
      .where('leads.email', 'like', '%-batches.example')
      .groupBy('domain')
      .orderBy('domain')
      .execute();
    // 1,000 employees is mid-market: 25 points from the account, none from the lead.
    expect(byDomain).toEqual([
      { domain: 'acme-batches.example', leads: 3_050, linked: 3_050, least: 25, most: 25 },
      { domain: 'nobody-batches.example', leads: 3_050, linked: 0, least: 0, most: 0 },
    ]);
    ctx.clock.advance(1);
  });

  it('takes any CSV with a column mapping, and refuses a mapping to a field that does not exist', async () => {
    const mapping = encodeURIComponent(JSON.stringify({ 'E-mail': 'email', Position: 'title', Tier: 'properties.tier' }));
    const res = await upload(`entity=leads&mapping=${mapping}`, 'E-mail,Position,Tier\nmapped@any.example,Buyer,gold\n');
    expect(res.body).toMatchObject({ inserted: 1 });
    expect(await leadByEmail('mapped@any.example')).toMatchObject({ title: 'Buyer', properties: { tier: 'gold' } });
    const bad = await upload(`entity=leads&mapping=${encodeURIComponent(JSON.stringify({ x: 'shoeSize' }))}`, 'x\n1\n');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.problems[0].path).toBe('mapping.x');
  });

  it('refuses a broken file with the line, and a file with no known columns', async () => {
    const broken = await upload('entity=leads', 'email,title\n"unclosed@x.example,Oops\n');
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/line/);
    const unknown = await upload('entity=leads', 'foo,bar\n1,2\n');
    expect(unknown.status).toBe(400);
    const list = await ctx.as(ctx.people.marketer).get('/api/imports');
    expect(list.body.items[0]).toMatchObject({ status: 'failed' });
  });
});

describe('importing accounts and deals, and the two-step upload', () => {
  it.skipIf(!hasSharedData)('links Salesforce opportunities to the accounts imported before them', async () => {
    const accounts = readFileSync(join(SALESFORCE, 'Account.csv'));
    const accountRows = parse(accounts, { bom: true, columns: true }) as Record<string, string>[];
    const created = await ctx.as(ctx.people.admin).post('/api/imports', { entity: 'accounts', format: 'salesforce', fileName: 'Account.csv' });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('waiting');
    const put = await ctx.app.inject({
      method: 'PUT',
      url: `/api/imports/${created.body.id}/file`,
      headers: { authorization: `Bearer ${ctx.people.admin.key}`, 'content-type': 'text/csv' },
      payload: accounts,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ status: 'done', rows: accountRows.length, failed: 0 });
    const progress = await ctx.as(ctx.people.marketer).get(`/api/imports/${created.body.id}`);
    expect(progress.body).toMatchObject({ status: 'done', inserted: expect.any(Number), finishedAt: expect.any(String) });
    const again = await ctx.app.inject({
      method: 'PUT',
      url: `/api/imports/${created.body.id}/file`,
      headers: { authorization: `Bearer ${ctx.people.admin.key}`, 'content-type': 'text/csv' },
      payload: accounts,
    });
    expect(again.statusCode).toBe(409);

    const opportunities = readFileSync(join(SALESFORCE, 'Opportunity.csv'));
    const oppRows = parse(opportunities, { bom: true, columns: true }) as Record<string, string>[];
    const deals = await upload('entity=deals&format=salesforce', opportunities, ctx.people.salesLead);
    expect(deals.body).toMatchObject({ inserted: oppRows.length, failed: 0 });
    const linkable = oppRows.filter((o) => accountRows.some((a) => a.Id === o.AccountId));
    const linked = await ctx.database.db
      .selectFrom('deals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', ctx.workspace.id)
      .where('account_id', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(linked.n)).toBe(linkable.length);
  });

  it('lets only the team that owns the records import them', async () => {
    expect((await upload('entity=leads', 'email\nx@team.example\n', ctx.people.rep1)).status).toBe(403);
    expect((await upload('entity=deals', 'name\nBig deal\n', ctx.people.marketer)).status).toBe(403);
  });
});

describe('export', () => {
  it('streams every lead as CSV that reads back', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/exports/leads.csv', headers: { authorization: `Bearer ${ctx.people.rep1.key}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(await countRows(ctx, 'leads'));
    expect(rows.find((r) => r.email === 'good.two@rows.example')).toMatchObject({ first_name: 'Quoted, with comma', stage: 'lead' });
    const deals = await ctx.app.inject({ method: 'GET', url: '/api/exports/deals', headers: { authorization: `Bearer ${ctx.people.rep1.key}` } });
    expect(parse(deals.body, { columns: true }).length).toBe(await countRows(ctx, 'deals'));
  });
});

describe('an import across a rule change', () => {
  it('scores every lead under the rules active when its batch is written', async () => {
    const { Readable } = await import('node:stream');
    const { runImport } = await import('../src/features/imports/import.service.js');
    const { activateScoring } = await import('../src/features/scoring/scoring.service.js');
    const { DEFAULT_SCORING } = await import('../src/domain/scoring.js');
    const lead = ctx.people.marketingLead;
    const rows = Array.from({ length: 5_000 }, (_, i) => `across${i}@across.example,${i % 2 ? 'Engineer' : 'Analyst'}`);
    // Engineers are worth 40 more under the rules activated once the first batch is written.
    const changed = {
      ...DEFAULT_SCORING,
      fit: { rules: [...DEFAULT_SCORING.fit.rules, { id: 'engineers', label: 'Engineer', field: 'title', op: 'contains', value: 'engineer', points: 40 }] },
    };
    expect((await ctx.as(lead).put('/api/scoring/draft', { document: changed })).status).toBe(200);
    let activated = false;
    const result = await runImport(
      { db: ctx.database.db, clock: ctx.clock },
      lead.actor,
      Readable.from([`email,jobtitle\n${rows.join('\n')}\n`]),
      { entity: 'leads', format: 'custom', mapping: { email: 'email', jobtitle: 'title' }, duplicates: 'update', dryRun: false },
      async () => {
        if (activated) return;
        activated = true;
        await activateScoring({ db: ctx.database.db, clock: ctx.clock }, lead.actor);
      },
    );
    expect(activated).toBe(true);
    expect(result).toMatchObject({ inserted: 5_000, failed: 0 });
    const fits = await ctx.database.db
      .selectFrom('leads')
      .innerJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
      .select(['leads.title', 's.fit_score'])
      .where('leads.workspace_id', '=', ctx.workspace.id)
      .where('leads.email', 'like', 'across%')
      .execute();
    expect(fits).toHaveLength(5_000);
    const byTitle = new Map<string, Set<number>>();
    for (const f of fits) byTitle.set(f.title as string, (byTitle.get(f.title as string) ?? new Set()).add(f.fit_score));
    expect([...(byTitle.get('Engineer') ?? [])]).toEqual([40]);
    expect([...(byTitle.get('Analyst') ?? [])]).toEqual([0]);
    expect((await ctx.as(lead).put('/api/scoring/draft', { document: DEFAULT_SCORING })).status).toBe(200);
    expect((await ctx.as(lead).post('/api/scoring/activate')).status).toBe(200);
  });
});

describe('duplicates across batches', () => {
  it('updates a lead a later batch repeats, and one the workspace already had, counting each once', async () => {
    const as = ctx.as(ctx.people.marketingLead);
    expect((await as.post('/api/leads', { email: 'already@plain.example', title: 'Before', stage: 'lead' })).status).toBe(201);
    // Batches of 2,000: the second repeats a row of the first, then meets an email the workspace
    // already had.
    const lines = Array.from({ length: 4_500 }, (_, i) => `plain${i}@plain.example,Title ${i}`);
    lines[2_000] = 'plain5@plain.example,Repeated';
    lines[2_500] = 'already@plain.example,After';
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/imports/upload?entity=leads',
      headers: { authorization: `Bearer ${ctx.people.marketingLead.key}`, 'content-type': 'text/csv' },
      payload: `email,title\n${lines.join('\n')}\n`,
    });
    expect(res.json()).toMatchObject({ inserted: 4_498, updated: 2, failed: 0 });
    const titles = await ctx.database.db
      .selectFrom('leads')
      .select(['email', 'title'])
      .where('workspace_id', '=', ctx.workspace.id)
      .where('email', 'in', ['plain5@plain.example', 'already@plain.example', 'plain4499@plain.example'])
      .orderBy('email')
      .execute();
    expect(titles).toEqual([
      { email: 'already@plain.example', title: 'After' },
      { email: 'plain4499@plain.example', title: 'Title 4499' },
      { email: 'plain5@plain.example', title: 'Repeated' },
    ]);
    const count = await ctx.database.db
      .selectFrom('leads')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', ctx.workspace.id)
      .where('email', 'like', '%@plain.example')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(4_499);
    const unscored = await ctx.database.db
      .selectFrom('leads')
      .leftJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
      .select('leads.id')
      .where('leads.workspace_id', '=', ctx.workspace.id)
      .where('leads.email', 'like', '%@plain.example')
      .where('s.lead_id', 'is', null)
      .execute();
    expect(unscored).toEqual([]);
  });
});
