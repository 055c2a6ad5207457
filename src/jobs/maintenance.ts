import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.js';

/**
 * The embedded database has no autovacuum worker, so dead rows from updates would pile up and
 * planner statistics would never refresh. Run VACUUM (ANALYZE) now and then; on PostgreSQL the
 * server's own autovacuum does this and the job is not started.
 */
export class EmbeddedMaintenance {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly intervalMs: number,
    private readonly log?: Logger,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.runOnce().finally(() => {
        this.#running = undefined;
      });
    }, this.intervalMs);
    this.#timer.unref();
  }

  async runOnce(): Promise<void> {
    const started = Date.now();
    try {
      await sql`VACUUM (ANALYZE)`.execute(this.db);
      this.log?.info({ ms: Date.now() - started }, 'embedded database vacuumed');
    } catch (error) {
      this.log?.error({ err: error }, 'embedded database vacuum failed');
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
