import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGliteDialect } from './pglite-dialect.js';
import { PGliteSession } from './pglite-session.js';

describe('transactions through the embedded dialect (BEGIN goes with the first statement)', () => {
  let db: Kysely<{ t: { id: number } }>;
  beforeAll(async () => {
    db = new Kysely({ dialect: new PGliteDialect(await PGliteSession.open('memory://', { ownThread: true })) });
    await sql`CREATE TABLE t (id int PRIMARY KEY)`.execute(db);
  });
  afterAll(() => db.destroy());

  const ids = async () => (await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id);

  it('runs every statement of a transaction in it, and undoes them all when it fails', async () => {
    const times = await db.transaction().execute(async (trx) => {
      const first = await sql<{ at: Date }>`SELECT now() AS at`.execute(trx);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await sql<{ at: Date }>`SELECT now() AS at`.execute(trx);
      return [first.rows[0]?.at.getTime(), second.rows[0]?.at.getTime()];
    });
    // now() is the transaction's start: the same for both statements only inside one transaction.
    expect(times[0]).toBe(times[1]);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 1 }).execute();
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await ids()).toEqual([]);
  });

  it('rolls back a transaction whose first statement fails, and goes on working', async () => {
    await db.insertInto('t').values({ id: 2 }).execute();
    await expect(db.transaction().execute((trx) => trx.insertInto('t').values({ id: 2 }).execute())).rejects.toMatchObject({ code: '23505' });
    await db.transaction().execute((trx) => trx.insertInto('t').values({ id: 3 }).execute());
    expect(await ids()).toEqual([2, 3]);
  });

  it('leaves nothing open after a transaction that ran no statement', async () => {
    await db.transaction().execute(async () => undefined);
    await expect(db.transaction().execute(async () => Promise.reject(new Error('before any statement')))).rejects.toThrow('before any statement');
    // Were a transaction left open, this failure would abort it and the insert after it would fail.
    await expect(sql`SELECT 1/0`.execute(db)).rejects.toMatchObject({ code: '22012' });
    await db.insertInto('t').values({ id: 4 }).execute();
    expect(await ids()).toEqual([2, 3, 4]);
  });
});
