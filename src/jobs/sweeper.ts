import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB, Timer } from '../db/schema.js';
import { onHandoffTimer } from '../features/handoffs/handoffs.service.js';
import { onNurtureEnd } from '../features/leads/nurture.js';
import type { Clock } from '../lib/clock.js';

type Handler = (trx: Kysely<DB>, timer: Timer, now: Date) => Promise<string>;

const HANDLERS: Record<string, Handler> = {
  'handoff.deadline': onHandoffTimer,
  'handoff.escalation': onHandoffTimer,
  'handoff.first_contact': onHandoffTimer,
  'lead.nurture_end': onNurtureEnd,
};

export interface SweepResult {
  fired: { id: string; kind: string; outcome: string }[];
  failed: number;
}

/**
 * Fire every timer that is due, each in its own transaction: claim it with
 * FOR UPDATE SKIP LOCKED, run its handler, mark it fired, commit. Two processes sweeping
 * the same database never take the same timer, and a crash before commit leaves it due.
 */
export interface SweepOptions {
  limit?: number;
  log?: Logger;
  /**
   * Sweep one workspace only. Production sweeps everything; tests that share a database and
   * move their own clocks use it so one test's clock never fires another test's timers.
   */
  workspaceId?: string;
}

export async function sweepDueTimers(db: Kysely<DB>, clock: Clock, opts: SweepOptions = {}): Promise<SweepResult> {
  const limit = opts.limit ?? 500;
  const result: SweepResult = { fired: [], failed: 0 };
  const skip = new Set<string>();
  while (result.fired.length + result.failed < limit) {
    const now = clock.now();
    let claimed: Timer | undefined;
    try {
      const outcome = await db.transaction().execute(async (trx) => {
        let q = trx.selectFrom('timers').selectAll().where('fired_at', 'is', null).where('cancelled_at', 'is', null).where('due_at', '<=', now);
        if (opts.workspaceId) q = q.where('workspace_id', '=', opts.workspaceId);
        if (skip.size) q = q.where('id', 'not in', [...skip]);
        claimed = await q.orderBy('due_at').limit(1).forUpdate().skipLocked().executeTakeFirst();
        if (!claimed) return null;
        const handler = HANDLERS[claimed.kind];
        const outcome = handler ? await handler(trx, claimed, now) : 'no_handler';
        await trx
          .updateTable('timers')
          // A handler that ends its subject (a reassignment) cancels the subject's timers, this
          // one included; it did fire, so it is recorded as fired, not cancelled.
          .set((eb) => ({ fired_at: now, cancelled_at: null, attempts: eb('attempts', '+', 1), last_error: null }))
          .where('workspace_id', '=', claimed.workspace_id)
          .where('id', '=', claimed.id)
          .execute();
        return outcome;
      });
      if (outcome === null || !claimed) break;
      result.fired.push({ id: claimed.id, kind: claimed.kind, outcome });
    } catch (error) {
      if (!claimed) throw error;
      result.failed += 1;
      skip.add(claimed.id);
      opts.log?.error({ err: error, timer: claimed.id, kind: claimed.kind }, 'timer failed; will retry');
      // Back off: retry in 2^attempts seconds, capped at an hour.
      const delay = Math.min(3_600_000, 1000 * 2 ** Math.min(claimed.attempts + 1, 12));
      await db
        .updateTable('timers')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          last_error: String((error as Error).message ?? error).slice(0, 1000),
          due_at: new Date(now.getTime() + delay),
        }))
        .where('workspace_id', '=', claimed.workspace_id)
        .where('id', '=', claimed.id)
        .execute();
    }
  }
  return result;
}

/** Runs the sweep on an interval until stopped; one sweep at a time in this process. */
export class Sweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly log?: Logger,
    private readonly scope: { workspaceId?: string } = {},
  ) {}

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = sweepDueTimers(this.db, this.clock, { ...this.scope, ...(this.log ? { log: this.log } : {}) })
        .then((r) => {
          if (r.fired.length) this.log?.info({ fired: r.fired.length, failed: r.failed }, 'timers fired');
        })
        .catch((error: unknown) => this.log?.error({ err: error }, 'sweep failed'))
        .finally(() => {
          this.#running = undefined;
          this.#schedule();
        });
    }, this.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
