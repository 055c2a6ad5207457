import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Public test material kept beside the project (CSV edge cases, Segment payloads, a Salesforce
 * export): `../shared/data`, or TANDEM_SHARED_DATA. Tests that read it are skipped, and say so,
 * where it is not there.
 */
export const SHARED_DATA = process.env.TANDEM_SHARED_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
export const hasSharedData = existsSync(join(SHARED_DATA, 'csv-spectrum'));
