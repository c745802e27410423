/**
 * Per-key sliding-window limits: at most `limit` calls in any `windowMs`, for each of several windows. The
 * relay keys them by tenant for the legacy Defender API (documented: 50 calls a minute and 1,500 an hour
 * per tenant), so one tenant's backlog cannot trip the API's own throttling. The per-tenant lease keeps
 * one tenant on one process at a time, so a limiter per process is a limiter per tenant.
 */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

export class SlidingWindowLimiter {
  private readonly calls = new Map<string, number[]>();
  private readonly longest: number;

  constructor(
    private readonly windows: RateWindow[],
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.longest = Math.max(...windows.map((w) => w.windowMs));
  }

  /** Resolves when a call for `key` may go out, and counts it. */
  async acquire(key: string): Promise<void> {
    for (let wait = this.waitMs(key); wait > 0; wait = this.waitMs(key)) await this.sleep(wait);
    this.recent(key).push(this.now());
  }

  /** How long a call for `key` would wait now, in ms (0 when it may go at once). */
  waitMs(key: string): number {
    const now = this.now();
    const calls = this.recent(key);
    let wait = 0;
    for (const { limit, windowMs } of this.windows) {
      const inWindow = calls.filter((t) => t > now - windowMs);
      if (inWindow.length >= limit) {
        // The call that must leave the window before another may go.
        const leaving = inWindow[inWindow.length - limit] as number;
        wait = Math.max(wait, leaving + windowMs - now + 1);
      }
    }
    return wait;
  }

  private recent(key: string): number[] {
    const now = this.now();
    const calls = (this.calls.get(key) ?? []).filter((t) => t > now - this.longest);
    this.calls.set(key, calls);
    return calls;
  }
}
