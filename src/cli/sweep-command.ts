import type { Relay } from '../relay';
import type { SweepProgress, SweepResult } from '../sweep/tenant-sweep';
import { sweepLine } from '../sweep/sweep-metrics';

export interface SweepCommandOptions {
  json: boolean;
  tenants?: string[];
  hours?: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * `defender-relay sweep`: one completeness sweep over the tenants now (docs/completeness.md), a live
 * progress line on a terminal, one line (or --json, one object) per tenant at the end. Exit status 1 when a
 * tenant failed or versions were missing (repaired, but worth a look), 2 on a bad --hours.
 */
export async function runSweep(
  relay: Pick<Relay, 'sweepAll'>,
  options: SweepCommandOptions,
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  let hours: number | undefined;
  if (options.hours !== undefined) {
    hours = Number(options.hours);
    if (!Number.isInteger(hours) || hours < 1 || hours > 168) {
      err.write(`--hours: "${options.hours}" is not a whole number of hours from 1 to 168\n`);
      return 2;
    }
  }
  const tty = Boolean(err.isTTY) && !options.json;
  const onProgress = tty
    ? (p: SweepProgress) =>
        err.write(
          `\r\x1b[K${p.tenantId}: ${p.checked} checked, ${p.missing} missing, ${p.repaired} repaired, ${p.apiCalls} calls${p.through ? `, up to ${p.through}` : ''}`,
        )
    : undefined;
  const results = await relay.sweepAll({ tenants: options.tenants, hours, onProgress });
  if (tty) err.write('\r\x1b[K');
  if (options.json) out.write(`${JSON.stringify(sweepJson(results))}\n`);
  else {
    for (const r of results)
      out.write(`${r.tenantId}  ${sweepLine(r)}${r.error ? `\n    ${r.error}` : ''}${repairLines(r)}\n`);
    const missing = results.reduce((n, r) => n + r.missing, 0);
    out.write(`${results.length} tenant(s) swept; ${missing} version(s) were missing.\n`);
  }
  return results.some((r) => r.outcome === 'failed' || r.missing > 0) ? 1 : 0;
}

function repairLines(r: SweepResult): string {
  return r.repairs.map((x) => `\n    repaired ${x.versionKey} (${x.reason})`).join('');
}

export function sweepJson(results: SweepResult[]) {
  return {
    tenants: results.length,
    missing: results.reduce((n, r) => n + r.missing, 0),
    repaired: results.reduce((n, r) => n + r.repaired, 0),
    failed: results.filter((r) => r.outcome === 'failed').length,
    perTenant: results.map((r) => ({
      tenantId: r.tenantId,
      outcome: r.outcome,
      from: r.from ?? null,
      until: r.until ?? null,
      checked: r.checked,
      missing: r.missing,
      repaired: r.repaired,
      window: r.window,
      provenThrough: r.provenThrough ?? null,
      lagSeconds: r.lagSeconds ?? null,
      apiCalls: r.apiCalls,
      repairs: r.repairs,
      error: r.error ?? null,
    })),
  };
}
