import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCORING, type ScoringDocument } from '../src/domain/scoring.js';
import { getActiveScoring, previewRescore, reclassifyDecayed, rescoreAll, scoreNewEvents } from '../src/features/scoring/scoring.repo.js';
import { activateIn } from '../src/features/scoring/scoring.service.js';
import { DecayJob } from '../src/jobs/decay.js';
import { uuidv7 } from '../src/lib/ids.js';
import { type Ctx, countRows, setup } from './harness.js';

let ctx: Ctx;
let writeKey: string;

beforeAll(async () => {
  ctx = await setup({ start: '2026-03-02T09:00:00Z' });
  writeKey = (await ctx.as(ctx.people.marketingLead).post('/api/write-keys', { name: 'site' })).body.key;
});
afterAll(() => ctx.app.close());

let n = 0;
const mid = () => `sc-${++n}-${Date.now()}`;

async function track(batch: Record<string, unknown>[]) {
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
    payload: JSON.stringify({ batch: batch.map((e) => ({ messageId: mid(), ...e })) }),
  });
  expect(res.statusCode, res.body).toBe(200);
}

/** A lead with its row of scores. */
async function lead(email: string) {
  return ctx.database.db
    .selectFrom('leads')
    .innerJoin('lead_scores as s', (j) => j.onRef('s.workspace_id', '=', 'leads.workspace_id').onRef('s.lead_id', '=', 'leads.id'))
    .selectAll('leads')
    .select(['s.fit_score', 's.interest_score', 's.interest_mass', 's.score_class'])
    .where('leads.workspace_id', '=', ctx.workspace.id)
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
}

async function classes() {
  return ctx.database.db.selectFrom('lead_scores').select(['lead_id', 'score_class']).where('workspace_id', '=', ctx.workspace.id).orderBy('lead_id').execute();
}

async function openHandoff(leadId: string) {
  return ctx.database.db
    .selectFrom('handoffs')
    .selectAll()
    .where('workspace_id', '=', ctx.workspace.id)
    .where('lead_id', '=', leadId)
    .where('status', '=', 'open')
    .executeTakeFirst();
}

describe('scores from behaviour', () => {
  it('scores fit from the profile and account, interest from events within caps, and explains both', async () => {
    const acct = await ctx.as(ctx.people.marketer).post('/api/accounts', { name: 'Initech', domain: 'initech.example', employees: 800, industry: 'Software' });
    expect(acct.status).toBe(201);
    await track([{ type: 'identify', userId: 'u-peter', traits: { email: 'peter@initech.example', name: 'Peter Gibbons', title: 'Engineering Manager' } }]);
    let l = await lead('peter@initech.example');
    expect(l.account_id).toBe(acct.body.id);
    // manager-title 10 + mid-market 25 + target-industry 15
    expect(l.fit_score).toBe(50);
    expect(l.score_class).toBe('good_fit_low_interest');

    // Five pricing views in one week: the pricing rule stops at its cap of 30; each view is also a page view (1 point).
    await track(Array.from({ length: 5 }, () => ({ type: 'page', userId: 'u-peter', properties: { path: '/pricing' } })));
    l = await lead('peter@initech.example');
    expect(l.interest_score).toBeCloseTo(35, 5);

    const why = await ctx.as(ctx.people.rep1).get(`/api/leads/${l.id}/score`);
    expect(why.status).toBe(200);
    expect(why.body.fit.rules.map((r: { id: string }) => r.id).sort()).toEqual(['manager-title', 'mid-market', 'target-industry']);
    const pricing = why.body.interest.rules.find((r: { id: string }) => r.id === 'pricing-page');
    expect(pricing).toMatchObject({ events: 3, earned: 30 });
    expect(why.body.interest.rules.find((r: { id: string }) => r.id === 'page-view')).toMatchObject({ events: 5, earned: 5 });
    expect(why.body.class).toBe('good_fit_high_interest');
  });

  it('hands a good-fit, high-interest lead to sales in the transaction that stores the event', async () => {
    const l = await lead('peter@initech.example');
    const handoff = await openHandoff(l.id);
    expect(handoff).toBeDefined();
    expect(l.stage).toBe('mql');
    const notes = await ctx.database.db
      .selectFrom('notifications')
      .select('kind')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('handoff_id', '=', handoff?.id as string)
      .execute();
    expect(notes.map((x) => x.kind)).toContain('handoff.assigned');
    const qualified = await ctx.database.db
      .selectFrom('activities')
      .select('data')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('lead_id', '=', l.id)
      .where('kind', '=', 'lead.qualified')
      .executeTakeFirstOrThrow();
    expect(qualified.data).toMatchObject({ criterion: 'good_fit_high_interest' });
  });

  it('hands off any lead that requests a demo, whatever its score, joining its anonymous history first', async () => {
    const anon = `anon-${mid()}`;
    await track([{ type: 'track', anonymousId: anon, event: 'Demo Requested' }]);
    // Anonymous: nobody to hand off yet.
    await track([{ type: 'identify', anonymousId: anon, traits: { email: 'student@gmail.com', title: 'Student' } }]);
    const l = await lead('student@gmail.com');
    expect(l.fit_score).toBe(-20);
    expect(await openHandoff(l.id)).toBeDefined();
    const qualified = await ctx.database.db
      .selectFrom('activities')
      .select('data')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('lead_id', '=', l.id)
      .where('kind', '=', 'lead.qualified')
      .executeTakeFirstOrThrow();
    expect(qualified.data).toMatchObject({ criterion: 'demo_request' });
  });

  it('lets interest decay: after one half-life the same points are worth half', async () => {
    await track([{ type: 'identify', userId: 'u-decay', traits: { email: 'decay@example.net' } }]);
    await track([{ type: 'track', userId: 'u-decay', event: 'Whitepaper Downloaded' }]);
    const before = await lead('decay@example.net');
    expect(before.interest_score).toBeCloseTo(10, 5);
    ctx.clock.advance(30 * 86_400_000);
    const why = await ctx.as(ctx.people.marketer).get(`/api/leads/${before.id}/score`);
    expect(why.body.interest.score).toBeCloseTo(5, 1);
  });

  it('moves a lead to a lower class when its interest has decayed, with the change in its history', async () => {
    await track([{ type: 'identify', userId: 'u-fade', traits: { email: 'fade@initech.example', title: 'VP Operations' } }]);
    await track([{ type: 'track', userId: 'u-fade', event: 'Demo Requested' }]);
    const before = await lead('fade@initech.example');
    expect(before.score_class).toBe('good_fit_high_interest');
    ctx.clock.advance(60 * 86_400_000);
    const moved = await new DecayJob(ctx.database.db, ctx.clock, 60_000).runOnce(ctx.workspace.id);
    expect(moved).toBeGreaterThanOrEqual(1);
    const after = await lead('fade@initech.example');
    expect(after.score_class).toBe('good_fit_low_interest');
    expect(after.interest_score).toBeCloseTo(12.5, 1);
    const history = await ctx.database.db
      .selectFrom('score_history')
      .select(['class', 'cause'])
      .where('workspace_id', '=', ctx.workspace.id)
      .where('lead_id', '=', after.id)
      .orderBy('at', 'desc')
      .executeTakeFirstOrThrow();
    expect(history).toEqual({ class: 'good_fit_low_interest', cause: 'decay' });
    // Nothing left to move.
    const again = await ctx.database.db.transaction().execute((trx) => reclassifyDecayed(trx, ctx.workspace.id, DEFAULT_SCORING, ctx.clock.now()));
    expect(again).toBe(0);
  });

  it('gives the same interest incrementally as a full rescore from the events', async () => {
    await track([{ type: 'identify', userId: 'u-same', traits: { email: 'same@example.net' } }]);
    for (let day = 0; day < 12; day++) {
      await track([
        { type: 'page', userId: 'u-same', properties: { path: day % 3 ? '/pricing' : '/blog' } },
        { type: 'track', userId: 'u-same', event: day % 4 ? 'Email Clicked' : 'Form Submitted' },
      ]);
      ctx.clock.advance(86_400_000);
    }
    const incremental = await lead('same@example.net');
    // The same rules in another order grant the same points: activating them keeps the points.
    const reordered = { ...DEFAULT_SCORING, interest: { ...DEFAULT_SCORING.interest, rules: [...DEFAULT_SCORING.interest.rules].reverse() } };
    const saved = await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: reordered });
    expect(saved.status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
    // Masses count from a fixed epoch, so they are large: compare them relatively.
    expect((await lead('same@example.net')).interest_mass / incremental.interest_mass).toBeCloseTo(1, 12);
    // Every point granted again from the events, by SQL this time, gives the same interest.
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, reordered, ctx.clock.now(), 'test'));
    const full = await lead('same@example.net');
    expect(full.interest_mass / incremental.interest_mass).toBeCloseTo(1, 12);
    const points = await ctx.database.db
      .selectFrom('score_points')
      .select((eb) => eb.fn.sum<number>('points').as('p'))
      .where('workspace_id', '=', ctx.workspace.id)
      .where('lead_id', '=', full.id)
      .executeTakeFirstOrThrow();
    expect(Number(points.p)).toBeGreaterThan(0);
  });
});

describe('the rules', () => {
  const stricter: ScoringDocument = {
    ...DEFAULT_SCORING,
    thresholds: { fit: 60, interest: 30 },
  };

  it('are edited by a team lead only, with errors that name the path, and nothing saved when invalid', async () => {
    expect((await ctx.as(ctx.people.rep1).put('/api/scoring/draft', { document: stricter })).status).toBe(403);
    expect((await ctx.as(ctx.people.marketer).put('/api/scoring/draft', { document: stricter })).status).toBe(403);
    const bad = structuredClone(stricter) as unknown as { fit: { rules: Record<string, unknown>[] }; interest: { halfLifeDays: number } };
    (bad.fit.rules[0] as Record<string, unknown>).op = 'resembles';
    bad.interest.halfLifeDays = 0;
    const before = await ctx.as(ctx.people.salesLead).get('/api/scoring');
    const res = await ctx.as(ctx.people.salesLead).put('/api/scoring/draft', { document: bad });
    expect(res.status).toBe(400);
    const paths = res.body.error.details.problems.map((p: { path: string }) => p.path);
    expect(paths).toContain('body.document.fit.rules[0].op');
    expect(paths).toContain('body.document.interest.halfLifeDays');
    expect((await ctx.as(ctx.people.salesLead).get('/api/scoring')).body).toEqual(before.body);
    const yaml = await ctx.as(ctx.people.salesLead).put('/api/scoring/draft', { text: 'fit: [unclosed' });
    expect(yaml.status).toBe(400);
  });

  it('preview how many leads would change class, writing nothing; activation then rescoring them all', async () => {
    const history = await ctx.database.db
      .selectFrom('score_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', ctx.workspace.id)
      .executeTakeFirstOrThrow();
    const before = await classes();
    const preview = await ctx.as(ctx.people.marketingLead).post('/api/scoring/preview', { document: stricter });
    expect(preview.status).toBe(200);
    // Peter (fit 50) falls from good to low fit when the fit threshold rises to 60 (and his
    // interest has decayed over the weeks the clock moved).
    expect(preview.body.classChanges).toBeGreaterThanOrEqual(1);
    const peterBefore = await lead('peter@initech.example');
    expect(peterBefore.score_class?.startsWith('good_fit')).toBe(true);
    const fromPeter = preview.body.transitions.filter((t: { from: string; to: string }) => t.from === peterBefore.score_class && t.to.startsWith('low_fit'));
    expect(fromPeter.length).toBe(1);
    expect(preview.body.leads).toBe(before.length);
    expect(await classes()).toEqual(before);
    const after = await ctx.database.db
      .selectFrom('score_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', ctx.workspace.id)
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(history.n));

    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: stricter })).status).toBe(200);
    const activated = await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate');
    expect(activated.status).toBe(200);
    expect(activated.body.rescored).toBeGreaterThanOrEqual(preview.body.classChanges);
    const peter = await lead('peter@initech.example');
    expect(peter.score_class).toBe(fromPeter[0].to);
    const state = await ctx.as(ctx.people.rep1).get('/api/scoring');
    expect(state.body.active).toMatchObject({ builtIn: false, document: { thresholds: { fit: 60 } } });
    expect(state.body.draft).toBeNull();
    const versions = await ctx.as(ctx.people.rep1).get('/api/scoring/versions');
    expect(versions.body.items.map((v: { status: string }) => v.status)).toEqual(['active', 'superseded']);
  });

  it('keep the granted points when only fit rules or thresholds change', async () => {
    const before = await sql<{
      x: string;
    }>`SELECT xmin::text AS x FROM score_points WHERE workspace_id = ${ctx.workspace.id}::uuid ORDER BY lead_id, rule_id, event_id`.execute(ctx.database.db);
    expect(before.rows.length).toBeGreaterThan(0);
    const state = await ctx.as(ctx.people.marketingLead).get('/api/scoring');
    const fitOnly = { ...state.body.active.document, thresholds: { fit: 55, interest: 30 } };
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: fitOnly })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
    const after = await sql<{
      x: string;
    }>`SELECT xmin::text AS x FROM score_points WHERE workspace_id = ${ctx.workspace.id}::uuid ORDER BY lead_id, rule_id, event_id`.execute(ctx.database.db);
    expect(after.rows).toEqual(before.rows);
    // Fit 50 under a threshold of 55 is still low fit, but 55 <= 60 moves no one the other way.
    expect((await lead('peter@initech.example')).score_class?.startsWith('low_fit')).toBe(true);
  });

  it("enter a rule change in a lead's history only where its class moves", async () => {
    const scores = async () =>
      new Map(
        (
          await ctx.database.db.selectFrom('lead_scores').select(['lead_id', 'fit_score', 'score_class']).where('workspace_id', '=', ctx.workspace.id).execute()
        ).map((r) => [r.lead_id, r]),
      );
    const before = await scores();
    const state = await ctx.as(ctx.people.marketingLead).get('/api/scoring');
    const doc: ScoringDocument = state.body.active.document;
    // Five points for every lead with an email: every fit moves, and a few cross the threshold.
    const everyone: ScoringDocument = {
      ...doc,
      fit: { rules: [...doc.fit.rules, { id: 'has-email', label: 'Has an email', field: 'email_domain', op: 'contains', value: '.', points: 5 }] },
      thresholds: { ...doc.thresholds, fit: 40 },
    };
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, everyone, ctx.clock.now(), 'history-test', doc));
    const after = await scores();
    const fitMoved = [...after.values()].filter((r) => before.get(r.lead_id)?.fit_score !== r.fit_score).map((r) => r.lead_id);
    const classMoved = [...after.values()].filter((r) => before.get(r.lead_id)?.score_class !== r.score_class).map((r) => r.lead_id);
    expect(fitMoved.length).toBe(after.size);
    expect(classMoved.length).toBeGreaterThan(0);
    expect(classMoved.length).toBeLessThan(fitMoved.length);
    const history = await ctx.database.db
      .selectFrom('score_history')
      .select('lead_id')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('cause', '=', 'history-test')
      .execute();
    expect(history.map((h) => h.lead_id).sort()).toEqual(classMoved.sort());
    // Back to the rules in force, so the tests after this one see them.
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, doc, ctx.clock.now(), 'history-test-undo', everyone));
  });

  it('preview an interest rule change as exactly the class moves activation makes', async () => {
    const classOf = async () =>
      new Map(
        (await ctx.database.db.selectFrom('lead_scores').select(['lead_id', 'score_class']).where('workspace_id', '=', ctx.workspace.id).execute()).map((r) => [
          r.lead_id,
          r.score_class,
        ]),
      );
    const state = await ctx.as(ctx.people.marketingLead).get('/api/scoring');
    const doc: ScoringDocument = state.body.active.document;
    // A reader of the docs, of low interest under the rules in force...
    await track([
      { type: 'identify', userId: 'docs-reader', traits: { email: 'reader@docs.example' } },
      { type: 'page', userId: 'docs-reader', properties: { path: '/docs/a' } },
      { type: 'page', userId: 'docs-reader', properties: { path: '/docs/b' } },
      // And a form filler, of high interest under them.
      { type: 'identify', userId: 'form-filler', traits: { email: 'filler@forms.example' } },
      ...[1, 2, 3].map((n) => ({ type: 'track', userId: 'form-filler', event: 'Form Submitted', properties: { formId: `f${n}` } })),
    ]);
    // Only page views count, and for much: the reader rises, the filler falls.
    const changed: ScoringDocument = {
      ...doc,
      interest: { ...doc.interest, rules: [{ id: 'any-page', label: 'Any page', when: { type: 'page' }, points: 40 }] },
    };
    const before = await classOf();
    const preview = await previewRescore(ctx.database.db, ctx.workspace.id, changed, ctx.clock.now(), doc);
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, changed, ctx.clock.now(), 'preview-test', doc));
    const after = await classOf();
    const moves = new Map<string, number>();
    for (const [id, cls] of after) {
      if (before.get(id) !== cls) moves.set(`${before.get(id)}>${cls}`, (moves.get(`${before.get(id)}>${cls}`) ?? 0) + 1);
    }
    expect(moves.size).toBeGreaterThan(0);
    expect(new Map(preview.transitions.map((t) => [`${t.from}>${t.to}`, t.leads]))).toEqual(moves);
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, doc, ctx.clock.now(), 'preview-test-undo', changed));
    expect(await classOf()).toEqual(before);
  });

  it('filter the leads list by class', async () => {
    const res = await ctx.as(ctx.people.marketer).get('/api/leads?class=low_fit_low_interest');
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items.every((l: { scoreClass: string }) => l.scoreClass === 'low_fit_low_interest')).toBe(true);
    const other = await ctx.as(ctx.people.marketer).get('/api/leads?class=good_fit_high_interest');
    expect(other.body.items.map((l: { email: string }) => l.email)).not.toContain('peter@initech.example');
  });

  it('redo only the interest rules a change touches, ending where granting every point again ends', async () => {
    const pointsByRule = async () =>
      (
        await sql<{ rule_id: string; n: number; p: number }>`SELECT rule_id, count(*)::int AS n, sum(points)::float8 AS p FROM score_points
          WHERE workspace_id = ${ctx.workspace.id}::uuid GROUP BY rule_id ORDER BY rule_id`.execute(ctx.database.db)
      ).rows;
    const masses = async () =>
      (
        await sql<{ lead_id: string; m: number }>`SELECT lead_id, interest_mass AS m FROM lead_scores
          WHERE workspace_id = ${ctx.workspace.id}::uuid ORDER BY lead_id`.execute(ctx.database.db)
      ).rows;
    const untouched = await sql<{
      x: string;
    }>`SELECT xmin::text AS x FROM score_points WHERE workspace_id = ${ctx.workspace.id}::uuid AND rule_id = 'page-view' ORDER BY lead_id, event_id`.execute(
      ctx.database.db,
    );
    const state = await ctx.as(ctx.people.marketingLead).get('/api/scoring');
    const doc: ScoringDocument = state.body.active.document;
    const changed: ScoringDocument = {
      ...doc,
      interest: {
        ...doc.interest,
        rules: [
          ...doc.interest.rules
            .filter((r) => r.id !== 'email-click')
            .map((r) => (r.id === 'pricing-page' ? { ...r, points: 4, cap: { points: 8, days: 7 } } : r)),
          { id: 'blog-reader', label: 'Read the blog', when: { type: 'page', properties: [{ key: 'path', op: 'contains', value: 'blog' }] }, points: 2 },
        ],
      },
    };
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: changed })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
    const redone = await pointsByRule();
    expect(redone.map((r) => r.rule_id)).toContain('blog-reader');
    expect(redone.map((r) => r.rule_id)).not.toContain('email-click');
    const kept = await sql<{
      x: string;
    }>`SELECT xmin::text AS x FROM score_points WHERE workspace_id = ${ctx.workspace.id}::uuid AND rule_id = 'page-view' ORDER BY lead_id, event_id`.execute(
      ctx.database.db,
    );
    expect(kept.rows).toEqual(untouched.rows);
    const partial = await masses();
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, changed, ctx.clock.now(), 'test'));
    expect(await pointsByRule()).toEqual(redone);
    const full = await masses();
    expect(full.map((r) => r.lead_id)).toEqual(partial.map((r) => r.lead_id));
    for (const [i, r] of full.entries()) {
      const before = partial[i]?.m ?? 0;
      if (r.m === 0) expect(before).toBe(0);
      else expect(before / r.m).toBeCloseTo(1, 12);
    }
  });

  it('evaluate only the fit rules a change touches, ending where evaluating every rule ends', async () => {
    const scores = async () =>
      (
        await sql<{ lead_id: string; fit: number; cls: string }>`SELECT lead_id, fit_score AS fit, score_class AS cls FROM lead_scores
          WHERE workspace_id = ${ctx.workspace.id}::uuid ORDER BY lead_id`.execute(ctx.database.db)
      ).rows;
    const state = await ctx.as(ctx.people.marketingLead).get('/api/scoring');
    const doc: ScoringDocument = state.body.active.document;
    const as = ctx.as(ctx.people.marketingLead);
    const account = (await as.post('/api/accounts', { name: 'Fitvar', domain: 'fitvar.example', industry: 'Software', employees: 300 })).body;
    for (const [email, title, country] of [
      ['vp@fitvar.example', 'VP Sales', 'US'],
      ['mgr@fitvar.example', 'Marketing Manager', 'DE'],
      ['eng@gmail.com', 'Engineer', 'GB'],
    ] as const) {
      const created = await as.post('/api/leads', {
        email,
        title,
        country,
        stage: 'lead',
        ...(email.endsWith('fitvar.example') ? { accountId: account.id } : {}),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    // A lead with no score row yet (as before its first scoring) gets every rule.
    const unscored = (await ctx.as(ctx.people.marketingLead).post('/api/leads', { email: 'fresh@unscored.example', title: 'VP Marketing', stage: 'lead' }))
      .body;
    await ctx.database.db.deleteFrom('lead_scores').where('workspace_id', '=', ctx.workspace.id).where('lead_id', '=', unscored.id).execute();
    // One rule removed, one changed in place, one added; the thresholds moved.
    const changed: ScoringDocument = {
      ...doc,
      fit: {
        rules: [
          ...doc.fit.rules.filter((r) => r.id !== 'manager-title').map((r) => (r.id === 'senior-title' ? { ...r, points: 30 } : r)),
          { id: 'us-gb', label: 'US or UK', field: 'country', op: 'oneOf', value: ['US', 'GB'], points: 10 },
        ],
      },
      thresholds: { ...doc.thresholds, fit: doc.thresholds.fit + 5 },
    };
    expect(changed.fit.rules.some((r) => r.id === 'senior-title')).toBe(true);
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: changed })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
    const partial = await scores();
    expect(partial.map((r) => r.lead_id)).toContain(unscored.id);
    expect(new Set(partial.map((r) => r.fit)).size).toBeGreaterThan(2);
    // Every rule evaluated again for every lead (no earlier rules given) gives the same.
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, changed, ctx.clock.now(), 'test'));
    expect(await scores()).toEqual(partial);
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: doc })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
  });

  it('keep a score history per lead', async () => {
    const peter = await lead('peter@initech.example');
    const rows = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM score_history WHERE workspace_id = ${ctx.workspace.id}::uuid AND lead_id = ${peter.id}::uuid`.execute(ctx.database.db);
    expect(rows.rows[0]?.n).toBeGreaterThanOrEqual(3);
    expect(await countRows(ctx, 'events')).toBeGreaterThan(0);
  });
});

describe('caps', () => {
  /** Points a lead holds from one rule. */
  async function earned(leadId: string, ruleId: string): Promise<number> {
    const row = await sql<{ p: number }>`SELECT coalesce(sum(points), 0)::float8 AS p FROM score_points
      WHERE workspace_id = ${ctx.workspace.id}::uuid AND lead_id = ${leadId}::uuid AND rule_id = ${ruleId}`.execute(ctx.database.db);
    return Number(row.rows[0]?.p);
  }

  it('hold when two transactions score the same lead at once', async () => {
    await track([{ type: 'identify', userId: 'u-race', traits: { email: 'race@example.net' } }]);
    const l = await lead('race@example.net');
    const scoring = await getActiveScoring(ctx.database.db, ctx.workspace.id);
    const pricing = scoring.document.interest.rules.find((r) => r.id === 'pricing-page');
    expect(pricing?.cap).toBeDefined();
    const views = (k: number) =>
      Array.from({ length: k }, () => ({ id: uuidv7(), leadId: l.id, type: 'page', name: null, properties: { path: '/pricing' }, at: ctx.clock.now() }));
    // The first transaction grants the period's whole cap and holds on before committing; the
    // second starts meanwhile with more views of the same page, by the same lead.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = ctx.database.db.transaction().execute(async (trx) => {
      await scoreNewEvents(trx, ctx.workspace.id, scoring, views(4), ctx.clock.now());
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = ctx.database.db.transaction().execute((trx) => scoreNewEvents(trx, ctx.workspace.id, scoring, views(4), ctx.clock.now()));
    setTimeout(release, 300);
    await Promise.all([first, second]);
    expect(await earned(l.id, 'pricing-page')).toBe(pricing?.cap?.points);
  });

  it('score an event that arrives during a rule change under the new rules', async () => {
    await track([{ type: 'identify', userId: 'u-during', traits: { email: 'during@example.net' } }]);
    const l = await lead('during@example.net');
    const { document } = await getActiveScoring(ctx.database.db, ctx.workspace.id);
    const during: ScoringDocument = {
      ...document,
      interest: {
        ...document.interest,
        rules: [...document.interest.rules, { id: 'during-change', label: 'During', when: { type: 'track', event: 'Webinar Joined' }, points: 7 }],
      },
    };
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: during })).status).toBe(200);
    // The activation holds on before committing, as rescoring a large workspace would; the event
    // arrives meanwhile, and its request is answered once it is stored and scored.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const activation = ctx.database.db.transaction().execute(async (trx) => {
      await activateIn(trx, ctx.people.marketingLead.actor, ctx.clock.now());
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const arriving = track([{ type: 'track', userId: 'u-during', event: 'Webinar Joined' }]);
    setTimeout(release, 300);
    await Promise.all([activation, arriving]);
    expect(await earned(l.id, 'during-change')).toBe(7);
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
  });

  it('count again under a new version of the rules once a period is full', async () => {
    await track([{ type: 'identify', userId: 'u-cap', traits: { email: 'cap@example.net' } }]);
    const l = await lead('cap@example.net');
    const view = () => ({ type: 'page', userId: 'u-cap', properties: { path: '/pricing' } });
    // One request per view, so each is scored in a transaction of its own.
    for (let i = 0; i < 4; i++) await track([view()]);
    const { document } = await getActiveScoring(ctx.database.db, ctx.workspace.id);
    const cap = document.interest.rules.find((r) => r.id === 'pricing-page')?.cap?.points as number;
    expect(await earned(l.id, 'pricing-page')).toBe(cap);
    // A larger cap: activation grants the four views again, and the next view adds to them.
    const larger: ScoringDocument = {
      ...document,
      interest: { ...document.interest, rules: document.interest.rules.map((r) => (r.id === 'pricing-page' ? { ...r, cap: { points: 1000, days: 7 } } : r)) },
    };
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: larger })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
    const points = document.interest.rules.find((r) => r.id === 'pricing-page')?.points as number;
    expect(await earned(l.id, 'pricing-page')).toBe(4 * points);
    await track([view()]);
    expect(await earned(l.id, 'pricing-page')).toBe(5 * points);
  });

  it('put a cap period’s boundary where ingest puts it when rescoring in SQL', async () => {
    const { document } = await getActiveScoring(ctx.database.db, ctx.workspace.id);
    // One point a day: each event's period decides whether it earns.
    const daily: ScoringDocument = {
      ...document,
      interest: {
        ...document.interest,
        rules: [
          ...document.interest.rules,
          {
            id: 'edge-view',
            label: 'Edge',
            when: { type: 'page', properties: [{ key: 'path', op: 'equals', value: '/edge' }] },
            points: 1,
            cap: { points: 1, days: 1 },
          },
        ],
      },
    };
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document: daily })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
    await track([{ type: 'identify', userId: 'u-edge', traits: { email: 'edge@example.net' } }]);
    const l = await lead('edge@example.net');
    // A midnight (UTC) is a period boundary: a millisecond before, on it, and a millisecond after.
    const midnight = Date.parse('2026-03-01T00:00:00.000Z');
    const views = [midnight - 1, midnight, midnight + 1, midnight + 86_399_999].map((t) => ({
      type: 'page',
      userId: 'u-edge',
      timestamp: new Date(t).toISOString(),
      properties: { path: '/edge' },
    }));
    await track(views);
    const points = () =>
      ctx.database.db
        .selectFrom('score_points as p')
        .innerJoin('events as e', (j) => j.onRef('e.workspace_id', '=', 'p.workspace_id').onRef('e.id', '=', 'p.event_id'))
        .select(['e.at', 'p.period', 'p.points'])
        .where('p.workspace_id', '=', ctx.workspace.id)
        .where('p.lead_id', '=', l.id)
        .where('p.rule_id', '=', 'edge-view')
        .orderBy('e.at')
        .execute();
    const ingested = await points();
    // The view on the boundary opens a new day; the next two fall in it, which it has filled.
    expect(ingested.map((p) => [p.at.getTime() - midnight, p.points])).toEqual([
      [-1, 1],
      [0, 1],
    ]);
    // Every point granted again by SQL lands in the same periods.
    await ctx.database.db.transaction().execute((trx) => rescoreAll(trx, ctx.workspace.id, daily, ctx.clock.now(), 'test'));
    expect(await points()).toEqual(ingested);
    expect((await ctx.as(ctx.people.marketingLead).put('/api/scoring/draft', { document })).status).toBe(200);
    expect((await ctx.as(ctx.people.marketingLead).post('/api/scoring/activate')).status).toBe(200);
  });
});
