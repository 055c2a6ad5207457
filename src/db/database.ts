import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect.js';
import { PGliteSession } from './pglite-session.js';
import type { DB } from './schema.js';

export type DatabaseKind = 'embedded' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  kind: DatabaseKind;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; when absent the embedded database is used. */
  databaseUrl?: string | undefined;
  /** Data directory for the embedded database; `memory://` keeps it in memory. */
  dataDir?: string;
  poolSize?: number;
  /**
   * Run the embedded database in a thread of its own: for bulk work such as a command-line
   * import, where the caller has work to do while PGlite writes. Each statement then pays a hop
   * between threads, so the server keeps PGlite on its own thread.
   */
  ownThread?: boolean;
}

const INT8 = 20;
const DATE = 1082;

// Both drivers return the same JavaScript types: counts as numbers, money as strings (exact),
// calendar dates as 'YYYY-MM-DD' strings (no time-zone shift), timestamps as Dates.
pg.types.setTypeParser(INT8, (v) => Number(v));
pg.types.setTypeParser(DATE, (v) => v);

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Analytics queries group large sets; the default work_mem spills to disk early. Rescoring
      // keeps the leads that move in a temporary table (about 100 bytes a lead). JIT compilation
      // took 1.5 s of a 20 s rescoring statement and saved less than it cost.
      options: '-c work_mem=64MB -c temp_buffers=64MB -c jit=off',
    });
    pool.on('error', () => {
      // An idle client lost its server; the pool replaces it on next use.
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  const client = await PGliteSession.open(options.dataDir ?? './.tandem', { ownThread: options.ownThread ?? false });
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
  return { db, kind: 'embedded', close: () => db.destroy() };
}
