import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';

/** On PostgreSQL, migrate once before the workers start, so they never race to create tables. */
export default async function setup(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const database = await openDatabase({ databaseUrl: url });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
}
