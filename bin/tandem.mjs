#!/usr/bin/env node
// Runs the TypeScript command line through tsx, so no build step stands between a clone and a start.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
// An import runs in a process of its own with a smaller young generation (see import-flags.ts).
if (process.argv[2] === 'import' && process.env.TANDEM_IMPORT_PROCESS !== '1') {
  const { IMPORT_NODE_FLAGS } = await import('../src/cli/import-flags.ts');
  const child = spawnSync(process.execPath, [...IMPORT_NODE_FLAGS, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TANDEM_IMPORT_PROCESS: '1' },
  });
  process.exit(child.status ?? 1);
}
await import('../src/cli/main.ts');
