// `npm start`: install what is missing, then serve Tandem on the embedded database with the
// demo workspace (created on first start).
import { ensureDeps, run } from './ensure-deps.mjs';

ensureDeps();
process.exit(run(process.execPath, ['bin/tandem.mjs', 'serve', '--demo', ...process.argv.slice(2)]));
