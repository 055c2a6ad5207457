import { type Kysely, sql } from 'kysely';

/**
 * The indexes of leads by owner and by account leave out leads without one. Imported and tracked
 * leads arrive with neither, so a million-row import no longer writes two index entries a row
 * that no query reads (a lookup by owner or by account names one). Listing the leads without an
 * owner reads them in key order instead.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX leads_owner`.execute(db);
  await sql`CREATE INDEX leads_owner ON leads (workspace_id, owner_id, id) WHERE owner_id IS NOT NULL`.execute(db);
  await sql`DROP INDEX leads_account`.execute(db);
  await sql`CREATE INDEX leads_account ON leads (workspace_id, account_id) WHERE account_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX leads_owner`.execute(db);
  await sql`CREATE INDEX leads_owner ON leads (workspace_id, owner_id, id)`.execute(db);
  await sql`DROP INDEX leads_account`.execute(db);
  await sql`CREATE INDEX leads_account ON leads (workspace_id, account_id)`.execute(db);
}
