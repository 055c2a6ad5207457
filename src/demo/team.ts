import { type AgreementDocument, type AgreementInput, DEFAULT_AGREEMENT, validateAgreement } from '../domain/agreement.js';

export const DEMO_DOMAIN = 'northwind.example';

export interface DemoPerson {
  key: string;
  name: string;
  team: 'marketing' | 'sales';
  level: 'member' | 'lead';
  isAdmin: boolean;
  /** Job title: the schema has no column for it, but it explains the routing set-up below. */
  role: string;
  weight: number;
  capacity: number | null;
}

/** Emails are firstname@northwind.example, so keys are first names. */
export const TEAM: DemoPerson[] = [
  { key: 'olivia', name: 'Olivia Bennett', team: 'marketing', level: 'lead', isAdmin: true, role: 'VP Marketing', weight: 1, capacity: null },
  { key: 'marcus', name: 'Marcus Chen', team: 'marketing', level: 'member', isAdmin: false, role: 'Demand generation manager', weight: 1, capacity: null },
  { key: 'priya', name: 'Priya Raman', team: 'marketing', level: 'member', isAdmin: false, role: 'Marketing operations manager', weight: 1, capacity: null },
  { key: 'hannah', name: 'Hannah Fischer', team: 'marketing', level: 'member', isAdmin: false, role: 'Content marketing lead', weight: 1, capacity: null },
  { key: 'diego', name: 'Diego Alvarez', team: 'marketing', level: 'member', isAdmin: false, role: 'Field and events marketing', weight: 1, capacity: null },
  { key: 'grace', name: 'Grace Okafor', team: 'marketing', level: 'member', isAdmin: false, role: 'Product marketing manager', weight: 1, capacity: null },
  { key: 'liam', name: 'Liam Walsh', team: 'marketing', level: 'member', isAdmin: false, role: 'Paid media specialist', weight: 1, capacity: null },
  { key: 'sofia', name: 'Sofia Rossi', team: 'marketing', level: 'member', isAdmin: false, role: 'Marketing operations analyst', weight: 1, capacity: null },
  // The sales lead does not take round-robin leads (weight 0) but sees escalations and the unassigned queue.
  { key: 'daniel', name: 'Daniel Brooks', team: 'sales', level: 'lead', isAdmin: false, role: 'VP Sales', weight: 0, capacity: null },
  { key: 'emma', name: 'Emma Carter', team: 'sales', level: 'member', isAdmin: false, role: 'SDR, North America', weight: 3, capacity: 25 },
  { key: 'noah', name: 'Noah Patel', team: 'sales', level: 'member', isAdmin: false, role: 'SDR, North America', weight: 2, capacity: 20 },
  { key: 'ava', name: 'Ava Tanaka', team: 'sales', level: 'member', isAdmin: false, role: 'SDR, Asia-Pacific', weight: 1, capacity: null },
  { key: 'ethan', name: 'Ethan Miller', team: 'sales', level: 'member', isAdmin: false, role: 'Enterprise account executive', weight: 2, capacity: null },
  { key: 'maya', name: 'Maya Goldberg', team: 'sales', level: 'member', isAdmin: false, role: 'Enterprise account executive', weight: 1, capacity: 15 },
  { key: 'chloe', name: 'Chloé Dubois', team: 'sales', level: 'member', isAdmin: false, role: 'Account executive, Europe (Paris)', weight: 1, capacity: null },
  { key: 'lukas', name: 'Lukas Weber', team: 'sales', level: 'member', isAdmin: false, role: 'Account executive, Europe (Berlin)', weight: 1, capacity: 12 },
];

export const emailOf = (key: string): string => `${key}@${DEMO_DOMAIN}`;

export const EUROPE = ['GB', 'IE', 'DE', 'FR', 'NL', 'BE', 'SE', 'DK', 'NO', 'FI', 'ES', 'IT', 'CH', 'AT', 'PL'];

const iso = (y: number, m: number, d: number) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/** The n-th (1-based) given weekday (0 = Sunday) of a month; n = -1 is the last. */
function nthWeekday(year: number, month: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
    return iso(year, month, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7);
  }
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const last = new Date(Date.UTC(year, month - 1, lastDay)).getUTCDay();
  return iso(year, month, lastDay - ((last - weekday + 7) % 7));
}

/** A fixed-date holiday on a weekend is observed on the Friday before or the Monday after. */
function observed(year: number, month: number, day: number): string {
  const wd = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const shift = wd === 6 ? -1 : wd === 0 ? 1 : 0;
  const d = new Date(Date.UTC(year, month - 1, day + shift));
  return iso(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** The US holidays Northwind's New York office closes for. */
export function usHolidays(years: number[]): string[] {
  const out: string[] = [];
  for (const y of years) {
    const thanksgiving = nthWeekday(y, 11, 4, 4);
    const friday = new Date(`${thanksgiving}T00:00:00Z`);
    friday.setUTCDate(friday.getUTCDate() + 1);
    out.push(
      observed(y, 1, 1),
      nthWeekday(y, 1, 1, 3), // Martin Luther King Jr. Day
      nthWeekday(y, 5, 1, -1), // Memorial Day
      observed(y, 6, 19),
      observed(y, 7, 4),
      nthWeekday(y, 9, 1, 1), // Labor Day
      thanksgiving,
      friday.toISOString().slice(0, 10),
      observed(y, 12, 25),
    );
  }
  return [...new Set(out)].sort();
}

function validated(input: AgreementInput): AgreementDocument {
  const result = validateAgreement(input);
  if (!result.ok) throw new Error(`demo agreement is invalid: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return result.document;
}

/** Version 1, the agreement in force: New York business hours, routing by segment and territory. */
export function agreementV1(now: number): AgreementDocument {
  const year = new Date(now).getUTCFullYear();
  // Only the holidays the demo's history and the coming year touch: every SLA computation walks the list.
  const from = new Date(now - 400 * 86_400_000).toISOString().slice(0, 10);
  const to = new Date(now + 400 * 86_400_000).toISOString().slice(0, 10);
  const base = structuredClone(DEFAULT_AGREEMENT) as AgreementDocument;
  return validated({
    ...base,
    name: 'Northwind marketing and sales agreement',
    reasons: {
      ...base.reasons,
      reject: [...base.reasons.reject, { code: 'duplicate', label: 'Duplicate of a lead sales already works', to: 'disqualified', noteRequired: false }],
    },
    handoff: {
      criteria: {
        manual: true,
        auto: [
          { id: 'demo_request', label: 'Any lead that requests a demo', event: { type: 'track', name: 'Demo Requested' } },
          { id: 'good_fit_high_interest', label: 'Good fit and high interest', classes: ['good_fit_high_interest'] },
        ],
      },
      note: 'Marketing hands a lead to sales when it asks for a demo, or when a person matching a persona at a company of 20+ employees has attended a webinar or event, or visited pricing after reading our content. Tandem hands off on its own any lead that requests a demo, and any lead whose scores become good fit and high interest.',
    },
    routing: {
      accountOwnerFirst: true,
      defaultCapacity: 40,
      rules: [
        { name: 'Enterprise', when: { employees: { min: 1000 } }, pool: [member('ethan', 2), member('maya', 1)] },
        { name: 'Europe', when: { country: EUROPE }, pool: [member('chloe', 1), member('lukas', 1)] },
        { name: 'Asia-Pacific', when: { region: ['APAC'] }, pool: [member('ava', 1)] },
      ],
      fallbackPool: [member('emma', 3), member('noah', 2)],
    },
    sla: { acceptWithin: '4h', firstContactWithin: '8h' },
    calendar: {
      timeZone: 'America/New_York',
      workingDays: [1, 2, 3, 4, 5],
      hours: { start: '09:00', end: '17:00' },
      holidays: usHolidays([year - 2, year - 1, year, year + 1, year + 2]).filter((d) => d >= from && d <= to),
    },
    commitments: {
      marketing: { mqlsPerMonth: 450, minAcceptanceRate: 0.65 },
      sales: { acceptOnTimeRate: 0.9, firstContactOnTimeRate: 0.85 },
    },
  });
}

/** Version 2, proposed by marketing: a faster response in return for more MQLs a month. */
export function agreementV2(v1: AgreementDocument): AgreementDocument {
  const doc = structuredClone(v1);
  doc.sla = { acceptWithin: '2h', firstContactWithin: '4h' };
  doc.commitments = { marketing: { mqlsPerMonth: 520, minAcceptanceRate: 0.7 }, sales: { acceptOnTimeRate: 0.9, firstContactOnTimeRate: 0.9 } };
  return validated(doc);
}

function member(key: string, weight: number) {
  return { user: emailOf(key), weight };
}
