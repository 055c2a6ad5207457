import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  TANDEM_DATA_DIR: z.string().min(1).default('./.tandem'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('localhost'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TANDEM_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  TANDEM_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
  TANDEM_SECURE_COOKIES: bool.optional(),
  TANDEM_SESSION_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  TANDEM_DB_POOL: z.coerce.number().int().min(1).max(100).default(10),
  TANDEM_INGEST_QUEUE: z.coerce.number().int().min(1).default(50_000),
  NODE_ENV: z.string().optional(),
});

export interface Config {
  /** PostgreSQL server URL; when absent Tandem uses the embedded database in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  bodyLimit: number;
  sweepIntervalMs: number;
  secureCookies: boolean;
  sessionDays: number;
  dbPoolSize: number;
  /** Tracking events waiting to be written beyond which the tracking API answers 429. */
  ingestQueue: number;
}

/** Read the environment once; every problem is listed together so one restart fixes them all. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    dataDir: e.TANDEM_DATA_DIR,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.TANDEM_BODY_LIMIT,
    sweepIntervalMs: e.TANDEM_SWEEP_INTERVAL_MS,
    secureCookies: e.TANDEM_SECURE_COOKIES ?? e.NODE_ENV === 'production',
    sessionDays: e.TANDEM_SESSION_DAYS,
    dbPoolSize: e.TANDEM_DB_POOL,
    ingestQueue: e.TANDEM_INGEST_QUEUE,
  });
}
