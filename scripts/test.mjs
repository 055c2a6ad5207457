// `npm test`: install what is missing, then run the whole suite once. The database is the
// embedded one unless DATABASE_URL points at a PostgreSQL server.
import { ensureWeb } from './build-web.mjs';
import { ensureDeps, run } from './ensure-deps.mjs';

ensureDeps();
// The browser tests drive the built app.
ensureWeb();
const where = process.env.DATABASE_URL ? `PostgreSQL (${process.env.DATABASE_URL.replace(/:[^:@/]*@/, ':***@')})` : 'the embedded database';
console.log(`Running the tests on ${where}.`);
process.exit(run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)]));
