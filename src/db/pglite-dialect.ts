import { type PGlite, protocol } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely';

/**
 * A Kysely dialect over PGlite. PGlite is one connection in this process, so the driver hands
 * it out to one user at a time: a transaction holds it until commit, and other queries wait.
 */
export class PGliteDialect implements Dialect {
  readonly #pg: PGlite;

  constructor(pg: PGlite) {
    this.#pg = pg;
  }

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.#pg);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  readonly #connection: PGliteConnection;
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(pg: PGlite) {
    this.#connection = new PGliteConnection(pg);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.#release = release;
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {
    await this.#queue;
    await this.#connection.close();
  }
}

/** Statements prepared by name once seen twice; the least recently used beyond this are closed. */
const PREPARED_LIMIT = 256;
/** Statement texts longer than this (bulk inserts with many rows) are never prepared. */
const PREPARED_MAX_SQL = 8_000;

/**
 * One PGlite connection, spoken to in the extended protocol directly: Parse, Bind, Describe,
 * Execute and Sync go in as one message, where PGlite's own `query()` makes five calls into the
 * database and plans the statement every time. A statement seen a second time is prepared under
 * a name and later only bound and executed, so its plan is reused; this halves the cost of a
 * short statement on the embedded database.
 */
class PGliteConnection implements DatabaseConnection {
  readonly #pg: PGlite;
  /** Statement text to its prepared name, in least-recently-used order. */
  readonly #prepared = new Map<string, string>();
  /** Statement texts seen once, not yet prepared (bounded like the prepared set). */
  readonly #seen = new Set<string>();
  /** Names to close with the next message. */
  #closing: string[] = [];
  #nextName = 0;

  constructor(pg: PGlite) {
    this.#pg = pg;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const text = compiled.sql;
    if (compiled.parameters.length === 0 && SIMPLE.test(text)) return this.#simple<R>(text);
    const parts: Uint8Array[] = this.#closing.map((name) => wire.close({ type: 'S', name }));
    this.#closing = [];
    let name = this.#prepared.get(text);
    let parsing = false;
    if (name !== undefined) {
      // Most recently used goes last.
      this.#prepared.delete(text);
      this.#prepared.set(text, name);
    } else if (text.length <= PREPARED_MAX_SQL && this.#seen.has(text)) {
      this.#seen.delete(text);
      name = `tandem_${++this.#nextName}`;
      parsing = true;
      parts.push(wire.parse({ name, text }));
    } else {
      if (text.length <= PREPARED_MAX_SQL) this.#remember(text);
      parts.push(wire.parse({ name: '', text }));
    }
    parts.push(wire.bind({ statement: name ?? '', values: compiled.parameters.map(toText) }), wire.describe({ type: 'P' }), wire.execute({}), wire.sync());
    const messages = (await this.#pg.execProtocolStream(concat(parts), { throwOnError: false })) as unknown as Message[];
    if (parsing && name !== undefined) {
      if (messages.some((m) => m.name === 'parseComplete')) this.#keep(text, name);
    }
    return toResult<R>(messages, this.#pg);
  }

  async #simple<R>(text: string): Promise<QueryResult<R>> {
    const messages = (await this.#pg.execProtocolStream(wire.query(text), { throwOnError: false })) as unknown as Message[];
    return toResult<R>(messages, this.#pg);
  }

  #remember(text: string): void {
    this.#seen.add(text);
    if (this.#seen.size > PREPARED_LIMIT * 4) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  #keep(text: string, name: string): void {
    this.#prepared.set(text, name);
    if (this.#prepared.size > PREPARED_LIMIT) {
      const [oldest, oldName] = this.#prepared.entries().next().value as [string, string];
      this.#prepared.delete(oldest);
      this.#closing.push(oldName);
    }
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered by PGlite; fail loudly.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported on the embedded database');
  }

  async close(): Promise<void> {
    if (!this.#pg.closed) await this.#pg.close();
  }
}

/** Statements without parameters that go in the simple protocol: transaction control. */
const SIMPLE = /^(begin|commit|rollback|start transaction|savepoint|release)\b/i;

const wire = protocol.serialize;

interface Message {
  name: string;
  fields?: unknown[];
  text?: string;
}
interface Field {
  name: string;
  dataTypeID: number;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A parameter as PostgreSQL's text format, leaving its type to the server (as node-postgres
 * does, so both databases see the same values).
 */
function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}

function arrayLiteral(values: readonly unknown[]): string {
  const items = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text = toText(v) ?? 'NULL';
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}

const AFFECTING = /^(INSERT \d+|UPDATE|DELETE|MERGE|COPY) (\d+)$/;

function toResult<R>(messages: Message[], pg: PGlite): QueryResult<R> {
  const failure = messages.find((m) => m.name === 'error');
  if (failure) throw failure;
  const parsers = (pg as unknown as { parsers: Record<number, (text: string, type: number) => unknown> }).parsers;
  let fields: Field[] = [];
  const rows: R[] = [];
  let affected = 0n;
  let counted = false;
  for (const m of messages) {
    if (m.name === 'rowDescription') fields = m.fields as Field[];
    else if (m.name === 'dataRow') {
      const values = m.fields as (string | null)[];
      const row: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i] as Field;
        const raw = values[i];
        const parse = parsers[field.dataTypeID];
        row[field.name] = raw === null || raw === undefined ? null : parse ? parse(raw, field.dataTypeID) : raw;
      }
      rows.push(row as R);
    } else if (m.name === 'commandComplete' && m.text) {
      const match = AFFECTING.exec(m.text);
      if (match) {
        affected += BigInt(match[2] as string);
        counted = true;
      }
    }
  }
  return counted ? { rows, numAffectedRows: affected } : { rows };
}
