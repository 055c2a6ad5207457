import { z } from 'zod';
import type { User } from '../../db/schema.js';

export const teamSchema = z.enum(['marketing', 'sales']);
export const levelSchema = z.enum(['member', 'lead']);

export const createUserBody = z
  .object({
    email: z.email().max(254),
    name: z.string().trim().min(1).max(120),
    team: teamSchema,
    level: levelSchema.default('member'),
    isAdmin: z.boolean().default(false),
    password: z.string().min(10, 'at least 10 characters').max(200).optional(),
    routingWeight: z.number().int().min(0).max(100).default(1),
    handoffCapacity: z.number().int().min(0).max(10000).nullable().default(null),
  })
  .strict();
export type CreateUserInput = z.input<typeof createUserBody>;

export const updateUserBody = z
  .object({
    name: z.string().trim().min(1).max(120),
    team: teamSchema,
    level: levelSchema,
    isAdmin: z.boolean(),
    active: z.boolean(),
    password: z.string().min(10, 'at least 10 characters').max(200),
    routingWeight: z.number().int().min(0).max(100),
    handoffCapacity: z.number().int().min(0).max(10000).nullable(),
  })
  .partial()
  .strict();

export const userOut = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  team: teamSchema,
  level: levelSchema,
  isAdmin: z.boolean(),
  active: z.boolean(),
  routingWeight: z.number(),
  handoffCapacity: z.number().nullable(),
});

export function presentUser(u: User): z.infer<typeof userOut> {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    team: u.team,
    level: u.level,
    isAdmin: u.is_admin,
    active: u.active,
    routingWeight: u.routing_weight,
    handoffCapacity: u.handoff_capacity,
  };
}
