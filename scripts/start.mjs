// `npm start`: install what is missing, build the web app if it is stale, then serve Tandem on the embedded database with the
// demo workspace (created on first start).
import { ensureWeb } from './build-web.mjs';
import { ensureDeps, run } from './ensure-deps.mjs';

ensureDeps();
ensureWeb();
process.exit(run(process.execPath, ['bin/tandem.mjs', 'serve', '--demo', ...process.argv.slice(2)]));
