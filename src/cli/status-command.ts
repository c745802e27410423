import type { Relay } from '../relay';
import { formatLag, tenantStatuses } from '../sync/tenant-status';
import { completenessRows, type CompletenessRow } from '../sweep/completeness-status';

/** `defender-relay status`: per-tenant checkpoint, lag and last error, as a table or (--json) one object. */
export async function runStatus(
  relay: Pick<Relay, 'tenants' | 'state' | 'sweepState'>,
  options: { json: boolean; out?: NodeJS.WritableStream },
): Promise<number> {
  const out = options.out ?? process.stdout;
  const rows = await tenantStatuses(relay.tenants, relay.state);
  const completeness = await completenessRows(
    rows.map((r) => r.tenantId),
    relay.sweepState,
  );
  if (options.json) {
    out.write(`${JSON.stringify({ tenants: rows, completeness })}\n`);
    return 0;
  }
  if (rows.length === 0) {
    out.write('No tenants: set DEFENDER_TENANTS or onboard one (defender-relay tenants add <id>).\n');
    return 0;
  }
  const table = [
    ['TENANT', 'NAME', 'STATUS', 'CHECKPOINT', 'LAG', 'LAST RUN', 'LAST ERROR'],
    ...rows.map((r) => [
      r.tenantId,
      r.displayName ?? '',
      r.status,
      r.checkpoint ?? '-',
      formatLag(r.lagSeconds),
      r.lastOutcome ? `${r.lastOutcome} ${r.lastRunAt ?? ''}`.trim() : '-',
      r.lastError ? r.lastError.slice(0, 120) : '',
    ]),
  ];
  writeTable(out, table);
  out.write('\nCompleteness (the sweep, docs/completeness.md):\n');
  writeTable(out, completenessTable(completeness));
  return 0;
}

function completenessTable(rows: CompletenessRow[]): string[][] {
  return [
    ['TENANT', 'PROVEN THROUGH', 'SWEEP LAG', 'CHECKED', 'MISSING', 'REPAIRED', 'MISSING EVER', 'LAST SWEEP'],
    ...rows.map((r) => [
      r.tenantId,
      r.provenThrough ?? '-',
      r.lagSeconds === null ? 'never proven' : formatLag(r.lagSeconds),
      String(r.checked ?? '-'),
      String(r.missing ?? '-'),
      String(r.repaired ?? '-'),
      String(r.totalMissing),
      r.lastOutcome ? `${r.lastOutcome}${r.resuming ? ' (resumes)' : ''} ${r.lastSweepAt ?? ''}`.trim() : '-',
    ]),
  ];
}

function writeTable(out: NodeJS.WritableStream, table: string[][]): void {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table)
    out.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}
