/**
 * The sweep's figures per tenant, as `defender-relay status`, `check` and `/api/health/deep` show them:
 * the time up to which completeness is proven, the last complete sweep's versions checked, missing and
 * repaired, the totals, and the sweep's own lag (now − proven through).
 */
import { toTicks } from '../defender/timestamp';
import type { SweepState, SweepStateStore } from './sweep-state';

export interface CompletenessRow {
  tenantId: string;
  provenFrom: string | null;
  provenThrough: string | null;
  /** Seconds between now and `provenThrough`. */
  lagSeconds: number | null;
  checked: number | null;
  missing: number | null;
  repaired: number | null;
  totalMissing: number;
  totalRepaired: number;
  lastSweepAt: string | null;
  lastOutcome: string | null;
  lastError: string | null;
  /** A sweep stopped by its budget is resumed by the next one. */
  resuming: boolean;
}

export function completenessRow(
  tenantId: string,
  s: SweepState | undefined,
  now = Date.now(),
): CompletenessRow {
  const provenMs = s?.provenThrough ? Number(toTicks(s.provenThrough) / 10_000n) : undefined;
  return {
    tenantId,
    provenFrom: s?.provenFrom ?? null,
    provenThrough: s?.provenThrough ?? null,
    lagSeconds: provenMs !== undefined ? Math.max(0, Math.round((now - provenMs) / 1000)) : null,
    checked: s?.last?.checked ?? null,
    missing: s?.last?.missing ?? null,
    repaired: s?.last?.repaired ?? null,
    totalMissing: s?.totalMissing ?? 0,
    totalRepaired: s?.totalRepaired ?? 0,
    lastSweepAt: s?.lastSweepAt ?? null,
    lastOutcome: s?.lastOutcome ?? null,
    lastError: s?.lastError ?? null,
    resuming: Boolean(s?.traversal),
  };
}

export async function completenessRows(
  tenantIds: string[],
  store: Pick<SweepStateStore, 'list'>,
  now = Date.now(),
): Promise<CompletenessRow[]> {
  const byId = new Map((await store.list()).map((s) => [s.tenantId, s]));
  return tenantIds.map((t) => completenessRow(t, byId.get(t), now));
}

/** The deep health check of one tenant's completeness: not ok when the last sweep failed, found versions missing, or none completed for too long. */
export function completenessHealth(
  row: CompletenessRow,
  maxLagSeconds: number,
): { ok: boolean; detail: string } {
  const t = `Tenant ${row.tenantId}`;
  if (!row.lastSweepAt) return { ok: true, detail: `${t} has not been swept yet (SWEEP_SCHEDULE).` };
  if (row.lastOutcome === 'failed')
    return {
      ok: false,
      detail: `${t}: the last completeness sweep failed: ${row.lastError ?? 'see the log'}`,
    };
  if (row.missing)
    return {
      ok: false,
      detail:
        `${t}: the last completeness sweep found ${row.missing} version(s) undelivered and repaired ${row.repaired ?? 0}; ` +
        "this means a bug or an API fault worth a look (the log lines 'repaired …' say which and why).",
    };
  if (row.lagSeconds === null || row.lagSeconds > maxLagSeconds)
    return {
      ok: false,
      detail: `${t}: completeness is proven only through ${row.provenThrough ?? 'nothing yet'}; sweeps are not completing (check the sweepScheduler and sweepWorker functions, SWEEP_MAX_API_CALLS_PER_RUN).`,
    };
  return {
    ok: true,
    detail: `${t}: completeness proven through ${row.provenThrough} (${row.checked ?? 0} version(s) checked, none missing).`,
  };
}
