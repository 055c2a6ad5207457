import { type Kysely, sql } from 'kysely';

/**
 * Scores move out of the wide `leads` row into a narrow table of their own. Rescoring a million
 * leads, and every tracked event that moves a score, then rewrites rows of about 100 bytes
 * instead of whole leads with their properties and five indexes; a lead's own edits no longer
 * touch its scores either. A lead without a row here has not been scored: fit 0, interest 0, no
 * class. The columns keep their names, so a lead read with its scores looks as before.
 */
const statements = [
  `CREATE TABLE lead_scores (
    workspace_id uuid NOT NULL,
    lead_id uuid NOT NULL,
    fit_score integer NOT NULL DEFAULT 0,
    interest_score double precision NOT NULL DEFAULT 0,
    interest_mass double precision NOT NULL DEFAULT 0,
    score_class text,
    scored_at timestamptz,
    PRIMARY KEY (workspace_id, lead_id),
    FOREIGN KEY (workspace_id, lead_id) REFERENCES leads (workspace_id, id) ON DELETE CASCADE
  ) WITH (fillfactor = 70)`,
  `INSERT INTO lead_scores (workspace_id, lead_id, fit_score, interest_score, interest_mass, score_class, scored_at)
    SELECT workspace_id, id, fit_score, interest_score, interest_mass, score_class, scored_at FROM leads`,
  // Lists filter by class; scores move without touching this index unless the class moves.
  `CREATE INDEX lead_scores_class ON lead_scores (workspace_id, score_class, lead_id)`,
  `DROP INDEX leads_class`,
  `ALTER TABLE leads DROP COLUMN fit_score, DROP COLUMN interest_score, DROP COLUMN interest_mass, DROP COLUMN score_class, DROP COLUMN scored_at`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`ALTER TABLE leads
      ADD COLUMN fit_score integer NOT NULL DEFAULT 0,
      ADD COLUMN interest_score double precision NOT NULL DEFAULT 0,
      ADD COLUMN interest_mass double precision NOT NULL DEFAULT 0,
      ADD COLUMN score_class text,
      ADD COLUMN scored_at timestamptz`)
    .execute(db);
  await sql
    .raw(`UPDATE leads l SET fit_score = s.fit_score, interest_score = s.interest_score, interest_mass = s.interest_mass,
      score_class = s.score_class, scored_at = s.scored_at
    FROM lead_scores s WHERE s.workspace_id = l.workspace_id AND s.lead_id = l.id`)
    .execute(db);
  await sql.raw('CREATE INDEX leads_class ON leads (workspace_id, score_class, id)').execute(db);
  await sql.raw('DROP TABLE lead_scores').execute(db);
}
