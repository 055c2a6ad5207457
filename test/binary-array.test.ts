/** Binary arrays as statement parameters, read back by the database on both drivers. */
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { binaryArray } from '../src/db/binary-array.js';
import type { Database } from '../src/db/database.js';
import { testDatabase } from './harness.js';

// The suite's shared database (files share a process): not closed here.
let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});

describe('binary arrays', () => {
  it('carry every element type, NULLs and any text to the database unchanged', async () => {
    const ids = ['01a2295f-7217-7004-bcf8-3053f4dfb9e4', null, 'FFFFFFFF-0000-4000-8000-00000000000A'];
    const texts = ['plain', '', null, 'Zoë "quoted", {braced}, back\\slash', '日本語 ✓'];
    const ints = [0, -1, 2147483647, -2147483648, null];
    const times = ['2026-03-01T12:34:56.789Z', new Date('1969-07-20T20:17:40.000Z'), null, '1999-12-31T23:59:59.999Z'];
    const docs = ['{}', { a: [1, 'ü'], b: null }, null];
    const floats = [0.1, -2.5e-300, Number.MAX_VALUE, null, -0, 12345.678];
    const { rows } = await sql<{ ids: string[]; texts: string[]; ints: number[]; floats: string[]; times: string[]; docs: string[]; empty: number }>`
      SELECT ${binaryArray('uuid', ids)}::uuid[]::text[] AS ids, ${binaryArray('text', texts)}::text[] AS texts,
        ${binaryArray('int4', ints)}::int4[] AS ints, ${binaryArray('float8', floats)}::float8[]::text[] AS floats,
        (SELECT array_agg(to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ORDER BY n)
          FROM unnest(${binaryArray('timestamptz', times)}::timestamptz[]) WITH ORDINALITY AS u(t, n)) AS times,
        ${binaryArray('jsonb', docs)}::jsonb[]::text[] AS docs,
        cardinality(${binaryArray('text', [])}::text[]) AS empty`.execute(database.db);
    const row = rows[0];
    expect(row?.ids).toEqual(['01a2295f-7217-7004-bcf8-3053f4dfb9e4', null, 'ffffffff-0000-4000-8000-00000000000a']);
    expect(row?.texts).toEqual(texts);
    expect(row?.ints).toEqual(ints);
    // As PostgreSQL prints them (the shortest text that reads back as the same double).
    expect(row?.floats).toEqual(['0.1', '-2.5e-300', '1.7976931348623157e+308', null, '-0', '12345.678']);
    expect(row?.times).toEqual(['2026-03-01T12:34:56.789Z', '1969-07-20T20:17:40.000Z', null, '1999-12-31T23:59:59.999Z']);
    expect(row?.docs).toEqual(['{}', '{"a": [1, "ü"], "b": null}', null]);
    expect(row?.empty).toBe(0);
  });

  it('refuses a value that is not of its type, naming it', () => {
    expect(() => binaryArray('uuid', ['not-a-uuid'])).toThrow('"not-a-uuid" is not a UUID');
    expect(() => binaryArray('int4', [1.5])).toThrow('1.5 is not a 32-bit integer');
    expect(() => binaryArray('float8', ['12'])).toThrow('12 is not a number');
    expect(() => binaryArray('timestamptz', ['yesterday'])).toThrow('"yesterday" is not a time');
  });

  it('is refused by the database when cast to another element type', async () => {
    await expect(sql`SELECT ${binaryArray('text', ['a'])}::int4[] AS x`.execute(database.db)).rejects.toThrow(
      /array element type 25 \(text\) instead of expected 23/,
    );
  });
});
