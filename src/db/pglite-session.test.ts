import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteSession, toParam, toText } from './pglite-session.js';

describe.each([
  ["on the caller's thread", false],
  ['in a thread of its own', true],
])('the embedded database session %s', (_where, ownThread) => {
  let session: PGliteSession;
  beforeAll(async () => {
    session = await PGliteSession.open('memory://', { ownThread });
    await session.query(
      'CREATE TABLE t (id int PRIMARY KEY, name text UNIQUE, at timestamptz, ok boolean, tags text[], doc jsonb, blob bytea, amount numeric, day date)',
      [],
    );
  });
  afterAll(() => session.close());

  const insert = 'INSERT INTO t (id, name, at, ok, tags, doc, blob, amount, day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)';
  const at = new Date('2026-03-01T12:34:56.789Z');

  it('opens with the settings Tandem gives it: smaller shared buffers, larger work and temporary memory', async () => {
    const show = async (name: string) => (await session.query(`SHOW ${name}`, [])).rows[0]?.[name];
    expect(await show('shared_buffers')).toBe('64MB');
    expect(await show('work_mem')).toBe('64MB');
    expect(await show('temp_buffers')).toBe('64MB');
  });

  it('sends every kind of parameter as text and reads each column back in its JavaScript type', async () => {
    const tags = ['plain', 'with "quotes"', 'back\\slash', 'comma, space', ''];
    const doc = { a: [1, 2], b: 'ü' };
    const values = [1, 'Zoë', at, true, tags, doc, new Uint8Array([0, 255, 16]), '12345678901234567890.25', '2026-02-28'];
    const inserted = await session.query(insert, values.map(toText));
    expect(inserted.affected).toBe(1n);
    const { rows } = await session.query('SELECT * FROM t WHERE id = $1', ['1']);
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(row.name).toBe('Zoë');
    expect((row.at as Date).toISOString()).toBe(at.toISOString());
    expect(row.ok).toBe(true);
    expect(row.tags).toEqual(tags);
    expect(row.doc).toEqual(doc);
    expect(row.amount).toBe('12345678901234567890.25');
    expect(row.day).toBe('2026-02-28');
    const hex = await session.query("SELECT encode(blob, 'hex') AS h FROM t WHERE id = 1", []);
    expect(hex.rows[0]?.h).toBe('00ff10');
  });

  it('returns nulls, empty results and counts of changed rows', async () => {
    await session.query(insert, ['2', null, null, null, null, null, null, null, null]);
    const { rows } = await session.query('SELECT name, tags FROM t WHERE id = $1', ['2']);
    expect(rows).toEqual([{ name: null, tags: null }]);
    expect((await session.query('SELECT * FROM t WHERE id = $1', ['999'])).rows).toEqual([]);
    const updated = await session.query('UPDATE t SET ok = $1 WHERE id IN (1, 2)', ['false']);
    expect(updated.affected).toBe(2n);
  });

  it('reports a database error with its code and constraint, and goes on working', async () => {
    const duplicate = session.query(insert, ['3', 'Zoë', null, null, null, null, null, null, null]);
    await expect(duplicate).rejects.toMatchObject({ code: '23505', constraint: 't_name_key' });
    await expect(session.query('SELECT nope FROM t', [])).rejects.toMatchObject({ code: '42703', message: expect.stringContaining('nope') });
    await expect(session.query('SELECT $1::int', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
    expect((await session.query('SELECT count(*)::int AS n FROM t', [])).rows[0]?.n).toBe(2);
  });

  it('keeps answering correctly while prepared statements are reused and evicted', async () => {
    // More distinct statements than the prepared set holds, each run several times.
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 300; k++) {
        const { rows } = await session.query(`SELECT $1::int + ${k} AS v`, [String(round)]);
        expect(rows[0]?.v).toBe(round + k);
      }
    }
  });

  it('rolls back a transaction that failed part-way', async () => {
    await session.query('BEGIN', []);
    await session.query(insert, ['10', 'inside', null, null, null, null, null, null, null]);
    await expect(session.query(insert, ['10', 'again', null, null, null, null, null, null, null])).rejects.toMatchObject({ code: '23505' });
    await session.query('ROLLBACK', []);
    expect((await session.query('SELECT count(*)::int AS n FROM t WHERE id = 10', [])).rows[0]?.n).toBe(0);
  });

  it('sends bytes in the binary format, as node-postgres does', async () => {
    const { rows } = await session.query("SELECT encode($1::bytea, 'hex') AS h", [toParam(new Uint8Array([1, 2, 254]))]);
    expect(rows[0]?.h).toBe('0102fe');
  });
});

describe('the embedded database in a thread of its own', () => {
  it('refuses statements once closed, with a clear error', async () => {
    const session = await PGliteSession.open('memory://', { ownThread: true });
    expect((await session.query('SELECT 1 AS one', [])).rows).toEqual([{ one: 1 }]);
    await session.close();
    await expect(session.query('SELECT 1', [])).rejects.toThrow('the embedded database is closed');
  });
});
