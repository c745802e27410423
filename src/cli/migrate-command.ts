/**
 * `defender-relay migrate check [--tenant <id>]... [--hours N] [--json]`: per tenant, both APIs read over
 * the same window and compared, the Graph token's permissions checked, and a verdict (src/migration/).
 * Exit status 0 when every tenant checked is ready for Graph, 1 when any is not, 2 on a usage error.
 */
import type { Relay } from '../relay';
import { isTenantId } from '../tenants/tenant-registry';
import { checkTenant, type CheckProgress, type TenantReadiness } from '../migration/migrate-check';

export const MIGRATE_USAGE = `  migrate check [--tenant <id>]... [--hours N]   compare both APIs on each tenant's data; readiness for Graph`;

export interface MigrateCommandOptions {
  json: boolean;
  tenants?: string[];
  hours?: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

type MigrateRelay = Pick<Relay, 'readers' | 'tokens' | 'tenants'>;

export async function runMigrateCommand(
  relay: MigrateRelay,
  args: string[],
  options: MigrateCommandOptions,
): Promise<number> {
  const err = options.err ?? process.stderr;
  const usage = (message: string) => {
    err.write(`${message}\n\nUsage:\n${MIGRATE_USAGE}\n`);
    return 2;
  };
  if (args[0] !== 'check' || args.length > 1) return usage('Which migrate action? (check)');
  const hours = Number(options.hours ?? '24');
  if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30)
    return usage('--hours must be a whole number of hours from 1 to 720.');
  const bad = options.tenants?.find((t) => !isTenantId(t));
  if (bad) return usage(`"${bad}" is not a tenant id (a GUID).`);
  const reports = await checkAll(relay, hours, options);
  print(reports, options);
  return reports.every((r) => r.ready) ? 0 : 1;
}

async function checkAll(
  relay: MigrateRelay,
  hours: number,
  options: MigrateCommandOptions,
): Promise<TenantReadiness[]> {
  const err = options.err ?? process.stderr;
  const tty = Boolean(err.isTTY) && !options.json;
  const onProgress = tty
    ? (p: CheckProgress) => err.write(`\r\x1b[K${p.tenantId}: reading ${p.api}, ${p.incidents} incident(s)`)
    : undefined;
  const tenantIds = options.tenants?.length ? options.tenants : await relay.tenants.enabledTenantIds();
  const reports: TenantReadiness[] = [];
  for (const tenantId of tenantIds.map((t) => t.toLowerCase())) {
    const api = await relay.tenants.apiOf(tenantId);
    reports.push(await checkTenant(relay, tenantId, { api, hours, onProgress }));
  }
  if (tty) err.write('\r\x1b[K');
  return reports;
}

function print(reports: TenantReadiness[], options: MigrateCommandOptions): void {
  const out = options.out ?? process.stdout;
  if (options.json) {
    out.write(`${JSON.stringify({ ready: reports.every((r) => r.ready), tenants: reports })}\n`);
    return;
  }
  for (const r of reports) out.write(`${describe(r)}\n`);
  const ready = reports.filter((r) => r.ready).length;
  out.write(`${ready} of ${reports.length} tenant(s) ready for Graph.\n`);
}

function describe(r: TenantReadiness): string {
  const c = r.comparison;
  const lines = [
    `${r.tenantId} (reads ${r.api}), ${r.window.from} to ${r.window.to}`,
    c
      ? `  Graph ${c.graphCount} incident(s), legacy ${c.legacyCount}; only on Graph ${c.onlyGraph.length}, only on legacy ${c.onlyLegacy.length}; last-update times differ ${c.timeDifferences.length}; header fields differ ${c.fieldDifferences.length}`
      : '  the two APIs could not both be read',
    ...r.permissions.map(
      (p) => `  ${p.granted ? 'ok  ' : 'MISSING'} ${p.need}: ${p.permission} on Microsoft Graph (${p.why})`,
    ),
    ...r.reasons.map((x) => `  not ready: ${x}`),
    ...r.notes.map((x) => `  note: ${x}`),
    r.ready
      ? `  READY: defender-relay tenants set-api ${r.tenantId} graph`
      : '  NOT READY: fix the above and run the check again',
  ];
  return lines.join('\n');
}
