import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { FieldProblem } from '../lib/errors.js';
import { zodProblems } from '../lib/paths.js';
import { parseDuration, validateCalendar } from './business-time.js';
import { EVENT_TYPES, SCORE_CLASSES } from './scoring.js';

/**
 * The handoff agreement: the document both team leads sign and the software enforces.
 * It is plain data, versioned, and validated with problems that name their path.
 */

const key = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'use lower-case letters, digits and _ (start with a letter)');
const duration = z.string().refine((v) => {
  try {
    parseDuration(v);
    return true;
  } catch {
    return false;
  }
}, 'a duration such as "45s", "30m", "4h" or "1h30m"');

export const STAGE_ROLES = ['entry', 'working', 'handoff', 'accepted', 'won', 'nurture', 'disqualified'] as const;
export type StageRole = (typeof STAGE_ROLES)[number];
/** Stages from which a rule may hand a lead to sales by itself: marketing still holds the lead. */
export const AUTO_HANDOFF_ROLES: ReadonlySet<StageRole> = new Set<StageRole>(['entry', 'working', 'nurture']);
export const PHASES = ['awareness', 'interest', 'consideration', 'intent', 'purchase', 'none'] as const;

const stage = z.object({
  key,
  name: z.string().min(1).max(60),
  team: z.enum(['marketing', 'sales']),
  phase: z.enum(PHASES),
  /** What the stage means to the software: where handoffs start and end, where nurture is. */
  role: z.enum(STAGE_ROLES).default('working'),
});

const reason = z.object({
  code: key,
  label: z.string().min(1).max(120),
  /** The stage a lead goes to when this reason is given. */
  to: key,
  /** Whether a free-text note must accompany the reason. */
  noteRequired: z.boolean().default(false),
});

const poolMember = z.object({ user: z.email(), weight: z.number().int().min(0).max(100).default(1) });

const routingRule = z.object({
  name: z.string().min(1).max(80),
  when: z
    .object({
      country: z.array(z.string().min(1)).optional(),
      region: z.array(z.string().min(1)).optional(),
      industry: z.array(z.string().min(1)).optional(),
      persona: z.array(z.string().min(1)).optional(),
      employees: z.object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).optional(),
    })
    .strict(),
  pool: z.array(poolMember).min(1),
});

/**
 * A rule that hands a lead to sales by itself. Every condition it gives must hold: the lead's
 * class, a minimum fit or interest, or an event the lead has just done ("requests a demo").
 */
const autoCriterion = z
  .object({
    id: key,
    label: z.string().min(1).max(120),
    classes: z.array(z.enum(SCORE_CLASSES)).min(1).optional(),
    minFit: z.number().optional(),
    minInterest: z.number().optional(),
    event: z
      .object({
        type: z.enum(EVENT_TYPES).optional(),
        name: z.string().trim().min(1).max(200).optional(),
        properties: z
          .array(
            z
              .object({
                key: z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a property name, dotted for nested ones'),
                op: z.enum(['equals', 'contains', 'oneOf']).default('equals'),
                value: z.union([z.string().trim().min(1).max(200), z.array(z.string().trim().min(1).max(200)).min(1).max(50)]),
              })
              .strict(),
          )
          .max(10)
          .optional(),
      })
      .strict()
      .refine((e) => e.type !== undefined || e.name !== undefined, 'give the event type, its name, or both')
      .optional(),
  })
  .strict()
  .refine((c) => c.classes || c.minFit !== undefined || c.minInterest !== undefined || c.event, 'give at least one of classes, minFit, minInterest or event');

const escalationStep = z.object({
  /** Share of the accept-or-reject time, e.g. 0.5 = half-way, 1 = the deadline. */
  at: z.number().positive().max(10),
  action: z.enum(['remind', 'notify_lead', 'reassign']),
});

export const agreementSchema = z
  .object({
    name: z.string().min(1).max(120).default('Marketing and sales agreement'),
    stages: z.array(stage).min(4),
    leadStatuses: z.array(z.object({ key, name: z.string().min(1).max(60) })).min(1),
    reasons: z.object({
      reject: z.array(reason).min(1),
      handBack: z.array(reason).min(1),
      disqualify: z.array(reason).min(1),
    }),
    handoff: z
      .object({
        /**
         * Manual: a marketer may mark a lead as handed off. Auto: rules on class, scores and
         * events that hand a lead off by themselves, in the transaction that scores it.
         */
        criteria: z.object({ manual: z.boolean().default(true), auto: z.array(autoCriterion).max(50).default([]) }).default({ manual: true, auto: [] }),
        note: z.string().max(2000).optional(),
      })
      .default({ criteria: { manual: true, auto: [] } }),
    routing: z.object({
      accountOwnerFirst: z.boolean().default(true),
      rules: z.array(routingRule).default([]),
      /** Who gets leads no rule matched; empty means every active sales member, weight 1. */
      fallbackPool: z.array(poolMember).default([]),
      /** Open handoffs one person may hold; a person's own setting overrides it. */
      defaultCapacity: z.number().int().min(1).max(10000).optional(),
    }),
    sla: z.object({ acceptWithin: duration, firstContactWithin: duration }),
    calendar: z.object({
      timeZone: z.string().min(1),
      workingDays: z.array(z.number().int().min(1).max(7)).min(1),
      hours: z.object({ start: z.string(), end: z.string() }),
      holidays: z.array(z.string()).default([]),
    }),
    escalation: z.array(escalationStep).default([]),
    nurture: z.object({
      /** Days a lead stays in nurture before it returns to the `returnTo` stage. */
      days: z.number().int().min(1).max(3650),
      returnTo: key,
    }),
    commitments: z.object({
      marketing: z.object({
        mqlsPerMonth: z.number().int().min(0),
        minAcceptanceRate: z.number().min(0).max(1),
      }),
      sales: z.object({
        acceptOnTimeRate: z.number().min(0).max(1),
        firstContactOnTimeRate: z.number().min(0).max(1),
      }),
    }),
  })
  .strict();

export type AgreementDocument = z.output<typeof agreementSchema>;
export type AgreementInput = z.input<typeof agreementSchema>;
export type Stage = AgreementDocument['stages'][number];
export type Reason = AgreementDocument['reasons']['reject'][number];
export type ReasonKind = keyof AgreementDocument['reasons'];
export type RoutingRule = AgreementDocument['routing']['rules'][number];
export type PoolMember = AgreementDocument['routing']['fallbackPool'][number];
export type EscalationStep = AgreementDocument['escalation'][number];
export type AutoCriterion = AgreementDocument['handoff']['criteria']['auto'][number];

/** The built-in agreement that applies, shown as unsigned, until both leads sign one. */
export const DEFAULT_AGREEMENT: AgreementDocument = Object.freeze({
  name: 'Default agreement (unsigned)',
  stages: [
    { key: 'subscriber', name: 'Subscriber', team: 'marketing', phase: 'awareness', role: 'entry' },
    { key: 'lead', name: 'Lead', team: 'marketing', phase: 'interest', role: 'working' },
    { key: 'mql', name: 'MQL', team: 'marketing', phase: 'consideration', role: 'handoff' },
    { key: 'sal', name: 'SAL', team: 'sales', phase: 'consideration', role: 'accepted' },
    { key: 'sql', name: 'SQL / Opportunity', team: 'sales', phase: 'intent', role: 'working' },
    { key: 'customer', name: 'Customer', team: 'sales', phase: 'purchase', role: 'won' },
    { key: 'nurture', name: 'Nurture', team: 'marketing', phase: 'interest', role: 'nurture' },
    { key: 'disqualified', name: 'Disqualified', team: 'marketing', phase: 'none', role: 'disqualified' },
  ],
  leadStatuses: [
    { key: 'new', name: 'New' },
    { key: 'attempting', name: 'Attempting contact' },
    { key: 'connected', name: 'Connected' },
    { key: 'qualified', name: 'Qualified' },
    { key: 'bad_timing', name: 'Bad timing' },
    { key: 'unqualified', name: 'Unqualified' },
  ],
  reasons: {
    reject: [
      { code: 'not_ready', label: 'Interested but not ready to buy', to: 'nurture', noteRequired: false },
      { code: 'no_budget', label: 'No budget this period', to: 'nurture', noteRequired: false },
      { code: 'wrong_person', label: 'Not the decision maker or influencer', to: 'nurture', noteRequired: true },
      { code: 'bad_fit', label: 'Company outside our ideal customer profile', to: 'disqualified', noteRequired: false },
      { code: 'bad_data', label: 'Contact data wrong or fake', to: 'disqualified', noteRequired: false },
      { code: 'competitor', label: 'Competitor or existing vendor', to: 'disqualified', noteRequired: false },
    ],
    handBack: [
      { code: 'went_dark', label: 'No response after the agreed attempts', to: 'nurture', noteRequired: false },
      { code: 'timing', label: 'Buying later than this quarter', to: 'nurture', noteRequired: false },
      { code: 'lost_to_no_decision', label: 'Stalled with no decision', to: 'nurture', noteRequired: true },
      { code: 'not_a_fit', label: 'Turned out not to fit', to: 'disqualified', noteRequired: true },
    ],
    disqualify: [
      { code: 'spam', label: 'Spam or test entry', to: 'disqualified', noteRequired: false },
      { code: 'student', label: 'Student or job seeker', to: 'disqualified', noteRequired: false },
      { code: 'out_of_market', label: 'Outside the markets we serve', to: 'disqualified', noteRequired: false },
    ],
  },
  handoff: {
    criteria: {
      manual: true,
      auto: [
        { id: 'good_fit_high_interest', label: 'Good fit and high interest', classes: ['good_fit_high_interest'] },
        { id: 'demo_request', label: 'Any lead that requests a demo', event: { type: 'track', name: 'Demo Requested' } },
      ],
    },
  },
  routing: { accountOwnerFirst: true, rules: [], fallbackPool: [] },
  sla: { acceptWithin: '4h', firstContactWithin: '8h' },
  calendar: {
    timeZone: 'UTC',
    workingDays: [1, 2, 3, 4, 5],
    hours: { start: '09:00', end: '17:00' },
    holidays: [],
  },
  escalation: [
    { at: 0.5, action: 'remind' },
    { at: 1, action: 'notify_lead' },
    { at: 1.5, action: 'reassign' },
  ],
  nurture: { days: 90, returnTo: 'lead' },
  commitments: {
    marketing: { mqlsPerMonth: 200, minAcceptanceRate: 0.6 },
    sales: { acceptOnTimeRate: 0.9, firstContactOnTimeRate: 0.85 },
  },
} satisfies AgreementDocument);

/** Rules that span fields: stage keys exist, each role the software relies on is present once. */
function crossCheck(doc: AgreementDocument): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stageKeys = new Map<string, Stage>();
  doc.stages.forEach((s, i) => {
    if (stageKeys.has(s.key)) problems.push({ path: `stages[${i}].key`, message: `duplicate stage "${s.key}"` });
    stageKeys.set(s.key, s);
  });
  const needOne: [StageRole, 'marketing' | 'sales' | null][] = [
    ['entry', 'marketing'],
    ['handoff', 'marketing'],
    ['accepted', 'sales'],
    ['nurture', 'marketing'],
    ['disqualified', null],
  ];
  for (const [role, team] of needOne) {
    const found = doc.stages.filter((s) => s.role === role);
    if (found.length !== 1) {
      problems.push({ path: 'stages', message: `exactly one stage must have role "${role}" (found ${found.length})` });
    } else if (team && found[0]?.team !== team) {
      problems.push({ path: 'stages', message: `the "${role}" stage must be owned by ${team}` });
    }
  }
  for (const kind of ['reject', 'handBack', 'disqualify'] as const) {
    const seen = new Set<string>();
    doc.reasons[kind].forEach((r, i) => {
      if (seen.has(r.code)) problems.push({ path: `reasons.${kind}[${i}].code`, message: `duplicate reason "${r.code}"` });
      seen.add(r.code);
      const target = stageKeys.get(r.to);
      if (!target) problems.push({ path: `reasons.${kind}[${i}].to`, message: `unknown stage "${r.to}"` });
      else if (target.role !== 'nurture' && target.role !== 'disqualified')
        problems.push({ path: `reasons.${kind}[${i}].to`, message: 'must be the nurture or the disqualified stage' });
    });
  }
  const statusKeys = new Set<string>();
  doc.leadStatuses.forEach((s, i) => {
    if (statusKeys.has(s.key)) problems.push({ path: `leadStatuses[${i}].key`, message: `duplicate status "${s.key}"` });
    statusKeys.add(s.key);
  });
  const then = stageKeys.get(doc.nurture.returnTo);
  if (!then) problems.push({ path: 'nurture.returnTo', message: `unknown stage "${doc.nurture.returnTo}"` });
  else if (then.team !== 'marketing') problems.push({ path: 'nurture.returnTo', message: 'must be a marketing stage' });
  for (const p of validateCalendar(doc.calendar)) problems.push({ path: `calendar.${p.path}`.replace(/\.$/, ''), message: p.message });
  const steps = doc.escalation.map((s) => s.at);
  if (steps.some((v, i) => i > 0 && v <= (steps[i - 1] ?? 0))) problems.push({ path: 'escalation', message: 'steps must be in increasing order of "at"' });
  return problems;
}

export type ValidationResult = { ok: true; document: AgreementDocument } | { ok: false; problems: FieldProblem[] };

/** Validate a parsed document. Problems name the path, e.g. "sla.acceptWithin". */
export function validateAgreement(input: unknown): ValidationResult {
  const parsed = agreementSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      problems: zodProblems(parsed.error),
    };
  }
  const problems = crossCheck(parsed.data);
  return problems.length ? { ok: false, problems } : { ok: true, document: parsed.data };
}

/** Parse agreement text as JSON or YAML (JSON is YAML, so one parser covers both). */
export function parseAgreementText(text: string): ValidationResult {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    return { ok: false, problems: [{ path: '(document)', message: `not valid JSON or YAML: ${(error as Error).message}` }] };
  }
  return validateAgreement(data);
}

export interface DiffEntry {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keyed lists (stages, reasons, statuses) are compared by key, so reordering is one change, not many. */
function keyOf(item: unknown): string | undefined {
  if (!isPlainObject(item)) return undefined;
  const k = item.key ?? item.code ?? item.id ?? item.name;
  return typeof k === 'string' ? k : undefined;
}

/** JSON with object keys sorted: the database may hand back an object's keys in another order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

/** A structural diff of two documents, by path. */
export function diffAgreements(before: unknown, after: unknown, path = ''): DiffEntry[] {
  if (canonical(before) === canonical(after)) return [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const keyed = [...before, ...after].every((i) => keyOf(i) !== undefined);
    if (keyed) {
      const b = new Map(before.map((i) => [keyOf(i) as string, i]));
      const a = new Map(after.map((i) => [keyOf(i) as string, i]));
      const out: DiffEntry[] = [];
      for (const [k, v] of b) {
        if (!a.has(k)) out.push({ path: `${path}[${k}]`, change: 'removed', before: v });
        else out.push(...diffAgreements(v, a.get(k), `${path}[${k}]`));
      }
      for (const [k, v] of a) if (!b.has(k)) out.push({ path: `${path}[${k}]`, change: 'added', after: v });
      const orderBefore = before.map(keyOf).filter((k) => a.has(k as string));
      const orderAfter = after.map(keyOf).filter((k) => b.has(k as string));
      if (JSON.stringify(orderBefore) !== JSON.stringify(orderAfter))
        out.push({ path: `${path}(order)`, change: 'changed', before: orderBefore, after: orderAfter });
      return out;
    }
    return [{ path: path || '(document)', change: 'changed', before, after }];
  }
  if (isPlainObject(before) && isPlainObject(after)) {
    const out: DiffEntry[] = [];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of keys) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in after)) out.push({ path: p, change: 'removed', before: before[k] });
      else if (!(k in before)) out.push({ path: p, change: 'added', after: after[k] });
      else out.push(...diffAgreements(before[k], after[k], p));
    }
    return out;
  }
  return [{ path: path || '(document)', change: 'changed', before, after }];
}

export function stageByKey(doc: AgreementDocument, stageKey: string): Stage | undefined {
  return doc.stages.find((s) => s.key === stageKey);
}

export function stageWithRole(doc: AgreementDocument, role: StageRole): Stage {
  const found = doc.stages.find((s) => s.role === role);
  if (!found) throw new Error(`agreement has no "${role}" stage`);
  return found;
}

export function findReason(doc: AgreementDocument, kind: ReasonKind, code: string): Reason | undefined {
  return doc.reasons[kind].find((r) => r.code === code);
}
