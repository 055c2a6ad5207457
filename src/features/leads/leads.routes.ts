import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps, expectedVersion, idParams, page, setEtag } from '../../http/context.js';
import { activityOut, timelineQuery } from '../activities/activities.schema.js';
import { listActivities } from '../activities/activities.service.js';
import {
  bulkStageBody,
  createLeadBody,
  handBackBody,
  leadActionsOut,
  leadOut,
  listLeadsQuery,
  mergeBody,
  noteBody,
  presentLead,
  stageBody,
  updateLeadBody,
} from './leads.schema.js';
import {
  addLeadNote,
  createLead,
  getLead,
  handBackLead,
  leadActions,
  listLeads,
  mergeLeads,
  moveLeadStage,
  moveLeadsStage,
  updateLead,
} from './leads.service.js';

const tags = ['leads'];

export async function leadsRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/leads',
    { schema: { tags, summary: 'Leads, filtered and paged by cursor', querystring: listLeadsQuery, response: { 200: page(leadOut), ...commonErrors } } },
    async (request) => {
      const { items, nextCursor } = await listLeads(deps, actorOf(request), request.query);
      return { items: items.map(presentLead), nextCursor };
    },
  );

  app.post(
    '/api/leads',
    {
      schema: {
        tags,
        summary: 'Create a lead; stage "mql" creates it and hands it off at once',
        body: createLeadBody,
        response: { 201: leadOut, ...commonErrors },
      },
    },
    async (request, reply) => {
      const lead = await createLead(deps, actorOf(request), request.body);
      setEtag(reply, lead.version);
      return reply.status(201).send(presentLead(lead));
    },
  );

  app.get('/api/leads/:id', { schema: { tags, params: idParams, response: { 200: leadOut, ...commonErrors } } }, async (request, reply) => {
    const lead = await getLead(deps, actorOf(request), request.params.id);
    setEtag(reply, lead.version);
    return presentLead(lead);
  });

  app.post(
    '/api/leads/bulk/stage',
    {
      schema: {
        tags,
        summary: 'Move many leads to a stage; each is checked as if moved alone, and those refused are listed with the reason',
        body: bulkStageBody,
        response: {
          200: z.object({
            moved: z.array(z.uuid()),
            refused: z.array(z.object({ id: z.uuid(), code: z.string(), message: z.string() })),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { ids, stage, reason, note } = request.body;
      return moveLeadsStage(deps, actorOf(request), [...new Set(ids)], { stage, reason, note });
    },
  );

  app.get(
    '/api/leads/:id/actions',
    {
      schema: {
        tags,
        summary: 'What the caller may do to this lead: stage moves (with why not), hand-back, merge, and the reasons the agreement offers',
        params: idParams,
        response: { 200: leadActionsOut, ...commonErrors },
      },
    },
    async (request) => leadActions(deps, actorOf(request), request.params.id),
  );

  app.patch(
    '/api/leads/:id',
    {
      schema: {
        tags,
        summary: 'Edit a lead; send If-Match with the ETag (or "version") you loaded',
        params: idParams,
        body: updateLeadBody,
        response: { 200: leadOut, ...commonErrors, 412: commonErrors[409], 428: commonErrors[409] },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const lead = await updateLead(deps, actorOf(request), request.params.id, { ...request.body, version });
      setEtag(reply, lead.version);
      return presentLead(lead);
    },
  );

  app.post(
    '/api/leads/:id/stage',
    {
      schema: {
        tags,
        summary: "Move a lead within your team's stages; the handoff stage hands it to sales",
        params: idParams,
        body: stageBody,
        response: { 200: leadOut, ...commonErrors, 412: commonErrors[409] },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const lead = await moveLeadStage(deps, actorOf(request), request.params.id, { ...request.body, version });
      setEtag(reply, lead.version);
      return presentLead(lead);
    },
  );

  app.post(
    '/api/leads/:id/hand-back',
    {
      schema: {
        tags,
        summary: 'Sales hands a lead back to marketing with a reason',
        params: idParams,
        body: handBackBody,
        response: { 200: leadOut, ...commonErrors },
      },
    },
    async (request) => presentLead(await handBackLead(deps, actorOf(request), request.params.id, request.body)),
  );

  app.post(
    '/api/leads/:id/merge',
    {
      schema: {
        tags,
        summary: 'Merge a duplicate into this lead, moving its whole history',
        params: idParams,
        body: mergeBody,
        response: { 200: leadOut, ...commonErrors },
      },
    },
    async (request) => presentLead(await mergeLeads(deps, actorOf(request), request.params.id, request.body.mergeId)),
  );

  app.post(
    '/api/leads/:id/notes',
    {
      schema: {
        tags,
        summary: 'Add a note to the timeline',
        params: idParams,
        body: noteBody,
        response: { 201: z.object({ ok: z.literal(true) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      await addLeadNote(deps, actorOf(request), request.params.id, request.body.body);
      return reply.status(201).send({ ok: true as const });
    },
  );

  app.get(
    '/api/leads/:id/timeline',
    {
      schema: {
        tags,
        summary: 'Everything that happened to the lead, newest first',
        params: idParams,
        querystring: timelineQuery,
        response: { 200: page(activityOut), ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      await getLead(deps, actor, request.params.id);
      return listActivities(deps.db, actor, { ...request.query, leadId: request.params.id });
    },
  );
}
