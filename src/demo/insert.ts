import { CompiledQuery, type Insertable, type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';

/** Rows per statement: a few megabytes of JSON, small enough for any server's limits. */
const CHUNK = 5_000;

const typeCache = new WeakMap<Kysely<DB>, Map<string, Map<string, string>>>();

/** Column types as PostgreSQL spells them ("numeric(18,2)", "timestamp with time zone"...). */
async function columnTypes(db: Kysely<DB>, table: string): Promise<Map<string, string>> {
  let byTable = typeCache.get(db);
  if (!byTable) {
    byTable = new Map();
    typeCache.set(db, byTable);
  }
  let types = byTable.get(table);
  if (!types) {
    const { rows } = await sql<{ name: string; type: string }>`
      SELECT attname AS name, format_type(atttypid, atttypmod) AS type
      FROM pg_attribute WHERE attrelid = ${table}::regclass AND attnum > 0 AND NOT attisdropped`.execute(db);
    types = new Map(rows.map((r) => [r.name, r.type]));
    byTable.set(table, types);
  }
  return types;
}

/**
 * Insert many rows, a few thousand per statement, each statement sending its rows as one JSON
 * parameter that json_to_recordset expands. One parameter instead of one per value is about
 * three times faster on the embedded database (binding dominates there) and as fast on
 * PostgreSQL. Every row must have the same keys as the first; jsonb values are passed as objects.
 */
export async function insertRows<T extends keyof DB & string>(db: Kysely<DB>, table: T, rows: readonly Insertable<DB[T]>[]): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const types = await columnTypes(db, table);
  const columns = Object.keys(first);
  const defs = columns.map((c) => {
    const type = types.get(c);
    if (!type) throw new Error(`${table} has no column ${c}`);
    return `${c} ${type}`;
  });
  const text = `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM json_to_recordset($1::json) AS r(${defs.join(', ')})`;
  for (let start = 0; start < rows.length; start += CHUNK) {
    await db.executeQuery(CompiledQuery.raw(text, [JSON.stringify(rows.slice(start, start + CHUNK))]));
  }
}
