import { type AgreementDocument, DEFAULT_AGREEMENT, type Reason, stageWithRole } from '../domain/agreement.js';
import { addBusinessTime, businessTimeBetween, parseDuration } from '../domain/business-time.js';
import { type Candidate, type RouteDecision, routeLead } from '../domain/routing.js';
import { firstContactDue, type PlannedTimer, planHandoffClock } from '../domain/sla.js';
import { uuidv7 } from '../lib/ids.js';
import { type Rng, Weighted } from './random.js';
import {
  AD_GROUPS,
  ASSETS,
  COUNTRIES,
  type CountryInfo,
  EVENTS,
  FREEMAIL,
  HAND_BACK_NOTES,
  INDUSTRIES,
  LANDING_PAGES,
  LOST_REASONS,
  MARKETING_NOTES,
  NAME_PREFIXES,
  NAME_SUFFIXES,
  NAMES,
  PARTNERS,
  PERSONAS,
  SALES_NOTES,
  SOURCE_MQL_RATE,
  SOURCE_WEIGHTS,
  SOURCES,
  type Source,
  WEBINAR_TOPICS,
  WITHDRAW_NOTES,
  WRONG_PERSON_NOTES,
} from './vocabulary.js';

/**
 * The demo's history, simulated lead by lead. Each lead gets a story: a time-ordered list of
 * events that the real use cases would have produced (created, qualified, handed off, accepted,
 * contacted, won...). Rows are rendered from the stories afterwards (render.ts), so a lead's
 * stage, its handoffs and its timeline cannot disagree.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const YEAR = 365 * DAY;

export interface Person {
  key: string;
  id: string;
  name: string;
  email: string;
  team: 'marketing' | 'sales';
  level: 'member' | 'lead';
  weight: number;
  capacity: number | null;
}

export interface Absence {
  userId: string;
  from: number;
  to: number;
  note: string;
}

export interface World {
  rng: Rng;
  now: number;
  /** When version 1 became active; handoffs before it ran on the built-in default (version 0). */
  v1At: number;
  v1: AgreementDocument;
  workspaceCreatedAt: number;
  people: Map<string, Person>;
  absences: Absence[];
  stages: { entry: string; working: string; handoff: string; accepted: string; sql: string; won: string; nurture: string; disqualified: string };
}

export const person = (w: World, key: string): Person => {
  const p = w.people.get(key);
  if (!p) throw new Error(`demo person ${key} is missing`);
  return p;
};

export interface AccountSim {
  id: string;
  name: string;
  domain: string;
  industry: string;
  employees: number;
  country: CountryInfo;
  city: string;
  ownerId: string | null;
  properties: Record<string, unknown>;
  createdAt: number;
  /** Created when its first lead arrived rather than in the initial CRM import. */
  onDemand: boolean;
}

export type Who = { t: 'system' } | { t: 'user'; id: string } | { t: 'api_key'; id: string } | { t: 'assignee'; h: HandoffSim } | { t: 'owner' };

export interface DealSim {
  id: string;
  createdAt: number;
  name: string;
  amount: string;
  currency: string;
  expectedClose: number;
}

export type Ev =
  | { at: number; k: 'created'; stage: string; by: Who }
  | { at: number; k: 'move'; to: string; by: Who; data?: Record<string, unknown>; dealId?: string }
  | { at: number; k: 'handoff'; h: HandoffSim }
  | { at: number; k: 'breach' | 'remind' | 'escalate'; h: HandoffSim; step: number }
  | { at: number; k: 'assign'; h: HandoffSim }
  | { at: number; k: 'accept'; h: HandoffSim; note: string | null }
  | { at: number; k: 'reject'; h: HandoffSim; reason: Reason; note: string | null }
  | { at: number; k: 'withdraw'; h: HandoffSim; by: string; back: string; note: string | null }
  | { at: number; k: 'reassign'; h: HandoffSim; next: HandoffSim; reason: 'sla' | 'manual'; step: number; note: string | null }
  | { at: number; k: 'contact'; h: HandoffSim; note: string | null }
  | { at: number; k: 'contact_breach'; h: HandoffSim; due: number }
  | { at: number; k: 'hand_back'; reason: Reason; note: string | null }
  | { at: number; k: 'note'; by: Who; body: string }
  | { at: number; k: 'deal'; d: DealSim }
  | { at: number; k: 'deal_won'; d: DealSim }
  | { at: number; k: 'deal_lost'; d: DealSim; reason: string };

export interface LeadSim {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  title: string | null;
  phone: string | null;
  company: string | null;
  country: string;
  region: string;
  currency: string;
  source: Source;
  persona: string | null;
  properties: Record<string, unknown>;
  account: AccountSim | null;
  createdAt: number;
  fit: number;
  events: Ev[];
}

export interface HandoffSim {
  id: string;
  lead: LeadSim;
  createdAt: number;
  version: number;
  doc: AgreementDocument;
  dueAt: number;
  timers: PlannedTimer[];
  fromStage: string;
  /** The marketer who handed the lead off; a reassignment keeps them, so they hear how it ends. */
  createdBy: string | null;
  /** Who started this handoff: the marketer, marketing ops' form integration, the SLA sweeper or the sales lead. */
  startedBy: Who;
  previous: HandoffSim | null;
  /** Started by the sales lead choosing a person, not by routing. */
  manual: boolean;
  // Filled in by routing, which runs over all handoffs in time order once every story is written.
  routedTo: string | null;
  assignee: string | null;
  route: Record<string, unknown>;
  excluded: string[];
  /** When it ended, or null while open. */
  closeAt: number | null;
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const openingMemo = new WeakMap<World, Map<number, number>>();

/** The next moment people at work would act: inside New York business hours, a little after opening. */
function workTime(w: World, t: number): number {
  // New York opens and closes on whole UTC hours, so each hour is wholly open or closed;
  // memoising by hour saves most of the calendar walks.
  let memo = openingMemo.get(w);
  if (!memo) {
    memo = new Map();
    openingMemo.set(w, memo);
  }
  const bucket = Math.floor(t / HOUR);
  let open = memo.get(bucket);
  if (open === undefined) {
    const start = bucket * HOUR;
    const next = addBusinessTime(new Date(start), 0, w.v1.calendar).getTime();
    open = next === start ? -1 : next;
    memo.set(bucket, open);
  }
  return open === -1 ? t : open + Math.round(w.rng.between(5, 150) * MINUTE);
}

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

function docAt(w: World, t: number): { doc: AgreementDocument; version: number } {
  return t < w.v1At ? { doc: DEFAULT_AGREEMENT, version: 0 } : { doc: w.v1, version: 1 };
}

function pickWeighted<T>(rng: Rng, entries: readonly (readonly [T, number])[]): T {
  return new Weighted(entries).draw(rng);
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

const countryPick = new Weighted(COUNTRIES.map((c) => [c, c.weight] as const));
const industryPick = new Weighted(INDUSTRIES.map((i) => [i, i.weight] as const));

export function buildAccounts(w: World, n: number): AccountSim[] {
  const { rng } = w;
  const names = new Set<string>();
  const domains = new Set<string>();
  const out: AccountSim[] = [];
  const owner = (keys: [string, number][]) => person(w, pickWeighted(rng, keys)).id;
  for (let i = 0; i < n; i++) {
    const country = countryPick.draw(rng);
    const industry = industryPick.draw(rng);
    let name = '';
    let domain = '';
    for (let attempt = 0; ; attempt++) {
      const form = rng.next();
      let core: string;
      let kind: string | null = rng.chance(0.65) ? rng.pick(industry.kinds) : null;
      if (form < 0.5) {
        const suffix = rng.pick(NAME_SUFFIXES);
        core = `${rng.pick(NAME_PREFIXES)}${suffix}`;
      } else if (form < 0.82) {
        const first = rng.pick(NAME_PREFIXES);
        let second = rng.pick(NAME_PREFIXES);
        while (second === first) second = rng.pick(NAME_PREFIXES);
        core = `${first} ${second}`;
        kind ??= rng.pick(industry.kinds);
      } else {
        const a = rng.pick(NAMES.en.last);
        const b = rng.pick(NAMES.en.last);
        core = industry.name === 'Professional Services' || rng.chance(0.3) ? `${a} & ${b}` : a;
        kind ??= rng.pick(industry.kinds);
      }
      // Past a few collisions, a number keeps names unique at any scale.
      const tag = attempt > 20 ? ` ${attempt}` : '';
      const display = `${core}${kind ? ` ${kind}` : ''}${tag}`;
      const tld = rng.pick(country.tlds);
      const host = ascii(rng.chance(0.6) || !kind ? `${core}${tag}` : display);
      if (names.has(display) || domains.has(`${host}.${tld}`)) continue;
      name = display;
      domain = `${host}.${tld}`;
      break;
    }
    names.add(name);
    domains.add(domain);
    const legal = rng.chance(0.25) ? ` ${rng.pick(country.legal)}` : '';
    // Company sizes are heavily skewed: most are small, about one in ten has 1,000+ people.
    const raw = Math.round(10 ** Math.min(5.2, Math.max(0.7, rng.normal(2.2, 0.62))));
    const employees = raw > 100 ? Number(raw.toPrecision(2)) : raw;
    // About four in ten accounts have an owner in sales: most large ones, fewer elsewhere.
    let ownerId: string | null = null;
    if (employees >= 1000) {
      if (rng.chance(0.75))
        ownerId = owner([
          ['ethan', 3],
          ['maya', 2],
        ]);
    } else if (country.region === 'EMEA') {
      if (rng.chance(0.34))
        ownerId = owner([
          ['chloe', 1],
          ['lukas', 1],
        ]);
    } else if (country.region === 'APAC') {
      if (rng.chance(0.3)) ownerId = owner([['ava', 1]]);
    } else if (rng.chance(0.32)) {
      ownerId = owner([
        ['ethan', 1],
        ['maya', 1],
        ['emma', 1],
        ['noah', 1],
      ]);
    }
    const onDemand = rng.chance(0.2);
    const city = rng.pick(country.cities);
    out.push({
      id: '',
      name: `${name}${legal}`,
      domain,
      industry: industry.name,
      employees,
      country,
      city,
      ownerId,
      properties: {
        tier: employees >= 1000 ? 'enterprise' : employees >= 200 ? 'mid_market' : 'smb',
        annualRevenueUsd: Math.round((employees * rng.between(120_000, 320_000)) / 100_000) * 100_000,
        city,
        foundedYear: rng.int(1965, 2021),
        website: `https://www.${domain}`,
      },
      createdAt: w.workspaceCreatedAt + DAY + Math.round(rng.between(0, 6 * HOUR)),
      onDemand,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Leads
// ---------------------------------------------------------------------------

const sourcePick = new Weighted(SOURCES.map((s) => [s, SOURCE_WEIGHTS[s]] as const));
const personaPick = new Weighted(PERSONAS.map((p) => [p, p.weight] as const));

function leadCreatedAt(w: World): number {
  const { rng, now } = w;
  for (;;) {
    // Growth: density rising linearly to twice the rate a year ago (inverse CDF of 1 + x).
    const x = Math.sqrt(1 + 3 * rng.next()) - 1;
    const t = now - YEAR + x * YEAR;
    // New York days, approximately: UTC-5 is close enough for "which day of the week".
    const local = t - 5 * HOUR;
    const weekday = new Date(local).getUTCDay();
    if ((weekday === 0 || weekday === 6) && !rng.chance(0.35)) continue;
    const dayStart = Math.floor(local / DAY) * DAY + 5 * HOUR;
    const hour = rng.chance(0.78) ? rng.between(8, 19) : rng.between(0, 24);
    const at = Math.round(dayStart + hour * HOUR);
    if (at < now - MINUTE && at > now - YEAR) return at;
  }
}

function phoneFor(rng: Rng, c: CountryInfo): string {
  const digits = (k: number) => Array.from({ length: k }, () => rng.int(0, 9)).join('');
  // North American and UK numbers use the ranges reserved for fiction.
  if (c.phone === '+1') return `+1 ${rng.int(201, 989)} 555 01${digits(2)}`;
  if (c.code === 'GB') return `+44 20 7946 0${digits(3)}`;
  return `${c.phone} ${digits(2)} ${digits(4)} ${digits(4)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function campaignFor(rng: Rng, source: Source, at: number): Record<string, unknown> {
  const d = new Date(at);
  const month = `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  switch (source) {
    case 'webinar':
      return { campaign: `Webinar: ${rng.pick(WEBINAR_TOPICS)} (${month})`, utmSource: 'webinar', utmMedium: 'event' };
    case 'event':
      return { campaign: rng.pick(EVENTS), utmMedium: 'event' };
    case 'paid_search':
      return { campaign: rng.pick(AD_GROUPS), utmSource: 'google', utmMedium: 'cpc', landingPage: rng.pick(LANDING_PAGES) };
    case 'content':
      return { campaign: rng.pick(ASSETS), utmMedium: 'content' };
    case 'organic':
      return { landingPage: rng.pick(LANDING_PAGES), utmSource: rng.pick(['google', 'bing', 'linkedin', 'direct']) };
    case 'referral':
      return { campaign: 'Customer referral program' };
    case 'partner':
      return { campaign: rng.pick(PARTNERS), utmMedium: 'partner' };
    case 'outbound':
      return { campaign: `Outbound sequence ${month}` };
  }
}

/** Who puts a lead of each source into Tandem: web forms come through marketing ops' API key. */
function creatorFor(w: World, source: Source): Who {
  switch (source) {
    case 'organic':
    case 'paid_search':
    case 'content':
    case 'webinar':
      return { t: 'api_key', id: person(w, 'priya').id };
    case 'event':
      return { t: 'user', id: person(w, 'diego').id };
    case 'referral':
      return { t: 'user', id: person(w, 'marcus').id };
    default:
      return { t: 'user', id: person(w, 'sofia').id };
  }
}

/** The marketer who marks a lead of each source as qualified. */
function qualifierFor(w: World, source: Source): string {
  const key: Record<Source, [string, number][]> = {
    webinar: [
      ['hannah', 1],
      ['marcus', 1],
    ],
    event: [['diego', 1]],
    paid_search: [
      ['liam', 3],
      ['marcus', 2],
    ],
    content: [
      ['hannah', 2],
      ['marcus', 3],
    ],
    organic: [
      ['marcus', 7],
      ['sofia', 3],
    ],
    referral: [
      ['grace', 1],
      ['marcus', 1],
    ],
    outbound: [['sofia', 1]],
    partner: [
      ['grace', 3],
      ['sofia', 2],
    ],
  };
  return person(w, pickWeighted(w.rng, key[source])).id;
}

export function buildLeads(w: World, n: number, accounts: AccountSim[]): LeadSim[] {
  const { rng } = w;
  const accountPick = accounts.length ? new Weighted(accounts.map((a) => [a, Math.sqrt(a.employees)] as const)) : null;
  const emails = new Set<string>();
  const out: LeadSim[] = [];
  for (let i = 0; i < n; i++) {
    const createdAt = leadCreatedAt(w);
    const account = accountPick && rng.chance(0.86) ? accountPick.draw(rng) : null;
    const country = account && rng.chance(0.93) ? account.country : countryPick.draw(rng);
    const names = NAMES[country.locale];
    const firstName = rng.pick(names.first);
    const lastName = rng.pick(names.last);
    const persona = personaPick.draw(rng);
    const source = sourcePick.draw(rng);
    const f = ascii(firstName);
    const l = ascii(lastName);
    const domain = account?.domain ?? rng.pick(FREEMAIL);
    const pattern = rng.next();
    let local = account
      ? pattern < 0.55
        ? `${f}.${l}`
        : pattern < 0.75
          ? `${f[0]}${l}`
          : pattern < 0.85
            ? f
            : pattern < 0.93
              ? `${f}${l[0]}`
              : `${f}_${l}`
      : pattern < 0.5
        ? `${f}.${l}${rng.int(1, 99)}`
        : `${f}${l}`;
    let email = `${local}@${domain}`;
    for (let k = 2; emails.has(email); k++) {
      local = `${account ? `${f}.${l}` : `${f}${l}`}${k}`;
      email = `${local}@${domain}`;
    }
    emails.add(email);
    const employees = account?.employees;
    const sizeFit = employees === undefined ? 0.45 : employees < 20 ? 0.3 : employees < 50 ? 0.65 : employees <= 5000 ? 1 : 0.85;
    const lead: LeadSim = {
      id: uuidv7(createdAt),
      email,
      firstName,
      lastName,
      title: rng.chance(0.95) ? rng.pick(persona.titles) : null,
      phone: rng.chance(0.65) ? phoneFor(rng, country) : null,
      company: account ? account.name : rng.chance(0.6) ? `${rng.pick(NAMES.en.last)} ${rng.pick(['Consulting', 'Studio', 'Labs', 'Group'])}` : null,
      country: country.code,
      region: country.region,
      currency: country.currency,
      source,
      persona: persona.key,
      properties: campaignFor(rng, source, createdAt),
      account,
      createdAt,
      fit: persona.fit * sizeFit,
      events: [],
    };
    if (account?.onDemand && (account.createdAt > createdAt || account.createdAt <= w.workspaceCreatedAt + 2 * DAY)) {
      // The first lead from a company creates its account a few minutes earlier.
      account.createdAt =
        account.createdAt <= w.workspaceCreatedAt + 2 * DAY ? createdAt - rng.int(1, 10) * MINUTE : Math.min(account.createdAt, createdAt - MINUTE);
    }
    out.push(lead);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

function newHandoff(
  w: World,
  lead: LeadSim,
  at: number,
  fromStage: string,
  createdBy: string | null,
  startedBy: Who,
  previous: HandoffSim | null,
  manual: boolean,
): HandoffSim {
  const { doc, version } = docAt(w, at);
  const plan = planHandoffClock(doc, new Date(at));
  return {
    id: uuidv7(at),
    lead,
    createdAt: at,
    version,
    doc,
    dueAt: plan.dueAt.getTime(),
    timers: plan.timers,
    fromStage,
    createdBy,
    startedBy,
    previous,
    manual,
    routedTo: null,
    assignee: null,
    route: {},
    excluded: [],
    closeAt: null,
  };
}

type Outcome = { kind: 'open' } | { kind: 'accepted' | 'rejected' | 'withdrawn'; at: number; h: HandoffSim; reason?: Reason; back?: string };

function rejectReason(rng: Rng, doc: AgreementDocument, fit: number): Reason {
  const weights: Record<string, number> = {
    not_ready: 26,
    no_budget: 12,
    wrong_person: 14,
    bad_fit: 8 + 30 * (1 - fit),
    bad_data: 8,
    competitor: 5,
    duplicate: 4,
  };
  return pickWeighted(
    rng,
    doc.reasons.reject.map((r) => [r, weights[r.code] ?? 3] as const),
  );
}

/**
 * One handoff from start to its outcome, or to now if it is still open. The SLA timers fire
 * on the way, exactly as the sweeper would: remind, breach, escalate and, when nobody acts,
 * reassign to a new handoff (a chain). `forceOpen` makes nobody act until now.
 */
export function runHandoff(w: World, lead: LeadSim, start: HandoffSim, forceOpen: boolean): Outcome {
  const { rng, now } = w;
  let h = start;
  for (let hops = 0; ; hops++) {
    const sla = parseDuration(h.doc.sla.acceptWithin);
    let respondAt = Number.POSITIVE_INFINITY;
    let outcome: 'accepted' | 'rejected' | 'withdrawn' | 'manual' = 'accepted';
    // Nobody answers about one in twenty handoffs, so the agreement reassigns them; a chain stops after a few hops.
    if (!forceOpen && (hops >= 3 || !rng.chance(0.045))) {
      const late = rng.chance(0.1);
      const f = late ? 1 + 0.45 * rng.next() : 0.02 + 0.93 * rng.next() ** 1.7;
      respondAt = addBusinessTime(new Date(h.createdAt), Math.round(f * sla), h.doc.calendar).getTime();
      const r = rng.next();
      const pReject = 0.1 + 0.28 * (1 - lead.fit);
      outcome = r < 0.02 ? 'withdrawn' : r < 0.045 ? 'manual' : r < 0.045 + pReject ? 'rejected' : 'accepted';
    }
    const stopAt = Math.min(respondAt, now + 1);
    let chained: HandoffSim | null = null;
    const ordered = [...h.timers].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (a.kind === 'handoff.deadline' ? -1 : 1));
    for (const t of ordered) {
      const due = t.dueAt.getTime();
      if (due >= stopAt) break;
      if (t.action === 'breach') lead.events.push({ at: due, k: 'breach', h, step: 0 });
      else if (t.action === 'remind') lead.events.push({ at: due, k: 'remind', h, step: t.step });
      else if (t.action === 'notify_lead') lead.events.push({ at: due, k: 'escalate', h, step: t.step });
      else {
        const next = newHandoff(w, lead, due, h.fromStage, h.createdBy, { t: 'system' }, h, false);
        lead.events.push(
          { at: due, k: 'reassign', h, next, reason: 'sla', step: t.step, note: "The agreement's time to accept or reject ran out" },
          { at: due, k: 'handoff', h: next },
        );
        chained = next;
        break;
      }
    }
    if (chained) {
      h = chained;
      continue;
    }
    if (respondAt > now) return { kind: 'open' };
    const at = respondAt;
    if (outcome === 'manual') {
      const next = newHandoff(w, lead, at, h.fromStage, h.createdBy, { t: 'user', id: person(w, 'daniel').id }, h, true);
      lead.events.push(
        { at, k: 'reassign', h, next, reason: 'manual', step: -1, note: rng.pick(['Better fit for this territory', 'Rebalancing the queue', null]) },
        { at, k: 'handoff', h: next },
      );
      h = next;
      continue;
    }
    if (outcome === 'withdrawn') {
      const back = h.fromStage === w.stages.handoff ? w.stages.entry : h.fromStage;
      const by = h.createdBy ?? person(w, 'olivia').id;
      lead.events.push({ at, k: 'withdraw', h, by, back, note: rng.pick(WITHDRAW_NOTES) });
      return { kind: 'withdrawn', at, h, back };
    }
    if (outcome === 'rejected') {
      const reason = rejectReason(rng, h.doc, lead.fit);
      const note = reason.noteRequired ? rng.pick(WRONG_PERSON_NOTES) : rng.chance(0.3) ? 'Checked LinkedIn and the company website.' : null;
      lead.events.push({ at, k: 'reject', h, reason, note });
      return { kind: 'rejected', at, h, reason };
    }
    lead.events.push({ at, k: 'accept', h, note: rng.chance(0.15) ? 'Looks promising, calling today.' : null });
    return { kind: 'accepted', at, h };
  }
}

const SAL_HAND_BACK: [string, number][] = [
  ['went_dark', 45],
  ['timing', 30],
  ['lost_to_no_decision', 10],
  ['not_a_fit', 15],
];
const LOST_HAND_BACK: [string, number][] = [
  ['lost_to_no_decision', 50],
  ['timing', 35],
  ['not_a_fit', 15],
];

function handBackReason(w: World, doc: AgreementDocument, weights: [string, number][]): { reason: Reason; note: string | null } {
  const reason = pickWeighted(
    w.rng,
    doc.reasons.handBack.map((r) => [r, weights.find(([code]) => code === r.code)?.[1] ?? 5] as const),
  );
  const notes = HAND_BACK_NOTES[reason.code];
  return { reason, note: reason.noteRequired ? w.rng.pick(notes ?? ['See the timeline.']) : null };
}

function dealFor(w: World, lead: LeadSim, at: number): DealSim {
  const { rng } = w;
  const employees = lead.account?.employees;
  const [lo, hi] =
    employees === undefined
      ? [8_000, 25_000]
      : employees < 50
        ? [6_000, 15_000]
        : employees < 200
          ? [12_000, 40_000]
          : employees < 1000
            ? [30_000, 110_000]
            : [90_000, 380_000];
  const plan = employees === undefined || employees < 100 ? 'Team' : employees < 1000 ? 'Business' : 'Enterprise';
  let amount = rng.between(lo, hi);
  let currency = 'USD';
  // Most European customers are invoiced in their own currency.
  if (lead.currency !== 'USD' && rng.chance(0.7)) {
    currency = lead.currency;
    amount *= currency === 'GBP' ? 0.79 : 0.92;
  }
  return {
    id: uuidv7(at),
    createdAt: at,
    name: `${lead.company ?? `${lead.firstName} ${lead.lastName}`} – Northwind ${plan}`,
    amount: (Math.round(amount / 500) * 500).toFixed(2),
    currency,
    expectedClose: at + Math.round(rng.between(30, 120)) * DAY,
  };
}

/** After sales accepted: first contact, then opportunity and deal, or back to marketing. Returns when a nurture spell starts, if one does. */
function salesPhase(w: World, lead: LeadSim, h: HandoffSim, acceptedAt: number): { nurtureAt: number } | null {
  const { rng, now, stages } = w;
  const doc = h.doc;
  const due = firstContactDue(doc, new Date(acceptedAt)).getTime();
  const fcMs = parseDuration(doc.sla.firstContactWithin);
  const r = rng.next();
  let contactAt: number | null = null;
  if (r < 0.84) contactAt = addBusinessTime(new Date(acceptedAt), Math.round(rng.next() ** 1.3 * 0.95 * fcMs), doc.calendar).getTime();
  else if (r < 0.93) contactAt = addBusinessTime(new Date(due), Math.round(10 * MINUTE + rng.exp(3 * HOUR)), doc.calendar).getTime();
  if ((contactAt === null || contactAt > due) && due <= now) lead.events.push({ at: due, k: 'contact_breach', h, due });
  if (contactAt !== null && contactAt <= now)
    lead.events.push({ at: contactAt, k: 'contact', h, note: rng.chance(0.4) ? rng.pick(SALES_NOTES).replace('{title}', lead.title ?? 'team lead') : null });
  const base = contactAt ?? due;
  if (base > now) return null;
  if (rng.chance(0.25)) {
    const at = workTime(w, base + rng.exp(3 * DAY));
    if (at <= now) lead.events.push({ at, k: 'note', by: { t: 'owner' }, body: rng.pick(SALES_NOTES).replace('{title}', lead.title ?? 'team lead') });
  }
  const pSql = 0.18 + 0.26 * lead.fit;
  const roll = rng.next();
  if (roll < pSql) {
    const sqlAt = workTime(w, base + DAY + rng.exp(9 * DAY));
    if (sqlAt > now) return null;
    const d = dealFor(w, lead, sqlAt);
    lead.events.push({ at: sqlAt, k: 'move', to: stages.sql, by: { t: 'owner' }, data: { reason: null, note: null } }, { at: sqlAt, k: 'deal', d });
    const fate = rng.next();
    const pWon = 0.27 + 0.18 * lead.fit;
    if (fate < pWon) {
      const wonAt = workTime(w, sqlAt + 14 * DAY + rng.exp(40 * DAY));
      if (wonAt > now) return null;
      lead.events.push({ at: wonAt, k: 'deal_won', d }, { at: wonAt, k: 'move', to: stages.won, by: { t: 'owner' }, data: { dealWon: d.id }, dealId: d.id });
      return null;
    }
    if (fate < pWon + 0.38) {
      const lostAt = workTime(w, sqlAt + 10 * DAY + rng.exp(35 * DAY));
      if (lostAt > now) return null;
      lead.events.push({ at: lostAt, k: 'deal_lost', d, reason: rng.pick(LOST_REASONS) });
      if (!rng.chance(0.65)) return null;
      const backAt = workTime(w, lostAt + rng.exp(2 * DAY));
      if (backAt > now) return null;
      const { reason, note } = handBackReason(w, docAt(w, backAt).doc, LOST_HAND_BACK);
      lead.events.push({ at: backAt, k: 'hand_back', reason, note });
      return reason.to === stages.nurture ? { nurtureAt: backAt } : null;
    }
    return null;
  }
  // Most accepted leads that do not become opportunities go back to marketing within weeks.
  if (roll < pSql + 0.62) {
    const at = workTime(w, base + 3 * DAY + rng.exp(20 * DAY));
    if (at > now) return null;
    const { reason, note } = handBackReason(w, docAt(w, at).doc, SAL_HAND_BACK);
    lead.events.push({ at, k: 'hand_back', reason, note });
    return reason.to === stages.nurture ? { nurtureAt: at } : null;
  }
  return null;
}

/** Write one lead's story from its creation up to now. */
export function simulateLead(w: World, lead: LeadSim): void {
  const { rng, now, stages } = w;
  const ev = lead.events;
  let t = lead.createdAt;
  const webForm = lead.source === 'organic' || lead.source === 'content';
  let stage = rng.chance(webForm ? 0.75 : lead.source === 'referral' || lead.source === 'outbound' || lead.source === 'partner' ? 0 : 0.25)
    ? stages.entry
    : stages.working;
  // A demo request skips the queue: the form creates the lead in the handoff stage.
  const demoRequest = lead.persona !== null && ['organic', 'paid_search', 'referral', 'partner'].includes(lead.source) && rng.chance(0.08);
  const creator = demoRequest ? { t: 'api_key' as const, id: person(w, 'priya').id } : creatorFor(w, lead.source);
  ev.push({ at: t, k: 'created', stage: demoRequest ? stages.entry : stage, by: creator });
  if (demoRequest) stage = stages.entry;
  if (rng.chance(0.1)) {
    const at = workTime(w, t + rng.exp(5 * DAY));
    const body = rng.pick(MARKETING_NOTES).replace('{asset}', rng.pick(ASSETS)).replace('{event}', rng.pick(EVENTS));
    if (at <= now) ev.push({ at, k: 'note', by: { t: 'user', id: person(w, rng.pick(['marcus', 'hannah', 'diego', 'sofia'])).id }, body });
  }
  let skipMarketing = demoRequest;
  for (let cycle = 0; cycle < 3; cycle++) {
    let qualifiedBy: { t: 'user' | 'api_key'; id: string };
    if (skipMarketing) {
      qualifiedBy = { t: 'api_key', id: person(w, 'priya').id };
      skipMarketing = false;
    } else {
      if (stage === stages.entry) {
        if (rng.chance(0.03)) {
          const at = workTime(w, t + rng.exp(10 * DAY));
          if (at <= now) disqualify(w, lead, at);
          return;
        }
        if (!rng.chance(0.45)) return;
        const at = t + 2 * HOUR + rng.exp(25 * DAY);
        if (at > now) return;
        ev.push({ at, k: 'move', to: stages.working, by: { t: 'api_key', id: person(w, 'priya').id }, data: { reason: null, note: null } });
        stage = stages.working;
        t = at;
      }
      const pDq = 0.04 + 0.08 * (1 - lead.fit);
      const pMql = (cycle === 0 ? SOURCE_MQL_RATE[lead.source] : 0.3) * (0.35 + 0.85 * lead.fit);
      const r = rng.next();
      if (r < pDq) {
        const at = workTime(w, t + rng.exp(12 * DAY));
        if (at <= now) disqualify(w, lead, at);
        return;
      }
      if (r >= pDq + pMql) return;
      const at = workTime(w, t + 4 * HOUR + rng.exp(16 * DAY));
      if (at > now) return;
      t = at;
      qualifiedBy = { t: 'user', id: qualifierFor(w, lead.source) };
    }
    const h = newHandoff(w, lead, t, stage, qualifiedBy.id, qualifiedBy, null, false);
    ev.push({ at: t, k: 'handoff', h });
    const out = runHandoff(w, lead, h, false);
    if (out.kind === 'open') return;
    t = out.at;
    let nurtureAt: number | null = null;
    if (out.kind === 'accepted') {
      const next = salesPhase(w, lead, out.h, out.at);
      if (!next) return;
      nurtureAt = next.nurtureAt;
    } else if (out.kind === 'rejected') {
      if (out.reason?.to !== stages.nurture) return;
      nurtureAt = out.at;
    } else {
      stage = out.back ?? stages.working;
      continue;
    }
    // Nurture ends after the agreed days; the sweeper moves the lead back to marketing's working stage.
    const end = nurtureAt + w.v1.nurture.days * DAY;
    if (end > now) return;
    ev.push({ at: end, k: 'move', to: w.v1.nurture.returnTo, by: { t: 'system' }, data: { why: 'nurture ended' } });
    stage = w.v1.nurture.returnTo;
    t = end;
  }
}

function disqualify(w: World, lead: LeadSim, at: number): void {
  const doc = docAt(w, at).doc;
  const code =
    lead.persona === null && lead.title === 'Student'
      ? 'student'
      : pickWeighted(w.rng, [
          ['spam', 3],
          ['student', 2],
          ['out_of_market', 2],
        ] as const);
  const reason = doc.reasons.disqualify.find((r) => r.code === code) ?? (doc.reasons.disqualify[0] as Reason);
  lead.events.push({
    at,
    k: 'move',
    to: reason.to,
    by: { t: 'user', id: person(w, w.rng.pick(['sofia', 'marcus', 'priya'])).id },
    data: { reason: reason.code, note: null },
  });
}

// ---------------------------------------------------------------------------
// Open handoffs at "now"
// ---------------------------------------------------------------------------

/** Record which handoffs each story holds and when each ended. */
export function indexStory(lead: LeadSim): HandoffSim[] {
  const found: HandoffSim[] = [];
  for (const e of lead.events) {
    if (e.k === 'handoff') {
      e.h.closeAt = null;
      found.push(e.h);
    } else if (e.k === 'accept' || e.k === 'reject' || e.k === 'withdraw' || e.k === 'reassign') {
      e.h.closeAt = e.at;
    }
  }
  return found;
}

/**
 * A live demo needs a queue: a few dozen handoffs waiting for sales. Natural outcomes leave only
 * a handful open, so some recent handoffs are re-run with nobody acting yet: their stories are
 * cut where the handoff started and continued to now (timers fired, SLA reassignments). About
 * a quarter are past their deadline now; the rest are still within it.
 */
export function ensureOpenHandoffs(w: World, leads: LeadSim[], target: number): void {
  let open = 0;
  let late = 0;
  const latest: HandoffSim[] = [];
  for (const lead of leads) {
    const hs = indexStory(lead);
    const last = hs[hs.length - 1];
    if (!last) continue;
    if (last.closeAt === null) {
      open++;
      if (last.dueAt <= w.now) late++;
    } else if (last.createdAt > w.now - 14 * DAY) latest.push(last);
  }
  latest.sort((a, b) => b.createdAt - a.createdAt);
  const fresh: HandoffSim[] = [];
  const overdue: HandoffSim[] = [];
  const rest: HandoffSim[] = [];
  for (const h of latest) {
    const sla = parseDuration(h.doc.sla.acceptWithin);
    const reassignAt = h.doc.escalation.find((s) => s.action === 'reassign')?.at;
    const period = reassignAt ? Math.round(sla * reassignAt) : Number.POSITIVE_INFINITY;
    const waited = businessTimeBetween(new Date(h.createdAt), new Date(w.now), h.doc.calendar);
    // Every reassignment restarts the clock, so the last handoff of a chain has waited `waited mod period`.
    const tail = Number.isFinite(period) ? waited % period : waited;
    if (waited < sla) fresh.push(h);
    else if (tail >= sla && waited < 2 * period) overdue.push(h);
    else rest.push(h);
  }
  // However busy the moment is (a Monday morning fills the queue by itself), some are overdue.
  const wantOverdue = Math.min(overdue.length, Math.max(0, Math.round(target / 4) - late));
  const need = Math.max(0, target - open - wantOverdue) + wantOverdue;
  if (need === 0) return;
  const picked = [...overdue.slice(0, wantOverdue), ...fresh.slice(0, need - wantOverdue)];
  for (const h of [...fresh.slice(need - wantOverdue), ...overdue.slice(wantOverdue), ...rest]) {
    if (picked.length >= need) break;
    picked.push(h);
  }
  for (const h of picked) {
    const lead = h.lead;
    const at = lead.events.findIndex((e) => e.k === 'handoff' && e.h === h);
    lead.events.length = at + 1;
    runHandoff(w, lead, h, true);
    indexStory(lead);
  }
}

// ---------------------------------------------------------------------------
// Routing, replayed in time order across every story
// ---------------------------------------------------------------------------

export type PoolCounts = Map<string, Map<string, number>>;

/**
 * Route every handoff with the real routing function, in the order they happened, so round
 * robin, account ownership, absences and capacity behave as they would have, and the routing
 * counters end exactly where the live server continues from.
 */
export function routeAll(w: World, handoffs: HandoffSim[]): PoolCounts {
  const counts: PoolCounts = new Map();
  const open = new Map<string, number>();
  const sales = [...w.people.values()].filter((p) => p.team === 'sales');
  const salesLead = person(w, 'daniel');
  const people: Candidate[] = sales.map((p) => ({
    id: p.id,
    email: p.email,
    active: true,
    team: 'sales',
    weight: p.weight,
    capacity: p.capacity,
    openHandoffs: 0,
    absent: false,
  }));
  const steps: { t: number; close: boolean; h: HandoffSim }[] = [];
  for (const h of handoffs) {
    steps.push({ t: h.createdAt, close: false, h });
    if (h.closeAt !== null) steps.push({ t: h.closeAt, close: true, h });
  }
  // A reassignment closes one handoff and opens the next at the same instant: close first.
  steps.sort((a, b) => a.t - b.t || (a.close === b.close ? 0 : a.close ? -1 : 1));
  for (const { t, close, h } of steps) {
    if (close) {
      if (h.assignee) open.set(h.assignee, (open.get(h.assignee) ?? 1) - 1);
      continue;
    }
    for (const p of people) {
      p.absent = w.absences.some((a) => a.userId === p.id && a.from <= t && a.to > t);
      p.openHandoffs = open.get(p.id) ?? 0;
    }
    const exclude = new Set<string>(h.previous ? [...h.previous.excluded, ...(h.previous.assignee ? [h.previous.assignee] : [])] : []);
    h.excluded = [...exclude];
    const lead = h.lead;
    const acc = lead.account;
    let decision: RouteDecision;
    if (h.manual) {
      const choices = people.filter((p) => p.weight > 0 && !p.absent && !exclude.has(p.id));
      const target = choices.length ? w.rng.pick(choices) : (people.find((p) => p.id !== salesLead.id) as Candidate);
      decision = { assigneeId: target.id, pool: 'manual', rule: null, skipped: [], explanation: `assigned by ${salesLead.name}` };
    } else {
      decision = routeLead(
        h.doc,
        {
          lead: { country: lead.country, persona: lead.persona },
          account: acc
            ? { country: acc.country.code, region: acc.country.region, industry: acc.industry, employees: acc.employees, ownerId: acc.ownerId }
            : null,
        },
        people,
        (pool) => counts.get(pool) ?? new Map(),
        exclude,
      );
    }
    h.routedTo = decision.assigneeId;
    h.assignee = decision.assigneeId;
    h.route = {
      pool: decision.pool,
      rule: decision.rule,
      explanation: decision.explanation,
      skipped: decision.skipped,
      ...(h.previous ? { excluded: h.excluded } : {}),
    };
    if (decision.assigneeId && decision.pool !== 'account_owner' && decision.pool !== 'manual') {
      const pool = counts.get(decision.pool) ?? new Map<string, number>();
      pool.set(decision.assigneeId, (pool.get(decision.assigneeId) ?? 0) + 1);
      counts.set(decision.pool, pool);
    }
    if (!h.assignee && h.closeAt !== null) {
      // Nobody was available; the sales lead picked someone from the queue before anyone acted.
      const choices = people.filter((p) => p.weight > 0 && !p.absent && !exclude.has(p.id));
      const target = choices.sort((a, b) => a.openHandoffs - b.openHandoffs)[0];
      if (target) {
        h.assignee = target.id;
        const at = h.createdAt + Math.max(1, Math.min(45 * MINUTE, Math.floor((h.closeAt - h.createdAt) / 2)));
        lead.events.push({ at, k: 'assign', h });
      }
    }
    if (h.assignee) open.set(h.assignee, (open.get(h.assignee) ?? 0) + 1);
  }
  return counts;
}

export function stagesOf(doc: AgreementDocument): World['stages'] {
  const sql = doc.stages.find((s) => s.team === 'sales' && s.role === 'working');
  return {
    entry: stageWithRole(doc, 'entry').key,
    working: doc.stages.find((s) => s.team === 'marketing' && s.role === 'working')?.key ?? doc.nurture.returnTo,
    handoff: stageWithRole(doc, 'handoff').key,
    accepted: stageWithRole(doc, 'accepted').key,
    sql: sql?.key ?? 'sql',
    won: stageWithRole(doc, 'won').key,
    nurture: stageWithRole(doc, 'nurture').key,
    disqualified: stageWithRole(doc, 'disqualified').key,
  };
}
