import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { scoreAfterEvents } from '../scoring/scoring.service.js';
import type { IncomingEvent } from './tracking.parse.js';
import { type StoreResult, storeEvents } from './tracking.store.js';

export interface IngestOptions {
  /** Events waiting to be written beyond which requests get 429 (bounded memory, honest back-pressure). */
  maxQueuedEvents: number;
  /** Events written together in one transaction at most. */
  maxGroupEvents: number;
  /**
   * Requests of at most this many events go ahead of bulk batches: a browser sends each event
   * on its own (a demo request, a form), a server-side library sends batches.
   */
  interactiveEvents: number;
  /**
   * Groups written at the same time. The embedded database is one connection, so 1; on
   * PostgreSQL a second writer lets the server work while this process prepares the next group.
   */
  writers: number;
}

export const DEFAULT_INGEST: IngestOptions = { maxQueuedEvents: 50_000, maxGroupEvents: 2_000, interactiveEvents: 10, writers: 1 };

interface Waiting {
  workspaceId: string;
  events: readonly IncomingEvent[];
  resolve: (r: StoreResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for the tracking API. Requests that arrive while a transaction is being written
 * wait and are written together in the next one, so the cost of a commit is shared by every
 * request in it; each request is answered only after its events are committed. Should a group
 * fail, its requests are written one by one, so one request's problem is its own.
 */
export class Ingestor {
  readonly #db: Kysely<DB>;
  readonly #clock: Clock;
  readonly #opts: IngestOptions;
  #queue: Waiting[] = [];
  /** Small requests, written in a group of their own before the bulk queue. */
  #urgent: Waiting[] = [];
  #queued = 0;
  /** Writers running now; counted synchronously, so a request never lands between a writer's last look and its exit. */
  #active = 0;

  constructor(db: Kysely<DB>, clock: Clock, opts: Partial<IngestOptions> = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#opts = { ...DEFAULT_INGEST, ...opts };
  }

  /** Events waiting to be written. */
  get queued(): number {
    return this.#queued;
  }

  /** Store the events of one request; resolves once they are committed. */
  submit(workspaceId: string, events: readonly IncomingEvent[]): Promise<StoreResult> {
    if (events.length === 0) return Promise.resolve({ stored: 0, duplicates: 0 });
    if (this.#queued > 0 && this.#queued + events.length > this.#opts.maxQueuedEvents) {
      throw new AppError('rate_limited', `Tandem is writing ${this.#queued} events already; retry in a second`, { retryAfterSeconds: 1 });
    }
    const lane = events.length <= this.#opts.interactiveEvents ? this.#urgent : this.#queue;
    const done = new Promise<StoreResult>((resolve, reject) => lane.push({ workspaceId, events, resolve, reject }));
    this.#queued += events.length;
    this.#kick();
    return done;
  }

  /** Wait until everything submitted so far is written (for shutdown). */
  async flush(): Promise<void> {
    while (this.#active > 0 || this.#urgent.length || this.#queue.length) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Events queued and not yet taken by a writer. */
  #waiting(): number {
    let n = 0;
    for (const w of this.#urgent) n += w.events.length;
    for (const w of this.#queue) n += w.events.length;
    return n;
  }

  #pending(): boolean {
    return this.#urgent.length > 0 || this.#queue.length > 0;
  }

  /**
   * Start writers while there is work and room for one more. A second writer starts for an
   * interactive request or a backlog worth a quarter of a group, so bulk groups stay large
   * enough to share a commit.
   */
  #kick(): void {
    while (
      this.#active < this.#opts.writers &&
      this.#pending() &&
      (this.#active === 0 || this.#urgent.length > 0 || this.#waiting() >= this.#opts.maxGroupEvents / 4)
    ) {
      this.#active += 1;
      void this.#drain();
    }
  }

  async #drain(): Promise<void> {
    try {
      // Let the requests that arrived in this tick join the first group.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.#pending()) {
        // Interactive requests first, so one qualifying event does not wait behind a bulk backlog.
        const from = this.#urgent.length ? this.#urgent : this.#queue;
        const group: Waiting[] = [];
        let size = 0;
        while (from.length && (group.length === 0 || size + (from[0] as Waiting).events.length <= this.#opts.maxGroupEvents)) {
          const next = from.shift() as Waiting;
          group.push(next);
          size += next.events.length;
        }
        await this.#write(group);
        this.#queued -= size;
      }
    } finally {
      this.#active -= 1;
      // Work that arrived after the last look gets a writer now (#write never throws, but be sure).
      this.#kick();
    }
  }

  async #write(group: Waiting[]): Promise<void> {
    try {
      const t0 = performance.now();
      const results = await this.#commit(group);
      if (process.env.TRACE_GROUPS)
        process.stderr.write(
          `group ${group.length} req ${group.reduce((n, w) => n + w.events.length, 0)} ev ${(performance.now() - t0).toFixed(1)} ms q=${this.#queued}\n`,
        );
      for (const [i, w] of group.entries()) w.resolve(results[i] as StoreResult);
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Waiting).reject(error);
        return;
      }
      for (const w of group) {
        try {
          w.resolve(((await this.#commit([w])) as StoreResult[])[0] as StoreResult);
        } catch (own) {
          w.reject(own);
        }
      }
    }
  }

  /** One transaction for the whole group: per workspace, one set of statements for all its events. */
  async #commit(group: Waiting[]): Promise<StoreResult[]> {
    return this.#db.transaction().execute(async (trx) => {
      const now = this.#clock.now();
      const byWorkspace = new Map<string, Waiting[]>();
      for (const w of group) byWorkspace.set(w.workspaceId, [...(byWorkspace.get(w.workspaceId) ?? []), w]);
      const results = new Map<Waiting, StoreResult>();
      // Workspaces in one order in every group, so two groups take their workspaces' scoring
      // locks (see `activeScoringLocked`) in the same order and cannot wait on each other.
      for (const [workspaceId, waiting] of [...byWorkspace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const { fresh, touched, linked } = await storeEvents(
          trx,
          workspaceId,
          waiting.flatMap((w) => w.events),
          now,
        );
        // Scores move and qualifying leads go to sales in the transaction that stores the events.
        await scoreAfterEvents(trx, workspaceId, touched, linked, now);
        // Each request learns how many of its own events were new; a messageId sent twice
        // (within a request or by two requests in one group) counts as stored once.
        for (const w of waiting) {
          let stored = 0;
          for (const e of w.events) {
            if (fresh.delete(e.messageId)) stored += 1;
          }
          results.set(w, { stored, duplicates: w.events.length - stored });
        }
      }
      return group.map((w) => results.get(w) as StoreResult);
    });
  }
}
