/**
 * Defender timestamps carry up to seven fractional digits (100-ns ticks) with trailing zeros trimmed, and
 * a JavaScript Date keeps milliseconds only. These helpers compare and key timestamps exactly: a parsed
 * timestamp is a BigInt count of 100-ns ticks since the epoch; the canonical text form always has seven
 * fractional digits, so `…57.29Z` and `…57.2900000Z` are the same version.
 */
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export class InvalidTimestampError extends Error {}

/** 100-ns ticks since 1970-01-01T00:00:00Z. */
export function toTicks(value: string): bigint {
  const m = ISO.exec(value.trim());
  if (!m) throw new InvalidTimestampError(`not an ISO 8601 timestamp: ${JSON.stringify(value).slice(0, 60)}`);
  const [, whole, fraction = '', zone] = m;
  const seconds = Date.parse(`${whole}${zone === 'Z' ? 'Z' : zone}`);
  if (Number.isNaN(seconds))
    throw new InvalidTimestampError(`not a valid date: ${JSON.stringify(value).slice(0, 60)}`);
  const sub = BigInt((fraction + '0000000').slice(0, 7));
  return (BigInt(seconds) / 1000n) * 10_000_000n + sub;
}

export function ticksToIso(ticks: bigint): string {
  const seconds = ticks / 10_000_000n;
  const sub = ticks % 10_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}.${sub.toString().padStart(7, '0')}Z`;
}

/** Canonical form: UTC, seven fractional digits. Equal instants give equal strings. */
export function canonicalTimestamp(value: string): string {
  return ticksToIso(toTicks(value));
}

export function msToTicks(ms: number): bigint {
  return BigInt(Math.floor(ms)) * 10_000n;
}

export function ticksToMs(ticks: bigint): number {
  return Number(ticks / 10_000n);
}

export function compareTimestamps(a: string, b: string): number {
  const d = toTicks(a) - toTicks(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
