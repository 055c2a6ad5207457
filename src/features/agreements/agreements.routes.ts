import { z } from 'zod';
import type { AgreementRow } from '../../db/schema.js';
import { DEFAULT_AGREEMENT } from '../../domain/agreement.js';
import { type App, actorOf, commonErrors, type Deps, idParams } from '../../http/context.js';
import {
  createDraft,
  diffVersions,
  getAgreement,
  getEffectiveAgreement,
  listAgreements,
  proposeAgreement,
  returnAgreement,
  signAgreement,
  updateDraft,
} from './agreements.service.js';

const signature = z.object({ by: z.string(), at: z.string() }).nullable();
const agreementOut = z.object({
  id: z.string(),
  version: z.number(),
  status: z.enum(['draft', 'proposed', 'active', 'superseded']),
  document: z.record(z.string(), z.unknown()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  proposedAt: z.string().nullable(),
  signatures: z.object({ marketing: signature, sales: signature }),
  waitingOn: z.array(z.enum(['marketing', 'sales'])).describe('Whose signature a proposed version still needs'),
  activatedAt: z.string().nullable(),
  supersededAt: z.string().nullable(),
  returned: z.object({ by: z.string(), at: z.string(), comment: z.string().nullable() }).nullable(),
});

function present(a: AgreementRow): z.infer<typeof agreementOut> {
  const sig = (by: string | null, at: Date | null) => (by && at ? { by, at: at.toISOString() } : null);
  const waitingOn: ('marketing' | 'sales')[] = [];
  if (a.status === 'proposed') {
    if (!a.marketing_signed_by) waitingOn.push('marketing');
    if (!a.sales_signed_by) waitingOn.push('sales');
  }
  return {
    id: a.id,
    version: a.version,
    status: a.status,
    document: a.document,
    createdBy: a.created_by,
    createdAt: a.created_at.toISOString(),
    updatedAt: a.updated_at.toISOString(),
    proposedAt: a.proposed_at?.toISOString() ?? null,
    signatures: { marketing: sig(a.marketing_signed_by, a.marketing_signed_at), sales: sig(a.sales_signed_by, a.sales_signed_at) },
    waitingOn,
    activatedAt: a.activated_at?.toISOString() ?? null,
    supersededAt: a.superseded_at?.toISOString() ?? null,
    returned: a.returned_by && a.returned_at ? { by: a.returned_by, at: a.returned_at.toISOString(), comment: a.return_comment } : null,
  };
}

const effectiveOut = z.object({
  version: z.number().describe('0 = the built-in default'),
  id: z.string().nullable(),
  signed: z.boolean(),
  document: z.record(z.string(), z.unknown()),
  pending: agreementOut.nullable().describe('The newest draft or proposed version, if any'),
});
const refParams = z.object({ ref: z.string().regex(/^(\d+|[0-9a-f-]{36})$/, 'a version number or id') });
const tags = ['agreement'];

export async function agreementsRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/agreement',
    {
      schema: {
        tags,
        summary: 'The agreement in force (or the unsigned default) and any version in progress',
        response: { 200: effectiveOut, ...commonErrors },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const effective = await getEffectiveAgreement(deps.db, actor.workspaceId);
      const pending = (await listAgreements(deps, actor)).find((a) => a.status === 'draft' || a.status === 'proposed');
      return {
        version: effective.version,
        id: effective.id,
        signed: effective.signed,
        document: effective.document,
        pending: pending ? present(pending) : null,
      };
    },
  );

  app.get(
    '/api/agreements',
    { schema: { tags, summary: 'Every version, newest first', response: { 200: z.object({ items: z.array(agreementOut) }), ...commonErrors } } },
    async (request) => ({
      items: (await listAgreements(deps, actorOf(request))).map(present),
    }),
  );

  app.post(
    '/api/agreements',
    {
      schema: {
        tags,
        summary: 'Start a new draft (team leads, admins); without a document it copies the one in force',
        body: z.object({ document: z.record(z.string(), z.unknown()).optional() }).strict(),
        response: { 201: agreementOut, ...commonErrors },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const document = request.body.document ?? (await getEffectiveAgreement(deps.db, actor.workspaceId)).document;
      return reply.status(201).send(present(await createDraft(deps, actor, document)));
    },
  );

  app.get(
    '/api/agreements/default',
    { schema: { tags, summary: 'The built-in default document', response: { 200: z.record(z.string(), z.unknown()) } } },
    async () => DEFAULT_AGREEMENT,
  );

  app.get(
    '/api/agreements/diff',
    {
      schema: {
        tags,
        summary: 'What changed between two versions ("0" is the default)',
        querystring: z.object({ from: z.string().max(40), to: z.string().max(40) }),
        response: {
          200: z.object({
            changes: z.array(
              z.object({ path: z.string(), change: z.enum(['added', 'removed', 'changed']), before: z.unknown().optional(), after: z.unknown().optional() }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => ({ changes: await diffVersions(deps, actorOf(request), request.query.from, request.query.to) }),
  );

  app.get(
    '/api/agreements/:ref',
    { schema: { tags, summary: 'One version by number or id', params: refParams, response: { 200: agreementOut, ...commonErrors } } },
    async (request) => present(await getAgreement(deps, actorOf(request), request.params.ref)),
  );

  app.put(
    '/api/agreements/:id',
    {
      schema: {
        tags,
        summary: 'Replace the document of a draft',
        params: idParams,
        body: z.object({ document: z.record(z.string(), z.unknown()) }).strict(),
        response: { 200: agreementOut, ...commonErrors },
      },
    },
    async (request) => present(await updateDraft(deps, actorOf(request), request.params.id, request.body.document)),
  );

  app.post(
    '/api/agreements/:id/propose',
    { schema: { tags, summary: 'Send a draft to both leads for signature', params: idParams, response: { 200: agreementOut, ...commonErrors } } },
    async (request) => present(await proposeAgreement(deps, actorOf(request), request.params.id)),
  );

  app.post(
    '/api/agreements/:id/sign',
    {
      schema: {
        tags,
        summary: 'Sign as the marketing or the sales lead; the second signature activates it',
        params: idParams,
        response: { 200: agreementOut, ...commonErrors },
      },
    },
    async (request) => present(await signAgreement(deps, actorOf(request), request.params.id)),
  );

  app.post(
    '/api/agreements/:id/return',
    {
      schema: {
        tags,
        summary: 'Send a proposed version back to draft with a comment',
        params: idParams,
        body: z.object({ comment: z.string().trim().min(1).max(5000) }).strict(),
        response: { 200: agreementOut, ...commonErrors },
      },
    },
    async (request) => present(await returnAgreement(deps, actorOf(request), request.params.id, request.body.comment)),
  );
}
