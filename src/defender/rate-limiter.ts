/**
 * A per-key sliding-window limiter: at most `perMinute` calls in any 60 s. The relay keys it by tenant for
 * the legacy Defender API (documented: 50 calls a minute per tenant), so one tenant's backlog cannot trip
 * the API's own throttling. The per-tenant lease keeps one tenant on one process at a time, so a limiter
 * per process is a limiter per tenant.
 */
export class SlidingWindowLimiter {
  private readonly calls = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when a call for `key` may go out, and counts it. */
  async acquire(key: string): Promise<void> {
    for (;;) {
      const now = this.now();
      const recent = (this.calls.get(key) ?? []).filter((t) => t > now - 60_000);
      if (recent.length < this.perMinute) {
        recent.push(now);
        this.calls.set(key, recent);
        return;
      }
      this.calls.set(key, recent);
      await this.sleep((recent[0] as number) + 60_000 - now + 1);
    }
  }

  /** How long a call for `key` would wait now, in ms (0 when it may go at once). */
  waitMs(key: string): number {
    const now = this.now();
    const recent = (this.calls.get(key) ?? []).filter((t) => t > now - 60_000);
    return recent.length < this.perMinute ? 0 : (recent[0] as number) + 60_000 - now + 1;
  }
}
