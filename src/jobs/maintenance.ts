import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.js';
import { PeriodicJob } from './periodic.js';

/**
 * The embedded database has no autovacuum worker, so dead rows from updates would pile up and
 * planner statistics would never refresh. Run VACUUM (ANALYZE) now and then; on PostgreSQL the
 * server's own autovacuum does this and the job is not started.
 */
export class EmbeddedMaintenance extends PeriodicJob {
  constructor(
    private readonly db: Kysely<DB>,
    intervalMs: number,
    private readonly log?: Logger,
  ) {
    super(intervalMs);
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
}
