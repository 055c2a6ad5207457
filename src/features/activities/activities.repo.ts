import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Actor } from '../../domain/access.js';
import { uuidv7 } from '../../lib/ids.js';

export interface ActivityInput {
  kind: string;
  at: Date;
  leadId?: string | null;
  accountId?: string | null;
  dealId?: string | null;
  handoffId?: string | null;
  data?: Record<string, unknown>;
}

/** Append to the timeline and audit log. Runs inside the caller's transaction. */
export async function recordActivity(db: Kysely<DB>, actor: Actor, input: ActivityInput): Promise<void> {
  await recordActivities(db, actor, [input]);
}

export async function recordActivities(db: Kysely<DB>, actor: Actor, inputs: ActivityInput[]): Promise<void> {
  await insertActivities(db, actor, inputs)?.execute();
}

/** The insert as a query, so a caller can run it as part of a larger statement; undefined when empty. */
export function insertActivities(db: Kysely<DB>, actor: Actor, inputs: ActivityInput[]) {
  if (inputs.length === 0) return undefined;
  return db.insertInto('activities').values(
    inputs.map((a) => ({
      workspace_id: actor.workspaceId,
      id: uuidv7(a.at.getTime()),
      at: a.at,
      kind: a.kind,
      actor_id: actor.via === 'system' ? null : actor.userId,
      actor_type: actor.via === 'system' ? ('system' as const) : actor.via === 'api_key' ? ('api_key' as const) : ('user' as const),
      lead_id: a.leadId ?? null,
      account_id: a.accountId ?? null,
      deal_id: a.dealId ?? null,
      handoff_id: a.handoffId ?? null,
      data: JSON.stringify(a.data ?? {}),
    })),
  );
}
