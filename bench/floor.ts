import { type KyselyPlugin, PostgresQueryCompiler, type QueryResult, type UnknownRow } from 'kysely';
import type { Actor } from '../src/domain/access.js';
import { type Deps, moveLeadStage } from '../src/features/leads/leads.service.js';
import { Recorder, sleepUntil } from './stats.js';

export interface FloorRun {
  recorder: Recorder;
  /** Calls started (all of them unless the phase saturated); each must have made one handoff. */
  calls: number;
  failures: number;
  firstFailure: string | undefined;
}

/**
 * The floor: the same use case the route calls, without HTTP. Calls start on a fixed schedule
 * (open loop, one every 1/rate s, whether or not the previous one finished), as requests
 * arrive at the server; each latency runs from the call's start to its commit. The first
 * `warm` calls are warm-up. Once saturated, no further calls start.
 */
export async function runFloor(deps: Deps, actor: Actor, leadIds: readonly string[], rate: number, warm: number, limitMs: number): Promise<FloorRun> {
  const recorder = new Recorder(limitMs, () => {});
  let failures = 0;
  let firstFailure: string | undefined;
  let inFlight = 0;
  const interval = 1000 / rate;
  const t0 = performance.now() + 10;
  const calls: Promise<void>[] = [];
  for (const [i, id] of leadIds.entries()) {
    await sleepUntil(t0 + i * interval);
    // A backlog longer than the limit saturates the phase even before a slow call completes.
    if (inFlight * interval > limitMs) recorder.saturate();
    if (recorder.saturated) break;
    const start = performance.now();
    inFlight += 1;
    calls.push(
      moveLeadStage(deps, actor, id, { stage: 'mql' }).then(
        () => {
          inFlight -= 1;
          recorder.record(start, performance.now(), i < warm);
        },
        (error: unknown) => {
          inFlight -= 1;
          failures += 1;
          firstFailure ??= String((error as Error)?.message ?? error);
        },
      ),
    );
  }
  await Promise.all(calls);
  return { recorder, calls: calls.length, failures, firstFailure };
}

export interface StatementProfile {
  calls: number;
  /** Statements per call, begin and commit included. */
  perCall: number;
  /** Time inside database calls per call, ms (begin and commit excluded: they bypass plugins). */
  dbMsPerCall: number;
  /** Wall time per call, ms. */
  wallMsPerCall: number;
  /** Each distinct statement: how often per call and its mean time. */
  statements: { sql: string; perCall: number; meanMs: number }[];
}

/**
 * Where a handoff's time goes: the same calls back to back, with a Kysely plugin that times
 * every statement. Run apart from the floor, as the plugin itself costs a little.
 */
export async function profileStatements(deps: Deps, actor: Actor, leadIds: readonly string[]): Promise<StatementProfile> {
  const compiler = new PostgresQueryCompiler();
  const started = new Map<unknown, { sql: string; at: number }>();
  const bySql = new Map<string, { count: number; ms: number }>();
  const timing: KyselyPlugin = {
    transformQuery(args) {
      started.set(args.queryId, { sql: compiler.compileQuery(args.node, args.queryId).sql, at: performance.now() });
      return args.node;
    },
    async transformResult(args): Promise<QueryResult<UnknownRow>> {
      const s = started.get(args.queryId);
      if (s) {
        started.delete(args.queryId);
        // Group by shape: a multi-row insert's placeholder count varies with the row count.
        const key = s.sql.replace(/\(\$\d+(, \$\d+)*\)(, \(\$\d+(, \$\d+)*\))*/g, '(…)').replace(/\$\d+/g, '?');
        const entry = bySql.get(key) ?? { count: 0, ms: 0 };
        entry.count += 1;
        entry.ms += performance.now() - s.at;
        bySql.set(key, entry);
      }
      return args.result;
    },
  };
  const traced: Deps = { ...deps, db: deps.db.withPlugin(timing) };
  const t0 = performance.now();
  for (const id of leadIds) await moveLeadStage(traced, actor, id, { stage: 'mql' });
  const wall = performance.now() - t0;
  const n = leadIds.length;
  const statements = [...bySql.entries()]
    .map(([sql, e]) => ({ sql, perCall: e.count / n, meanMs: e.ms / e.count }))
    .sort((a, b) => b.perCall * b.meanMs - a.perCall * a.meanMs);
  const perCall = statements.reduce((sum, s) => sum + s.perCall, 0) + 2;
  const dbMs = [...bySql.values()].reduce((sum, e) => sum + e.ms, 0);
  return { calls: n, perCall, dbMsPerCall: dbMs / n, wallMsPerCall: wall / n, statements };
}
