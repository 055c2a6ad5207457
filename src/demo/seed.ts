import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';

export const DEMO_SLUG = 'demo';
export const DEMO_PASSWORD = 'tandem-demo';

/** Placeholder: replaced by the real demo seeder. */
export async function seedDemo(_db: Kysely<DB>, _clock: Clock, _opts: { log?: (line: string) => void } = {}): Promise<{ text: string }> {
  return { text: 'demo not yet available' };
}

export async function demoSignIns(_db: Kysely<DB>): Promise<string> {
  return '';
}
