import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FitRule, fitScore, type InterestRule, interestRuleMatches, type ScoringDocument, validateScoring } from '../src/domain/scoring.js';
import { interestPredicateSql, leadFitsSql } from '../src/features/scoring/scoring.sql.js';
import { uuidv7 } from '../src/lib/ids.js';
import { type Ctx, setup } from './harness.js';

/**
 * The scoring rules mean the same in JavaScript (used as events arrive and to explain a score)
 * and in SQL (used to rescore every lead at once). Random rules over random records, both ways.
 */
let ctx: Ctx;
const TEXT = ['VP Sales', 'vp of marketing', 'Head of Growth', 'Director', 'engineer', 'Ünïcode Ärger', 'CHIEF', '12', '2.5', 'x'];
const maybe = <T>(values: T[]) => fc.option(fc.constantFrom(...values), { nil: null });
const propValue = fc.constantFrom<unknown>('gold', 'Gold', '1', '2.5', true, 7, { a: 1 }, [1], null, 'x y');

interface LeadFacts {
  title: string | null;
  country: string | null;
  persona: string | null;
  source: string | null;
  email: string;
  properties: Record<string, unknown>;
  account: { industry: string | null; employees: number | null; country: string | null; properties: Record<string, unknown> } | null;
}

const leadArb: fc.Arbitrary<LeadFacts> = fc.record({
  title: maybe(TEXT),
  country: maybe(['US', 'de', 'DE', 'Deutschland']),
  persona: maybe(['Economic Buyer', 'champion', 'CHAMPION']),
  source: maybe(['webinar', 'Ads']),
  email: fc.constantFrom('a@gmail.com', 'b@Initech.example', 'c@x@y.org', 'd@'),
  properties: fc.record({ tier: propValue, seats: propValue }, { requiredKeys: [] }),
  account: fc.option(
    fc.record({
      industry: maybe(['Software', 'software', 'Healthcare']),
      employees: maybe([0, 49, 50, 199, 200, 5000, 12000]),
      country: maybe(['US', 'de']),
      properties: fc.record({ segment: propValue }, { requiredKeys: [] }),
    }),
    { nil: null },
  ),
});

const FIELDS = [
  'title',
  'country',
  'persona',
  'source',
  'email_domain',
  'account.industry',
  'account.employees',
  'account.country',
  'properties.tier',
  'properties.seats',
  'account.properties.segment',
];
const word = fc.constantFrom('vp', 'VP', 'head', 'gold', 'software', 'de', 'champion', 'gmail.com', 'initech.example', '1', '2.5', '7', 'true', 'ü', 'Ärger');
const fitRuleArb: fc.Arbitrary<FitRule> = fc.oneof(
  fc.record({ op: fc.constant('equals' as const), field: fc.constantFrom(...FIELDS), value: word }),
  fc.record({ op: fc.constant('oneOf' as const), field: fc.constantFrom(...FIELDS), value: fc.array(word, { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constant('contains' as const), field: fc.constantFrom(...FIELDS), value: fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 3 })) }),
  fc.record({
    op: fc.constant('range' as const),
    field: fc.constantFrom(...FIELDS),
    value: fc.oneof(
      fc.record({ min: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ max: fc.integer({ min: 0, max: 300 }) }),
      fc.record({ min: fc.constant(1), max: fc.constantFrom(2, 10, 6000) }),
    ),
  }),
  fc.record({ op: fc.constant('persona' as const), value: fc.array(fc.constantFrom('champion', 'economic buyer', 'User'), { minLength: 1, maxLength: 2 }) }),
) as unknown as fc.Arbitrary<FitRule>;

const eventArb = fc.record({
  type: fc.constantFrom('track', 'page', 'identify'),
  name: maybe(['Demo Requested', 'demo requested', 'Pricing', 'Signup']),
  properties: fc.record(
    {
      path: fc.constantFrom<unknown>('/pricing', '/Pricing/plans', '/blog', 3, null),
      form: fc.record({ id: fc.constantFrom<unknown>('f1', 'F1', 2) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  ),
});

const interestRuleArb = fc
  .record({
    when: fc.record(
      {
        type: fc.oneof(fc.constantFrom('track', 'page'), fc.array(fc.constantFrom('track', 'page', 'identify'), { minLength: 1, maxLength: 2 })),
        event: fc.constantFrom('Demo Requested', 'pricing', 'signup'),
        properties: fc.array(
          fc.record({
            key: fc.constantFrom('path', 'form.id', 'missing'),
            op: fc.constantFrom('equals', 'contains', 'oneOf'),
            value: fc.oneof(
              fc.constantFrom('/pricing', 'pricing', 'f1', '3', '2'),
              fc.array(fc.constantFrom('/blog', 'F1', '3'), { minLength: 1, maxLength: 2 }),
            ),
          }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    ),
  })
  .filter((r) => r.when.type !== undefined || r.when.event !== undefined);

beforeAll(async () => {
  ctx = await setup();
});
afterAll(() => ctx.app.close());

async function clear(): Promise<void> {
  await sql`DELETE FROM events WHERE workspace_id = ${ctx.workspace.id}::uuid`.execute(ctx.database.db);
  await sql`DELETE FROM leads WHERE workspace_id = ${ctx.workspace.id}::uuid`.execute(ctx.database.db);
  await sql`DELETE FROM accounts WHERE workspace_id = ${ctx.workspace.id}::uuid`.execute(ctx.database.db);
}

describe('scoring rules in JavaScript and in SQL', () => {
  it('agree on every lead’s fit score', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(leadArb, { minLength: 1, maxLength: 12 }), fc.array(fitRuleArb, { minLength: 1, maxLength: 6 }), async (leads, rules) => {
        await clear();
        const now = ctx.clock.now();
        const doc = validateScoring({
          fit: { rules: rules.map((r, i) => ({ ...r, id: `r${i}`, label: `rule ${i}`, points: i + 1 })) },
          interest: { halfLifeDays: 30, rules: [] },
          thresholds: { fit: 1, interest: 1 },
        });
        expect(doc.ok, JSON.stringify(doc)).toBe(true);
        const document = (doc as { document: ScoringDocument }).document;
        const expected = new Map<string, number>();
        for (const [i, l] of leads.entries()) {
          let accountId: string | null = null;
          if (l.account) {
            accountId = uuidv7();
            await ctx.database.db
              .insertInto('accounts')
              .values({
                workspace_id: ctx.workspace.id,
                id: accountId,
                name: `A${i}`,
                ...l.account,
                properties: JSON.stringify(l.account.properties),
                created_at: now,
                updated_at: now,
              })
              .execute();
          }
          const id = uuidv7();
          await ctx.database.db
            .insertInto('leads')
            .values({
              workspace_id: ctx.workspace.id,
              id,
              email: l.email.replace('@', `${i}@`),
              title: l.title,
              country: l.country,
              persona: l.persona,
              source: l.source,
              properties: JSON.stringify(l.properties),
              account_id: accountId,
              stage: 'lead',
              stage_changed_at: now,
              created_at: now,
              updated_at: now,
            })
            .execute();
          const email = l.email.replace('@', `${i}@`);
          expected.set(
            id,
            fitScore(document, {
              lead: { ...l, email, company: null, status: null },
              account: l.account ? { ...l.account, region: null, domain: null, name: `A${i}` } : null,
            }).score,
          );
        }
        const rows = await sql<{ id: string; fit: number }>`${leadFitsSql(ctx.workspace.id, document)}`.execute(ctx.database.db);
        for (const r of rows.rows) expect(Number(r.fit), `lead ${r.id}`).toBe(expected.get(r.id));
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('agree on which events each interest rule matches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 15 }), interestRuleArb, async (events, partial) => {
        await clear();
        const checked = validateScoring({
          fit: { rules: [] },
          interest: { halfLifeDays: 30, rules: [{ id: 'r', label: 'rule', points: 1, ...partial }] },
          thresholds: { fit: 1, interest: 1 },
        });
        expect(checked.ok, JSON.stringify(checked)).toBe(true);
        const rule = (checked as { document: ScoringDocument }).document.interest.rules[0] as InterestRule;
        const now = ctx.clock.now();
        const expected = new Set<string>();
        const rows = events.map((e, i) => {
          const id = uuidv7();
          if (interestRuleMatches(rule, e)) expected.add(id);
          return {
            workspace_id: ctx.workspace.id,
            id,
            message_id: `p-${i}-${id}`,
            type: e.type as 'track',
            name: e.name,
            properties: JSON.stringify(e.properties),
            at: now,
            received_at: now,
          };
        });
        await ctx.database.db.insertInto('events').values(rows).execute();
        const got = await sql<{
          id: string;
        }>`SELECT e.id FROM events e WHERE e.workspace_id = ${ctx.workspace.id}::uuid AND ${interestPredicateSql(rule)}`.execute(ctx.database.db);
        expect(new Set(got.rows.map((r) => r.id))).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
