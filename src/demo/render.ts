import type { Insertable } from 'kysely';
import type { ActivitiesTable, DealsTable, HandoffsTable, LeadsTable, NotificationsTable, TimersTable } from '../db/schema.js';
import { firstContactDue } from '../domain/sla.js';
import { leadLabel } from '../features/handoffs/handoffs.service.js';
import { uuidv7 } from '../lib/ids.js';
import { DAY, type DealSim, type HandoffSim, HOUR, type LeadSim, MINUTE, person, type Who, type World } from './story.js';

/**
 * Turn stories into rows by replaying each one the way the use cases would have changed the
 * database: the lead's stage, owner and version, each handoff's state, the timeline, the
 * notifications people would have received, and the timers still pending at "now".
 */

export interface Rows {
  leads: Insertable<LeadsTable>[];
  handoffs: Insertable<HandoffsTable>[];
  deals: Insertable<DealsTable>[];
  activities: Insertable<ActivitiesTable>[];
  notifications: Insertable<NotificationsTable>[];
  timers: Insertable<TimersTable>[];
}

export function emptyRows(): Rows {
  return { leads: [], handoffs: [], deals: [], activities: [], notifications: [], timers: [] };
}

interface HandoffRow {
  workspace_id: string;
  id: string;
  lead_id: string;
  agreement_version: number;
  status: 'open' | 'accepted' | 'rejected' | 'reassigned' | 'withdrawn';
  assignee_id: string | null;
  route: Record<string, unknown>;
  from_stage: string;
  created_by: string | null;
  created_at: Date;
  due_at: Date;
  breached_at: Date | null;
  escalation_step: number;
  closed_at: Date | null;
  closed_by: string | null;
  reason_code: string | null;
  note: string | null;
  first_contact_due_at: Date | null;
  first_contact_at: Date | null;
  first_contact_breached_at: Date | null;
  previous_handoff_id: string | null;
  next_handoff_id: string | null;
}

interface DealRow {
  workspace_id: string;
  id: string;
  name: string;
  amount: string;
  currency: string;
  stage: string;
  status: 'open' | 'won' | 'lost';
  close_date: string | null;
  lead_id: string | null;
  account_id: string | null;
  owner_id: string | null;
  lost_reason: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const iso = (ms: number) => new Date(ms).toISOString();

export class Renderer {
  readonly #w: World;
  readonly #ws: string;
  readonly #rows: Rows;
  readonly #salesLead: string;
  readonly #recentFrom: number;

  constructor(w: World, workspaceId: string, rows: Rows) {
    this.#w = w;
    this.#ws = workspaceId;
    this.#rows = rows;
    this.#salesLead = person(w, 'daniel').id;
    // Older notifications would have been read and cleared long ago; keep two weeks of them.
    this.#recentFrom = w.now - 14 * DAY;
  }

  #nameOf(id: string | null): string {
    for (const p of this.#w.people.values()) if (p.id === id) return p.name;
    return 'Tandem';
  }

  #notify(
    at: number,
    userIds: (string | null)[],
    n: { kind: string; title: string; leadId: string; handoffId: string; data?: Record<string, unknown> },
    live: boolean,
  ): void {
    if (!live && at < this.#recentFrom) return;
    const { rng, now } = this.#w;
    for (const userId of new Set(userIds)) {
      if (!userId) continue;
      let readAt: Date | null = null;
      // What is still waiting for someone stays unread; older news has mostly been seen.
      if (!live && (at < now - 2 * DAY || rng.chance(0.4))) {
        const seen = at + Math.round(rng.between(10 * MINUTE, 20 * HOUR));
        if (seen < now) readAt = new Date(seen);
      }
      this.#rows.notifications.push({
        workspace_id: this.#ws,
        id: uuidv7(at),
        user_id: userId,
        kind: n.kind,
        title: n.title,
        lead_id: n.leadId,
        handoff_id: n.handoffId,
        data: n.data ?? {},
        created_at: new Date(at),
        read_at: readAt,
      });
    }
  }

  render(lead: LeadSim): void {
    const w = this.#w;
    const { stages, now } = w;
    const rows = this.#rows;
    const ws = this.#ws;
    const salesLead = this.#salesLead;
    const accountId = lead.account?.id ?? null;
    const label = leadLabel({ first_name: lead.firstName, last_name: lead.lastName, email: lead.email, company: lead.company });
    const events = [...lead.events].sort((a, b) => a.at - b.at);
    const hrows = new Map<HandoffSim, HandoffRow>();
    const drows = new Map<DealSim, DealRow>();
    let stage = stages.entry;
    let owner: string | null = null;
    let status: string | null = null;
    let version = 1;
    let stageChangedAt = lead.createdAt;
    let updatedAt = lead.createdAt;

    const resolve = (who: Who): [string | null, 'user' | 'api_key' | 'system'] => {
      switch (who.t) {
        case 'system':
          return [null, 'system'];
        case 'user':
          return [who.id, 'user'];
        case 'api_key':
          return [who.id, 'api_key'];
        case 'assignee':
          return [hrows.get(who.h)?.assignee_id ?? who.h.assignee ?? salesLead, 'user'];
        case 'owner':
          return [owner ?? salesLead, 'user'];
      }
    };
    const act = (
      at: number,
      kind: string,
      who: Who,
      data: Record<string, unknown>,
      refs: { handoff?: string; deal?: string; account?: boolean } = {},
    ): void => {
      const [actorId, actorType] = resolve(who);
      rows.activities.push({
        workspace_id: ws,
        id: uuidv7(at),
        at: new Date(at),
        kind,
        actor_id: actorId,
        actor_type: actorType,
        lead_id: lead.id,
        account_id: refs.account === false ? null : accountId,
        deal_id: refs.deal ?? null,
        handoff_id: refs.handoff ?? null,
        data,
      });
    };
    const moveTo = (at: number, to: string, who: Who, data: Record<string, unknown> = {}, dealId?: string): void => {
      act(at, 'lead.stage_changed', who, { from: stage, to, ...data }, dealId ? { deal: dealId } : {});
      stage = to;
      stageChangedAt = at;
    };
    const touch = (at: number): void => {
      version += 1;
      updatedAt = at;
    };
    const row = (h: HandoffSim): HandoffRow => {
      const r = hrows.get(h);
      if (!r) throw new Error(`demo story of ${lead.email} acts on a handoff before it starts`);
      return r;
    };
    const assigneeOf = (h: HandoffSim): Who => ({ t: 'assignee', h });

    for (const e of events) {
      switch (e.k) {
        case 'created':
          stage = e.stage;
          // createLead makes the creator the owner until someone takes the lead over.
          owner = e.by.t === 'user' || e.by.t === 'api_key' ? e.by.id : null;
          act(e.at, 'lead.created', e.by, { stage: e.stage, source: lead.source });
          break;
        case 'move':
          moveTo(e.at, e.to, e.by, e.data, e.dealId);
          touch(e.at);
          if (e.to === stages.sql) status = 'qualified';
          else if (e.to === stages.disqualified) status = 'unqualified';
          else if (e.to === w.v1.nurture.returnTo && status === 'bad_timing') status = null;
          break;
        case 'handoff': {
          const h = e.h;
          const r: HandoffRow = {
            workspace_id: ws,
            id: h.id,
            lead_id: lead.id,
            agreement_version: h.version,
            status: 'open',
            assignee_id: h.routedTo,
            route: h.route,
            from_stage: h.fromStage,
            created_by: h.createdBy,
            created_at: new Date(h.createdAt),
            due_at: new Date(h.dueAt),
            breached_at: null,
            escalation_step: 0,
            closed_at: null,
            closed_by: null,
            reason_code: null,
            note: null,
            first_contact_due_at: null,
            first_contact_at: null,
            first_contact_breached_at: null,
            previous_handoff_id: h.previous?.id ?? null,
            next_handoff_id: null,
          };
          hrows.set(h, r);
          const by = h.startedBy;
          if (stage !== stages.handoff) moveTo(e.at, stages.handoff, by);
          owner = h.routedTo;
          touch(e.at);
          act(
            e.at,
            h.previous ? 'handoff.reassigned_to' : 'handoff.created',
            by,
            {
              assigneeId: h.routedTo,
              pool: h.route.pool,
              explanation: h.route.explanation,
              dueAt: iso(h.dueAt),
              previousHandoffId: h.previous?.id ?? null,
            },
            { handoff: h.id },
          );
          const live = h.closeAt === null;
          if (h.routedTo) {
            this.#notify(
              e.at,
              [h.routedTo],
              {
                kind: 'handoff.assigned',
                title: `New lead for you: ${label}. Accept or reject by ${iso(h.dueAt)}`,
                leadId: lead.id,
                handoffId: h.id,
                data: { dueAt: iso(h.dueAt) },
              },
              live,
            );
          } else {
            this.#notify(
              e.at,
              [salesLead],
              {
                kind: 'handoff.unassigned',
                title: `${label} is waiting in the unassigned queue: ${String(h.route.explanation)}`,
                leadId: lead.id,
                handoffId: h.id,
              },
              live,
            );
          }
          break;
        }
        case 'breach': {
          const r = row(e.h);
          r.breached_at = new Date(e.at);
          act(e.at, 'handoff.breached', { t: 'system' }, { dueAt: iso(e.h.dueAt), assigneeId: r.assignee_id }, { handoff: e.h.id });
          this.#notify(
            e.at,
            [r.assignee_id],
            { kind: 'handoff.breached', title: `Time is up to accept or reject ${label}`, leadId: lead.id, handoffId: e.h.id },
            e.h.closeAt === null,
          );
          break;
        }
        case 'remind': {
          const r = row(e.h);
          r.escalation_step = e.step + 1;
          act(e.at, 'handoff.reminded', { t: 'system' }, { step: e.step, dueAt: iso(e.h.dueAt) }, { handoff: e.h.id, account: false });
          this.#notify(
            e.at,
            [r.assignee_id ?? salesLead],
            { kind: 'handoff.reminder', title: `Reminder: accept or reject ${label} by ${iso(e.h.dueAt)}`, leadId: lead.id, handoffId: e.h.id },
            e.h.closeAt === null,
          );
          break;
        }
        case 'escalate': {
          const r = row(e.h);
          r.escalation_step = e.step + 1;
          act(e.at, 'handoff.escalated', { t: 'system' }, { step: e.step, assigneeId: r.assignee_id }, { handoff: e.h.id, account: false });
          this.#notify(
            e.at,
            [salesLead],
            {
              kind: 'handoff.escalated',
              title: `${label} has not been accepted or rejected in time`,
              leadId: lead.id,
              handoffId: e.h.id,
              data: { assigneeId: r.assignee_id },
            },
            e.h.closeAt === null,
          );
          break;
        }
        case 'assign': {
          const r = row(e.h);
          r.assignee_id = e.h.assignee;
          owner = e.h.assignee;
          touch(e.at);
          act(e.at, 'handoff.assigned', { t: 'user', id: salesLead }, { assigneeId: e.h.assignee, note: null }, { handoff: e.h.id });
          this.#notify(
            e.at,
            [e.h.assignee],
            { kind: 'handoff.assigned', title: `New lead for you: ${label}. Accept or reject by ${iso(e.h.dueAt)}`, leadId: lead.id, handoffId: e.h.id },
            false,
          );
          break;
        }
        case 'accept': {
          const r = row(e.h);
          const who = r.assignee_id ?? salesLead;
          const contactDue = firstContactDue(e.h.doc, new Date(e.at)).getTime();
          Object.assign(r, {
            status: 'accepted',
            closed_at: new Date(e.at),
            closed_by: who,
            note: e.note,
            assignee_id: who,
            first_contact_due_at: new Date(contactDue),
          });
          act(e.at, 'handoff.accepted', assigneeOf(e.h), { note: e.note, firstContactDueAt: iso(contactDue) }, { handoff: e.h.id });
          moveTo(e.at, stages.accepted, assigneeOf(e.h));
          owner = who;
          status = 'attempting';
          touch(e.at);
          this.#notify(
            e.at,
            [e.h.createdBy],
            { kind: 'handoff.accepted', title: `${this.#nameOf(who)} accepted ${label}`, leadId: lead.id, handoffId: e.h.id },
            false,
          );
          break;
        }
        case 'reject': {
          const r = row(e.h);
          const who = r.assignee_id ?? salesLead;
          Object.assign(r, { status: 'rejected', closed_at: new Date(e.at), closed_by: who, reason_code: e.reason.code, note: e.note });
          act(e.at, 'handoff.rejected', assigneeOf(e.h), { reason: e.reason.code, reasonLabel: e.reason.label, note: e.note }, { handoff: e.h.id });
          moveTo(e.at, e.reason.to, assigneeOf(e.h), { reason: e.reason.code });
          owner = null;
          status = e.reason.to === stages.nurture ? 'bad_timing' : 'unqualified';
          touch(e.at);
          this.#notify(
            e.at,
            [e.h.createdBy],
            {
              kind: 'handoff.rejected',
              title: `${this.#nameOf(who)} rejected ${label}: ${e.reason.label}`,
              leadId: lead.id,
              handoffId: e.h.id,
              data: { reason: e.reason.code, note: e.note },
            },
            false,
          );
          break;
        }
        case 'withdraw': {
          const r = row(e.h);
          Object.assign(r, { status: 'withdrawn', closed_at: new Date(e.at), closed_by: e.by, note: e.note });
          act(e.at, 'handoff.withdrawn', { t: 'user', id: e.by }, { note: e.note }, { handoff: e.h.id });
          moveTo(e.at, e.back, { t: 'user', id: e.by });
          owner = null;
          touch(e.at);
          this.#notify(e.at, [r.assignee_id], { kind: 'handoff.withdrawn', title: `Marketing withdrew ${label}`, leadId: lead.id, handoffId: e.h.id }, false);
          break;
        }
        case 'reassign': {
          const r = row(e.h);
          const by: Who = e.reason === 'sla' ? { t: 'system' } : { t: 'user', id: salesLead };
          Object.assign(r, {
            status: 'reassigned',
            closed_at: new Date(e.at),
            closed_by: e.reason === 'sla' ? null : salesLead,
            reason_code: e.reason,
            note: e.note,
            next_handoff_id: e.next.id,
          });
          if (e.reason === 'sla') r.escalation_step = e.step + 1;
          act(e.at, 'handoff.reassigned', by, { from: r.assignee_id, to: e.next.routedTo, nextHandoffId: e.next.id, reason: e.reason }, { handoff: e.h.id });
          this.#notify(
            e.at,
            [r.assignee_id],
            { kind: 'handoff.reassigned', title: `${label} was reassigned away from you`, leadId: lead.id, handoffId: e.h.id },
            false,
          );
          break;
        }
        case 'contact': {
          const r = row(e.h);
          r.first_contact_at = new Date(e.at);
          const due = r.first_contact_due_at?.getTime() ?? e.at;
          act(e.at, 'handoff.first_contact', assigneeOf(e.h), { note: e.note, onTime: e.at <= due }, { handoff: e.h.id, account: false });
          if (status === 'attempting') status = 'connected';
          break;
        }
        case 'contact_breach': {
          const r = row(e.h);
          r.first_contact_breached_at = new Date(e.at);
          act(e.at, 'handoff.first_contact_breached', { t: 'system' }, { dueAt: iso(e.due) }, { handoff: e.h.id, account: false });
          this.#notify(
            e.at,
            [r.assignee_id, salesLead],
            { kind: 'handoff.first_contact_breached', title: `First contact with ${label} is overdue`, leadId: lead.id, handoffId: e.h.id },
            false,
          );
          break;
        }
        case 'hand_back': {
          const by: Who = { t: 'owner' };
          act(e.at, 'lead.handed_back', by, { reason: e.reason.code, reasonLabel: e.reason.label, note: e.note });
          moveTo(e.at, e.reason.to, by, { reason: e.reason.code });
          owner = null;
          status = e.reason.to === stages.nurture ? 'bad_timing' : 'unqualified';
          touch(e.at);
          break;
        }
        case 'note':
          act(e.at, 'note', e.by, { body: e.body });
          break;
        case 'deal': {
          const d = e.d;
          const r: DealRow = {
            workspace_id: ws,
            id: d.id,
            name: d.name,
            amount: d.amount,
            currency: d.currency,
            stage: 'qualification',
            status: 'open',
            close_date: day(d.expectedClose),
            lead_id: lead.id,
            account_id: accountId,
            owner_id: owner ?? salesLead,
            lost_reason: null,
            version: 1,
            created_at: new Date(e.at),
            updated_at: new Date(e.at),
          };
          drows.set(d, r);
          act(e.at, 'deal.created', { t: 'owner' }, { name: d.name, amount: d.amount, currency: d.currency, status: 'open' }, { deal: d.id });
          break;
        }
        case 'deal_won':
        case 'deal_lost': {
          const r = drows.get(e.d);
          if (!r) break;
          const won = e.k === 'deal_won';
          const changed: Record<string, { from: unknown; to: unknown }> = {
            status: { from: r.status, to: won ? 'won' : 'lost' },
            stage: { from: r.stage, to: won ? 'closed_won' : 'closed_lost' },
            closeDate: { from: r.close_date, to: day(e.at) },
          };
          if (e.k === 'deal_lost') changed.lostReason = { from: null, to: e.reason };
          Object.assign(r, {
            status: won ? 'won' : 'lost',
            stage: won ? 'closed_won' : 'closed_lost',
            close_date: day(e.at),
            lost_reason: e.k === 'deal_lost' ? e.reason : null,
            version: r.version + 1,
            updated_at: new Date(e.at),
          });
          act(e.at, won ? 'deal.won' : 'deal.lost', { t: 'owner' }, { changed }, { deal: e.d.id });
          break;
        }
      }
    }

    for (const r of drows.values()) {
      if (r.status === 'open') {
        // Open deals move through the sales stages with age; a date already past slips forward.
        const age = (now - r.created_at.getTime()) / DAY;
        r.stage = age < 7 ? 'qualification' : age < 21 ? 'discovery' : age < 45 ? 'proposal' : 'negotiation';
        if (r.close_date && r.close_date < day(now)) r.close_date = day(now + Math.round(w.rng.between(7, 45)) * DAY);
      }
      rows.deals.push(r);
    }

    for (const [h, r] of hrows) {
      rows.handoffs.push(r);
      if (r.status === 'open') {
        // Steps already due were fired (by the sweeper, in the story); later ones are left for the live server.
        for (const t of h.timers) {
          const due = t.dueAt.getTime();
          rows.timers.push(this.#timer(h.id, t.kind, t.step, due, { action: t.action }, h.createdAt, due <= now));
        }
      } else if (r.status === 'accepted' && !r.first_contact_at && r.first_contact_due_at) {
        const due = r.first_contact_due_at.getTime();
        rows.timers.push(this.#timer(h.id, 'handoff.first_contact', 0, due, { action: 'breach' }, (r.closed_at as Date).getTime(), due <= now));
      }
    }
    if (stage === stages.nurture) {
      // Same step and data as scheduleNurtureEnd, so the live sweeper ends this nurture spell.
      rows.timers.push(
        this.#timer(
          lead.id,
          'lead.nurture_end',
          Math.floor(stageChangedAt / 1000) % 2_000_000_000,
          stageChangedAt + w.v1.nurture.days * DAY,
          { stage, since: iso(stageChangedAt) },
          stageChangedAt,
          false,
        ),
      );
    }

    rows.leads.push({
      workspace_id: ws,
      id: lead.id,
      email: lead.email,
      first_name: lead.firstName,
      last_name: lead.lastName,
      title: lead.title,
      phone: lead.phone,
      company: lead.company,
      country: lead.country,
      source: lead.source,
      persona: lead.persona,
      properties: lead.properties,
      account_id: accountId,
      stage,
      status,
      owner_id: owner,
      stage_changed_at: new Date(stageChangedAt),
      version,
      created_at: new Date(lead.createdAt),
      updated_at: new Date(updatedAt),
    });
  }

  #timer(
    subjectId: string,
    kind: string,
    step: number,
    due: number,
    data: Record<string, unknown>,
    createdAt: number,
    fired: boolean,
  ): Insertable<TimersTable> {
    return {
      workspace_id: this.#ws,
      id: uuidv7(createdAt),
      kind,
      subject_id: subjectId,
      step,
      due_at: new Date(due),
      data,
      created_at: new Date(createdAt),
      fired_at: fired ? new Date(due) : null,
      cancelled_at: null,
      attempts: fired ? 1 : 0,
      last_error: null,
    };
  }
}
