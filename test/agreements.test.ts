import { afterEach, describe, expect, it } from 'vitest';
import { ALWAYS, agreementDoc, HOUR, lead, mqlLead, newLead, pool, signAgreement } from './handoff-kit.js';
import { type Ctx, countRows, setup } from './harness.js';

const opened: Ctx[] = [];
async function fresh(): Promise<Ctx> {
  const ctx = await setup();
  opened.push(ctx);
  return ctx;
}
afterEach(async () => {
  for (const ctx of opened.splice(0)) await ctx.app.close();
});

const paths = (res: { body: { error: { details: { problems: { path: string }[] } } } }) => res.body.error.details.problems.map((p) => p.path);

describe('before anyone signs', () => {
  it('applies the built-in default and shows it as unsigned, with nothing pending', async () => {
    const ctx = await fresh();
    const res = await ctx.as(ctx.people.rep1).get('/api/agreement');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 0, id: null, signed: false, pending: null });
    expect(res.body.document.name).toMatch(/unsigned/i);
    expect(res.body.document.stages.map((s: { key: string }) => s.key)).toEqual([
      'subscriber',
      'lead',
      'mql',
      'sal',
      'sql',
      'customer',
      'nurture',
      'disqualified',
    ]);
    expect(res.body.document.stages.map((s: { team: string }) => s.team)).toEqual([
      'marketing',
      'marketing',
      'marketing',
      'sales',
      'sales',
      'sales',
      'marketing',
      'marketing',
    ]);
    expect(res.body.document.escalation).toEqual([
      { at: 0.5, action: 'remind' },
      { at: 1, action: 'notify_lead' },
      { at: 1.5, action: 'reassign' },
    ]);
    expect((await ctx.as(ctx.people.rep1).get('/api/agreements')).body.items).toEqual([]);
  });
});

describe('drafting', () => {
  it('refuses an invalid document with problems that name their paths, and writes nothing', async () => {
    const ctx = await fresh();
    const before = [await countRows(ctx, 'agreements'), await countRows(ctx, 'activities')];
    const doc = agreementDoc({ sla: { acceptWithin: '4 hours', firstContactWithin: '8h' } });
    (doc.stages as { team: string }[])[1] = { ...(doc.stages as object[])[1], team: 'finance' } as { team: string };
    (doc.calendar as { timeZone: string }).timeZone = 'Mars/Olympus_Mons';
    const res = await ctx.as(ctx.people.marketingLead).post('/api/agreements', { document: doc });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(paths(res)).toEqual(expect.arrayContaining(['document.sla.acceptWithin', 'document.stages[1].team']));
    expect(res.body.error.message).toContain('document.');
    expect([await countRows(ctx, 'agreements'), await countRows(ctx, 'activities')]).toEqual(before);
  });

  it('checks rules that span fields: reason targets, stage roles, calendar, escalation order', async () => {
    const ctx = await fresh();
    const doc = agreementDoc({
      calendar: { timeZone: 'Mars/Olympus_Mons', workingDays: [1, 1], hours: { start: '18:00', end: '09:00' }, holidays: ['2026-02-30'] },
      escalation: [
        { at: 1, action: 'notify_lead' },
        { at: 0.5, action: 'remind' },
      ],
      nurture: { days: 30, returnTo: 'sal' },
    });
    (doc.reasons as { reject: { to: string }[] }).reject[0] = { ...(doc.reasons as { reject: { to: string }[] }).reject[0], to: 'limbo' } as { to: string };
    (doc.reasons as { handBack: { to: string }[] }).handBack[0] = { ...(doc.reasons as { handBack: { to: string }[] }).handBack[0], to: 'sql' } as {
      to: string;
    };
    (doc.stages as { role: string }[])[2] = { ...(doc.stages as object[])[2], role: 'working' } as { role: string };
    const res = await ctx.as(ctx.people.salesLead).post('/api/agreements', { document: doc });
    expect(res.status).toBe(400);
    expect(paths(res)).toEqual(
      expect.arrayContaining([
        'document.reasons.reject[0].to',
        'document.reasons.handBack[0].to',
        'document.stages',
        'document.nurture.returnTo',
        'document.calendar.timeZone',
        'document.calendar.workingDays[1]',
        'document.calendar.hours',
        'document.calendar.holidays[0]',
        'document.escalation',
      ]),
    );
  });

  it('refuses unknown fields and missing sections, by path', async () => {
    const ctx = await fresh();
    const doc = agreementDoc();
    delete doc.sla;
    doc.colour = 'blue';
    const res = await ctx.as(ctx.people.marketingLead).post('/api/agreements', { document: doc });
    expect(res.status).toBe(400);
    expect(res.body.error.details.problems).toEqual([
      { path: 'document.sla', message: expect.any(String) },
      { path: 'document.colour', message: expect.stringContaining('colour') },
    ]);
  });

  it('requires every person a routing pool names to be on the sales team of this workspace', async () => {
    const ctx = await fresh();
    const doc = agreementDoc({
      routing: {
        rules: [{ name: 'EMEA', when: { region: ['EMEA'] }, pool: [{ user: 'ghost@example.com', weight: 1 }] }],
        fallbackPool: [{ user: ctx.people.marketer.user.email, weight: 1 }, ...pool(ctx.people.rep1)],
      },
    });
    const res = await ctx.as(ctx.people.marketingLead).post('/api/agreements', { document: doc });
    expect(res.status).toBe(400);
    expect(res.body.error.details.problems).toEqual([
      { path: 'document.routing.rules[0].pool[0].user', message: expect.stringContaining('ghost@example.com') },
      { path: 'document.routing.fallbackPool[0].user', message: expect.stringContaining('not on the sales team') },
    ]);
    expect(await countRows(ctx, 'agreements')).toBe(0);
    // A person who is in another workspace does not count either.
    const elsewhere = await fresh();
    const outsider = await elsewhere.addPerson({ name: 'Olga Outsider', team: 'sales' });
    const cross = await ctx.as(ctx.people.marketingLead).post('/api/agreements', {
      document: agreementDoc({ routing: { fallbackPool: pool(outsider) } }),
    });
    expect(cross.status).toBe(400);
  });

  it('lets team leads and admins draft, not members; without a document the draft copies the one in force', async () => {
    const ctx = await fresh();
    expect((await ctx.as(ctx.people.rep1).post('/api/agreements', {})).status).toBe(403);
    expect((await ctx.as(ctx.people.marketer).post('/api/agreements', {})).status).toBe(403);
    const byAdmin = await ctx.as(ctx.people.admin).post('/api/agreements', {});
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body).toMatchObject({ version: 1, status: 'draft', waitingOn: [] });
    expect(byAdmin.body.document.stages).toEqual((await ctx.as(ctx.people.admin).get('/api/agreements/default')).body.stages);
    const bySales = await ctx.as(ctx.people.salesLead).post('/api/agreements', {});
    expect(bySales.body.version).toBe(2);
  });

  it('edits drafts only', async () => {
    const ctx = await fresh();
    const ml = ctx.as(ctx.people.marketingLead);
    const draft = (await ml.post('/api/agreements', {})).body;
    const edited = await ml.put(`/api/agreements/${draft.id}`, { document: agreementDoc({ sla: { acceptWithin: '2h' } }) });
    expect(edited.status).toBe(200);
    expect(edited.body.document.sla.acceptWithin).toBe('2h');
    const bad = await ml.put(`/api/agreements/${draft.id}`, { document: agreementDoc({ sla: { acceptWithin: 'soon' } }) });
    expect(bad.status).toBe(400);
    expect(paths(bad)).toEqual(['document.sla.acceptWithin']);
    expect((await ml.get(`/api/agreements/${draft.id}`)).body.document.sla.acceptWithin).toBe('2h');
    expect((await ml.post(`/api/agreements/${draft.id}/propose`)).status).toBe(200);
    expect((await ml.put(`/api/agreements/${draft.id}`, { document: agreementDoc() })).status).toBe(409);
    expect((await ml.post(`/api/agreements/${draft.id}/propose`)).status).toBe(409);
  });
});

describe('signing', () => {
  it('goes draft → proposed → signed by marketing (waiting on sales) → signed by sales → active', async () => {
    const ctx = await fresh();
    const ml = ctx.as(ctx.people.marketingLead);
    const sl = ctx.as(ctx.people.salesLead);
    const draft = (await ml.post('/api/agreements', { document: agreementDoc({ sla: { acceptWithin: '2h' } }) })).body;
    // A draft cannot be signed before it is proposed.
    expect((await ml.post(`/api/agreements/${draft.id}/sign`)).status).toBe(409);
    const proposed = await ml.post(`/api/agreements/${draft.id}/propose`);
    expect(proposed.body).toMatchObject({ status: 'proposed', waitingOn: ['marketing', 'sales'] });
    expect((await ml.get('/api/agreement')).body.pending).toMatchObject({ id: draft.id, status: 'proposed' });

    const half = await ml.post(`/api/agreements/${draft.id}/sign`);
    expect(half.status).toBe(200);
    expect(half.body).toMatchObject({
      status: 'proposed',
      waitingOn: ['sales'],
      signatures: { marketing: { by: ctx.people.marketingLead.user.id }, sales: null },
    });
    expect((await ml.post(`/api/agreements/${draft.id}/sign`)).status).toBe(409);
    // Still the default in force until both have signed.
    expect((await ml.get('/api/agreement')).body).toMatchObject({ version: 0, signed: false });

    const full = await sl.post(`/api/agreements/${draft.id}/sign`);
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ status: 'active', waitingOn: [], signatures: { sales: { by: ctx.people.salesLead.user.id } } });
    expect(full.body.activatedAt).not.toBeNull();
    const inForce = (await ctx.as(ctx.people.rep1).get('/api/agreement')).body;
    expect(inForce).toMatchObject({ version: draft.version, id: draft.id, signed: true, pending: null });
    expect(inForce.document.sla.acceptWithin).toBe('2h');
    // And it governs new handoffs.
    const h = await mqlLead(ctx);
    expect(h.agreementVersion).toBe(draft.version);
    expect(new Date(h.dueAt).getTime() - new Date(h.createdAt).getTime()).toBe(2 * HOUR);
  });

  it('takes signatures only from the two team leads', async () => {
    const ctx = await fresh();
    const ml = ctx.as(ctx.people.marketingLead);
    const draft = (await ml.post('/api/agreements', {})).body;
    await ml.post(`/api/agreements/${draft.id}/propose`);
    for (const p of [ctx.people.rep1, ctx.people.marketer, ctx.people.admin]) {
      const res = await ctx.as(p).post(`/api/agreements/${draft.id}/sign`);
      expect(res.status).toBe(403);
    }
    expect((await ml.get(`/api/agreements/${draft.id}`)).body).toMatchObject({ status: 'proposed', waitingOn: ['marketing', 'sales'] });
    expect((await ctx.as(ctx.people.rep1).post(`/api/agreements/${draft.id}/return`, { comment: 'no' })).status).toBe(403);
  });

  it('supersedes the previous version when a new one is signed, so exactly one is active', async () => {
    const ctx = await fresh();
    const v1 = await signAgreement(ctx, { sla: { acceptWithin: '2h' } });
    const v2 = await signAgreement(ctx, { sla: { acceptWithin: '3h' } });
    expect(v2.version).toBe(v1.version + 1);
    const list = (await ctx.as(ctx.people.rep1).get('/api/agreements')).body.items;
    expect(list.map((a: { version: number; status: string }) => [a.version, a.status])).toEqual([
      [v2.version, 'active'],
      [v1.version, 'superseded'],
    ]);
    expect(list[1].supersededAt).toBe(list[0].activatedAt);
    const active = await ctx.database.db
      .selectFrom('agreements')
      .select('id')
      .where('workspace_id', '=', ctx.workspace.id)
      .where('status', '=', 'active')
      .execute();
    expect(active).toEqual([{ id: v2.id }]);
    expect((await ctx.as(ctx.people.rep1).get('/api/agreement')).body.document.sla.acceptWithin).toBe('3h');
    // A superseded version cannot come back.
    expect((await ctx.as(ctx.people.salesLead).post(`/api/agreements/${v1.id}/sign`)).status).toBe(409);
  });

  it('lets either lead send a proposed version back with a comment, clearing signatures', async () => {
    const ctx = await fresh();
    const ml = ctx.as(ctx.people.marketingLead);
    const sl = ctx.as(ctx.people.salesLead);
    const draft = (await ml.post('/api/agreements', { document: agreementDoc({ sla: { acceptWithin: '1h' } }) })).body;
    await ml.post(`/api/agreements/${draft.id}/propose`);
    await ml.post(`/api/agreements/${draft.id}/sign`);
    const empty = await sl.post(`/api/agreements/${draft.id}/return`, { comment: '   ' });
    expect(empty.status).toBe(400);
    expect(paths(empty)).toEqual(['body.comment']);
    const back = await sl.post(`/api/agreements/${draft.id}/return`, { comment: 'One hour is too tight for us' });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({
      status: 'draft',
      signatures: { marketing: null, sales: null },
      returned: { by: ctx.people.salesLead.user.id, comment: 'One hour is too tight for us' },
    });
    expect((await ml.get('/api/agreement')).body).toMatchObject({ version: 0, signed: false, pending: { id: draft.id, status: 'draft' } });
    // Returning a draft again is a conflict; the draft is edited and goes round again.
    expect((await ml.post(`/api/agreements/${draft.id}/return`, { comment: 'again' })).status).toBe(409);
    expect((await ml.put(`/api/agreements/${draft.id}`, { document: agreementDoc({ sla: { acceptWithin: '3h' } }) })).status).toBe(200);
    expect((await ml.post(`/api/agreements/${draft.id}/propose`)).body.waitingOn).toEqual(['marketing', 'sales']);
    await sl.post(`/api/agreements/${draft.id}/sign`);
    const signed = await ml.post(`/api/agreements/${draft.id}/sign`);
    expect(signed.body.status).toBe('active');
    expect(signed.body.document.sla.acceptWithin).toBe('3h');
  });

  it('checks routing people again at proposal, in case someone left since the draft', async () => {
    const ctx = await fresh();
    const temp = await ctx.addPerson({ name: 'Tim Temp', team: 'sales' });
    const ml = ctx.as(ctx.people.marketingLead);
    const draft = (await ml.post('/api/agreements', { document: agreementDoc({ routing: { fallbackPool: pool(temp) } }) })).body;
    expect((await ctx.as(ctx.people.admin).patch(`/api/users/${temp.user.id}`, { team: 'marketing' })).status).toBe(200);
    const res = await ml.post(`/api/agreements/${draft.id}/propose`);
    expect(res.status).toBe(400);
    expect(paths(res)).toEqual(['document.routing.fallbackPool[0].user']);
  });
});

describe('comparing versions', () => {
  it('lists the changed paths between two versions and against the default', async () => {
    const ctx = await fresh();
    const v1 = await signAgreement(ctx, { sla: { acceptWithin: '2h' } });
    const stages = agreementDoc().stages as { key: string; name: string }[];
    const doc2 = agreementDoc({
      sla: { acceptWithin: '3h', firstContactWithin: '8h' },
      stages: [
        ...stages.map((s) => (s.key === 'sql' ? { ...s, name: 'Opportunity' } : s)),
        { key: 'recycled', name: 'Recycled', team: 'marketing', phase: 'interest' },
      ],
      routing: { fallbackPool: pool(ctx.people.rep1) },
    });
    const draft = (await ctx.as(ctx.people.marketingLead).post('/api/agreements', { document: doc2 })).body;
    const res = await ctx.as(ctx.people.rep1).get(`/api/agreements/diff?from=${v1.version}&to=${draft.version}`);
    expect(res.status).toBe(200);
    const byPath = Object.fromEntries(res.body.changes.map((c: { path: string }) => [c.path, c]));
    expect(Object.keys(byPath).sort()).toEqual(['routing.fallbackPool', 'sla.acceptWithin', 'stages[recycled]', 'stages[sql].name']);
    expect(byPath['sla.acceptWithin']).toEqual({ path: 'sla.acceptWithin', change: 'changed', before: '2h', after: '3h' });
    expect(byPath['stages[recycled]']).toMatchObject({ change: 'added', after: { key: 'recycled', role: 'working' } });
    expect(byPath['stages[sql].name']).toMatchObject({ before: 'SQL / Opportunity', after: 'Opportunity' });
    const fromDefault = await ctx.as(ctx.people.rep1).get(`/api/agreements/diff?from=0&to=${v1.version}`);
    expect(fromDefault.body.changes.map((c: { path: string }) => c.path).sort()).toEqual(['name', 'sla.acceptWithin']);
    const same = await ctx.as(ctx.people.rep1).get(`/api/agreements/diff?from=${v1.version}&to=${v1.id}`);
    expect(same.body.changes).toEqual([]);
    expect((await ctx.as(ctx.people.rep1).get(`/api/agreements/diff?from=0&to=99`)).status).toBe(404);
  });
});

describe('the agreement drives the funnel', () => {
  it('moves leads through the stages of the active agreement, not the old ones', async () => {
    const ctx = await fresh();
    const base = agreementDoc();
    const stages = (base.stages as { key: string; name: string; role: string }[]).map((s) => {
      if (s.key === 'lead') return { ...s, key: 'engaged', name: 'Engaged' };
      if (s.key === 'mql') return { ...s, key: 'ready', name: 'Sales ready' };
      if (s.key === 'sal') return { ...s, key: 'taken', name: 'Taken by sales' };
      return s;
    });
    await signAgreement(ctx, {
      stages,
      nurture: { days: 30, returnTo: 'engaged' },
      calendar: ALWAYS,
      routing: { fallbackPool: pool(ctx.people.rep1) },
    });
    const created = await newLead(ctx);
    const mkt = ctx.as(ctx.people.marketer);
    const old = await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'lead' });
    expect(old.status).toBe(400);
    expect(paths(old)).toEqual(['body.stage']);
    expect(old.body.error.message).toContain('engaged');
    expect((await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'engaged' })).body.stage).toBe('engaged');
    expect((await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'mql' })).status).toBe(400);
    // The renamed handoff stage still hands off, and accepting lands in the renamed accepted stage.
    const moved = await mkt.post(`/api/leads/${created.id}/stage`, { stage: 'ready' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ stage: 'ready', ownerId: ctx.people.rep1.user.id });
    const list = await ctx.as(ctx.people.rep1).get(`/api/handoffs?leadId=${created.id}&status=open`);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].fromStage).toBe('engaged');
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${list.body.items[0].id}/accept`, {})).status).toBe(200);
    expect((await lead(ctx, created.id)).stage).toBe('taken');
  });

  it('lets a lead sit in a marketing stage the agreement adds, and creating a lead straight into the handoff stage hands it off', async () => {
    const ctx = await fresh();
    const stages = [...(agreementDoc().stages as object[]), { key: 'webinar', name: 'Webinar attendee', team: 'marketing', phase: 'interest' }];
    await signAgreement(ctx, { stages, routing: { fallbackPool: pool(ctx.people.rep2) } });
    const created = await ctx.as(ctx.people.marketer).post('/api/leads', { email: 'w@webinar.test', stage: 'webinar' });
    expect(created.status).toBe(201);
    expect(created.body.stage).toBe('webinar');
    expect((await ctx.as(ctx.people.rep1).post('/api/leads', { email: 'x@webinar.test', stage: 'webinar' })).status).toBe(403);
    const direct = await ctx.as(ctx.people.marketer).post('/api/leads', { email: 'hot@webinar.test', stage: 'mql' });
    expect(direct.body).toMatchObject({ stage: 'mql', ownerId: ctx.people.rep2.user.id });
  });
});

describe('signing at the same moment', () => {
  it('activates a version once when both leads sign together', async () => {
    const ctx = await fresh();
    const ml = ctx.as(ctx.people.marketingLead);
    const draft = (await ml.post('/api/agreements', {})).body;
    await ml.post(`/api/agreements/${draft.id}/propose`);
    const both = await Promise.all([ml.post(`/api/agreements/${draft.id}/sign`), ctx.as(ctx.people.salesLead).post(`/api/agreements/${draft.id}/sign`)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect((await ml.get(`/api/agreements/${draft.id}`)).body).toMatchObject({ status: 'active', waitingOn: [] });
  });

  it('leaves exactly one version active when two are completed together', async () => {
    const ctx = await fresh();
    const ml = ctx.as(ctx.people.marketingLead);
    const sl = ctx.as(ctx.people.salesLead);
    const ids: string[] = [];
    for (const within of ['2h', '3h']) {
      const draft = (await ml.post('/api/agreements', { document: agreementDoc({ sla: { acceptWithin: within } }) })).body;
      await ml.post(`/api/agreements/${draft.id}/propose`);
      await ml.post(`/api/agreements/${draft.id}/sign`);
      ids.push(draft.id);
    }
    const both = await Promise.all(ids.map((id) => sl.post(`/api/agreements/${id}/sign`)));
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    const statuses = (await ml.get('/api/agreements')).body.items.map((a: { status: string }) => a.status).sort();
    expect(statuses).toEqual(['active', 'superseded']);
    const inForce = (await ml.get('/api/agreement')).body;
    expect(ids).toContain(inForce.id);
  });
});

describe('drafting at the same moment', () => {
  it('numbers drafts started together one after the other', async () => {
    const ctx = await fresh();
    const results = await Promise.all([
      ctx.as(ctx.people.marketingLead).post('/api/agreements', {}),
      ctx.as(ctx.people.salesLead).post('/api/agreements', {}),
      ctx.as(ctx.people.admin).post('/api/agreements', {}),
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(results.map((r) => r.body.version).sort()).toEqual([1, 2, 3]);
  });
});

describe('changing the agreement while a lead is being handed off', () => {
  it('keeps the lead in its handoff when the new version renames the handoff stage', async () => {
    const ctx = await fresh();
    await signAgreement(ctx, { routing: { fallbackPool: pool(ctx.people.rep1) } });
    const h = await mqlLead(ctx);
    const stages = (agreementDoc().stages as { key: string; role: string }[]).map((s) => (s.key === 'mql' ? { ...s, key: 'ready', name: 'Sales ready' } : s));
    const other = await newLead(ctx);
    const before = await lead(ctx, h.leadId);
    ctx.clock.advance(HOUR);
    await signAgreement(ctx, { stages, routing: { fallbackPool: pool(ctx.people.rep1) } });
    // The lead moved with the rename (a rename, not a stage change); leads elsewhere did not move.
    expect(await lead(ctx, h.leadId)).toMatchObject({ stage: 'ready', stageChangedAt: before.stageChangedAt });
    expect((await lead(ctx, other.id)).stage).toBe('subscriber');
    const moved = await ctx.as(ctx.people.marketer).post(`/api/leads/${h.leadId}/stage`, { stage: 'lead' });
    expect(moved.status).toBe(403);
    expect((await ctx.as(ctx.people.rep1).post(`/api/handoffs/${h.id}/accept`, {})).status).toBe(200);
    expect((await lead(ctx, h.leadId)).stage).toBe('sal');
  });
});
