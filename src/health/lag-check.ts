/**
 * The per-tenant lag check of deep health and `defender-relay check`: lag as src/sync/lag.ts defines it
 * (now minus the time up to which the tenant has been read completely), so a quiet tenant synced a minute
 * ago is a minute behind, and a tenant whose syncs fail or stop falls further behind with the clock.
 */
import type { TenantState } from '../sync/state-store';
import { lagSeconds, readThroughOf } from '../sync/lag';

export interface LagVerdict {
  ok: boolean;
  lagSeconds?: number;
  detail: string;
}

/** The verdict on one tenant's state: behind by more than `maxLag` seconds, or failing, is not ok. */
export function lagVerdict(
  tenantId: string,
  state: TenantState | undefined,
  options: { now: number; maxLag: number; initialLookbackMs: number },
): LagVerdict {
  const through = readThroughOf(state);
  const lag = lagSeconds(through, options.now);
  const failing = state?.lastOutcome === 'failed';
  const why = failing ? `; the last sync failed: ${state?.lastError ?? 'see the log'}` : '';
  if (lag === undefined) {
    if (!state?.lastRunAt)
      return {
        ok: true,
        detail: `Tenant ${tenantId} has not been synced yet (the first run reads the last ${Math.round(options.initialLookbackMs / 60_000)} minutes).`,
      };
    return {
      ok: !failing,
      detail: `Tenant ${tenantId} has not been read completely yet (a first traversal is in progress)${why}.`,
    };
  }
  const read = `read completely up to ${through} (${lag} s ago)`;
  if (failing || lag > options.maxLag)
    return {
      ok: false,
      lagSeconds: lag,
      detail:
        `Tenant ${tenantId}: ${lag} s behind, ${read}` +
        (failing ? why : '; syncs are not completing (check the syncScheduler and syncWorker functions).'),
    };
  return { ok: true, lagSeconds: lag, detail: `Tenant ${tenantId}: ${lag} s behind, ${read}.` };
}
