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
import { type Param, type StatementResult, toParam } from './pglite-session.js';

/** The embedded database as the driver sees it: statements in, rows out. */
export interface EmbeddedClient {
  /** With `begin`, a transaction is opened just before the statement. */
  query(sql: string, params: Param[], options?: { begin?: boolean }): Promise<StatementResult>;
  close(): Promise<void>;
}

/**
 * A Kysely dialect over the embedded database. It is one connection, so the driver hands it
 * out to one user at a time: a transaction holds it until commit, and other queries wait.
 */
export class PGliteDialect implements Dialect {
  readonly #client: EmbeddedClient;

  constructor(client: EmbeddedClient) {
    this.#client = client;
  }

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.#client);
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

  constructor(client: EmbeddedClient) {
    this.#connection = new PGliteConnection(client);
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

  /** The transaction opens with its first statement (`PGliteConnection`), saving a trip to the database. */
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as PGliteConnection).beginWithNext();
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    // A transaction that ran no statement never opened.
    if ((connection as PGliteConnection).cancelBegin()) return;
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if ((connection as PGliteConnection).cancelBegin()) return;
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

class PGliteConnection implements DatabaseConnection {
  readonly #client: EmbeddedClient;
  /** A transaction was begun and its BEGIN goes with the next statement. */
  #beginPending = false;

  constructor(client: EmbeddedClient) {
    this.#client = client;
  }

  beginWithNext(): void {
    this.#beginPending = true;
  }

  /** Forget a BEGIN not sent yet; answers whether there was one. */
  cancelBegin(): boolean {
    const pending = this.#beginPending;
    this.#beginPending = false;
    return pending;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const begin = this.cancelBegin();
    const result = await this.#client.query(compiled.sql, compiled.parameters.map(toParam), { begin });
    const rows = result.rows as R[];
    return result.affected === undefined ? { rows } : { rows, numAffectedRows: result.affected };
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered by PGlite; fail loudly.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported on the embedded database');
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
