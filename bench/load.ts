import autocannon, { type Instance, type Request } from 'autocannon';
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
 * POST /api/leads/:id/stage {"stage":"mql"} at a fixed rate, each request a different lead.
 *
 * autocannon's own `overallRate` is a per-connection quota per second: with 10 connections
 * and overallRate 200, each connection fires its 20 requests back to back at the top of every
 * second, so the server sees 200 requests in a ~150 ms burst with 10 in flight, and the
 * coordinated-omission correction (expected interval ceil(1/rate) = 1 ms) adds phantom
 * samples. To get an even 200/s we run `rate` autocannon instances of one connection at
 * overallRate 1 each, started 1/rate s apart: request i leaves at t0 + i/rate, like
 * independent clients (while responses take under a second; an instance waits for its
 * response, and the saturation limit ends a run long before that matters). Latencies come from autocannon's per-response timing (hrtime, from
 * write to full response), uncorrected; the first `warmSeconds` requests of each instance
 * are warm-up. Once saturated, every instance is stopped.
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
  const instances: Instance[] = [];
  const recorder = new Recorder(opts.limitMs, () => {
    for (const instance of instances) instance.stop();
  });
  const statuses = new Map<number, number>();
  let errors = 0;
  let responses = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const request = {
    method: 'POST',
    headers: { authorization: `Bearer ${opts.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stage: 'mql' }),
    setupRequest: (req: Request) => {
      const id = opts.leadIds[next++];
      if (!id) throw new Error(`the benchmark ran out of leads after ${opts.leadIds.length}`);
      return { ...req, path: `/api/leads/${id}/stage` };
    },
    onResponse: (status: number, body: string) => {
      if (status !== 200) firstFailure ??= `HTTP ${status}: ${body.slice(0, 300)}`;
    },
  };
  const interval = 1000 / opts.rate;
  const t0 = performance.now() + 50;
  const runs: Promise<void>[] = [];
  for (let k = 0; k < opts.rate && !recorder.saturated; k++) {
    await sleepUntil(t0 + k * interval);
    runs.push(
      new Promise<void>((resolve, reject) => {
        let seen = 0;
        const instance = autocannon(
          {
            url: `http://127.0.0.1:${opts.port}`,
            connections: 1,
            overallRate: 1,
            amount: opts.warmSeconds + opts.seconds,
            // Past the saturation limit the phase stops anyway; a timeout is a real failure.
            timeout: 30,
            // A server that died leaves autocannon reconnecting forever; give up instead.
            bailout: 10,
            ignoreCoordinatedOmission: true,
            requests: [request],
          },
          (error, result) => {
            if (error) return reject(error);
            errors += result.errors;
            resolve();
          },
        );
        instances.push(instance);
        instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
          responses += 1;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          seen += 1;
          const end = performance.now();
          recorder.record(end - ms, end, seen <= opts.warmSeconds);
        });
      }),
    );
  }
  await Promise.all(runs);
  return { recorder, statuses, errors, firstFailure, sent: next, responses };
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
