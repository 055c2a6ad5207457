import { z } from 'zod';
import type { Handoff } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { type App, actorOf, commonErrors, type Deps, idParams, page } from '../../http/context.js';
import { decodeCursor, encodeCursor } from '../../lib/cursor.js';
import { acceptHandoff, getHandoff, listHandoffs, reassignHandoff, recordFirstContact, rejectHandoff, withdrawHandoff } from './handoffs.service.js';

const handoffOut = z.object({
  id: z.string(),
  leadId: z.string(),
  status: z.enum(['open', 'accepted', 'rejected', 'reassigned', 'withdrawn']),
  assigneeId: z.string().nullable(),
  route: z.record(z.string(), z.unknown()),
  fromStage: z.string(),
  agreementVersion: z.number().describe('0 = the built-in default agreement'),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  dueAt: z.string().describe('Accept-or-reject deadline, counted in business hours'),
  breachedAt: z.string().nullable(),
  escalationStep: z.number(),
  closedAt: z.string().nullable(),
  closedBy: z.string().nullable(),
  reasonCode: z.string().nullable(),
  note: z.string().nullable(),
  firstContactDueAt: z.string().nullable(),
  firstContactAt: z.string().nullable(),
  firstContactBreachedAt: z.string().nullable(),
  previousHandoffId: z.string().nullable(),
  nextHandoffId: z.string().nullable(),
  can: z.object({ accept: z.boolean(), reject: z.boolean(), withdraw: z.boolean(), reassign: z.boolean(), recordContact: z.boolean() }),
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** What the caller may do with a handoff, so clients never re-implement the rules. */
function can(actor: Actor, h: Handoff) {
  const open = h.status === 'open';
  const salesActs = actor.team === 'sales' && (actor.level === 'lead' || h.assignee_id === actor.userId);
  return {
    accept: open && salesActs && (h.assignee_id !== null || actor.level === 'lead'),
    reject: open && salesActs && (h.assignee_id !== null || actor.level === 'lead'),
    withdraw: open && actor.team === 'marketing',
    reassign: open && actor.team === 'sales' && actor.level === 'lead',
    recordContact: h.status === 'accepted' && !h.first_contact_at && salesActs,
  };
}

export function presentHandoff(actor: Actor, h: Handoff): z.infer<typeof handoffOut> {
  return {
    id: h.id,
    leadId: h.lead_id,
    status: h.status,
    assigneeId: h.assignee_id,
    route: h.route,
    fromStage: h.from_stage,
    agreementVersion: h.agreement_version,
    createdBy: h.created_by,
    createdAt: h.created_at.toISOString(),
    dueAt: h.due_at.toISOString(),
    breachedAt: iso(h.breached_at),
    escalationStep: h.escalation_step,
    closedAt: iso(h.closed_at),
    closedBy: h.closed_by,
    reasonCode: h.reason_code,
    note: h.note,
    firstContactDueAt: iso(h.first_contact_due_at),
    firstContactAt: iso(h.first_contact_at),
    firstContactBreachedAt: iso(h.first_contact_breached_at),
    previousHandoffId: h.previous_handoff_id,
    nextHandoffId: h.next_handoff_id,
    can: can(actor, h),
  };
}

const listQuery = z.object({
  status: z.enum(['open', 'accepted', 'rejected', 'reassigned', 'withdrawn']).optional(),
  queue: z.enum(['mine', 'unassigned']).optional().describe('"mine": assigned to you; "unassigned": waiting for the sales lead'),
  assigneeId: z.uuid().optional(),
  leadId: z.uuid().optional(),
  breached: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const noteBody = z.object({ note: z.string().max(5000).optional() }).strict();
const tags = ['handoffs'];

export async function handoffsRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/handoffs',
    {
      schema: {
        tags,
        summary: "Handoffs: a rep's queue, the unassigned queue, history",
        querystring: listQuery,
        response: { 200: page(handoffOut), ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { cursor, ...rest } = request.query;
      const rows = await listHandoffs(deps, actor, { ...rest, cursor: cursor ? decodeCursor(cursor, 'query.cursor')[1] : undefined });
      const items = rows.slice(0, request.query.limit);
      const last = items[items.length - 1];
      return { items: items.map((h) => presentHandoff(actor, h)), nextCursor: rows.length > request.query.limit && last ? encodeCursor(null, last.id) : null };
    },
  );

  app.get('/api/handoffs/:id', { schema: { tags, params: idParams, response: { 200: handoffOut, ...commonErrors } } }, async (request) => {
    const actor = actorOf(request);
    return presentHandoff(actor, await getHandoff(deps, actor, request.params.id));
  });

  app.post(
    '/api/handoffs/:id/accept',
    { schema: { tags, summary: 'Accept the lead (sales): it moves to SAL', params: idParams, body: noteBody, response: { 200: handoffOut, ...commonErrors } } },
    async (request) => {
      const actor = actorOf(request);
      return presentHandoff(actor, await acceptHandoff(deps, actor, request.params.id, request.body));
    },
  );

  app.post(
    '/api/handoffs/:id/reject',
    {
      schema: {
        tags,
        summary: 'Reject the lead (sales) with a reason code the agreement defines',
        params: idParams,
        body: z.object({ reason: z.string().min(1).max(40), note: z.string().max(5000).optional() }).strict(),
        response: { 200: handoffOut, ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return presentHandoff(actor, await rejectHandoff(deps, actor, request.params.id, request.body));
    },
  );

  app.post(
    '/api/handoffs/:id/withdraw',
    {
      schema: {
        tags,
        summary: 'Marketing takes the lead back before sales acts',
        params: idParams,
        body: noteBody,
        response: { 200: handoffOut, ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return presentHandoff(actor, await withdrawHandoff(deps, actor, request.params.id, request.body));
    },
  );

  app.post(
    '/api/handoffs/:id/reassign',
    {
      schema: {
        tags,
        summary: 'Sales lead: assign an unassigned handoff, or reassign one (routing picks if no userId)',
        params: idParams,
        body: z.object({ userId: z.uuid().optional(), note: z.string().max(5000).optional() }).strict(),
        response: { 200: handoffOut, ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return presentHandoff(actor, await reassignHandoff(deps, actor, request.params.id, request.body));
    },
  );

  app.post(
    '/api/handoffs/:id/contact',
    {
      schema: { tags, summary: 'Record first contact with an accepted lead', params: idParams, body: noteBody, response: { 200: handoffOut, ...commonErrors } },
    },
    async (request) => {
      const actor = actorOf(request);
      return presentHandoff(actor, await recordFirstContact(deps, actor, request.params.id, request.body));
    },
  );
}
