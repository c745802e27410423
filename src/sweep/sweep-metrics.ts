/**
 * The sweep's telemetry (docs/telemetry.md): `relay.sweep.completed` per tenant and run, with the figures the
 * workbook's completeness tile and the "versions were missing" alert rule read; `relay.sweep.failed`.
 */
import { emitMetric, type Logger } from '../telemetry';
import type { SweepResult } from './tenant-sweep';

export function reportSweepMetrics(log: Logger, r: SweepResult): void {
  if (r.outcome === 'busy' || r.outcome === 'skipped') return;
  if (r.outcome === 'failed') {
    emitMetric(log, 'relay.sweep.failed', { tenantId: r.tenantId, api: r.api, reason: r.error });
    return;
  }
  emitMetric(log, 'relay.sweep.completed', {
    tenantId: r.tenantId,
    api: r.api,
    outcome: r.outcome,
    checked: r.checked,
    missing: r.missing,
    repaired: r.repaired,
    provenThrough: r.provenThrough,
    lagSeconds: r.lagSeconds,
    apiCalls: r.apiCalls,
    durationMs: r.durationMs,
  });
  if (r.repaired > 0)
    emitMetric(log, 'relay.delivery', { tenantId: r.tenantId, destination: 'queue', count: r.repaired });
}

/** One line for the logs and the CLI. */
export function sweepLine(r: SweepResult): string {
  const proven = r.provenThrough ? `, proven through ${r.provenThrough}` : '';
  return `${r.outcome}: ${r.checked} version(s) checked, ${r.missing} missing, ${r.repaired} repaired, ${r.apiCalls} API calls${proven}`;
}
