import { Agent, request } from 'node:http';
import { Recorder, sleepUntil } from './stats.js';

export interface HttpRun {
  recorder: Recorder;
  /** Responses by status code, warm-up included. */
  statuses: Map<number, number>;
  /** Connection errors and timeouts. */
  errors: number;
  firstFailure: string | undefined;
  /** Requests sent (each to its own lead), and responses received, warm-up included. */
  sent: number;
  responses: number;
}

/**
 * POST /api/leads/:id/stage {"stage":"mql"} at a fixed rate, each request a different lead,
 * open loop: request i is sent at t0 + i/rate whether or not earlier ones have answered, like
 * independent clients, over keep-alive connections (a new one whenever all are busy).
 *
 * Why not autocannon: its `overallRate` is a per-connection quota per second, so 10
 * connections at 200/s send each second's requests in one ~150 ms burst; and 200 one-connection
 * instances (one per client) cost the load generator more CPU than the server it measures on a
 * 2-core machine. Plain node:http keeps the generator's share small. Latency is measured from
 * the moment the request was due, so a generator or server that falls behind shows as latency
 * (no coordinated omission). The first `warmSeconds` of requests are warm-up.
 */
export async function runHttp(opts: {
  port: number;
  key: string;
  leadIds: readonly string[];
  rate: number;
  warmSeconds: number;
  seconds: number;
  limitMs: number;
}): Promise<HttpRun> {
  let stopped = false;
  const recorder = new Recorder(opts.limitMs, () => {
    stopped = true;
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const statuses = new Map<number, number>();
  let errors = 0;
  let responses = 0;
  let firstFailure: string | undefined;
  const total = Math.min(opts.leadIds.length, (opts.warmSeconds + opts.seconds) * opts.rate);
  const warm = opts.warmSeconds * opts.rate;
  const headers = { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ stage: 'mql' });
  const inflight: Promise<void>[] = [];
  const send = (i: number, due: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port: opts.port, method: 'POST', path: `/api/leads/${opts.leadIds[i]}/stage`, headers, agent, timeout: 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            responses += 1;
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status !== 200) firstFailure ??= `HTTP ${status}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`;
            recorder.record(due, performance.now(), i < warm);
            resolve();
          });
        },
      );
      req.on('error', (error) => {
        errors += 1;
        firstFailure ??= `request error: ${error.message}`;
        resolve();
      });
      req.end(body);
    });
  const interval = 1000 / opts.rate;
  const t0 = performance.now() + 50;
  let sent = 0;
  while (sent < total && !stopped) {
    const now = performance.now();
    // Send everything that is due; a late timer sends a small batch, each timed from its due moment.
    while (sent < total && t0 + sent * interval <= now) {
      inflight.push(send(sent, t0 + sent * interval));
      sent += 1;
    }
    await sleepUntil(t0 + sent * interval);
  }
  await Promise.all(inflight);
  agent.destroy();
  return { recorder, statuses, errors, firstFailure, sent, responses };
}

/**
 * Requests one after another before the paced run: a just-started server compiles code and
 * fills caches on its first requests, which a long-running server has done long ago.
 */
export async function warmUpServer(port: number, key: string, leadIds: readonly string[]): Promise<{ ok: number; firstFailure: string | undefined }> {
  let ok = 0;
  let firstFailure: string | undefined;
  for (const id of leadIds) {
    const res = await fetch(`http://127.0.0.1:${port}/api/leads/${id}/stage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stage: 'mql' }),
    });
    const body = await res.text();
    if (res.status === 200) ok += 1;
    else firstFailure ??= `HTTP ${res.status}: ${body.slice(0, 300)}`;
  }
  return { ok, firstFailure };
}
