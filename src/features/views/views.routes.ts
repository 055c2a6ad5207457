import { z } from 'zod';
import { type App, actorOf, commonErrors, type Deps, idParams } from '../../http/context.js';
import { deleteView, listViews, saveView } from './views.service.js';

const PAGES = ['leads'] as const;
/** What a leads view may hold: the table's filters and sort, as the page puts them in its address. */
const FILTER_KEYS = ['q', 'stage', 'owner', 'team', 'class', 'source', 'persona', 'sort', 'view'] as const;

const viewOut = z.object({
  id: z.string(),
  page: z.string(),
  name: z.string(),
  filters: z.record(z.string(), z.string()),
  shared: z.boolean(),
  ownerId: z.string(),
  mine: z.boolean(),
  createdAt: z.string(),
});
const saveBody = z
  .object({
    page: z.enum(PAGES).default('leads'),
    name: z.string().trim().min(1).max(80),
    filters: z.partialRecord(z.enum(FILTER_KEYS), z.string().max(400)),
    shared: z.boolean().default(false).describe('Whether everyone in the workspace sees it'),
  })
  .strict();

export async function viewsRoutes(app: App, deps: Deps): Promise<void> {
  const tags = ['views'];
  app.get(
    '/api/views',
    {
      schema: {
        tags,
        summary: 'Saved views of a page: yours, then those shared with the workspace',
        querystring: z.object({ page: z.enum(PAGES).default('leads') }),
        response: { 200: z.object({ items: z.array(viewOut) }), ...commonErrors },
      },
    },
    async (request) => ({ items: await listViews(deps, actorOf(request), request.query.page) }),
  );
  app.post(
    '/api/views',
    { schema: { tags, summary: 'Save a view; the same name again replaces yours', body: saveBody, response: { 200: viewOut, ...commonErrors } } },
    async (request) => {
      const { page, name, filters, shared } = request.body;
      return saveView(deps, actorOf(request), {
        page,
        name,
        shared,
        filters: Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)) as Record<string, string>,
      });
    },
  );
  app.delete(
    '/api/views/:id',
    {
      schema: {
        tags,
        summary: 'Delete a saved view (yours, or any shared one as an administrator)',
        params: idParams,
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      await deleteView(deps, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
