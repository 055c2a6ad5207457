/**
 * Business-hours clock for SLAs ("accept the lead within 4 business hours").
 *
 * The model: every local day of a calendar has at most one working window
 * [start, end) built from wall-clock times in the calendar's zone. Business time is
 * the union of those windows minus `blocked` intervals. All arithmetic walks those
 * windows day by day in epoch milliseconds; the zone is consulted only to learn UTC
 * offsets, so DST days come out as the real elapsed time between the two wall times.
 */
import { DateTime, IANAZone } from 'luxon';

/** A working-time calendar. */
export interface BusinessCalendar {
  timeZone: string; // IANA, e.g. "Europe/Berlin"
  workingDays: number[]; // ISO weekdays, 1 = Monday … 7 = Sunday
  hours: { start: string; end: string }; // "HH:MM" local; end may be "24:00"; start < end
  holidays: string[]; // "YYYY-MM-DD" local dates that are not worked
}
export interface TimeInterval {
  from: Date;
  to: Date;
} // e.g. a person's absence; half-open [from, to)

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Walks never go further than ~10 years, so a calendar without reachable business time cannot hang a request. */
const HORIZON_DAYS = 3660;
const HORIZON_MS = HORIZON_DAYS * DAY_MS;
/** ECMAScript Date range limit. */
const MAX_DATE_MS = 8.64e15;
/**
 * Longest stretch over which one matching offset sample is trusted to mean "no DST change in between".
 * Real zones never change twice (and back) within a few days, and this covers a weekend plus a holiday.
 */
const ANCHOR_MAX_GAP_MS = 4 * DAY_MS;
/** Bound on memoized offset samples per zone; cleared wholesale, since entries are cheap to recompute. */
const OFFSET_MEMO_LIMIT = 20_000;

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

const DURATION_RE = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const DURATION_HINT = 'expected a positive duration such as "45s", "15m", "4h" or "1h30m" (units h, m, s in that order)';

/** Parse "45s", "15m", "4h", "1h30m", "2h15m10s" (units s, m, h; at least one; positive) to milliseconds. Throws Error with a clear message on anything else (e.g. "", "4", "4x", "0s", "-1h"). */
export function parseDuration(text: string): number {
  // Config files are untyped at runtime, so do not trust the static type.
  if (typeof text !== 'string') throw new Error(`Invalid duration ${String(text)}: ${DURATION_HINT}`);
  const match = DURATION_RE.exec(text);
  const [, hours, minutes, seconds] = match ?? [];
  if (match === null || (hours === undefined && minutes === undefined && seconds === undefined)) {
    throw new Error(`Invalid duration ${JSON.stringify(text)}: ${DURATION_HINT}`);
  }
  const ms = Number(hours ?? 0) * HOUR_MS + Number(minutes ?? 0) * MINUTE_MS + Number(seconds ?? 0) * SECOND_MS;
  if (!Number.isSafeInteger(ms)) throw new Error(`Invalid duration ${JSON.stringify(text)}: too large`);
  if (ms === 0) throw new Error(`Invalid duration ${JSON.stringify(text)}: must be greater than zero`);
  return ms;
}

/** Format milliseconds back as the shortest "1h30m"/"45s" style string. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`Cannot format duration ${ms}: not a finite number`);
  let rest = Math.round(Math.abs(ms));
  // Negative values read naturally as "overdue by"; zero has no sign.
  const sign = ms < 0 && rest > 0 ? '-' : '';
  const h = Math.floor(rest / HOUR_MS);
  rest -= h * HOUR_MS;
  const m = Math.floor(rest / MINUTE_MS);
  rest -= m * MINUTE_MS;
  const s = Math.floor(rest / SECOND_MS);
  const milli = rest - s * SECOND_MS;
  let out = '';
  if (h > 0) out += `${h}h`;
  if (m > 0) out += `${m}m`;
  // Sub-second remainders are shown as a decimal rather than silently dropped.
  if (milli > 0) out += `${s}.${String(milli).padStart(3, '0').replace(/0+$/, '')}s`;
  else if (s > 0) out += `${s}s`;
  return sign + (out === '' ? '0s' : out);
}

// ---------------------------------------------------------------------------
// Calendar validation and compilation
// ---------------------------------------------------------------------------

const CLOCK_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;
const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes after local midnight, or null if not "HH:MM" (00:00–23:59, or exactly "24:00"). */
function parseClock(text: unknown): number | null {
  if (text === '24:00') return 24 * 60;
  if (typeof text !== 'string') return null;
  const match = CLOCK_RE.exec(text);
  if (match === null) return null;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Days since 1970-01-01 for a real "YYYY-MM-DD" date, or null. */
function parseLocalDate(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const match = ISO_DATE_RE.exec(text);
  if (match === null) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not remap years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date.getTime() / DAY_MS;
}

// Intl-based zone checks cost ~0.1 ms each, so remember answers per name.
const zoneValidity = new Map<string, boolean>();
function isKnownZone(name: string): boolean {
  let valid = zoneValidity.get(name);
  if (valid === undefined) {
    if (zoneValidity.size >= 1000) zoneValidity.clear();
    valid = IANAZone.isValidZone(name);
    zoneValidity.set(name, valid);
  }
  return valid;
}

/** Validate a calendar, returning a list of { path: string; message: string } problems (empty if fine): unknown time zone, weekday outside 1..7 or duplicate, bad HH:MM, start >= end, bad holiday date. */
export function validateCalendar(cal: BusinessCalendar): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const report = (path: string, message: string) => problems.push({ path, message });
  // Calendars typically come from config, so check shapes the type system cannot promise.
  if (typeof cal !== 'object' || cal === null) {
    report('', 'calendar must be an object');
    return problems;
  }

  if (typeof cal.timeZone !== 'string' || !isKnownZone(cal.timeZone)) {
    report('timeZone', `unknown IANA time zone ${JSON.stringify(cal.timeZone)}`);
  }

  if (!Array.isArray(cal.workingDays)) {
    report('workingDays', 'must be an array of ISO weekdays (1 = Monday … 7 = Sunday)');
  } else {
    const seen = new Set<number>();
    cal.workingDays.forEach((day, i) => {
      if (!Number.isInteger(day) || day < 1 || day > 7) {
        report(`workingDays[${i}]`, `weekday must be an integer from 1 (Monday) to 7 (Sunday), got ${JSON.stringify(day)}`);
      } else if (seen.has(day)) {
        report(`workingDays[${i}]`, `duplicate weekday ${day}`);
      } else {
        seen.add(day);
      }
    });
  }

  const hours: unknown = cal.hours;
  if (typeof hours !== 'object' || hours === null) {
    report('hours', 'must be an object { start: "HH:MM", end: "HH:MM" }');
  } else {
    const { start, end } = hours as { start?: unknown; end?: unknown };
    let startMin: number | null = null;
    if (start === '24:00') {
      report('hours.start', '"24:00" is only allowed as the end time');
    } else {
      startMin = parseClock(start);
      if (startMin === null) report('hours.start', `expected "HH:MM" from 00:00 to 23:59, got ${JSON.stringify(start)}`);
    }
    const endMin = parseClock(end);
    if (endMin === null) report('hours.end', `expected "HH:MM" from 00:00 to 24:00, got ${JSON.stringify(end)}`);
    if (startMin !== null && endMin !== null && startMin >= endMin) {
      report('hours', `start ${String(start)} must be before end ${String(end)}`);
    }
  }

  if (!Array.isArray(cal.holidays)) {
    report('holidays', 'must be an array of "YYYY-MM-DD" dates');
  } else {
    cal.holidays.forEach((holiday, i) => {
      if (parseLocalDate(holiday) === null) {
        report(`holidays[${i}]`, `expected a real calendar date as "YYYY-MM-DD", got ${JSON.stringify(holiday)}`);
      }
    });
  }
  return problems;
}

/** Calendar that is always open: all 7 days, 00:00–24:00, no holidays, UTC. */
export const ALWAYS_OPEN: BusinessCalendar = Object.freeze({
  timeZone: 'UTC',
  // Frozen because the constant is shared by every importer; the casts only drop `readonly`.
  workingDays: Object.freeze([1, 2, 3, 4, 5, 6, 7]) as number[],
  hours: Object.freeze({ start: '00:00', end: '24:00' }),
  holidays: Object.freeze([]) as unknown as string[],
});

/** Offset function: epoch ms → zone's UTC offset in ms at that instant. */
type OffsetFn = (t: number) => number;

interface CompiledCalendar {
  zoneName: string;
  /** Open every moment; the zone is then irrelevant and we use plain arithmetic. */
  alwaysOpen: boolean;
  anyWorkingDay: boolean;
  /** Indexed by ISO weekday 1..7. */
  working: readonly boolean[];
  /** Window bounds as ms after local midnight. */
  startMs: number;
  endMs: number;
  /** Local day numbers (days since 1970-01-01) that are not worked. */
  holidays: ReadonlySet<number>;
  offsetMs: OffsetFn;
}

// luxon's offset lookup costs ~10 µs (Intl formatting); window bounds recur across calls, so memoize per zone.
const offsetMemos = new Map<string, Map<number, number>>();
function offsetFnFor(zoneName: string): OffsetFn {
  const zone = IANAZone.create(zoneName);
  let existing = offsetMemos.get(zoneName);
  if (existing === undefined) {
    existing = new Map();
    offsetMemos.set(zoneName, existing);
  }
  const memo = existing;
  return (t) => {
    let offset = memo.get(t);
    if (offset === undefined) {
      if (memo.size >= OFFSET_MEMO_LIMIT) memo.clear();
      // luxon reports minutes (fractional for historic LMT offsets); round to whole ms.
      offset = Math.round(zone.offset(t) * MINUTE_MS);
      memo.set(t, offset);
    }
    return offset;
  };
}

// Compiled calendars by content: agreements are re-read per request, so identity would never hit.
const compiledCache = new Map<string, CompiledCalendar>();

function compile(cal: BusinessCalendar): CompiledCalendar {
  const key = JSON.stringify([cal.timeZone, cal.workingDays, cal.hours.start, cal.hours.end, cal.holidays]);
  let compiled = compiledCache.get(key);
  if (!compiled) {
    compiled = compileUncached(cal);
    if (compiledCache.size >= 256) compiledCache.clear();
    compiledCache.set(key, compiled);
  }
  return compiled;
}

function compileUncached(cal: BusinessCalendar): CompiledCalendar {
  const problems = validateCalendar(cal);
  if (problems.length > 0) {
    const details = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
    throw new Error(`Invalid business calendar: ${details}`);
  }
  const working = new Array<boolean>(8).fill(false);
  for (const day of cal.workingDays) working[day] = true;
  const holidays = new Set<number>();
  for (const holiday of cal.holidays) holidays.add(parseLocalDate(holiday) as number);
  const startMs = (parseClock(cal.hours.start) as number) * MINUTE_MS;
  const endMs = (parseClock(cal.hours.end) as number) * MINUTE_MS;
  const allDays = working.slice(1).every(Boolean);
  return {
    zoneName: cal.timeZone,
    alwaysOpen: allDays && startMs === 0 && endMs === DAY_MS && holidays.size === 0,
    anyWorkingDay: working.some(Boolean),
    working,
    startMs,
    endMs,
    holidays,
    offsetMs: offsetFnFor(cal.timeZone),
  };
}

// ---------------------------------------------------------------------------
// Instants and blocked intervals
// ---------------------------------------------------------------------------

interface Interval {
  from: number;
  to: number;
}

function instantOf(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`${name} must be a valid Date`);
  return ms;
}

function toDate(ms: number): Date {
  if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new RangeError('Result lies outside the range representable by Date');
  return new Date(ms);
}

/** Sorted, disjoint, non-adjacent copies of the non-empty blocked intervals (inputs untouched). */
function normalizeBlocked(blocked: TimeInterval[] | undefined): Interval[] {
  if (blocked === undefined || blocked.length === 0) return [];
  const list: Interval[] = [];
  blocked.forEach((interval, i) => {
    const from = instantOf(interval.from, `blocked[${i}].from`);
    const to = instantOf(interval.to, `blocked[${i}].to`);
    if (to > from) list.push({ from, to });
  });
  list.sort((a, b) => a.from - b.from);
  const merged: Interval[] = [];
  for (const interval of list) {
    const last = merged[merged.length - 1];
    if (last !== undefined && interval.from <= last.to) last.to = Math.max(last.to, interval.to);
    else merged.push(interval);
  }
  return merged;
}

// ---------------------------------------------------------------------------
// Wall-clock → instant
// ---------------------------------------------------------------------------

/** ISO weekday (1 = Monday) of a day number; 1970-01-01 was a Thursday. */
function isoWeekday(day: number): number {
  return (((day % 7) + 10) % 7) + 1;
}

/**
 * The first instant whose local wall-clock reading is at or after `wall` (local time
 * expressed as ms since 1970-01-01T00:00 local). For a repeated (fall-back) time that
 * is its first occurrence; for a skipped (spring-forward) time it is the transition
 * instant itself, the moment the clock jumps past it.
 */
function resolveWallTime(wall: number, offsetMs: OffsetFn): number {
  // `wall` read as UTC is within ±14 h of the answer, so ±1 day brackets any nearby transition.
  const before = offsetMs(wall - DAY_MS);
  const after = offsetMs(wall + DAY_MS);
  const early = wall - before;
  if (before === after) return early;
  const late = wall - after;
  const earlyOk = offsetMs(early) === before;
  const lateOk = offsetMs(late) === after;
  if (earlyOk && lateOk) return Math.min(early, late);
  if (earlyOk) return early;
  if (lateOk) return late;
  // Skipped time: bisect to the transition, where the offset stops being `before`.
  let lo = Math.min(early, late);
  let hi = Math.max(early, late);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetMs(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

// ---------------------------------------------------------------------------
// Segment sources: ordered, disjoint open intervals of business time from a start
// ---------------------------------------------------------------------------

type Segment = [from: number, to: number];

interface SegmentSource {
  /** Next open segment, clipped to start at or after the source's start; null when none remain. */
  next(): Segment | null;
}

/** Always-open calendars: the gaps between blocked intervals, the last one unbounded. */
class OpenSegments implements SegmentSource {
  private cursor: number;
  private index = 0;

  constructor(
    private readonly blocked: readonly Interval[],
    start: number,
  ) {
    this.cursor = start;
  }

  next(): Segment | null {
    let block = this.blocked[this.index];
    while (block !== undefined && block.to <= this.cursor) block = this.blocked[++this.index];
    if (block !== undefined && block.from <= this.cursor) {
      this.cursor = block.to;
      // Merged intervals never touch, so the following one starts strictly later.
      block = this.blocked[++this.index];
    }
    const from = this.cursor;
    const to = block === undefined ? Number.POSITIVE_INFINITY : block.from;
    this.cursor = to;
    return [from, to];
  }
}

/** Day-by-day walk over a real calendar's windows, minus blocked intervals. */
class CalendarSegments implements SegmentSource {
  private cursor: number;
  private day: number;
  private readonly lastDay: number;
  private blockIndex = 0;
  /** An instant whose offset we looked up, and that offset: lets most days cost one zone lookup. */
  private anchorAt: number;
  private anchorOffset: number;
  private cachedDay = Number.NaN;
  private cachedWindow: Segment | null = null;

  constructor(
    private readonly cal: CompiledCalendar,
    private readonly blocked: readonly Interval[],
    start: number,
  ) {
    this.cursor = start;
    this.anchorAt = start;
    this.anchorOffset = cal.offsetMs(start);
    this.day = Math.floor((start + this.anchorOffset) / DAY_MS);
    this.lastDay = this.day + HORIZON_DAYS + 1;
  }

  next(): Segment | null {
    while (this.day <= this.lastDay) {
      const window = this.windowOf(this.day);
      if (window === null || this.cursor >= window[1]) {
        this.day++;
        continue;
      }
      const from = Math.max(this.cursor, window[0]);
      let block = this.blocked[this.blockIndex];
      while (block !== undefined && block.to <= from) block = this.blocked[++this.blockIndex];
      if (block !== undefined && block.from <= from) {
        // Jump over the whole block at once: a months-long absence must not cost a walk.
        this.jumpTo(block.to);
        continue;
      }
      const to = block !== undefined && block.from < window[1] ? block.from : window[1];
      this.cursor = to;
      return [from, to];
    }
    return null;
  }

  private jumpTo(t: number): void {
    this.cursor = t;
    this.anchorAt = t;
    this.anchorOffset = this.cal.offsetMs(t);
    this.day = Math.max(this.day, Math.floor((t + this.anchorOffset) / DAY_MS));
  }

  private windowOf(day: number): Segment | null {
    // Blocked intervals can split a day, so the same day is asked for repeatedly.
    if (day !== this.cachedDay) {
      this.cachedDay = day;
      this.cachedWindow = this.computeWindow(day);
    }
    return this.cachedWindow;
  }

  private computeWindow(day: number): Segment | null {
    const cal = this.cal;
    if (!cal.working[isoWeekday(day)] || cal.holidays.has(day)) return null;
    const wallStart = day * DAY_MS + cal.startMs;
    const wallEnd = day * DAY_MS + cal.endMs;
    const offset = this.anchorOffset;
    const from = wallStart - offset;
    const to = wallEnd - offset;
    // Fast path: same offset at the anchor (or window start) and window end means no DST change in between.
    if (to - this.anchorAt <= ANCHOR_MAX_GAP_MS && (this.anchorAt <= from || cal.offsetMs(from) === offset) && cal.offsetMs(to) === offset) {
      this.anchorAt = to;
      return [from, to];
    }
    // Offset changed nearby (or the anchor is stale): resolve both wall times exactly.
    const start = resolveWallTime(wallStart, cal.offsetMs);
    const end = resolveWallTime(wallEnd, cal.offsetMs);
    this.anchorAt = end;
    this.anchorOffset = cal.offsetMs(end);
    // A window lying wholly inside a skipped hour has no duration.
    return start < end ? [start, end] : null;
  }
}

function segmentsFrom(cal: CompiledCalendar, blocked: readonly Interval[], start: number): SegmentSource {
  return cal.alwaysOpen ? new OpenSegments(blocked, start) : new CalendarSegments(cal, blocked, start);
}

function describeInstant(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISO() ?? new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------
// Public clock operations
// ---------------------------------------------------------------------------

/** The instant at which `durationMs` of business time has elapsed after `start`, skipping non-working days, hours outside `hours`, holidays and any `blocked` intervals. If start is outside business time the clock starts at the next business moment. durationMs 0 returns the first business instant at or after start. */
export function addBusinessTime(start: Date, durationMs: number, cal: BusinessCalendar, blocked?: TimeInterval[]): Date {
  const startMs = instantOf(start, 'start');
  if (!Number.isSafeInteger(durationMs) || durationMs < 0) {
    throw new RangeError(`durationMs must be a non-negative whole number of milliseconds, got ${durationMs}`);
  }
  const compiled = compile(cal);
  const intervals = normalizeBlocked(blocked);
  if (!compiled.alwaysOpen) {
    if (!compiled.anyWorkingDay) throw new Error('Calendar has no business time: workingDays is empty');
    // Business time never exceeds elapsed time, so such a deadline is beyond the horizon.
    if (durationMs > HORIZON_MS) {
      throw new RangeError(`Duration ${formatDuration(durationMs)} exceeds the ~10-year business-time horizon`);
    }
  }
  const source = segmentsFrom(compiled, intervals, startMs);
  let remaining = durationMs;
  let sawBusinessTime = false;
  for (let segment = source.next(); segment !== null; segment = source.next()) {
    const [from, to] = segment;
    sawBusinessTime = true;
    // `<=` so a deadline that exactly uses up a window ends at closing time, not next opening.
    if (remaining <= to - from) return toDate(from + remaining);
    remaining -= to - from;
  }
  const at = describeInstant(startMs, compiled.zoneName);
  throw sawBusinessTime
    ? new RangeError(`Deadline for ${formatDuration(durationMs)} after ${at} lies beyond the ~10-year horizon`)
    : new Error(`Calendar has no business time within ~10 years after ${at}`);
}

/** Business milliseconds in [from, to) (0 if to <= from). Inverse of addBusinessTime: businessTimeBetween(s, addBusinessTime(s, d)) === d. */
export function businessTimeBetween(from: Date, to: Date, cal: BusinessCalendar, blocked?: TimeInterval[]): number {
  const fromMs = instantOf(from, 'from');
  const toMs = instantOf(to, 'to');
  const compiled = compile(cal);
  const intervals = normalizeBlocked(blocked);
  if (toMs <= fromMs) return 0;
  if (!compiled.alwaysOpen) {
    if (!compiled.anyWorkingDay) return 0;
    if (toMs - fromMs > HORIZON_MS) {
      throw new RangeError('businessTimeBetween spans more than the ~10-year business-time horizon');
    }
  }
  const source = segmentsFrom(compiled, intervals, fromMs);
  let total = 0;
  for (let segment = source.next(); segment !== null; segment = source.next()) {
    const [segFrom, segTo] = segment;
    if (segFrom >= toMs) break;
    total += Math.min(segTo, toMs) - segFrom;
    if (segTo >= toMs) break;
  }
  return total;
}

/** Whether `at` is inside business time. */
export function isBusinessTime(at: Date, cal: BusinessCalendar, blocked?: TimeInterval[]): boolean {
  const atMs = instantOf(at, 'at');
  const compiled = compile(cal);
  const intervals = normalizeBlocked(blocked);
  if (!compiled.alwaysOpen && !compiled.anyWorkingDay) return false;
  // Defined through the same walk as addBusinessTime so the two can never disagree.
  const first = segmentsFrom(compiled, intervals, atMs).next();
  return first !== null && first[0] === atMs;
}
