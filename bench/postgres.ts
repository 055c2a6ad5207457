import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../scripts/postgres-server.sh', import.meta.url));
const DIR = '/tmp/tandem-bench-pg';
const PORT = 54333;

export interface PostgresTarget {
  url: string;
  where: string;
  /** Drops what the benchmark created; stops the server if the benchmark started it. */
  cleanup(): Promise<void>;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function admin(url: string, statement: string): Promise<void> {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * DATABASE_URL when set (the run gets its own workspace there). Otherwise a throwaway server
 * from scripts/postgres-server.sh and a fresh database, so leftovers never skew a later run.
 */
export async function preparePostgres(): Promise<PostgresTarget> {
  const given = process.env.DATABASE_URL;
  if (given) return { url: given, where: `DATABASE_URL (${new URL(given).host})`, cleanup: async () => {} };
  const wasRunning = await answers(PORT);
  const { stdout } = await run('bash', [SCRIPT, 'start', DIR, String(PORT)]);
  const serverUrl = stdout.trim().split('\n').pop() ?? '';
  const name = `tandem_bench_${Date.now()}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    where: `${name} on 127.0.0.1:${PORT}${wasRunning ? '' : ' (started for this run)'}`,
    cleanup: async () => {
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (!wasRunning) await run('bash', [SCRIPT, 'stop', DIR]);
    },
  };
}
