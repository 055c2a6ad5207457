import { z } from 'zod';
import type { Account } from '../../db/schema.js';

const text = (max: number) => z.string().trim().max(max);
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$/, 'a domain name such as example.com');

export const accountFields = {
  name: text(200).min(1),
  domain: domain.nullable(),
  industry: text(100).nullable(),
  employees: z.number().int().min(0).max(10_000_000).nullable(),
  country: text(100).nullable(),
  region: text(100).nullable(),
  ownerId: z.uuid().nullable(),
  properties: z.record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])),
};

export const createAccountBody = z
  .object({
    ...accountFields,
    domain: accountFields.domain.optional(),
    industry: accountFields.industry.optional(),
    employees: accountFields.employees.optional(),
    country: accountFields.country.optional(),
    region: accountFields.region.optional(),
    ownerId: accountFields.ownerId.optional(),
    properties: accountFields.properties.optional(),
  })
  .strict();
export type CreateAccountInput = z.infer<typeof createAccountBody>;

export const updateAccountBody = z
  .object({ ...accountFields, version: z.number().int().positive() })
  .partial()
  .strict();
export type UpdateAccountInput = z.infer<typeof updateAccountBody>;

export const listAccountsQuery = z.object({
  q: z.string().max(200).optional().describe('Text search in name and domain'),
  owner: z.string().max(40).optional().describe('A user id, "me" or "none"'),
  industry: z.string().max(100).optional(),
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type ListAccountsQuery = z.infer<typeof listAccountsQuery>;

export const accountOut = z.object({
  id: z.uuid(),
  name: z.string(),
  domain: z.string().nullable(),
  industry: z.string().nullable(),
  employees: z.number().nullable(),
  country: z.string().nullable(),
  region: z.string().nullable(),
  ownerId: z.string().nullable(),
  properties: z.record(z.string(), z.unknown()),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function presentAccount(a: Account): z.infer<typeof accountOut> {
  return {
    id: a.id,
    name: a.name,
    domain: a.domain,
    industry: a.industry,
    employees: a.employees,
    country: a.country,
    region: a.region,
    ownerId: a.owner_id,
    properties: a.properties,
    version: a.version,
    createdAt: a.created_at.toISOString(),
    updatedAt: a.updated_at.toISOString(),
  };
}
