import { type Kysely, type Migration, type MigrationProvider, type MigrationResultSet, Migrator } from 'kysely';
import * as foundation from './migrations/001_foundation.js';
import * as openHandoffCounts from './migrations/002_open_handoff_counts.js';
import * as tracking from './migrations/003_tracking.js';
import * as scoring from './migrations/004_scoring.js';
import * as imports from './migrations/005_imports.js';
import * as leadScores from './migrations/006_lead_scores.js';
import * as savedViews from './migrations/007_saved_views.js';
import * as leadScoresUnchecked from './migrations/008_lead_scores_unchecked.js';
import * as hotWrites from './migrations/009_hot_writes.js';
import * as partialLeadIndexes from './migrations/010_partial_lead_indexes.js';
import * as pointsInPlace from './migrations/011_points_in_place.js';
import * as scoringLockFunction from './migrations/012_scoring_lock_function.js';
import type { DB } from './schema.js';

/** Migrations ship inside the code, in order; the file names are their stable keys. */
const migrations: Record<string, Migration> = {
  '001_foundation': foundation,
  '002_open_handoff_counts': openHandoffCounts,
  '003_tracking': tracking,
  '004_scoring': scoring,
  '005_imports': imports,
  '006_lead_scores': leadScores,
  '007_saved_views': savedViews,
  '008_lead_scores_unchecked': leadScoresUnchecked,
  '009_hot_writes': hotWrites,
  '010_partial_lead_indexes': partialLeadIndexes,
  '011_points_in_place': pointsInPlace,
  '012_scoring_lock_function': scoringLockFunction,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

function migrator(database: Kysely<DB>): Migrator {
  const db = database as unknown as Kysely<unknown>;
  return new Migrator({ db, provider, migrationTableName: 'tandem_migrations', migrationLockTableName: 'tandem_migrations_lock' });
}

/** Bring the schema up to date. Kysely's migrator locks, so concurrent starts are safe. */
export async function migrateToLatest(database: Kysely<DB>): Promise<string[]> {
  return check(await migrator(database).migrateToLatest());
}

/** Bring the schema to a given migration (tests of a migration start from the one before). */
export async function migrateTo(database: Kysely<DB>, name: string): Promise<string[]> {
  return check(await migrator(database).migrateTo(name));
}

function check({ error, results }: MigrationResultSet): string[] {
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
