import { AppError } from '../lib/errors.js';

/** Who is acting: a signed-in person, or a script using an API key on a person's behalf. */
export interface Actor {
  workspaceId: string;
  userId: string;
  email: string;
  name: string;
  team: 'marketing' | 'sales';
  level: 'member' | 'lead';
  isAdmin: boolean;
  via: 'session' | 'api_key' | 'system';
}

/** The system itself (timers, the demo seeder) acting in a workspace. */
export function systemActor(workspaceId: string): Actor {
  return {
    workspaceId,
    userId: '00000000-0000-0000-0000-000000000000',
    email: 'system',
    name: 'Tandem',
    team: 'sales',
    level: 'lead',
    isAdmin: true,
    via: 'system',
  };
}

export function assertAdmin(actor: Actor): void {
  if (!actor.isAdmin) throw new AppError('forbidden', 'Only an administrator can do this');
}

export function assertTeam(actor: Actor, team: 'marketing' | 'sales', what: string): void {
  if (actor.team !== team) throw new AppError('forbidden', `Only ${team} can ${what}; you are on the ${actor.team} team`);
}

export function assertTeamLead(actor: Actor, team: 'marketing' | 'sales', what: string): void {
  if (actor.team !== team || actor.level !== 'lead') throw new AppError('forbidden', `Only the ${team} lead can ${what}`);
}

export function isLead(actor: Actor): boolean {
  return actor.level === 'lead';
}
