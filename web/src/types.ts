/** The API's shapes, as the web app uses them (see /docs for the full reference). */
export type Team = 'marketing' | 'sales';
export type ScoreClass = 'good_fit_high_interest' | 'good_fit_low_interest' | 'low_fit_high_interest' | 'low_fit_low_interest';

export interface User {
  id: string;
  email: string;
  name: string;
  team: Team;
  level: 'member' | 'lead';
  isAdmin: boolean;
  active: boolean;
  routingWeight: number;
  handoffCapacity: number | null;
}

export interface Me {
  user: User;
  workspace: { id: string; slug: string; name: string };
}

export interface Lead {
  id: string;
  email: string;
  name: string;
  firstName: string | null;
  lastName: string | null;
  title: string | null;
  phone: string | null;
  company: string | null;
  country: string | null;
  source: string | null;
  persona: string | null;
  status: string | null;
  properties: Record<string, unknown>;
  accountId: string | null;
  stage: string;
  ownerId: string | null;
  stageChangedAt: string;
  fitScore: number;
  interestScore: number;
  scoreClass: ScoreClass | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Account {
  id: string;
  name: string;
  domain: string | null;
  industry: string | null;
  employees: number | null;
  country: string | null;
  region: string | null;
  ownerId: string | null;
  version: number;
}

export interface Deal {
  id: string;
  name: string;
  amount: string;
  currency: string;
  stage: string;
  status: 'open' | 'won' | 'lost';
  closeDate: string | null;
  leadId: string | null;
  accountId: string | null;
  ownerId: string | null;
}

export interface Handoff {
  id: string;
  leadId: string;
  status: 'open' | 'accepted' | 'rejected' | 'reassigned' | 'withdrawn';
  assigneeId: string | null;
  route: { explanation?: string; pool?: string };
  fromStage: string;
  createdBy: string | null;
  createdAt: string;
  dueAt: string;
  breachedAt: string | null;
  escalationStep: number;
  closedAt: string | null;
  closedBy: string | null;
  reasonCode: string | null;
  note: string | null;
  firstContactDueAt: string | null;
  firstContactAt: string | null;
  can: { accept: boolean; reject: boolean; withdraw: boolean; reassign: boolean; recordContact: boolean };
}

export interface Activity {
  id: string;
  at: string;
  kind: string;
  actorId: string | null;
  actorType: string;
  leadId: string | null;
  accountId: string | null;
  dealId: string | null;
  handoffId: string | null;
  data: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Reason {
  code: string;
  label: string;
  noteRequired: boolean;
  to?: string;
}

export interface Stage {
  key: string;
  name: string;
  team: Team;
  phase: string;
  role: string;
}

export interface AgreementDocument {
  name: string;
  stages: Stage[];
  leadStatuses: { key: string; name: string }[];
  reasons: { reject: Reason[]; handBack: Reason[]; disqualify: Reason[] };
  handoff: { criteria: { manual: boolean; auto: { id: string; label: string }[] }; note?: string };
  routing: {
    accountOwnerFirst: boolean;
    rules: { name: string; when: Record<string, unknown>; pool: { user: string; weight: number }[] }[];
    fallbackPool: { user: string; weight: number }[];
    defaultCapacity?: number;
  };
  sla: { acceptWithin: string; firstContactWithin: string };
  calendar: { timeZone: string; workingDays: number[]; hours: { start: string; end: string }; holidays: string[] };
  escalation: { at: number; action: string }[];
  nurture: { days: number; returnTo: string };
  commitments: { marketing: { mqlsPerMonth: number; minAcceptanceRate: number }; sales: { acceptOnTimeRate: number; firstContactOnTimeRate: number } };
}

export interface AgreementVersion {
  id: string;
  version: number;
  status: 'draft' | 'proposed' | 'active' | 'superseded';
  document: AgreementDocument;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  proposedAt: string | null;
  signatures: { marketing: { by: string; at: string } | null; sales: { by: string; at: string } | null };
  waitingOn: Team[];
  activatedAt: string | null;
  supersededAt: string | null;
  returned: { by: string; at: string; comment: string | null } | null;
}

export interface EffectiveAgreement {
  version: number;
  id: string | null;
  signed: boolean;
  document: AgreementDocument;
  pending: AgreementVersion | null;
}

export interface LeadActions {
  moves: { key: string; name: string; team: Team; role: string; allowed: boolean; why: string | null }[];
  handBack: boolean;
  merge: boolean;
  edit: boolean;
  note: boolean;
  reasons: { disqualify: Reason[]; handBack: Reason[]; reject: Reason[] };
}

export interface ImportRecord {
  id: string;
  entity: 'leads' | 'accounts' | 'deals';
  format: string;
  dryRun: boolean;
  status: 'waiting' | 'running' | 'done' | 'failed';
  fileName: string | null;
  rows: number;
  inserted: number;
  updated: number;
  skipped: number;
  failed: number;
  problemCount: number;
  problems: { row: number; line: number; column: string | null; message: string }[];
  notes: string[];
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}
