/**
 * Runs the tenant sync for several tenants, a few at a time, each under its tenant lease. One tenant's
 * failure is recorded and reported and never stops the others. Produces the summary the CLI prints.
 */
import type { TenantSync, TenantSyncOptions, TenantSyncResult } from './tenant-sync';
import { TenantBusyError, type TenantLeases } from './tenant-lease';
import { emitMetric, type Logger } from '../telemetry';

/** One tenant's sync under its lease; a busy lease is an outcome, not an error. */
export async function syncTenantLeased(
  sync: TenantSync,
  leases: TenantLeases,
  tenantId: string,
  options: TenantSyncOptions = {},
): Promise<TenantSyncResult> {
  try {
    return await leases.withLease(tenantId, (signal) => sync.run(tenantId, { ...options, signal }));
  } catch (error) {
    if (!(error instanceof TenantBusyError)) throw error;
    return { ...emptyResult(tenantId, sync.api), outcome: 'busy', error: error.message };
  }
}

function emptyResult(tenantId: string, api: 'graph' | 'legacy'): TenantSyncResult {
  return {
    tenantId,
    api,
    outcome: 'failed',
    fetched: 0,
    delivered: 0,
    suppressed: 0,
    malformed: 0,
    possibleRepeats: 0,
    apiCalls: 0,
    from: '',
    durationMs: 0,
  };
}

export interface SyncSummary {
  tenants: number;
  incidentsFetched: number;
  incidentsDelivered: number;
  incidentsSuppressed: number;
  apiCalls: number;
  durationMs: number;
  /** Tenants whose sync failed (a permission, consent, outage): the run's exit status is non-zero. */
  errors: { tenantId: string; outcome: string; error: string }[];
  /** Tenants that stopped early (call or time budget, throttling, busy lease): the next run continues. */
  incomplete: { tenantId: string; outcome: string; reason: string }[];
  results: TenantSyncResult[];
}

export async function syncTenants(
  run: (tenantId: string, options: TenantSyncOptions) => Promise<TenantSyncResult>,
  tenantIds: string[],
  options: TenantSyncOptions & { concurrency?: number; log?: Logger } = {},
): Promise<SyncSummary> {
  const started = Date.now();
  const results: TenantSyncResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tenantIds.length) {
      const tenantId = tenantIds[next++] as string;
      let result: TenantSyncResult;
      try {
        result = await run(tenantId, options);
      } catch (error) {
        // The state store or the lease itself failed: still one tenant's problem, reported as such.
        result = {
          ...emptyResult(tenantId, 'graph'),
          error: error instanceof Error ? error.message : String(error),
        };
      }
      if (options.log) reportMetrics(options.log, result);
      results.push(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, tenantIds.length) }, worker));
  return summarize(results, Date.now() - started);
}

export function summarize(results: TenantSyncResult[], durationMs: number): SyncSummary {
  return {
    tenants: results.length,
    incidentsFetched: results.reduce((n, r) => n + r.fetched, 0),
    incidentsDelivered: results.reduce((n, r) => n + r.delivered, 0),
    incidentsSuppressed: results.reduce((n, r) => n + r.suppressed, 0),
    apiCalls: results.reduce((n, r) => n + r.apiCalls, 0),
    durationMs,
    errors: results
      .filter((r) => r.outcome === 'failed')
      .map((r) => ({ tenantId: r.tenantId, outcome: r.outcome, error: r.error ?? 'unknown error' })),
    incomplete: results
      .filter((r) => r.outcome === 'budget' || r.outcome === 'busy')
      .map((r) => ({ tenantId: r.tenantId, outcome: r.outcome, reason: r.error ?? r.outcome })),
    results,
  };
}

export function reportMetrics(log: Logger, r: TenantSyncResult): void {
  if (r.outcome === 'busy') return;
  if (r.outcome === 'failed') {
    // The time read completely stays where it was: the lag (src/sync/lag.ts) grows while syncs fail.
    emitMetric(log, 'relay.sync.failed', {
      tenantId: r.tenantId,
      api: r.api,
      reason: r.error,
      readThrough: r.readThrough,
      lagSeconds: r.lagSeconds,
    });
    return;
  }
  emitMetric(log, 'relay.sync.completed', {
    tenantId: r.tenantId,
    api: r.api,
    fetched: r.fetched,
    delivered: r.delivered,
    suppressed: r.suppressed,
    possibleRepeats: r.possibleRepeats,
    readThrough: r.readThrough,
    lagSeconds: r.lagSeconds,
    durationMs: r.durationMs,
    outcome: r.outcome,
  });
  if (r.delivered > 0)
    emitMetric(log, 'relay.delivery', { tenantId: r.tenantId, destination: 'queue', count: r.delivered });
}

/** The summary as `defender-relay sync --json` prints it: the totals and one small object per tenant. */
export function summaryJson(summary: SyncSummary) {
  const { results, ...totals } = summary;
  return {
    ...totals,
    perTenant: results.map((r) => ({
      tenantId: r.tenantId,
      outcome: r.outcome,
      fetched: r.fetched,
      delivered: r.delivered,
      suppressed: r.suppressed,
      apiCalls: r.apiCalls,
      from: r.from,
      checkpoint: r.checkpoint ?? null,
      readThrough: r.readThrough ?? null,
      lagSeconds: r.lagSeconds ?? null,
      error: r.error ?? null,
    })),
  };
}
