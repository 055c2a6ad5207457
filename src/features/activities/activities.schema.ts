import { z } from 'zod';
import type { Activity } from '../../db/schema.js';

export const activityOut = z.object({
  id: z.string(),
  at: z.string(),
  kind: z.string(),
  actorId: z.string().nullable(),
  actorType: z.string(),
  leadId: z.string().nullable(),
  accountId: z.string().nullable(),
  dealId: z.string().nullable(),
  handoffId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export type ActivityOut = z.infer<typeof activityOut>;

export const timelineQuery = z.object({ cursor: z.string().max(400).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });

export const feedQuery = timelineQuery.extend({
  kind: z.string().max(60).optional().describe('Exact kind ("handoff.rejected") or a prefix ending in "." ("handoff.")'),
  actorId: z.uuid().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

export function presentActivity(a: Activity): ActivityOut {
  return {
    id: a.id,
    at: a.at.toISOString(),
    kind: a.kind,
    actorId: a.actor_id,
    actorType: a.actor_type,
    leadId: a.lead_id,
    accountId: a.account_id,
    dealId: a.deal_id,
    handoffId: a.handoff_id,
    data: a.data,
  };
}
