/**
 * Shared steps for the handoff, SLA, agreement and invariant tests: sign an agreement through
 * the API, create and hand off leads, sweep one workspace's timers, read what happened.
 */
import { expect } from 'vitest';
import type { AgreementInput } from '../src/domain/agreement.js';
import { DEFAULT_AGREEMENT } from '../src/domain/agreement.js';
import { type SweepResult, sweepDueTimers } from '../src/jobs/sweeper.js';
import type { Ctx, Person } from './harness.js';

/** Open every moment, so SLA arithmetic in tests is plain wall-clock arithmetic. */
export const ALWAYS = { timeZone: 'UTC', workingDays: [1, 2, 3, 4, 5, 6, 7], hours: { start: '00:00', end: '24:00' }, holidays: [] };
/** Monday to Friday, 09:00 to 17:00 UTC (the default's calendar). */
export const OFFICE = { timeZone: 'UTC', workingDays: [1, 2, 3, 4, 5], hours: { start: '09:00', end: '17:00' }, holidays: [] };

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

type Patch = { [K in keyof AgreementInput]?: unknown };

/** The default agreement with some top-level sections replaced (routing and sla are merged one level deep). */
export function agreementDoc(patch: Patch = {}): Record<string, unknown> {
  const base = structuredClone(DEFAULT_AGREEMENT) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...base, name: 'Test agreement' };
  for (const [k, v] of Object.entries(patch)) {
    if ((k === 'routing' || k === 'sla') && v && typeof v === 'object') out[k] = { ...(base[k] as object), ...(v as object) };
    else out[k] = v;
  }
  return out;
}

/** Draft, propose and have both leads sign a document through the API; returns the active version. */
export async function signAgreement(ctx: Ctx, patch: Patch = {}): Promise<{ id: string; version: number }> {
  const ml = ctx.as(ctx.people.marketingLead);
  const draft = await ml.post('/api/agreements', { document: agreementDoc(patch) });
  expect(draft.status, JSON.stringify(draft.body)).toBe(201);
  expect((await ml.post(`/api/agreements/${draft.body.id}/propose`)).status).toBe(200);
  expect((await ml.post(`/api/agreements/${draft.body.id}/sign`)).status).toBe(200);
  const signed = await ctx.as(ctx.people.salesLead).post(`/api/agreements/${draft.body.id}/sign`);
  expect(signed.status).toBe(200);
  expect(signed.body.status).toBe('active');
  return { id: draft.body.id, version: draft.body.version };
}

export const pool = (...members: (Person | [Person, number])[]) =>
  members.map((m) => (Array.isArray(m) ? { user: m[0].user.email, weight: m[1] } : { user: m.user.email, weight: 1 }));

let seq = 0;
/** A new lead (entry stage) created by the marketer. Each gets its own email domain unless one is given. */
export async function newLead(ctx: Ctx, fields: Record<string, unknown> = {}): Promise<{ id: string; stage: string; [k: string]: unknown }> {
  seq += 1;
  const res = await ctx.as(ctx.people.marketer).post('/api/leads', { email: `lead${seq}@co${seq}-${Date.now().toString(36)}.test`, ...fields });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function newAccount(ctx: Ctx, fields: Record<string, unknown>): Promise<{ id: string; domain: string }> {
  seq += 1;
  const res = await ctx
    .as(ctx.people.marketer)
    .post('/api/accounts', { name: `Account ${seq}`, domain: `acct${seq}-${Date.now().toString(36)}.test`, ...fields });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Mark a lead MQL as the marketer and return the handoff that started. */
export async function handOff(ctx: Ctx, leadId: string, by: Person = ctx.people.marketer) {
  const moved = await ctx.as(by).post(`/api/leads/${leadId}/stage`, { stage: 'mql' });
  expect(moved.status, JSON.stringify(moved.body)).toBe(200);
  return openHandoff(ctx, leadId);
}

/** A new lead, handed off at once; returns the open handoff. */
export async function mqlLead(ctx: Ctx, fields: Record<string, unknown> = {}) {
  const lead = await newLead(ctx, fields);
  return handOff(ctx, lead.id);
}

// biome-ignore lint/suspicious/noExplicitAny: handoff bodies are inspected loosely.
export async function openHandoff(ctx: Ctx, leadId: string): Promise<any> {
  const list = await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${leadId}&status=open`);
  expect(list.status).toBe(200);
  expect(list.body.items).toHaveLength(1);
  return list.body.items[0];
}

// biome-ignore lint/suspicious/noExplicitAny: handoff bodies are inspected loosely.
export async function handoff(ctx: Ctx, id: string): Promise<any> {
  const res = await ctx.as(ctx.people.salesLead).get(`/api/handoffs/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

// biome-ignore lint/suspicious/noExplicitAny: handoff bodies are inspected loosely.
export async function handoffsOf(ctx: Ctx, leadId: string): Promise<any[]> {
  const list = await ctx.as(ctx.people.salesLead).get(`/api/handoffs?leadId=${leadId}`);
  expect(list.status).toBe(200);
  return list.body.items;
}

export async function lead(ctx: Ctx, id: string) {
  const res = await ctx.as(ctx.people.marketer).get(`/api/leads/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** Everyone in ctx.people plus extras, by user id. */
export function personById(ctx: Ctx, id: string | null, extra: Person[] = []): Person | undefined {
  return [...Object.values(ctx.people), ...extra].find((p) => p.user.id === id);
}

/** A person's notifications, optionally of one kind and about one handoff. */
export async function notificationsOf(ctx: Ctx, person: Person, filter: { kind?: string; handoffId?: string } = {}) {
  const res = await ctx.as(person).get('/api/notifications?limit=200');
  expect(res.status).toBe(200);
  return (res.body.items as { kind: string; handoffId: string | null; title: string; data: Record<string, unknown> }[]).filter(
    (n) => (!filter.kind || n.kind === filter.kind) && (!filter.handoffId || n.handoffId === filter.handoffId),
  );
}

/** Activities of this workspace, optionally of one kind and about one handoff. */
export async function activities(ctx: Ctx, filter: { kind?: string; handoffId?: string; leadId?: string } = {}) {
  let q = ctx.database.db.selectFrom('activities').selectAll().where('workspace_id', '=', ctx.workspace.id);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  if (filter.handoffId) q = q.where('handoff_id', '=', filter.handoffId);
  if (filter.leadId) q = q.where('lead_id', '=', filter.leadId);
  return q.orderBy('id').execute();
}

export async function timersOf(ctx: Ctx, subjectId: string) {
  return ctx.database.db
    .selectFrom('timers')
    .selectAll()
    .where('workspace_id', '=', ctx.workspace.id)
    .where('subject_id', '=', subjectId)
    .orderBy('due_at')
    .orderBy('kind')
    .execute();
}

/** Fire this workspace's due timers on the test's clock. */
export function sweep(ctx: Ctx): Promise<SweepResult> {
  return sweepDueTimers(ctx.database.db, ctx.clock, { workspaceId: ctx.workspace.id });
}

/** Move the clock to `ms` after `from` and sweep. */
export async function sweepAt(ctx: Ctx, from: Date | string, ms: number): Promise<SweepResult> {
  ctx.clock.set(new Date(new Date(from).getTime() + ms));
  return sweep(ctx);
}

export const outcomes = (r: SweepResult) => r.fired.map((f) => f.outcome);
