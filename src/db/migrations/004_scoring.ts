import { type Kysely, sql } from 'kysely';

/**
 * Scoring: versioned rules, each lead's fit, interest and class, the points each event earned
 * (so every score explains itself and caps can be counted), and the history of scores.
 */
const statements = [
  `CREATE TABLE scoring_rules (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id uuid NOT NULL,
    version integer NOT NULL,
    status text NOT NULL CHECK (status IN ('draft', 'active', 'superseded')),
    document jsonb NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    activated_by uuid,
    activated_at timestamptz,
    PRIMARY KEY (workspace_id, id)
  )`,
  `CREATE UNIQUE INDEX scoring_rules_version ON scoring_rules (workspace_id, version)`,
  `CREATE UNIQUE INDEX scoring_rules_one_active ON scoring_rules (workspace_id) WHERE status = 'active'`,
  `CREATE UNIQUE INDEX scoring_rules_one_draft ON scoring_rules (workspace_id) WHERE status = 'draft'`,
  `ALTER TABLE leads
    ADD COLUMN fit_score integer NOT NULL DEFAULT 0,
    ADD COLUMN interest_score double precision NOT NULL DEFAULT 0,
    ADD COLUMN interest_mass double precision NOT NULL DEFAULT 0,
    ADD COLUMN score_class text,
    ADD COLUMN scored_at timestamptz`,
  `CREATE INDEX leads_class ON leads (workspace_id, score_class, id)`,
  // Scores change as behaviour arrives: room on each page lets those updates stay on the page
  // (heap-only tuples) instead of touching every index of the table.
  `ALTER TABLE leads SET (fillfactor = 80)`,
  `ALTER TABLE events ADD COLUMN scored boolean NOT NULL DEFAULT false`,
  // Events tied to a lead but not yet scored: what the next ingest group scores.
  `CREATE INDEX events_unscored ON events (workspace_id, at) WHERE lead_id IS NOT NULL AND NOT scored`,
  `CREATE TABLE score_points (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    lead_id uuid NOT NULL,
    rule_id text NOT NULL,
    event_id uuid NOT NULL,
    at timestamptz NOT NULL,
    period integer NOT NULL,
    points double precision NOT NULL,
    -- A rule's points for a lead in one cap period sit together: capping reads exactly them.
    PRIMARY KEY (workspace_id, lead_id, rule_id, period, event_id)
  )`,
  `CREATE TABLE score_history (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id uuid NOT NULL,
    lead_id uuid NOT NULL,
    at timestamptz NOT NULL,
    fit integer NOT NULL,
    interest double precision NOT NULL,
    class text NOT NULL,
    cause text NOT NULL,
    PRIMARY KEY (workspace_id, id)
  )`,
  `CREATE INDEX score_history_lead ON score_history (workspace_id, lead_id, at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP TABLE score_history, score_points, scoring_rules').execute(db);
  await sql.raw('DROP INDEX events_unscored').execute(db);
  await sql.raw('ALTER TABLE events DROP COLUMN scored').execute(db);
  await sql
    .raw('ALTER TABLE leads DROP COLUMN fit_score, DROP COLUMN interest_score, DROP COLUMN interest_mass, DROP COLUMN score_class, DROP COLUMN scored_at')
    .execute(db);
}
