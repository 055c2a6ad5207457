import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Clock } from '../../lib/clock.js';
import { type ActivityOut, presentActivity } from '../activities/activities.schema.js';

export type Listener = (activity: ActivityOut) => void;

/** How far back each look reaches: a transaction that took this long to commit is still seen. */
const LOOKBACK_MS = 10_000;

/**
 * Live updates for open pages. While a workspace has listeners, its new timeline entries are
 * read once a second and handed to each of them. Reading the table (rather than an in-process
 * event) means a change made by any Tandem process sharing the database arrives, and nothing
 * is missed when a transaction commits late: each look reaches back ten seconds and entries
 * already sent are skipped.
 */
export class LiveHub {
  readonly #workspaces = new Map<string, { listeners: Set<Listener>; sent: Map<string, number>; ready: boolean }>();
  #timer: NodeJS.Timeout | null = null;
  #polling = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly clock: Clock,
    private readonly intervalMs = 1000,
  ) {}

  /** Start listening; the returned function stops. */
  subscribe(workspaceId: string, listener: Listener): () => void {
    let ws = this.#workspaces.get(workspaceId);
    if (!ws) {
      ws = { listeners: new Set(), sent: new Map(), ready: false };
      this.#workspaces.set(workspaceId, ws);
      // Entries from before the page opened are not news to it.
      void this.#markSeen(workspaceId);
    }
    ws.listeners.add(listener);
    this.#timer ??= setInterval(() => void this.poll(), this.intervalMs);
    return () => {
      ws.listeners.delete(listener);
      if (ws.listeners.size === 0) this.#workspaces.delete(workspaceId);
      if (this.#workspaces.size === 0) this.stop();
    };
  }

  get listeners(): number {
    let n = 0;
    for (const ws of this.#workspaces.values()) n += ws.listeners.size;
    return n;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One look at every listened-to workspace. Never overlaps itself. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      for (const [workspaceId, ws] of this.#workspaces) {
        if (!ws.ready) continue;
        const fresh = await this.#recent(workspaceId, ws.sent);
        for (const activity of fresh) for (const listener of ws.listeners) listener(activity);
      }
    } catch {
      // A failed look (the database restarting, say) is retried on the next tick.
    } finally {
      this.#polling = false;
    }
  }

  async #markSeen(workspaceId: string): Promise<void> {
    const ws = this.#workspaces.get(workspaceId);
    if (!ws) return;
    await this.#recent(workspaceId, ws.sent).catch(() => []);
    ws.ready = true;
  }

  async #recent(workspaceId: string, sent: Map<string, number>): Promise<ActivityOut[]> {
    const now = this.clock.now().getTime();
    const rows = await this.db
      .selectFrom('activities')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '>', floorId(now - LOOKBACK_MS))
      .orderBy('id')
      .limit(500)
      .execute();
    for (const [id, at] of sent) if (at < now - 2 * LOOKBACK_MS) sent.delete(id);
    const fresh = rows.filter((r) => !sent.has(r.id));
    for (const r of fresh) sent.set(r.id, now);
    return fresh.map(presentActivity);
  }
}

/** The smallest time-ordered id of a millisecond: every id made at or after it sorts above. */
function floorId(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
