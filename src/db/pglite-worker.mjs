// The embedded database's own thread: it opens PGlite on the data directory and runs the protocol
// messages the session sends, one at a time, replying with PostgreSQL's raw answer. Everything
// else (building messages, joining and reading answers) stays on the caller's thread, so the
// two overlap.
// Plain JavaScript so that Node runs it as it is, under tsx, Vitest or a build alike.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** @type {{ dataDir: string, startParams: string[], setup: string, arrayTypes: string }} */
const { dataDir, startParams, setup, arrayTypes } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @param {unknown} error */
const describe = (error) => (error instanceof Error ? error.message : String(error));

try {
  const pg = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, ...startParams] });
  await pg.exec(setup);
  // Array types, so the caller can read arrays of every element type as PGlite itself does.
  const arrays = await pg.query(arrayTypes);
  // Messages arrive in order and are answered in order: the next waits for the one before.
  let queue = Promise.resolve();
  port.on('message', (/** @type {{ id: number, message?: Uint8Array, close?: boolean }} */ m) => {
    queue = queue.then(async () => {
      try {
        if (m.close) {
          await pg.close();
          port.postMessage({ id: m.id });
          return;
        }
        /** @type {Uint8Array[]} */
        const chunks = [];
        await pg.execProtocolRawStream(/** @type {Uint8Array} */ (m.message), { onRawData: (c) => chunks.push(c.slice()) });
        // Each chunk is a copy of its own: handed over, not copied again; the caller joins them.
        port.postMessage({ id: m.id, chunks }, chunks.map((c) => c.buffer));
      } catch (error) {
        port.postMessage({ id: m.id, error: describe(error) });
      }
    });
  });
  port.postMessage({ ready: true, arrays: arrays.rows });
} catch (error) {
  port.postMessage({ ready: false, error: describe(error) });
}
