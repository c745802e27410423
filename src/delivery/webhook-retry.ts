/**
 * When a failed webhook delivery is tried again. Timeouts, network errors, 408, 429 and 5xx are retried;
 * any other status (a 4xx the receiver means, a 3xx the relay will not follow) is final. The delay is
 * `Retry-After` when the receiver sent one (seconds or an HTTP date), else exponential backoff from
 * WEBHOOK_RETRY_BASE_SECONDS, doubling per attempt, with ±20 % jitter, at most an hour.
 */

/** A Retry-After larger than this is cut to it (a queue message stays at most 7 days). */
export const MAX_RETRY_AFTER_SECONDS = 24 * 3600;
export const MAX_BACKOFF_SECONDS = 3600;
export const JITTER = 0.2;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or undefined if absent/bad. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    seconds = Math.ceil((at - now) / 1000);
  }
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, seconds));
}

/** The delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed. */
export function backoffSeconds(
  attempt: number,
  baseSeconds: number,
  random: () => number = Math.random,
): number {
  const raw = Math.min(MAX_BACKOFF_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));
  const jittered = raw * (1 - JITTER + 2 * JITTER * random());
  return Math.max(1, Math.min(MAX_BACKOFF_SECONDS, Math.round(jittered)));
}

/** The least total wait over all retries of a delivery: how long a receiver may be down without a loss. */
export function minimumRetryWindowSeconds(maxAttempts: number, baseSeconds: number): number {
  let total = 0;
  for (let attempt = 1; attempt < maxAttempts; attempt++)
    total += backoffSeconds(attempt, baseSeconds, () => 0);
  return total;
}
