import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { PGlite, protocol, types } from '@electric-sql/pglite';

const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;

/** Statements prepared by name once seen twice; the least recently used beyond this are closed. */
const PREPARED_LIMIT = 256;
/** Statement texts longer than this (bulk inserts with many rows) are never prepared. */
const PREPARED_MAX_SQL = 8_000;

/** Reads one column's text into its JavaScript value. */
type Parse = (text: string, type?: number) => unknown;

/** What one statement returns. */
export interface StatementResult {
  rows: Record<string, unknown>[];
  /** Rows inserted, updated, deleted, merged or copied; absent for other statements. */
  affected?: bigint;
}

/**
 * One PGlite database, spoken to in the extended protocol directly: Parse, Bind, Describe,
 * Execute and Sync go in as one message, where PGlite's own `query()` makes five calls into the
 * database and plans the statement every time. A statement seen a second time is prepared under
 * a name and afterwards only bound and executed (about 2x faster than `query()` for short
 * statements). Parameters arrive in text form (`toText`), their types left to the server, or as
 * bytes in the binary format (`toParam`).
 */
export class PGliteSession {
  readonly #engine: Engine;
  readonly #parsers: Record<number, Parse>;
  /** Statement text to its prepared name, in least-recently-used order. */
  readonly #prepared = new Map<string, string>();
  /** Statement texts seen once, not yet prepared (bounded). */
  readonly #seen = new Set<string>();
  /** Names to close with the next statement. */
  #closing: string[] = [];
  #nextName = 0;

  private constructor(engine: Engine, parsers: Record<number, Parse>) {
    this.#engine = engine;
    this.#parsers = parsers;
  }

  /**
   * Open (creating if needed) the database in `dataDir`; `memory://` keeps it in memory. With
   * `ownThread`, PGlite runs in a thread of its own (`pglite-worker.mjs`): while it executes a
   * statement, this thread goes on reading the file and building the next statement, at the cost
   * of a hop between threads for every statement (see the README's decisions).
   */
  static async open(dataDir: string, options: { ownThread?: boolean } = {}): Promise<PGliteSession> {
    if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
    const { engine, arrays } = await (options.ownThread ? OwnThreadEngine : SameThreadEngine).start(dataDir);
    // Both drivers return the same JavaScript types: counts as numbers, money as strings (exact),
    // calendar dates as 'YYYY-MM-DD' strings (no time-zone shift), timestamps as Dates.
    const parsers: Record<number, Parse> = {};
    for (const [key, parse] of Object.entries(types.parsers)) if (/^\d+$/.test(key)) parsers[Number(key)] = parse;
    Object.assign(parsers, { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => v, [DATE]: (v: string) => v });
    for (const { element, array } of arrays) {
      parsers[array] = (v: string) => types.arrayParser(v, parsers[element] as Parse, array);
    }
    return new PGliteSession(engine, parsers);
  }

  /**
   * Run one statement. With `begin`, a transaction is opened first, in the same message: a
   * transaction's BEGIN costs no trip of its own to the database's thread and back.
   */
  async query(text: string, params: readonly Param[], options: { begin?: boolean } = {}): Promise<StatementResult> {
    const parts: Uint8Array[] = options.begin ? [wire.query('begin')] : [];
    if (params.length === 0 && SIMPLE.test(text)) {
      parts.push(wire.query(text));
      return this.#read((await this.#send(concat(parts))).result);
    }
    for (const name of this.#closing) parts.push(wire.close({ type: 'S', name }));
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
    parts.push(wire.bind({ statement: name ?? '', values: params as Param[] }), wire.describe({ type: 'P' }), wire.execute({}), wire.sync());
    const { result, parsed } = await this.#send(concat(parts));
    // A failed Parse leaves no statement behind; a later failure (Bind, Execute) does.
    if (parsing && name !== undefined && parsed) this.#keep(text, name);
    return this.#read(result);
  }

  async close(): Promise<void> {
    await this.#engine.close();
  }

  async #send(message: Uint8Array): Promise<{ result: Response; parsed: boolean }> {
    return readResponse(await this.#engine.exec(message));
  }

  #read(response: Response): StatementResult {
    if (response.error) throw response.error;
    const parsers = this.#parsers;
    const { fields, values } = response;
    const width = fields.length;
    const rows: Record<string, unknown>[] = [];
    for (let at = 0; at < values.length; at += width) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < width; i++) {
        const field = fields[i] as Field;
        const raw = values[at + i];
        const parse = parsers[field.type];
        row[field.name] = raw === null || raw === undefined ? null : parse ? parse(raw, field.type) : raw;
      }
      rows.push(row);
    }
    return response.affected === undefined ? { rows } : { rows, affected: response.affected };
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
}

/** What runs PGlite: it takes protocol messages and gives back PostgreSQL's raw replies. */
interface Engine {
  exec(message: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Array types and their element types, so arrays of every element type read as PGlite reads them. */
type ArrayTypes = { element: number; array: number }[];

const SETTINGS = {
  // PGlite touches all of its shared buffers when it starts, and its memory never shrinks.
  // 64 MB instead of 128 MB: a million-row import peaked at 488 MB instead of 563 MB and took
  // 96.0 s against 98.3 s; rescoring a million leads took 15.4 s against 17.4 s.
  startParams: ['-c', 'shared_buffers=64MB'],
  // Analytics queries group large sets; the default work_mem spills to disk early. Rescoring
  // keeps the leads that move in a temporary table (about 100 bytes a lead).
  setup: 'SET work_mem = "64MB"; SET temp_buffers = "64MB"',
  arrayTypes: `SELECT b.oid::int AS element, b.typarray::int AS array FROM pg_catalog.pg_type a
    JOIN pg_catalog.pg_type b ON b.oid = a.typelem WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray`,
};

/** PGlite on the caller's thread: no hop between threads, but nothing else runs while it works. */
class SameThreadEngine implements Engine {
  readonly #pg: PGlite;

  private constructor(pg: PGlite) {
    this.#pg = pg;
  }

  static async start(dataDir: string): Promise<{ engine: Engine; arrays: ArrayTypes }> {
    const pg = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, ...SETTINGS.startParams] });
    await pg.exec(SETTINGS.setup);
    const arrays = (await pg.query<ArrayTypes[number]>(SETTINGS.arrayTypes)).rows;
    return { engine: new SameThreadEngine(pg), arrays };
  }

  async exec(message: Uint8Array): Promise<Uint8Array> {
    // The raw stream, because execProtocolRaw also runs PGlite's own reader over every reply.
    const chunks: Uint8Array[] = [];
    await this.#pg.execProtocolRawStream(message, { onRawData: (chunk: Uint8Array) => chunks.push(chunk.slice()) });
    return joined(chunks);
  }

  async close(): Promise<void> {
    if (!this.#pg.closed) await this.#pg.close();
  }
}

/**
 * PGlite in a thread of its own (`pglite-worker.mjs`). Messages go in one at a time and in order
 * (the session's callers already hold the one connection in turn); the thread keeps the process
 * alive only while a message is out, as PGlite on the caller's thread did.
 */
class OwnThreadEngine implements Engine {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (reply: Uint8Array) => void; reject: (error: Error) => void }>();
  #nextId = 0;
  #stopped: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: { id: number; chunks?: Uint8Array[]; error?: string }) => {
      const waiting = this.#waiting.get(m.id);
      if (!waiting) return;
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0) worker.unref();
      if (m.error !== undefined) waiting.reject(new Error(`the embedded database failed: ${m.error}`));
      else waiting.resolve(joined(m.chunks ?? []));
    });
    const stop = (error: Error) => {
      this.#stopped ??= error;
      for (const w of this.#waiting.values()) w.reject(this.#stopped);
      this.#waiting.clear();
    };
    worker.on('error', (error) => stop(new Error(`the embedded database stopped: ${error.message}`)));
    worker.on('exit', () => stop(new Error('the embedded database is closed')));
  }

  static async start(dataDir: string): Promise<{ engine: Engine; arrays: ArrayTypes }> {
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
      workerData: { dataDir, ...SETTINGS },
      // The worker is plain JavaScript; no TypeScript loader is needed in it.
      execArgv: [],
    });
    const ready = await new Promise<{ ready: boolean; error?: string; arrays?: ArrayTypes }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (!ready.ready) {
      await worker.terminate();
      throw new Error(`the embedded database could not open ${dataDir}: ${ready.error}`);
    }
    worker.unref();
    return { engine: new OwnThreadEngine(worker), arrays: ready.arrays ?? [] };
  }

  exec(message: Uint8Array): Promise<Uint8Array> {
    return this.#post({ message });
  }

  async close(): Promise<void> {
    if (this.#stopped) return;
    await this.#post({ close: true });
    await this.#worker.terminate();
  }

  #post(body: { message?: Uint8Array; close?: boolean }): Promise<Uint8Array> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, ...body });
    });
  }
}

/** Statements without parameters that go in the simple protocol: transaction control. */
const SIMPLE = /^(begin|commit|rollback|start transaction|savepoint|release)\b/i;

const wire = protocol.serialize;

interface Field {
  name: string;
  type: number;
}

/** A backend response, read straight off the wire. */
interface Response {
  fields: Field[];
  /** Every row's text values, row after row. */
  values: (string | null)[];
  affected: bigint | undefined;
  error: Error | undefined;
}

const AFFECTING = /^(INSERT \d+|UPDATE|DELETE|MERGE|COPY) (\d+)$/;

/** What each one-letter field of an ErrorResponse is called (as node-postgres names them). */
const ERROR_FIELDS: Record<string, string> = {
  S: 'severity',
  C: 'code',
  D: 'detail',
  H: 'hint',
  P: 'position',
  W: 'where',
  s: 'schema',
  t: 'table',
  c: 'column',
  d: 'dataType',
  n: 'constraint',
  R: 'routine',
};

/**
 * Read the messages PostgreSQL sent back: row descriptions, data rows, command tags and errors
 * (the rest, such as ParseComplete or ReadyForQuery, only matter by their presence). One pass,
 * strings decoded in place; PGlite's own reader copies every field into a new buffer first.
 */
function readResponse(bytes: Uint8Array): { result: Response; parsed: boolean } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result: Response = { fields: [], values: [], affected: undefined, error: undefined };
  let parsed = false;
  let i = 0;
  const cstring = (from: number): [string, number] => {
    const end = buf.indexOf(0, from);
    return [buf.toString('utf8', from, end), end + 1];
  };
  while (i + 5 <= buf.length) {
    const type = buf[i];
    const end = i + 1 + buf.readInt32BE(i + 1);
    let at = i + 5;
    if (type === 0x44) {
      // DataRow
      const count = buf.readInt16BE(at);
      at += 2;
      for (let f = 0; f < count; f++) {
        const len = buf.readInt32BE(at);
        at += 4;
        if (len < 0) result.values.push(null);
        else {
          result.values.push(buf.toString('utf8', at, at + len));
          at += len;
        }
      }
    } else if (type === 0x54) {
      // RowDescription
      const count = buf.readInt16BE(at);
      at += 2;
      result.fields = [];
      for (let f = 0; f < count; f++) {
        const [name, next] = cstring(at);
        result.fields.push({ name, type: buf.readInt32BE(next + 6) });
        at = next + 18;
      }
    } else if (type === 0x43) {
      // CommandComplete
      const match = AFFECTING.exec(cstring(at)[0]);
      if (match) result.affected = (result.affected ?? 0n) + BigInt(match[2] as string);
    } else if (type === 0x31) {
      parsed = true;
    } else if (type === 0x45 && !result.error) {
      const details: Record<string, string> = {};
      let message = 'database error';
      while (at < end && buf[at] !== 0) {
        const code = String.fromCharCode(buf[at] as number);
        const [value, next] = cstring(at + 1);
        at = next;
        if (code === 'M') message = value;
        else if (ERROR_FIELDS[code]) details[ERROR_FIELDS[code]] = value;
      }
      result.error = Object.assign(new Error(message), details);
    }
    i = end;
  }
  return { result, parsed };
}

/** A reply that came in chunks, as one buffer (the chunk itself when there is one). */
function joined(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : concat(chunks);
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

/** A parameter as the session sends it: text, bytes in the binary format, or NULL. */
export type Param = string | Uint8Array | null;

/**
 * A statement's parameter as node-postgres sends it, so both databases see the same values:
 * bytes go in the binary format as they are (bytea, or a `binaryArray`); anything else in text.
 */
export function toParam(value: unknown): Param {
  return value instanceof Uint8Array ? value : toText(value);
}

/**
 * A parameter in PostgreSQL's text format, leaving its type to the server (as node-postgres
 * does, so both databases see the same values).
 */
export function toText(value: unknown): string | null {
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
