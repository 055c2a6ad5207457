/**
 * A job that runs every `intervalMs` and never overlaps itself: a run still going when the next
 * is due makes the next one skip. The timer does not keep the process alive; stop() waits for a
 * run in progress.
 */
export abstract class PeriodicJob {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(protected readonly intervalMs: number) {}

  /** One run; must not throw (log instead), since nobody awaits a timed run. */
  abstract runOnce(): Promise<unknown>;

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.runOnce().finally(() => {
        this.#running = undefined;
      });
    }, this.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
