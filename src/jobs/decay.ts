import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DB } from '../db/schema.js';
import { activeScoringLocked, reclassifyDecayed } from '../features/scoring/scoring.repo.js';
import type { Clock } from '../lib/clock.js';
import { PeriodicJob } from './periodic.js';

/**
 * Interest halves over its half-life whether or not anything happens, so a lead's class can
 * change with time alone. Every interval, each workspace's leads whose class time has changed
 * are moved (idempotent: two processes running it at once do the same thing).
 */
export class DecayJob extends PeriodicJob {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    intervalMs: number,
    private readonly log?: Logger,
  ) {
    super(intervalMs);
  }

  /** Reclassify every workspace once (or just one); returns how many leads moved. */
  async runOnce(only?: string): Promise<number> {
    let moved = 0;
    try {
      const workspaces = only ? [{ id: only }] : await this.db.selectFrom('workspaces').select('id').execute();
      for (const { id } of workspaces) {
        moved += await this.db.transaction().execute(async (trx) => {
          const scoring = await activeScoringLocked(trx, id);
          return reclassifyDecayed(trx, id, scoring.document, this.clock.now());
        });
      }
      if (moved) this.log?.info({ moved }, 'leads reclassified as interest decayed');
    } catch (error) {
      this.log?.error({ err: error }, 'decay reclassification failed');
    }
    return moved;
  }
}
