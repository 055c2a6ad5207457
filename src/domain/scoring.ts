import { z } from 'zod';
import type { FieldProblem } from '../lib/errors.js';
import { zodProblems } from '../lib/paths.js';

/**
 * Scoring on two axes (C3). Fit: points from rules on the lead's and its account's attributes.
 * Interest: points from rules on behaviour (events), each rule capped per period, every point
 * halving in value after the half-life. Two thresholds place each lead in one of four classes.
 * The rules are plain data, versioned like the agreement; this module holds their schema and
 * their meaning, and `features/scoring/scoring.sql.ts` says the same thing in SQL.
 */

export const SCORE_CLASSES = ['good_fit_high_interest', 'good_fit_low_interest', 'low_fit_high_interest', 'low_fit_low_interest'] as const;
export type ScoreClass = (typeof SCORE_CLASSES)[number];

export const CLASS_LABELS: Record<ScoreClass, string> = {
  good_fit_high_interest: 'Good fit, high interest',
  good_fit_low_interest: 'Good fit, low interest',
  low_fit_high_interest: 'Low fit, high interest',
  low_fit_low_interest: 'Low fit, low interest',
};

/** Lead attributes a fit rule may test. */
export const LEAD_FIELDS = ['title', 'country', 'persona', 'source', 'company', 'email_domain', 'status'] as const;
/** Account attributes a fit rule may test (`account.<name>`). */
export const ACCOUNT_FIELDS = ['industry', 'employees', 'country', 'region', 'domain', 'name'] as const;
export const EVENT_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;

const ruleId = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'use lower-case letters, digits, - and _ (start with a letter)');
const text = z.string().trim().min(1).max(200);

/**
 * Where a fit rule looks: `title`, `account.employees`, or a custom property as
 * `properties.<key>` / `account.properties.<key>`.
 */
const fieldRef = z.string().refine((f) => parseField(f) !== null, {
  message: `must be a lead field (${LEAD_FIELDS.join(', ')}), account.<${ACCOUNT_FIELDS.join('|')}>, properties.<key> or account.properties.<key>`,
});

const range = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not be above max');

const fitRule = z.discriminatedUnion('op', [
  z.object({ id: ruleId, label: text, field: fieldRef, op: z.literal('equals'), value: text, points: z.number().int().min(-1000).max(1000) }).strict(),
  z
    .object({
      id: ruleId,
      label: text,
      field: fieldRef,
      op: z.literal('oneOf'),
      value: z.array(text).min(1).max(200),
      points: z.number().int().min(-1000).max(1000),
    })
    .strict(),
  z
    .object({
      id: ruleId,
      label: text,
      field: fieldRef,
      op: z.literal('contains'),
      value: z.union([text, z.array(text).min(1).max(50)]),
      points: z.number().int().min(-1000).max(1000),
    })
    .strict(),
  z.object({ id: ruleId, label: text, field: fieldRef, op: z.literal('range'), value: range, points: z.number().int().min(-1000).max(1000) }).strict(),
  z.object({ id: ruleId, label: text, op: z.literal('persona'), value: z.array(text).min(1).max(50), points: z.number().int().min(-1000).max(1000) }).strict(),
]);

const propertyTest = z
  .object({
    /** A property of the event, dotted for nested ones (`path`, `form.id`). */
    key: z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a property name, dotted for nested ones'),
    op: z.enum(['equals', 'contains', 'oneOf']).default('equals'),
    value: z.union([text, z.array(text).min(1).max(50)]),
  })
  .strict();

const interestRule = z
  .object({
    id: ruleId,
    label: text,
    when: z
      .object({
        type: z.union([z.enum(EVENT_TYPES), z.array(z.enum(EVENT_TYPES)).min(1)]).optional(),
        /** The track event's or page's name, compared without regard to case. */
        event: text.optional(),
        properties: z.array(propertyTest).max(10).optional(),
      })
      .strict()
      .refine((w) => w.type !== undefined || w.event !== undefined, 'give the event type, its name, or both'),
    points: z.number().min(-1000).max(1000),
    /** At most this many points from this rule per lead in each period of `days`. */
    cap: z
      .object({ points: z.number().positive().max(100000), days: z.number().int().min(1).max(365) })
      .strict()
      .optional(),
  })
  .strict();

export const scoringSchema = z
  .object({
    fit: z.object({ rules: z.array(fitRule).max(200) }).strict(),
    interest: z
      .object({
        /** After this many days an event's points are worth half. */
        halfLifeDays: z.number().min(1).max(3650),
        rules: z.array(interestRule).max(200),
      })
      .strict(),
    thresholds: z.object({ fit: z.number().min(0), interest: z.number().min(0) }).strict(),
  })
  .strict();

export type ScoringDocument = z.output<typeof scoringSchema>;
export type FitRule = ScoringDocument['fit']['rules'][number];
export type InterestRule = ScoringDocument['interest']['rules'][number];
export type PropertyTest = NonNullable<InterestRule['when']['properties']>[number];

/** A reference to what a fit rule tests. */
export type FieldRef =
  | { on: 'lead'; column: (typeof LEAD_FIELDS)[number] }
  | { on: 'account'; column: (typeof ACCOUNT_FIELDS)[number] }
  | { on: 'lead' | 'account'; property: string };

export function parseField(field: string): FieldRef | null {
  if ((LEAD_FIELDS as readonly string[]).includes(field)) return { on: 'lead', column: field as (typeof LEAD_FIELDS)[number] };
  const prop = /^(account\.)?properties\.([A-Za-z0-9_$-]{1,100})$/.exec(field);
  if (prop) return { on: prop[1] ? 'account' : 'lead', property: prop[2] as string };
  const acc = /^account\.([a-z_]+)$/.exec(field);
  if (acc && (ACCOUNT_FIELDS as readonly string[]).includes(acc[1] as string)) return { on: 'account', column: acc[1] as (typeof ACCOUNT_FIELDS)[number] };
  return null;
}

/** The built-in rules until a workspace activates its own: a common B2B starting point. */
export const DEFAULT_SCORING: ScoringDocument = Object.freeze({
  fit: {
    rules: [
      {
        id: 'senior-title',
        label: 'Senior title (VP, Head, Director, Chief)',
        field: 'title',
        op: 'contains',
        value: ['vp', 'vice president', 'head of', 'director', 'chief'],
        points: 25,
      },
      { id: 'manager-title', label: 'Manager title', field: 'title', op: 'contains', value: 'manager', points: 10 },
      { id: 'mid-market', label: 'Company of 200 to 5,000 people', field: 'account.employees', op: 'range', value: { min: 200, max: 5000 }, points: 25 },
      { id: 'small-company', label: 'Company of 50 to 199 people', field: 'account.employees', op: 'range', value: { min: 50, max: 199 }, points: 10 },
      {
        id: 'target-industry',
        label: 'Target industry',
        field: 'account.industry',
        op: 'oneOf',
        value: ['Software', 'Financial Services', 'Healthcare', 'Manufacturing'],
        points: 15,
      },
      {
        id: 'free-email',
        label: 'Personal email address',
        field: 'email_domain',
        op: 'oneOf',
        value: ['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com'],
        points: -20,
      },
    ],
  },
  interest: {
    halfLifeDays: 30,
    rules: [
      { id: 'demo-request', label: 'Requested a demo', when: { type: 'track', event: 'Demo Requested' }, points: 50 },
      {
        id: 'pricing-page',
        label: 'Viewed the pricing page',
        when: { type: 'page', properties: [{ key: 'path', op: 'contains', value: '/pricing' }] },
        points: 10,
        cap: { points: 30, days: 7 },
      },
      { id: 'form-submitted', label: 'Submitted a form', when: { type: 'track', event: 'Form Submitted' }, points: 15, cap: { points: 45, days: 30 } },
      {
        id: 'content-download',
        label: 'Downloaded content',
        when: { type: 'track', event: 'Whitepaper Downloaded' },
        points: 10,
        cap: { points: 30, days: 30 },
      },
      { id: 'email-click', label: 'Clicked an email', when: { type: 'track', event: 'Email Clicked' }, points: 5, cap: { points: 20, days: 7 } },
      { id: 'page-view', label: 'Any page view', when: { type: 'page' }, points: 1, cap: { points: 10, days: 7 } },
    ],
  },
  thresholds: { fit: 40, interest: 30 },
}) as ScoringDocument;

export type ScoringValidation = { ok: true; document: ScoringDocument } | { ok: false; problems: FieldProblem[] };

export function validateScoring(input: unknown): ScoringValidation {
  const parsed = scoringSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, problems: zodProblems(parsed.error) };
  }
  const problems: FieldProblem[] = [];
  for (const part of ['fit', 'interest'] as const) {
    const seen = new Set<string>();
    parsed.data[part].rules.forEach((r, i) => {
      if (seen.has(r.id)) problems.push({ path: `${part}.rules[${i}].id`, message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
    });
  }
  return problems.length ? { ok: false, problems } : { ok: true, document: parsed.data };
}

// ---------------------------------------------------------------------------------------------
// Meaning, in JavaScript. The SQL in features/scoring/scoring.sql.ts must agree with this; a
// property test checks that it does.

/** The facts a fit rule reads. */
export interface FitFacts {
  lead: {
    title: string | null;
    country: string | null;
    persona: string | null;
    source: string | null;
    company: string | null;
    email: string;
    status: string | null;
    properties: Record<string, unknown>;
  };
  account: {
    industry: string | null;
    employees: number | null;
    country: string | null;
    region: string | null;
    domain: string | null;
    name: string | null;
    properties: Record<string, unknown>;
  } | null;
}

/** A fact as text, the way SQL sees it (`->>` for properties; null when absent). */
function factText(facts: FitFacts, ref: FieldRef): string | null {
  const holder = ref.on === 'lead' ? facts.lead : facts.account;
  if (!holder) return null;
  if ('property' in ref) {
    return scalarText(holder.properties[ref.property]);
  }
  if (ref.on === 'lead' && ref.column === 'email_domain') {
    const at = facts.lead.email.lastIndexOf('@');
    return at >= 0 ? facts.lead.email.slice(at + 1) : null;
  }
  const v = (holder as Record<string, unknown>)[ref.column];
  return v === null || v === undefined ? null : String(v);
}

/** Text compared as SQL compares it: lower-cased (rule values are trimmed when the rules are saved). */
export const norm = (v: string): string => v.toLowerCase();

/** A number as SQL reads it: plain decimal notation only, otherwise no number. */
export function numeric(v: string | null): number | null {
  if (v === null) return null;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : null;
}

export function fitRuleMatches(rule: FitRule, facts: FitFacts): boolean {
  if (rule.op === 'persona') {
    const p = facts.lead.persona;
    return p !== null && rule.value.some((v) => norm(v) === norm(p));
  }
  const ref = fieldRefOf(rule.field);
  const value = factText(facts, ref);
  if (value === null) return false;
  switch (rule.op) {
    case 'equals':
      return norm(value) === norm(rule.value);
    case 'oneOf':
      return rule.value.some((v) => norm(v) === norm(value));
    case 'contains': {
      const hay = norm(value);
      return (Array.isArray(rule.value) ? rule.value : [rule.value]).some((v) => hay.includes(norm(v)));
    }
    case 'range': {
      const n = numeric(value);
      if (n === null) return false;
      return (rule.value.min === undefined || n >= rule.value.min) && (rule.value.max === undefined || n <= rule.value.max);
    }
  }
}

export interface FitExplanation {
  score: number;
  matched: { id: string; label: string; points: number }[];
}

/** A rule's field, parsed once (rules are checked when saved, so the field is known to parse). */
const fieldRefs = new Map<string, FieldRef>();
function fieldRefOf(field: string): FieldRef {
  let ref = fieldRefs.get(field);
  if (!ref) {
    ref = parseField(field) as FieldRef;
    if (fieldRefs.size < 10_000) fieldRefs.set(field, ref);
  }
  return ref;
}

/** The fit points alone, without the explanation: for scoring many leads at once. */
export function fitPoints(doc: ScoringDocument, facts: FitFacts): number {
  let points = 0;
  for (const rule of doc.fit.rules) if (fitRuleMatches(rule, facts)) points += rule.points;
  return points;
}

export function fitScore(doc: ScoringDocument, facts: FitFacts): FitExplanation {
  const matched = doc.fit.rules.filter((r) => fitRuleMatches(r, facts)).map((r) => ({ id: r.id, label: r.label, points: r.points }));
  return { score: matched.reduce((s, r) => s + r.points, 0), matched };
}

/** An event as interest rules read it. */
export interface EventFacts {
  type: string;
  name: string | null;
  properties: Record<string, unknown>;
}

/** A (possibly nested) property as text, as SQL's `#>>` gives it. */
export function propertyText(properties: Record<string, unknown>, dotted: string): string | null {
  let v: unknown = properties;
  for (const part of dotted.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    v = (v as Record<string, unknown>)[part];
  }
  return scalarText(v);
}

/** Strings, numbers and booleans compare as text; objects, arrays and nulls match nothing. */
function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function interestRuleMatches(rule: InterestRule, event: EventFacts): boolean {
  const { type, event: name, properties } = rule.when;
  if (type !== undefined && !(Array.isArray(type) ? type : [type]).includes(event.type as (typeof EVENT_TYPES)[number])) return false;
  if (name !== undefined && (event.name === null || norm(event.name) !== norm(name))) return false;
  for (const test of properties ?? []) {
    const v = propertyText(event.properties, test.key);
    if (v === null) return false;
    const values = Array.isArray(test.value) ? test.value : [test.value];
    if (test.op === 'contains' ? !values.some((x) => norm(v).includes(norm(x))) : !values.some((x) => norm(x) === norm(v))) return false;
  }
  return true;
}

/** Points count from this instant; interest is kept as "mass" relative to it so decay is one multiplication. */
export const SCORE_EPOCH_MS = Date.UTC(2020, 0, 1);
const DAY_MS = 86_400_000;

/** What points earned at `at` weigh in the mass (they decay from then on). */
export function massOf(points: number, at: Date, halfLifeDays: number): number {
  return points * 2 ** ((at.getTime() - SCORE_EPOCH_MS) / (halfLifeDays * DAY_MS));
}

/** Interest now from the mass. */
export function interestAt(mass: number, now: Date, halfLifeDays: number): number {
  return mass * 2 ** (-(now.getTime() - SCORE_EPOCH_MS) / (halfLifeDays * DAY_MS));
}

/** Which cap period an instant falls in, for a rule capped per `days`. */
export function capPeriod(at: Date, days: number): number {
  return Math.floor((at.getTime() - SCORE_EPOCH_MS) / (days * DAY_MS));
}

export function classify(fit: number, interest: number, thresholds: ScoringDocument['thresholds']): ScoreClass {
  const goodFit = fit >= thresholds.fit;
  const high = interest >= thresholds.interest;
  return goodFit ? (high ? 'good_fit_high_interest' : 'good_fit_low_interest') : high ? 'low_fit_high_interest' : 'low_fit_low_interest';
}
