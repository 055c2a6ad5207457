/**
 * The server under test, in its own process so the load generator never shares its event loop.
 * It runs what `tandem serve` runs (request logging at the configured level, the timer sweeper)
 * on DATABASE_URL or TANDEM_DATA_DIR, listens on a free port on 127.0.0.1, reports the port
 * over IPC, and stops cleanly when the parent says "stop" (the embedded database must be
 * closed before the parent can open it again).
 */
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { buildServer } from '../src/http/server.js';
import { Sweeper } from '../src/jobs/sweeper.js';
import { systemClock } from '../src/lib/clock.js';

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });
const app = await buildServer({ config, database, logger: true });
const sweeper = new Sweeper(database.db, systemClock, config.sweepIntervalMs, pino({ level: config.logLevel }));
sweeper.start();
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (!address || typeof address === 'string') throw new Error('the server has no TCP address');

const stop = async (): Promise<void> => {
  await sweeper.stop();
  await app.close();
  await database.close();
  process.exit(0);
};
process.on('message', (message) => {
  if (message === 'stop') void stop();
});
// An orphan must not keep the embedded database locked.
process.on('disconnect', () => void stop());
process.send?.({ port: address.port });
