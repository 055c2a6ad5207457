import { readdirSync, readFileSync } from 'node:fs';

/** Latency summary of one series, in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles: every number reported is a latency that was actually observed. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until a point on the performance.now() clock; pacing is by absolute time so delays never accumulate. */
export async function sleepUntil(at: number): Promise<void> {
  const wait = at - performance.now();
  if (wait > 0.5) await sleep(wait);
}

/** A phase's outcome: latencies to report, the rate achieved, and whether the phase saturated. */
export interface PhaseResult {
  summary: Summary;
  /** Completions per second over the reported samples. */
  rate: number;
  saturated: boolean;
}

/**
 * Collects one phase's latencies. A latency above `limitMs` means requests are queueing
 * faster than they are served: the phase is saturated, and `onSaturated` stops offering load,
 * so an overloaded database costs seconds, not minutes, and the report says so.
 */
export class Recorder {
  readonly #measured: number[] = [];
  readonly #all: number[] = [];
  readonly #window = { measured: [Number.POSITIVE_INFINITY, 0], all: [Number.POSITIVE_INFINITY, 0] };
  #saturated = false;

  constructor(
    private readonly limitMs: number,
    private readonly onSaturated: () => void,
  ) {}

  get saturated(): boolean {
    return this.#saturated;
  }

  /** A completed call, on the performance.now() clock. */
  record(start: number, end: number, warmUp: boolean): void {
    const ms = end - start;
    const windows = warmUp ? [this.#window.all] : [this.#window.all, this.#window.measured];
    for (const w of windows) {
      w[0] = Math.min(w[0] as number, start);
      w[1] = Math.max(w[1] as number, end);
    }
    this.#all.push(ms);
    if (!warmUp) this.#measured.push(ms);
    if (ms > this.limitMs) this.saturate();
  }

  saturate(): void {
    if (this.#saturated) return;
    this.#saturated = true;
    this.onSaturated();
  }

  /** The samples reported: the measured ones; after saturation all, warm-up included, as the measured set may be empty. */
  samples(): readonly number[] {
    return this.#saturated ? this.#all : this.#measured;
  }

  result(): PhaseResult {
    const [from, to] = this.#saturated ? this.#window.all : this.#window.measured;
    const samples = this.samples();
    return { summary: summarize(samples), rate: samples.length / (((to as number) - (from as number)) / 1000), saturated: this.#saturated };
  }
}

/** CPU time (user + system, in seconds) of one process from /proc, or 0 where there is none. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Linux's clock ticks per second for /proc times (USER_HZ, 100 on every common build). */
const CLOCK_TICKS = 100;

/** Processes of the machine whose command is a PostgreSQL server's (`postgres: ...` backends and the postmaster). */
function postgresPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres');
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/**
 * How busy each party was over a phase, as cores (1.0 is one core all the time): the server's
 * process, PostgreSQL's processes, and this process (the load generator). On a machine with
 * two cores, a sum near 2 means the run was bound by the CPU; well below it, by waiting.
 */
export class CpuMeter {
  readonly #start = performance.now();
  readonly #server: number;
  readonly #before: Map<string, number>;

  constructor(serverPid: number) {
    this.#server = serverPid;
    this.#before = this.#read();
  }

  #read(): Map<string, number> {
    const pg = postgresPids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    return new Map([
      ['server', cpuSeconds(this.#server)],
      ['postgres', pg],
      ['load', cpuSeconds(process.pid)],
    ]);
  }

  /** Cores used by each party since the meter was made. */
  read(): { server: number; postgres: number; load: number } {
    const seconds = (performance.now() - this.#start) / 1000;
    const now = this.#read();
    const used = (k: string) => Math.max(0, ((now.get(k) ?? 0) - (this.#before.get(k) ?? 0)) / seconds);
    return { server: used('server'), postgres: used('postgres'), load: used('load') };
  }
}
