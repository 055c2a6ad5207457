import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SCORE_CLASSES } from '../../domain/scoring.js';
import { type App, actorOf, commonErrors, type Deps, idParams } from '../../http/context.js';
import { AppError } from '../../lib/errors.js';
import { activateScoring, explainScore, getScoringState, listScoringVersions, previewScoring, saveScoringDraft } from './scoring.service.js';

const classEnum = z.enum(SCORE_CLASSES);
const documentBody = z
  .object({
    document: z.unknown().optional().describe('The rules as JSON'),
    text: z.string().max(500_000).optional().describe('Or the rules as YAML or JSON text'),
  })
  .strict();

/** The rules from a body that gives them as JSON or as YAML text. */
function documentOf(body: z.infer<typeof documentBody>): unknown {
  if (body.document !== undefined) return body.document;
  if (body.text !== undefined) {
    try {
      return parseYaml(body.text, { prettyErrors: true });
    } catch (error) {
      throw new AppError('validation_failed', `body.text: not valid YAML or JSON: ${(error as Error).message}`, {
        problems: [{ path: 'body.text', message: 'not valid YAML or JSON' }],
      });
    }
  }
  throw new AppError('validation_failed', 'body.document: give the rules as "document" (JSON) or "text" (YAML)', {
    problems: [{ path: 'body.document', message: 'required' }],
  });
}

const rulesDocument = z
  .record(z.string(), z.unknown())
  .describe('The rules: { fit: { rules }, interest: { halfLifeDays, rules }, thresholds: { fit, interest } }');
const stateOut = z.object({
  active: z.object({
    version: z.number().describe('0: the built-in rules'),
    builtIn: z.boolean(),
    activatedAt: z.string().nullable(),
    document: rulesDocument,
  }),
  draft: z.object({ version: z.number(), updatedAt: z.string(), document: rulesDocument }).nullable(),
});
const draftOut = z.object({ version: z.number(), updatedAt: z.string(), document: rulesDocument });
const explanationOut = z.object({
  leadId: z.uuid(),
  rulesVersion: z.number(),
  class: classEnum,
  classLabel: z.string(),
  thresholds: z.object({ fit: z.number(), interest: z.number() }),
  fit: z.object({ score: z.number(), rules: z.array(z.object({ id: z.string(), label: z.string(), points: z.number() })) }),
  interest: z.object({
    score: z.number(),
    halfLifeDays: z.number(),
    rules: z.array(
      z.object({
        id: z.string(),
        label: z.string(),
        events: z.number(),
        earned: z.number().describe('Points as earned, before decay'),
        now: z.number().describe('What they are worth now'),
        lastAt: z.string(),
        halvesBy: z.string().describe('When what they are worth now will have halved'),
      }),
    ),
  }),
  history: z.array(z.object({ at: z.string(), fit: z.number(), interest: z.number(), class: z.string(), cause: z.string() })),
});
const versionOut = z.object({
  version: z.number(),
  status: z.enum(['draft', 'active', 'superseded']),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  activatedBy: z.string().nullable(),
  activatedAt: z.string().nullable(),
});

const previewOut = z.object({
  leads: z.number(),
  classChanges: z.number(),
  transitions: z.array(z.object({ from: classEnum.nullable(), to: classEnum, leads: z.number() })),
  byClass: z.record(z.string(), z.number()),
  wouldQualify: z.number(),
});

export async function scoringRoutes(app: App, deps: Deps): Promise<void> {
  app.get(
    '/api/scoring',
    {
      schema: {
        tags: ['scoring'],
        summary: 'The active scoring rules (built-in until a workspace activates its own) and the draft',
        response: { 200: stateOut, ...commonErrors },
      },
    },
    async (request) => getScoringState(deps, actorOf(request)),
  );
  app.get(
    '/api/scoring/versions',
    {
      schema: {
        tags: ['scoring'],
        summary: 'Every version of the scoring rules',
        response: { 200: z.object({ items: z.array(versionOut) }), ...commonErrors },
      },
    },
    async (request) => ({ items: await listScoringVersions(deps, actorOf(request)) }),
  );
  app.put(
    '/api/scoring/draft',
    {
      schema: {
        tags: ['scoring'],
        summary: 'Save the draft rules (a team lead or admin); validation errors name the path',
        body: documentBody,
        response: { 200: draftOut, ...commonErrors },
      },
    },
    async (request) => saveScoringDraft(deps, actorOf(request), documentOf(request.body)),
  );
  app.post(
    '/api/scoring/preview',
    {
      schema: {
        tags: ['scoring'],
        summary: 'How many leads the rules would move between classes, and how many would qualify for a handoff; saves nothing',
        body: documentBody,
        response: { 200: previewOut, ...commonErrors },
      },
    },
    async (request) => previewScoring(deps, actorOf(request), documentOf(request.body)),
  );
  app.post(
    '/api/scoring/activate',
    {
      schema: {
        tags: ['scoring'],
        summary: 'Make the draft the active rules and rescore every lead',
        response: { 200: z.object({ version: z.number(), rescored: z.number(), qualifying: z.number() }), ...commonErrors },
      },
    },
    async (request) => activateScoring(deps, actorOf(request)),
  );
  app.get(
    '/api/leads/:id/score',
    {
      schema: {
        tags: ['scoring'],
        summary: "Why a lead scores what it does: each rule's points and their decay",
        params: idParams,
        response: { 200: explanationOut, ...commonErrors },
      },
    },
    async (request) => explainScore(deps, actorOf(request), request.params.id),
  );
}
