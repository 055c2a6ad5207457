import { type Kysely, sql } from 'kysely';

/**
 * Behaviour from sites and apps (the Segment spec): write keys, the events themselves (stored
 * once per messageId), and the identities that tie anonymous visitors, signed-in users and
 * groups to Tandem's leads and accounts.
 */
const statements = [
  // Write keys sit in web pages, so they are not secrets; kept readable so the settings page can
  // show the snippet again. A key names its workspace, so lookup stays in one workspace.
  `CREATE TABLE write_keys (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id uuid NOT NULL,
    key text NOT NULL,
    name text NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    PRIMARY KEY (workspace_id, id)
  )`,
  `CREATE UNIQUE INDEX write_keys_key ON write_keys (workspace_id, key)`,
  `CREATE TABLE events (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id uuid NOT NULL,
    message_id text NOT NULL,
    type text NOT NULL CHECK (type IN ('identify', 'track', 'page', 'screen', 'group', 'alias')),
    name text,
    anonymous_id text,
    user_id text,
    group_id text,
    lead_id uuid,
    account_id uuid,
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    properties jsonb NOT NULL DEFAULT '{}',
    context jsonb NOT NULL DEFAULT '{}',
    campaign jsonb,
    PRIMARY KEY (workspace_id, id)
  )`,
  // A client retrying a batch sends the same messageIds: each is stored once.
  `CREATE UNIQUE INDEX events_message ON events (workspace_id, message_id)`,
  `CREATE INDEX events_lead ON events (workspace_id, lead_id, at) WHERE lead_id IS NOT NULL`,
  `CREATE INDEX events_account ON events (workspace_id, account_id, at) WHERE account_id IS NOT NULL`,
  // Events not yet tied to a lead, found again when the visitor identifies.
  `CREATE INDEX events_unjoined_anonymous ON events (workspace_id, anonymous_id) WHERE lead_id IS NULL AND anonymous_id IS NOT NULL`,
  `CREATE INDEX events_unjoined_user ON events (workspace_id, user_id) WHERE lead_id IS NULL AND user_id IS NOT NULL`,
  `CREATE TABLE identities (
    workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('anonymous', 'user', 'group')),
    value text NOT NULL,
    lead_id uuid,
    account_id uuid,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, kind, value)
  )`,
  `CREATE INDEX identities_lead ON identities (workspace_id, lead_id) WHERE lead_id IS NOT NULL`,
  `CREATE INDEX identities_account ON identities (workspace_id, account_id) WHERE account_id IS NOT NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['identities', 'events', 'write_keys']) await sql.raw(`DROP TABLE ${table}`).execute(db);
}
