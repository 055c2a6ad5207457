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
