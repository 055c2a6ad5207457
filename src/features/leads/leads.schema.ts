import { z } from 'zod';
import type { ScoredLead } from '../../db/schema.js';

const text = (max: number) => z.string().trim().max(max);
const properties = z
  .record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]))
  .refine((p) => Object.keys(p).length <= 200, 'at most 200 properties');

export const leadFields = {
  firstName: text(100).nullable(),
  lastName: text(100).nullable(),
  title: text(200).nullable(),
  phone: text(50).nullable(),
  company: text(200).nullable(),
  country: text(100).nullable(),
  source: text(100).nullable(),
  persona: text(100).nullable(),
  status: text(40).nullable(),
  accountId: z.uuid().nullable(),
  properties,
};

export const createLeadBody = z
  .object({
    email: z.email().max(254),
    stage: z.string().max(40).optional(),
    ownerId: z.uuid().nullable().optional(),
    ...Object.fromEntries(Object.entries(leadFields).map(([k, v]) => [k, v.optional()])),
  })
  .strict() as z.ZodType<CreateLeadInput>;

export interface CreateLeadInput {
  email: string;
  stage?: string | undefined;
  ownerId?: string | null | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  title?: string | null | undefined;
  phone?: string | null | undefined;
  company?: string | null | undefined;
  country?: string | null | undefined;
  source?: string | null | undefined;
  persona?: string | null | undefined;
  status?: string | null | undefined;
  accountId?: string | null | undefined;
  properties?: Record<string, string | number | boolean | null> | undefined;
}

export const updateLeadBody = z
  .object({
    email: z.email().max(254),
    version: z.number().int().positive(),
    ...leadFields,
  })
  .partial()
  .strict();
export type UpdateLeadInput = z.infer<typeof updateLeadBody>;

export const stageBody = z
  .object({
    stage: z.string().min(1).max(40),
    reason: z.string().max(40).optional().describe('Required when disqualifying: a disqualify reason code from the agreement'),
    note: z.string().max(5000).optional(),
    version: z.number().int().positive().optional(),
  })
  .strict();

export const bulkStageBody = z
  .object({
    ids: z.array(z.uuid()).min(1).max(500),
    stage: z.string().min(1).max(40),
    reason: z.string().max(40).optional().describe('Required when disqualifying'),
    note: z.string().max(5000).optional(),
  })
  .strict();

export const handBackBody = z
  .object({ reason: z.string().min(1).max(40).describe('A hand-back reason code from the agreement'), note: z.string().max(5000).optional() })
  .strict();

export const noteBody = z.object({ body: z.string().trim().min(1).max(20000) }).strict();
export const mergeBody = z.object({ mergeId: z.uuid().describe('The duplicate to fold into this record; it is deleted') }).strict();

export const listLeadsQuery = z.object({
  stage: z.string().max(400).optional().describe('One stage key or several separated by commas'),
  owner: z.string().max(40).optional().describe('A user id, "me" or "none"'),
  team: z.enum(['marketing', 'sales']).optional().describe('Leads in stages owned by this team'),
  status: z.string().max(40).optional(),
  source: z.string().max(100).optional(),
  persona: z.string().max(100).optional(),
  class: z.enum(['good_fit_high_interest', 'good_fit_low_interest', 'low_fit_high_interest', 'low_fit_low_interest']).optional().describe('Scoring class'),
  accountId: z.uuid().optional(),
  q: z.string().max(200).optional().describe('Text search in name, email and company'),
  sort: z.enum(['created', '-created', 'updated', '-updated', 'email', '-email']).default('-created'),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type ListLeadsQuery = z.infer<typeof listLeadsQuery>;

export const leadOut = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  title: z.string().nullable(),
  phone: z.string().nullable(),
  company: z.string().nullable(),
  country: z.string().nullable(),
  source: z.string().nullable(),
  persona: z.string().nullable(),
  status: z.string().nullable(),
  properties: z.record(z.string(), z.unknown()),
  accountId: z.string().nullable(),
  stage: z.string(),
  ownerId: z.string().nullable(),
  stageChangedAt: z.string(),
  fitScore: z.number().describe('Points from the fit rules'),
  interestScore: z.number().describe('Points from behaviour, decayed to when the lead was last scored'),
  scoreClass: z.enum(['good_fit_high_interest', 'good_fit_low_interest', 'low_fit_high_interest', 'low_fit_low_interest']).nullable(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type LeadOut = z.infer<typeof leadOut>;

export function presentLead(l: ScoredLead): LeadOut {
  return {
    id: l.id,
    email: l.email,
    name: [l.first_name, l.last_name].filter(Boolean).join(' ') || l.email,
    firstName: l.first_name,
    lastName: l.last_name,
    title: l.title,
    phone: l.phone,
    company: l.company,
    country: l.country,
    source: l.source,
    persona: l.persona,
    status: l.status,
    properties: l.properties,
    accountId: l.account_id,
    stage: l.stage,
    ownerId: l.owner_id,
    stageChangedAt: l.stage_changed_at.toISOString(),
    fitScore: l.fit_score,
    interestScore: Math.round(l.interest_score * 10) / 10,
    scoreClass: l.score_class as LeadOut['scoreClass'],
    version: l.version,
    createdAt: l.created_at.toISOString(),
    updatedAt: l.updated_at.toISOString(),
  };
}

const reasonOut = z.object({ code: z.string(), label: z.string(), noteRequired: z.boolean() });

export const leadActionsOut = z.object({
  moves: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      team: z.enum(['marketing', 'sales']),
      role: z.string(),
      allowed: z.boolean(),
      why: z.string().nullable().describe('Why the caller may not make this move; null when allowed'),
    }),
  ),
  handBack: z.boolean(),
  merge: z.boolean(),
  edit: z.boolean(),
  note: z.boolean(),
  reasons: z.object({ disqualify: z.array(reasonOut), handBack: z.array(reasonOut), reject: z.array(reasonOut) }),
});
