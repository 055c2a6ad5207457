import type { Insertable } from 'kysely';
import type { EventsTable, IdentitiesTable, LeadsTable } from '../db/schema.js';
import { uuidv7 } from '../lib/ids.js';
import type { Rng } from './random.js';

const DAY = 86_400_000;

const CAMPAIGNS = [
  { name: 'spring-webinar', source: 'linkedin', medium: 'paid' },
  { name: 'sla-playbook', source: 'google', medium: 'cpc' },
  { name: 'newsletter', source: 'newsletter', medium: 'email' },
  { name: 'partner-summit', source: 'partner', medium: 'referral' },
];
const CONTENT = ['/blog/why-sales-ignores-mqls', '/blog/service-level-agreements', '/docs/getting-started', '/customers/northwind', '/'];

/** How busy a lead is online, by how far down the funnel it got. */
const ACTIVITY: Record<string, [number, number]> = {
  subscriber: [0, 2],
  lead: [1, 4],
  nurture: [0, 3],
  disqualified: [0, 2],
  mql: [4, 10],
  sal: [4, 12],
  sql: [5, 14],
  customer: [5, 14],
};

/**
 * What the demo's people did on the website: page views, content downloads, email clicks,
 * form fills and demo requests, over each lead's life, with the campaign that brought them.
 * Every lead with events gets a user id, as an identify call would have given it.
 */
export function renderBehaviour(
  rng: Rng,
  workspaceId: string,
  leads: readonly Insertable<LeadsTable>[],
  now: number,
): { events: Insertable<EventsTable>[]; identities: Insertable<IdentitiesTable>[] } {
  const events: Insertable<EventsTable>[] = [];
  const identities: Insertable<IdentitiesTable>[] = [];
  let n = 0;
  for (const lead of leads) {
    const [min, max] = ACTIVITY[lead.stage] ?? [0, 4];
    const count = rng.int(min, max);
    if (count === 0) continue;
    const created = (lead.created_at as Date).getTime();
    const userId = `crm-${lead.id.slice(-12)}`;
    identities.push({
      workspace_id: workspaceId,
      kind: 'user',
      value: userId,
      lead_id: lead.id,
      account_id: lead.account_id ?? null,
      created_at: lead.created_at as Date,
      updated_at: lead.created_at as Date,
    });
    const campaign = rng.pick(CAMPAIGNS);
    const sales = ['mql', 'sal', 'sql', 'customer'].includes(lead.stage);
    for (let i = 0; i < count; i++) {
      // Activity clusters before the lead moved down the funnel, and trails off after.
      const at = Math.min(now - rng.int(1, 3600) * 1000, created + rng.exp(sales ? 25 : 60) * DAY);
      const roll = rng.next();
      let type: 'page' | 'track' = 'page';
      let name: string | null = 'Page';
      let properties: Record<string, unknown>;
      if (roll < 0.45) properties = { path: rng.pick(CONTENT), title: 'Tandem' };
      else if (roll < 0.6) properties = { path: '/pricing', title: 'Pricing' };
      else if (roll < 0.75) {
        type = 'track';
        name = 'Email Clicked';
        properties = { campaign: campaign.name };
      } else if (roll < 0.87) {
        type = 'track';
        name = 'Whitepaper Downloaded';
        properties = { title: 'The handoff agreement playbook' };
      } else if (roll < 0.96 || !sales) {
        type = 'track';
        name = 'Form Submitted';
        properties = { form: 'contact' };
      } else {
        type = 'track';
        name = 'Demo Requested';
        properties = { form: 'demo' };
      }
      n += 1;
      events.push({
        workspace_id: workspaceId,
        id: uuidv7(at),
        message_id: `demo-${n}`,
        type,
        name,
        anonymous_id: null,
        user_id: userId,
        group_id: null,
        lead_id: lead.id,
        account_id: lead.account_id ?? null,
        at: new Date(at),
        received_at: new Date(at + 200),
        properties: JSON.stringify(properties),
        context: JSON.stringify({ page: { path: properties.path ?? null } }),
        campaign: i === 0 ? JSON.stringify(campaign) : null,
        scored: true,
      });
    }
  }
  return { events, identities };
}
