import { type KyselyPlugin, PostgresQueryCompiler } from 'kysely';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { Ingestor } from '../src/features/tracking/tracking.ingest.js';
import { parsePayload } from '../src/features/tracking/tracking.parse.js';
import { systemClock } from '../src/lib/clock.js';
import { seed } from './setup.js';

const d = await openDatabase(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { dataDir: 'memory://' });
await migrateToLatest(d.db);
const s = await seed(d.db, 5000);
const now = new Date();
const ids = s.leadIds.map((l, i) => ({
  workspace_id: s.workspaceId,
  kind: 'user' as const,
  value: `u${i}`,
  lead_id: l,
  account_id: null,
  created_at: now,
  updated_at: now,
}));
for (let i = 0; i < ids.length; i += 1000)
  await d.db
    .insertInto('identities')
    .values(ids.slice(i, i + 1000))
    .execute();
const compiler = new PostgresQueryCompiler();
const stats = new Map<string, { n: number; ms: number }>();
const started = new Map<unknown, { sql: string; at: number }>();
const plugin: KyselyPlugin = {
  transformQuery(a) {
    started.set(a.queryId, { sql: compiler.compileQuery(a.node, a.queryId).sql.replace(/\s+/g, ' ').slice(0, 100), at: performance.now() });
    return a.node;
  },
  async transformResult(a) {
    const st = started.get(a.queryId);
    if (st) {
      const e = stats.get(st.sql) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - st.at;
      stats.set(st.sql, e);
    }
    return a.result;
  },
};
const ing = new Ingestor(d.db.withPlugin(plugin), systemClock);
let n = 0;
const body = () => {
  const batch = [];
  for (let i = 0; i < 100; i++) {
    n++;
    batch.push({
      type: n % 3 ? 'page' : 'track',
      event: 'Email Opened',
      name: 'Article',
      userId: `u${(n * 7919) % 5000}`,
      properties: { path: '/blog/x', n },
      messageId: `m${n}`,
    });
  }
  return Buffer.from(JSON.stringify({ batch }));
};
for (let round = 0; round < 30; round++) {
  stats.clear();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, () => ing.submit(s.workspaceId, parsePayload(body(), 'batch', new Date()).events)));
  const wall = performance.now() - t0;
  if (round % 10 === 9) console.log(`round ${round}: 1600 events in ${wall.toFixed(0)} ms = ${((1600 / wall) * 1000).toFixed(0)}/s`);
}
for (const [k, v] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) console.log(v.n, v.ms.toFixed(1).padStart(8), k);
await d.close();
