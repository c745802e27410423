/**
 * Lag, one definition for `status`, `check`, deep health, the `relay.sync.completed` metric, the workbook
 * and the tenant-lag alert (docs/telemetry.md): now minus the time up to which the tenant has been read
 * completely (the tenant state's `readThrough`, stored when a traversal completes).
 *
 * A quiet tenant synced a minute ago has a lag of about a minute, however long ago an incident last
 * changed; a tenant whose syncs fail or stop keeps its `readThrough`, so its lag grows with the clock.
 */
import { toTicks } from '../defender/timestamp';
import type { TenantState } from './state-store';

/**
 * The time up to which a tenant has been read completely: `readThrough`, or the checkpoint when that is
 * later (state written before the relay stored `readThrough`, or by an older version after a rollback,
 * which moved the checkpoint and left `readThrough` behind). Everything before the checkpoint was read.
 */
export function readThroughOf(
  state: Pick<TenantState, 'readThrough' | 'cursor'> | undefined,
): string | undefined {
  const through = state?.readThrough;
  const cursor = state?.cursor;
  if (!through || !cursor) return through ?? cursor;
  return toTicks(cursor) > toTicks(through) ? cursor : through;
}
/** Whole seconds from `readThrough` to `now` (never negative); undefined when never read completely. */
export function lagSeconds(readThrough: string | undefined, now: number): number | undefined {
  if (!readThrough) return undefined;
  const ms = Number(toTicks(readThrough) / 10_000n);
  return Math.max(0, Math.round((now - ms) / 1000));
}
