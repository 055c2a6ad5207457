import { type Config, loadConfig } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

/** Open the configured database and bring its schema up to date. */
export async function openMigrated(
  config: Config = loadConfig(),
  options: { ownThread?: boolean } = {},
): Promise<{ config: Config; database: Database; fresh: boolean }> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize, ...options });
  const applied = await migrateToLatest(database.db);
  return { config, database, fresh: applied.includes('001_foundation') };
}
