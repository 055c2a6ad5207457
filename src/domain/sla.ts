import type { AgreementDocument } from './agreement.js';
import { addBusinessTime, parseDuration, type TimeInterval } from './business-time.js';

export interface PlannedTimer {
  kind: 'handoff.escalation' | 'handoff.deadline' | 'handoff.first_contact';
  step: number;
  dueAt: Date;
  action: 'remind' | 'notify_lead' | 'reassign' | 'breach';
}

/**
 * The accept-or-reject deadline and every escalation step for a handoff that starts at `start`,
 * counted in the agreement's business hours. Steps are shares of the SLA (0.5 = half-way).
 */
export function planHandoffClock(doc: AgreementDocument, start: Date, blocked?: TimeInterval[]): { dueAt: Date; timers: PlannedTimer[] } {
  const sla = parseDuration(doc.sla.acceptWithin);
  const dueAt = addBusinessTime(start, sla, doc.calendar, blocked);
  const timers: PlannedTimer[] = [{ kind: 'handoff.deadline', step: 0, dueAt, action: 'breach' }];
  doc.escalation.forEach((s, i) => {
    const at = s.at === 1 ? dueAt : addBusinessTime(start, Math.round(sla * s.at), doc.calendar, blocked);
    timers.push({ kind: 'handoff.escalation', step: i, dueAt: at, action: s.action });
  });
  return { dueAt, timers };
}

/** When first contact is due after a rep accepts at `acceptedAt`. */
export function firstContactDue(doc: AgreementDocument, acceptedAt: Date): Date {
  return addBusinessTime(acceptedAt, parseDuration(doc.sla.firstContactWithin), doc.calendar);
}
