// The embedded database's own thread: it opens PGlite on the data directory and runs the protocol
// messages the session sends, one at a time, replying with PostgreSQL's raw answer. Everything
// else (building messages, reading answers) stays on the caller's thread, so the two overlap.
// Plain JavaScript so that Node runs it as it is, under tsx, Vitest or a build alike.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** @type {{ dataDir: string, startParams: string[], setup: string }} */
const { dataDir, startParams, setup } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @param {Uint8Array[]} chunks */
function concat(chunks) {
  if (chunks.length === 1) return /** @type {Uint8Array} */ (chunks[0]);
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** @param {unknown} error */
const describe = (error) => (error instanceof Error ? error.message : String(error));

try {
  const pg = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, ...startParams] });
  await pg.exec(setup);
  // Array types, so the caller can read arrays of every element type as PGlite itself does.
  const arrays = await pg.query(
    `SELECT b.oid::int AS element, b.typarray::int AS array FROM pg_catalog.pg_type a
     JOIN pg_catalog.pg_type b ON b.oid = a.typelem WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray`,
  );
  // Messages arrive in order and are answered in order: the next waits for the one before.
  let queue = Promise.resolve();
  port.on('message', (/** @type {{ id: number, message?: Uint8Array, close?: boolean }} */ m) => {
    queue = queue.then(async () => {
      try {
        if (m.close) {
          if (process.env.XW) console.error('worker heap', JSON.stringify(Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 2 ** 20)]))), 'wasm MB', Math.round(pg.mod?.HEAP8?.length / 2 ** 20));
          if (process.env.XW) console.error('worker busy ms', Math.round(globalThis.BUSY), 'msgs', globalThis.NMSG, Object.entries(globalThis.BYK).map(([k, v]) => `${k}: ${Math.round(v)}`).join('\n'));
          await pg.close();
          port.postMessage({ id: m.id });
          return;
        }
        /** @type {Uint8Array[]} */
        const chunks = [];
        const t0 = performance.now();
        const key = Buffer.from(m.message.subarray(0, 400)).toString('latin1').replace(/[^ -~]/g, ' ').replace(/\s+/g, ' ').slice(0, 60);
        await pg.execProtocolRawStream(/** @type {Uint8Array} */ (m.message), { onRawData: (c) => chunks.push(c.slice()) });
        const dt = performance.now() - t0; globalThis.BUSY = (globalThis.BUSY ?? 0) + dt; globalThis.NMSG = (globalThis.NMSG ?? 0) + 1; globalThis.BYK ??= {}; globalThis.BYK[key] = (globalThis.BYK[key] ?? 0) + dt;
        const reply = concat(chunks);
        port.postMessage({ id: m.id, reply }, [reply.buffer]);
      } catch (error) {
        port.postMessage({ id: m.id, error: describe(error) });
      }
    });
  });
  port.postMessage({ ready: true, arrays: arrays.rows });
} catch (error) {
  port.postMessage({ ready: false, error: describe(error) });
}
