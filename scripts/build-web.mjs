// Builds the web app (web/ → web/dist) when it is missing or older than its sources, so
// `npm start` on a fresh clone serves a working app. `node scripts/build-web.mjs --force` rebuilds.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, run } from './ensure-deps.mjs';

const web = join(root, 'web');
const stamp = join(web, 'dist', '.built');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs;
  for (const name of readdirSync(path)) if (name !== 'dist' && name !== 'node_modules') m = Math.max(m, newest(join(path, name)));
  return m;
}

export function webIsStale() {
  if (!existsSync(join(web, 'dist', 'index.html')) || !existsSync(stamp)) return true;
  return Math.max(newest(web), statSync(join(root, 'package-lock.json')).mtimeMs) > statSync(stamp).mtimeMs;
}

export function ensureWeb({ force = false } = {}) {
  if (!force && !webIsStale()) return;
  console.log('Building the web app...');
  const status = run(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {}, web);
  if (status !== 0) {
    console.error('The web app did not build; see the output above.');
    process.exit(status);
  }
  writeFileSync(stamp, new Date().toISOString());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) ensureWeb({ force: process.argv.includes('--force') });
