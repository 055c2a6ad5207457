import pino from 'pino';
import { demoSignIns, seedDemo } from '../demo/seed.js';
import { buildServer } from '../http/server.js';
import { DecayJob } from '../jobs/decay.js';
import { EmbeddedMaintenance } from '../jobs/maintenance.js';
import { Sweeper } from '../jobs/sweeper.js';
import { systemClock } from '../lib/clock.js';
import { openMigrated } from './runtime.js';

/** Run Tandem: migrate, optionally seed the demo, serve HTTP, sweep timers; stop cleanly on a signal. */
export async function serve(opts: { demo: boolean }): Promise<void> {
  const { config, database, fresh } = await openMigrated();
  const log = pino({ level: config.logLevel });
  if (opts.demo && fresh) {
    console.log('New database: creating the demo workspace (under a minute)...');
    const summary = await seedDemo(database.db, systemClock, { log: (line) => console.log(line) });
    console.log(summary.text);
  }
  const app = await buildServer({ config, database, logger: true });
  const sweeper = new Sweeper(database.db, systemClock, config.sweepIntervalMs, log);
  sweeper.start();
  const maintenance = database.kind === 'embedded' ? new EmbeddedMaintenance(database.db, 30 * 60_000, log) : undefined;
  // Fresh statistics after a bulk seed, then every half hour.
  if (maintenance && opts.demo && fresh) await maintenance.runOnce();
  maintenance?.start();
  const decay = new DecayJob(database.db, systemClock, 60 * 60_000, log);
  decay.start();
  await app.listen({ port: config.port, host: config.host });
  const where = config.databaseUrl ? 'PostgreSQL' : `the embedded database in ${config.dataDir}`;
  console.log(`\nTandem is running at http://localhost:${config.port} on ${where}.`);
  console.log(`API docs: http://localhost:${config.port}/docs`);
  if (opts.demo) console.log(await demoSignIns(database.db));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    await sweeper.stop();
    await maintenance?.stop();
    await decay.stop();
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
