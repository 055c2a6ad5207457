import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Ctx, setup } from './harness.js';

describe('saved views of the leads table', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  it('keeps a person’s views to themselves until shared, replaces one saved under the same name, and checks who may delete', async () => {
    const marketer = ctx.as(ctx.people.marketer);
    const rep = ctx.as(ctx.people.rep1);
    const first = await marketer.post('/api/views', { name: 'Hot MQLs', filters: { stage: 'mql', class: 'good_fit_high_interest' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ name: 'Hot MQLs', shared: false, mine: true, filters: { stage: 'mql' } });
    expect((await rep.get('/api/views')).body.items).toEqual([]);

    const again = await marketer.post('/api/views', { name: 'hot mqls', filters: { stage: 'mql' }, shared: true });
    expect(again.body.id).toBe(first.body.id);
    const mine = (await marketer.get('/api/views')).body.items;
    expect(mine).toHaveLength(1);
    expect(mine[0].filters).toEqual({ stage: 'mql' });

    const seen = (await rep.get('/api/views?page=leads')).body.items;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ name: 'hot mqls', mine: false, shared: true });
    expect((await rep.delete(`/api/views/${first.body.id}`)).status).toBe(403);
    expect((await ctx.as(ctx.people.admin).delete(`/api/views/${first.body.id}`)).status).toBe(204);
    expect((await marketer.get('/api/views')).body.items).toEqual([]);
  });

  it('refuses a filter it does not know, naming it, and saves nothing', async () => {
    const res = await ctx.as(ctx.people.marketer).post('/api/views', { name: 'Odd', filters: { colour: 'blue' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('filters');
    expect((await ctx.as(ctx.people.marketer).get('/api/views')).body.items.some((v: { name: string }) => v.name === 'Odd')).toBe(false);
  });

  it('never shows or deletes another workspace’s views', async () => {
    const other = await setup();
    const shared = await other.as(other.people.marketer).post('/api/views', { name: 'Theirs', filters: { q: 'x' }, shared: true });
    expect((await ctx.as(ctx.people.marketer).get('/api/views')).body.items.some((v: { name: string }) => v.name === 'Theirs')).toBe(false);
    expect((await ctx.as(ctx.people.admin).delete(`/api/views/${shared.body.id}`)).status).toBe(404);
    await other.app.close();
  });
});
