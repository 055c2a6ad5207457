import { z } from 'zod';

/**
 * How the columns of a CSV file become Tandem's fields. HubSpot and Salesforce exports are
 * recognised by their own column names and values; any other file takes a column mapping.
 */

export const ENTITIES = ['leads', 'accounts', 'deals'] as const;
export type Entity = (typeof ENTITIES)[number];
export const FORMATS = ['hubspot', 'salesforce', 'custom'] as const;
export type Format = (typeof FORMATS)[number];

/** The fields each entity takes from a file; `properties.<key>` is open too. */
export const FIELDS: Record<Entity, readonly string[]> = {
  leads: [
    'email',
    'firstName',
    'lastName',
    'name',
    'title',
    'phone',
    'company',
    'country',
    'source',
    'persona',
    'status',
    'stage',
    'accountDomain',
    'createdAt',
  ],
  accounts: ['name', 'domain', 'industry', 'employees', 'country', 'region', 'externalId'],
  deals: ['name', 'amount', 'currency', 'stage', 'status', 'closeDate', 'leadEmail', 'accountDomain', 'accountExternalId', 'lostReason'],
};

export const mappingSchema = z.record(z.string().min(1).max(200), z.string().min(1).max(120));
export type ColumnMapping = z.infer<typeof mappingSchema>;

const norm = (s: string) => s.trim().toLowerCase();

/** Column names as each tool exports them (compared without regard to case). */
const PRESETS: Record<Exclude<Format, 'custom'>, Record<Entity, Record<string, string>>> = {
  hubspot: {
    leads: {
      'record id': 'properties.hubspot_id',
      email: 'email',
      'first name': 'firstName',
      'last name': 'lastName',
      'job title': 'title',
      'phone number': 'phone',
      'mobile phone number': 'properties.mobile_phone',
      'company name': 'company',
      'country/region': 'country',
      country: 'country',
      'lifecycle stage': 'stage',
      'lead status': 'status',
      'original source': 'source',
      'original traffic source': 'source',
      persona: 'persona',
      'create date': 'createdAt',
      industry: 'properties.industry',
      city: 'properties.city',
      'state/region': 'properties.state',
    },
    accounts: {
      'record id': 'externalId',
      'company name': 'name',
      name: 'name',
      'company domain name': 'domain',
      'website url': 'domain',
      industry: 'industry',
      'number of employees': 'employees',
      'country/region': 'country',
      country: 'country',
      'state/region': 'region',
    },
    deals: {
      'record id': 'properties.hubspot_id',
      'deal name': 'name',
      amount: 'amount',
      currency: 'currency',
      'deal stage': 'stage',
      'close date': 'closeDate',
      'associated company domain': 'accountDomain',
      'associated contact email': 'leadEmail',
      'closed lost reason': 'lostReason',
    },
  },
  salesforce: {
    leads: {
      id: 'properties.salesforce_id',
      email: 'email',
      firstname: 'firstName',
      lastname: 'lastName',
      title: 'title',
      phone: 'phone',
      company: 'company',
      country: 'country',
      mailingcountry: 'country',
      leadsource: 'source',
      status: 'status',
      industry: 'properties.industry',
      numberofemployees: 'properties.employees',
      website: 'accountDomain',
      createddate: 'createdAt',
    },
    accounts: {
      id: 'externalId',
      name: 'name',
      website: 'domain',
      industry: 'industry',
      numberofemployees: 'employees',
      billingcountry: 'country',
      billingstate: 'region',
    },
    deals: {
      id: 'properties.salesforce_id',
      name: 'name',
      amount: 'amount',
      currencyisocode: 'currency',
      stagename: 'stage',
      closedate: 'closeDate',
      accountid: 'accountExternalId',
    },
  },
};

/** HubSpot lifecycle stages as Tandem stages. An import never hands a lead off, so MQLs land in Lead. */
export const HUBSPOT_LIFECYCLE: Record<string, string> = {
  subscriber: 'subscriber',
  lead: 'lead',
  marketingqualifiedlead: 'lead',
  'marketing qualified lead': 'lead',
  salesqualifiedlead: 'sql',
  'sales qualified lead': 'sql',
  opportunity: 'sql',
  customer: 'customer',
  evangelist: 'customer',
  other: 'lead',
};

/** HubSpot lead statuses as Tandem lead statuses. */
export const HUBSPOT_STATUS: Record<string, string> = {
  new: 'new',
  open: 'new',
  in_progress: 'attempting',
  'in progress': 'attempting',
  attempted_to_contact: 'attempting',
  'attempted to contact': 'attempting',
  connected: 'connected',
  open_deal: 'qualified',
  'open deal': 'qualified',
  unqualified: 'unqualified',
  bad_timing: 'bad_timing',
  'bad timing': 'bad_timing',
};

/** Salesforce lead Status picklist values (standard and common custom ones). */
export const SALESFORCE_STATUS: Record<string, string> = {
  new: 'new',
  'open - not contacted': 'new',
  'working - contacted': 'attempting',
  working: 'attempting',
  contacted: 'connected',
  nurturing: 'bad_timing',
  qualified: 'qualified',
  'closed - converted': 'qualified',
  unqualified: 'unqualified',
  'closed - not converted': 'unqualified',
};

/** Where a Salesforce lead's Status puts it in the funnel. */
export const SALESFORCE_STAGE: Record<string, string> = {
  'closed - converted': 'sql',
  unqualified: 'disqualified',
  'closed - not converted': 'disqualified',
  nurturing: 'nurture',
};

/** Salesforce and HubSpot deal stages that mean won or lost. */
export function dealOutcome(stage: string): 'won' | 'lost' | 'open' {
  const s = norm(stage);
  if (s === 'closed won' || s === 'closedwon' || s === 'won') return 'won';
  if (s === 'closed lost' || s === 'closedlost' || s === 'lost') return 'lost';
  return 'open';
}

export interface ResolvedMapping {
  /** For each column of the file, the field it fills (or null when it is not imported). */
  fields: (string | null)[];
  unmapped: string[];
}

/** Which field each column of `header` fills, by preset or by the given mapping. */
export function resolveMapping(entity: Entity, format: Format, header: readonly string[], custom: ColumnMapping | undefined): ResolvedMapping {
  const preset = format === 'custom' ? {} : PRESETS[format][entity];
  const given = new Map(Object.entries(custom ?? {}).map(([k, v]) => [norm(k), v]));
  const fields = header.map((h) => given.get(norm(h)) ?? preset[norm(h)] ?? (FIELDS[entity].includes(h.trim()) ? h.trim() : null));
  // Two columns for one field (HubSpot's "Country" and "Country/Region"): the first filled one wins at read time.
  return { fields, unmapped: header.filter((_, i) => fields[i] === null) };
}

/** A problem with a mapping the caller gave: a field the entity does not have. */
export function mappingProblems(entity: Entity, mapping: ColumnMapping | undefined): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const [column, field] of Object.entries(mapping ?? {})) {
    if (!FIELDS[entity].includes(field) && !/^properties\.[A-Za-z0-9_$-]{1,100}$/.test(field)) {
      problems.push({ path: `mapping.${column}`, message: `"${field}" is not a ${entity} field; use one of ${FIELDS[entity].join(', ')} or properties.<key>` });
    }
  }
  return problems;
}
