import type { AgreementDocument, Stage } from './agreement.js';
import { stageByKey } from './agreement.js';

export type Team = 'marketing' | 'sales';

export type MoveCheck = { ok: true; from: Stage; to: Stage } | { ok: false; code: 'validation_failed' | 'forbidden'; path: string; message: string };

/**
 * Whether a team may move a lead from one stage to another by itself. A team moves leads only
 * among its own stages; crossing to the other team is a handoff (marketing to sales) or a
 * hand-back (sales to marketing), which have their own use cases.
 */
export function checkStageMove(doc: AgreementDocument, team: Team, fromKey: string, toKey: string): MoveCheck {
  const to = stageByKey(doc, toKey);
  if (!to) {
    const known = doc.stages.map((s) => s.key).join(', ');
    return { ok: false, code: 'validation_failed', path: 'stage', message: `unknown stage "${toKey}" (stages: ${known})` };
  }
  // A lead whose stage the agreement no longer lists is treated as the entry stage's team.
  const from = stageByKey(doc, fromKey) ?? doc.stages.find((s) => s.role === 'entry') ?? to;
  if (from.key === to.key) return { ok: false, code: 'validation_failed', path: 'stage', message: `the lead is already in ${to.name}` };
  if (from.role === 'handoff') {
    return {
      ok: false,
      code: 'forbidden',
      path: 'stage',
      message: `the lead is being handed off; sales accepts or rejects it, or marketing withdraws the handoff`,
    };
  }
  if (from.team !== team) {
    return { ok: false, code: 'forbidden', path: 'stage', message: `${from.name} is owned by ${from.team}; ${team} cannot move leads out of it` };
  }
  if (to.team !== team) {
    const how = team === 'marketing' ? 'hand it off' : 'hand it back with a reason';
    return { ok: false, code: 'forbidden', path: 'stage', message: `${to.name} is owned by ${to.team}; ${how} instead` };
  }
  if (to.role === 'accepted' && from.team !== 'sales') {
    return { ok: false, code: 'forbidden', path: 'stage', message: `${to.name} is reached by accepting a handoff` };
  }
  return { ok: true, from, to };
}

/** The team that owns a stage, or undefined if the agreement does not list it. */
export function ownerTeam(doc: AgreementDocument, stageKey: string): Team | undefined {
  return stageByKey(doc, stageKey)?.team;
}
