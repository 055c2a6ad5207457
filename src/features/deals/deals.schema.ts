import { z } from 'zod';
import type { Deal } from '../../db/schema.js';

const amount = z.union([z.number().min(0).max(1e15), z.string().regex(/^\d{1,15}(\.\d{1,2})?$/, 'a non-negative amount with at most 2 decimals')]);

export const dealFields = {
  name: z.string().trim().min(1).max(200),
  amount,
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR or USD'),
  stage: z.string().trim().min(1).max(60),
  status: z.enum(['open', 'won', 'lost']),
  closeDate: z.iso.date().nullable(),
  leadId: z.uuid().nullable(),
  accountId: z.uuid().nullable(),
  ownerId: z.uuid().nullable(),
  lostReason: z.string().trim().max(500).nullable(),
};

export const createDealBody = z
  .object({
    ...dealFields,
    amount: amount.default(0),
    currency: dealFields.currency.default('USD'),
    stage: dealFields.stage.default('qualification'),
    status: dealFields.status.default('open'),
    closeDate: dealFields.closeDate.optional(),
    leadId: dealFields.leadId.optional(),
    accountId: dealFields.accountId.optional(),
    ownerId: dealFields.ownerId.optional(),
    lostReason: dealFields.lostReason.optional(),
  })
  .strict();
export type CreateDealInput = z.infer<typeof createDealBody>;

export const updateDealBody = z
  .object({ ...dealFields, version: z.number().int().positive() })
  .partial()
  .strict();
export type UpdateDealInput = z.infer<typeof updateDealBody>;

export const listDealsQuery = z.object({
  status: z.enum(['open', 'won', 'lost']).optional(),
  leadId: z.uuid().optional(),
  accountId: z.uuid().optional(),
  owner: z.string().max(40).optional().describe('A user id or "me"'),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type ListDealsQuery = z.infer<typeof listDealsQuery>;

export const dealOut = z.object({
  id: z.uuid(),
  name: z.string(),
  amount: z.string().describe('Exact decimal as a string'),
  currency: z.string(),
  stage: z.string(),
  status: z.enum(['open', 'won', 'lost']),
  closeDate: z.string().nullable(),
  leadId: z.string().nullable(),
  accountId: z.string().nullable(),
  ownerId: z.string().nullable(),
  lostReason: z.string().nullable(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function presentDeal(d: Deal): z.infer<typeof dealOut> {
  return {
    id: d.id,
    name: d.name,
    amount: String(d.amount),
    currency: d.currency,
    stage: d.stage,
    status: d.status,
    closeDate: d.close_date,
    leadId: d.lead_id,
    accountId: d.account_id,
    ownerId: d.owner_id,
    lostReason: d.lost_reason,
    version: d.version,
    createdAt: d.created_at.toISOString(),
    updatedAt: d.updated_at.toISOString(),
  };
}
