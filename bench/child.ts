import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ServerTarget =
  | { kind: 'embedded'; dataDir?: string | undefined; url?: string | undefined }
  | { kind: 'postgres'; url?: string | undefined; dataDir?: string | undefined };

/**
 * Start a server script of this folder in its own process on the target database, so load
 * generation never shares its event loop; it reports its port over IPC. BENCH_CPU_PROF_DIR
 * writes a CPU profile of it there.
 */
export async function forkServer(script: string, t: ServerTarget, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; port: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  delete env.DATABASE_URL;
  delete env.TANDEM_DATA_DIR;
  if (t.kind === 'embedded') env.TANDEM_DATA_DIR = t.dataDir;
  else env.DATABASE_URL = t.url;
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  // Request logs go to /dev/null: the server still formats and writes them, as in production.
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...prof],
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${script} exited with code ${code} before listening`)));
  });
  return { child, port };
}

/** Ask a server process to stop (the embedded database must be closed before the parent opens it again). */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
