import { type App, actorOf, commonErrors, type Deps, expectedVersion, idParams, page, setEtag } from '../../http/context.js';
import { activityOut, timelineQuery } from '../activities/activities.schema.js';
import { listActivities } from '../activities/activities.service.js';
import { mergeBody } from '../leads/leads.schema.js';
import { accountOut, createAccountBody, listAccountsQuery, presentAccount, updateAccountBody } from './accounts.schema.js';
import { createAccount, getAccount, listAccounts, mergeAccounts, updateAccount } from './accounts.service.js';

const tags = ['accounts'];

export async function accountsRoutes(app: App, deps: Deps): Promise<void> {
  app.get('/api/accounts', { schema: { tags, querystring: listAccountsQuery, response: { 200: page(accountOut), ...commonErrors } } }, async (request) => {
    const { items, nextCursor } = await listAccounts(deps, actorOf(request), request.query);
    return { items: items.map(presentAccount), nextCursor };
  });

  app.post('/api/accounts', { schema: { tags, body: createAccountBody, response: { 201: accountOut, ...commonErrors } } }, async (request, reply) => {
    const account = await createAccount(deps, actorOf(request), request.body);
    setEtag(reply, account.version);
    return reply.status(201).send(presentAccount(account));
  });

  app.get('/api/accounts/:id', { schema: { tags, params: idParams, response: { 200: accountOut, ...commonErrors } } }, async (request, reply) => {
    const account = await getAccount(deps, actorOf(request), request.params.id);
    setEtag(reply, account.version);
    return presentAccount(account);
  });

  app.patch(
    '/api/accounts/:id',
    {
      schema: {
        tags,
        summary: 'Edit an account; send If-Match or "version"',
        params: idParams,
        body: updateAccountBody,
        response: { 200: accountOut, ...commonErrors, 412: commonErrors[409], 428: commonErrors[409] },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request, request.body.version);
      const account = await updateAccount(deps, actorOf(request), request.params.id, { ...request.body, version });
      setEtag(reply, account.version);
      return presentAccount(account);
    },
  );

  app.post(
    '/api/accounts/:id/merge',
    { schema: { tags, summary: 'Merge a duplicate account into this one', params: idParams, body: mergeBody, response: { 200: accountOut, ...commonErrors } } },
    async (request) => presentAccount(await mergeAccounts(deps, actorOf(request), request.params.id, request.body.mergeId)),
  );

  app.get(
    '/api/accounts/:id/timeline',
    { schema: { tags, params: idParams, querystring: timelineQuery, response: { 200: page(activityOut), ...commonErrors } } },
    async (request) => {
      const actor = actorOf(request);
      await getAccount(deps, actor, request.params.id);
      return listActivities(deps.db, actor, { ...request.query, accountId: request.params.id });
    },
  );
}
