import { type App, actorOf, commonErrors, type Deps, expectedVersion, idParams, page, setEtag } from '../../http/context.js';
import { createDealBody, dealOut, listDealsQuery, presentDeal, updateDealBody } from './deals.schema.js';
import { createDeal, getDeal, listDeals, updateDeal } from './deals.service.js';

const tags = ['deals'];

export async function dealsRoutes(app: App, deps: Deps): Promise<void> {
  app.get('/api/deals', { schema: { tags, querystring: listDealsQuery, response: { 200: page(dealOut), ...commonErrors } } }, async (request) => {
    const { items, nextCursor } = await listDeals(deps, actorOf(request), request.query);
    return { items: items.map(presentDeal), nextCursor };
  });

  app.post(
    '/api/deals',
    { schema: { tags, summary: 'Create a deal (sales)', body: createDealBody, response: { 201: dealOut, ...commonErrors } } },
    async (request, reply) => {
      const deal = await createDeal(deps, actorOf(request), request.body);
      setEtag(reply, deal.version);
      return reply.status(201).send(presentDeal(deal));
    },
  );

  app.get('/api/deals/:id', { schema: { tags, params: idParams, response: { 200: dealOut, ...commonErrors } } }, async (request, reply) => {
    const deal = await getDeal(deps, actorOf(request), request.params.id);
    setEtag(reply, deal.version);
    return presentDeal(deal);
  });

  app.patch(
    '/api/deals/:id',
    {
      schema: {
        tags,
        summary: 'Edit a deal (sales); winning it makes the lead a customer',
        params: idParams,
        body: updateDealBody,
        response: { 200: dealOut, ...commonErrors, 412: commonErrors[409], 428: commonErrors[409] },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const deal = await updateDeal(deps, actorOf(request), request.params.id, { ...request.body, version });
      setEtag(reply, deal.version);
      return presentDeal(deal);
    },
  );
}
