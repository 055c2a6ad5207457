import { type Compilable, type Kysely, type OperationNodeSource, sql } from 'kysely';
import type { DB } from './schema.js';

type Query = Compilable & OperationNodeSource;

/**
 * Run several writes as one statement: each becomes a data-modifying CTE in front of `last`,
 * whose rows are returned. On the embedded database every statement costs a round trip
 * through the engine, so a hot path that writes to six tables saves five of them. The writes
 * must not touch the same row, and none of them sees another's effects (one snapshot).
 */
export async function writeTogether<R>(db: Kysely<DB>, writes: (Query | undefined)[], last: Query): Promise<R[]> {
  const ctes = writes.filter((w): w is Query => w !== undefined).map((w, i) => sql`${sql.raw(`w${i}`)} AS (${w})`);
  if (ctes.length === 0) return (await sql<R>`${last}`.execute(db)).rows;
  return (await sql<R>`WITH ${sql.join(ctes)} ${last}`.execute(db)).rows;
}
