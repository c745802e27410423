import type { Relay } from '../relay';
import { formatLag, tenantStatuses } from '../sync/tenant-status';

/** `defender-relay status`: per-tenant checkpoint, lag and last error, as a table or (--json) one object. */
export async function runStatus(
  relay: Pick<Relay, 'tenants' | 'state'>,
  options: { json: boolean; out?: NodeJS.WritableStream },
): Promise<number> {
  const out = options.out ?? process.stdout;
  const rows = await tenantStatuses(relay.tenants, relay.state);
  if (options.json) {
    out.write(`${JSON.stringify({ tenants: rows })}\n`);
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
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table)
    out.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}
