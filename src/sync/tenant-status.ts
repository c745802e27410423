/**
 * Per-tenant sync status: the registry's view (enabled or not, display name) joined with the sync state
 * (checkpoint, time read completely, lag, last run, last error). Used by `defender-relay status`.
 */
import type { StateStore } from './state-store';
import type { TenantRegistry } from '../tenants/tenant-registry';
import { lagSeconds, readThroughOf } from './lag';

export interface TenantStatusRow {
  tenantId: string;
  displayName: string | null;
  status: string;
  checkpoint: string | null;
  /** The time up to which the tenant has been read completely (src/sync/lag.ts). */
  readThrough: string | null;
  /** Now minus `readThrough`: how far behind Defender the relay's reading of this tenant is. */
  lagSeconds: number | null;
  lastRunAt: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

export async function tenantStatuses(
  registry: Pick<TenantRegistry, 'list'>,
  state: Pick<StateStore, 'listTenants'>,
  now = Date.now(),
): Promise<TenantStatusRow[]> {
  const [entries, states] = await Promise.all([registry.list(), state.listTenants()]);
  const byId = new Map(states.map((s) => [s.tenantId, s]));
  return entries.map((t) => {
    const s = byId.get(t.tenantId);
    const readThrough = readThroughOf(s);
    return {
      tenantId: t.tenantId,
      displayName: t.displayName ?? null,
      status: t.status,
      checkpoint: s?.cursor ?? null,
      readThrough: readThrough ?? null,
      lagSeconds: lagSeconds(readThrough, now) ?? null,
      lastRunAt: s?.lastRunAt ?? null,
      lastOutcome: s?.lastOutcome ?? null,
      lastError: s?.lastError ?? t.lastError ?? null,
      lastErrorAt: s?.lastErrorAt ?? t.lastErrorAt ?? null,
    };
  });
}

export function formatLag(seconds: number | null): string {
  if (seconds === null) return 'never synced';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}
