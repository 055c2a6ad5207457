import type { ColumnType, Insertable, Selectable, Updateable } from 'kysely';

/** Columns with a database default may be left out of inserts. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = ColumnType<Record<string, unknown>, string | Record<string, unknown> | undefined, string | Record<string, unknown>>;

export type Team = 'marketing' | 'sales';
export type Level = 'member' | 'lead';
export type ActorType = 'user' | 'api_key' | 'system';
export type HandoffStatus = 'open' | 'accepted' | 'rejected' | 'reassigned' | 'withdrawn';
export type AgreementStatus = 'draft' | 'proposed' | 'active' | 'superseded';
export type DealStatus = 'open' | 'won' | 'lost';

export interface WorkspacesTable {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
}

export interface UsersTable {
  workspace_id: string;
  id: string;
  email: string;
  name: string;
  team: Team;
  level: Level;
  is_admin: Defaulted<boolean>;
  password_hash: string | null;
  active: Defaulted<boolean>;
  routing_weight: Defaulted<number>;
  handoff_capacity: number | null;
  /** Open handoffs assigned to this person, kept in step by the handoff use cases. */
  open_handoffs: Defaulted<number>;
  created_at: Date;
  updated_at: Date;
}

export interface SessionsTable {
  workspace_id: string;
  token_hash: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
}

export interface ApiKeysTable {
  workspace_id: string;
  id: string;
  name: string;
  key_hash: string;
  prefix: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface AbsencesTable {
  workspace_id: string;
  id: string;
  user_id: string;
  starts_at: Date;
  ends_at: Date;
  note: string | null;
  created_at: Date;
}

export interface AccountsTable {
  workspace_id: string;
  id: string;
  name: string;
  domain: string | null;
  industry: string | null;
  employees: number | null;
  country: string | null;
  region: string | null;
  owner_id: string | null;
  properties: Json;
  version: Defaulted<number>;
  created_at: Date;
  updated_at: Date;
}

export interface LeadsTable {
  workspace_id: string;
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  phone: string | null;
  company: string | null;
  country: string | null;
  source: string | null;
  persona: string | null;
  properties: Json;
  account_id: string | null;
  stage: string;
  status: string | null;
  owner_id: string | null;
  stage_changed_at: Date;
  version: Defaulted<number>;
  created_at: Date;
  updated_at: Date;
}

/** A lead's scores, apart from the lead so rescoring rewrites narrow rows; no row: not scored yet. */
export interface LeadScoresTable {
  workspace_id: string;
  lead_id: string;
  fit_score: Defaulted<number>;
  interest_score: Defaulted<number>;
  /** Interest as points weighted from a fixed epoch, so decay is one multiplication (see domain/scoring). */
  interest_mass: Defaulted<number>;
  score_class: ColumnType<string | null, string | null | undefined, string | null>;
  scored_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface DealsTable {
  workspace_id: string;
  id: string;
  name: string;
  /** numeric(18,2), exact, as a string. */
  amount: ColumnType<string, string | number, string | number>;
  currency: string;
  stage: string;
  status: DealStatus;
  close_date: string | null;
  lead_id: string | null;
  account_id: string | null;
  owner_id: string | null;
  lost_reason: string | null;
  version: Defaulted<number>;
  created_at: Date;
  updated_at: Date;
}

export interface ActivitiesTable {
  workspace_id: string;
  id: string;
  at: Date;
  kind: string;
  actor_id: string | null;
  actor_type: ActorType;
  lead_id: string | null;
  account_id: string | null;
  deal_id: string | null;
  handoff_id: string | null;
  data: Json;
}

export interface AgreementsTable {
  workspace_id: string;
  id: string;
  version: number;
  status: AgreementStatus;
  document: Json;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  proposed_at: Date | null;
  marketing_signed_by: string | null;
  marketing_signed_at: Date | null;
  sales_signed_by: string | null;
  sales_signed_at: Date | null;
  activated_at: Date | null;
  superseded_at: Date | null;
  returned_by: string | null;
  returned_at: Date | null;
  return_comment: string | null;
}

export interface HandoffsTable {
  workspace_id: string;
  id: string;
  lead_id: string;
  agreement_version: number;
  status: HandoffStatus;
  assignee_id: string | null;
  route: Json;
  from_stage: string;
  created_by: string | null;
  created_at: Date;
  due_at: Date;
  breached_at: Date | null;
  escalation_step: Defaulted<number>;
  closed_at: Date | null;
  closed_by: string | null;
  reason_code: string | null;
  note: string | null;
  first_contact_due_at: Date | null;
  first_contact_at: Date | null;
  first_contact_breached_at: Date | null;
  previous_handoff_id: string | null;
  next_handoff_id: string | null;
}

export interface TimersTable {
  workspace_id: string;
  id: string;
  kind: string;
  subject_id: string;
  step: Defaulted<number>;
  due_at: Date;
  data: Json;
  created_at: Date;
  fired_at: Date | null;
  cancelled_at: Date | null;
  attempts: Defaulted<number>;
  last_error: string | null;
}

export interface NotificationsTable {
  workspace_id: string;
  id: string;
  user_id: string;
  kind: string;
  title: string;
  lead_id: string | null;
  handoff_id: string | null;
  data: Json;
  created_at: Date;
  read_at: Date | null;
}

export interface RoutingCountersTable {
  workspace_id: string;
  pool: string;
  user_id: string;
  assigned: Defaulted<number>;
}

export type EventType = 'identify' | 'track' | 'page' | 'screen' | 'group' | 'alias';

export interface WriteKeysTable {
  workspace_id: string;
  id: string;
  key: string;
  name: string;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

export interface EventsTable {
  workspace_id: string;
  id: string;
  message_id: string;
  type: EventType;
  name: string | null;
  anonymous_id: string | null;
  user_id: string | null;
  group_id: string | null;
  lead_id: string | null;
  account_id: string | null;
  at: Date;
  received_at: Date;
  properties: Json;
  context: Json;
  campaign: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  scored: Defaulted<boolean>;
}

export interface ScoringRulesTable {
  workspace_id: string;
  id: string;
  version: number;
  status: 'draft' | 'active' | 'superseded';
  document: Json;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  activated_by: string | null;
  activated_at: Date | null;
}

export interface ScorePointsTable {
  workspace_id: string;
  lead_id: string;
  rule_id: string;
  event_id: string;
  at: Date;
  period: number;
  points: number;
}

export interface ScoreHistoryTable {
  workspace_id: string;
  id: string;
  lead_id: string;
  at: Date;
  fit: number;
  interest: number;
  class: string;
  cause: string;
}

export interface IdentitiesTable {
  workspace_id: string;
  kind: 'anonymous' | 'user' | 'group';
  value: string;
  lead_id: string | null;
  account_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface SavedViewsTable {
  workspace_id: string;
  id: string;
  user_id: string;
  page: string;
  name: string;
  filters: Json;
  shared: Defaulted<boolean>;
  created_at: Date;
}

export interface ImportsTable {
  workspace_id: string;
  id: string;
  entity: 'leads' | 'accounts' | 'deals';
  format: string;
  options: Json;
  dry_run: boolean;
  status: 'waiting' | 'running' | 'done' | 'failed';
  file_name: string | null;
  rows: Defaulted<number>;
  inserted: Defaulted<number>;
  updated: Defaulted<number>;
  skipped: Defaulted<number>;
  failed: Defaulted<number>;
  problems: ColumnType<unknown[], string | undefined, string>;
  problem_count: Defaulted<number>;
  notes: ColumnType<string[], string | undefined, string>;
  error: string | null;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface DB {
  workspaces: WorkspacesTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  absences: AbsencesTable;
  accounts: AccountsTable;
  leads: LeadsTable;
  deals: DealsTable;
  activities: ActivitiesTable;
  agreements: AgreementsTable;
  handoffs: HandoffsTable;
  timers: TimersTable;
  notifications: NotificationsTable;
  routing_counters: RoutingCountersTable;
  write_keys: WriteKeysTable;
  events: EventsTable;
  identities: IdentitiesTable;
  scoring_rules: ScoringRulesTable;
  lead_scores: LeadScoresTable;
  score_points: ScorePointsTable;
  score_history: ScoreHistoryTable;
  imports: ImportsTable;
  saved_views: SavedViewsTable;
}

export type User = Selectable<UsersTable>;
export type Account = Selectable<AccountsTable>;
export type Lead = Selectable<LeadsTable>;
/** A lead with the scores it is shown with (see lead_scores; a lead not scored yet has 0, 0 and no class). */
export type ScoredLead = Lead & { fit_score: number; interest_score: number; score_class: string | null };
export type NewLead = Insertable<LeadsTable>;
export type LeadUpdate = Updateable<LeadsTable>;
export type Deal = Selectable<DealsTable>;
export type Activity = Selectable<ActivitiesTable>;
export type AgreementRow = Selectable<AgreementsTable>;
export type Handoff = Selectable<HandoffsTable>;
export type Timer = Selectable<TimersTable>;
export type Notification = Selectable<NotificationsTable>;
export type WriteKey = Selectable<WriteKeysTable>;
export type TrackedEvent = Selectable<EventsTable>;
