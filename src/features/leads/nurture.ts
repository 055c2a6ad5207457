import type { Kysely } from 'kysely';
import type { DB, Timer } from '../../db/schema.js';
import { systemActor } from '../../domain/access.js';
import { stageByKey } from '../../domain/agreement.js';
import { recordActivity } from '../activities/activities.repo.js';
import { getEffectiveAgreement } from '../agreements/agreements.service.js';

/**
 * Nurture has ended for a lead: if it is still in the same nurture spell, move it to the stage
 * the agreement names. A lead that moved on meanwhile makes this a no-op.
 */
export async function onNurtureEnd(trx: Kysely<DB>, timer: Timer, now: Date): Promise<string> {
  const lead = await trx
    .selectFrom('leads')
    .selectAll()
    .where('workspace_id', '=', timer.workspace_id)
    .where('id', '=', timer.subject_id)
    .forUpdate()
    .executeTakeFirst();
  if (!lead) return 'gone';
  const { document: doc } = await getEffectiveAgreement(trx, timer.workspace_id);
  const since = (timer.data as { since?: string }).since;
  if (stageByKey(doc, lead.stage)?.role !== 'nurture' || (since && lead.stage_changed_at.toISOString() !== since)) return 'moot';
  const to = stageByKey(doc, doc.nurture.returnTo);
  if (!to) return 'no_target';
  await trx
    .updateTable('leads')
    .set({ stage: to.key, stage_changed_at: now, updated_at: now, version: lead.version + 1 })
    .where('workspace_id', '=', lead.workspace_id)
    .where('id', '=', lead.id)
    .execute();
  await recordActivity(trx, systemActor(lead.workspace_id), {
    kind: 'lead.stage_changed',
    at: now,
    leadId: lead.id,
    accountId: lead.account_id,
    data: { from: lead.stage, to: to.key, why: 'nurture ended' },
  });
  return 'moved';
}
