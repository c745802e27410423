/**
 * `defender-relay migrate check`: for one tenant, reads the same window of last-update times from both
 * APIs with the sync's own readers (nothing is delivered, no checkpoint moves), compares them
 * (./compare.ts), checks the Graph token's permissions (./permissions.ts) and gives a verdict: ready to
 * switch to Graph, or not ready and why. See docs/migration.md.
 */
import type { TokenProvider } from '../auth/app-token';
import type { IncidentReader } from '../defender/incident-reader';
import type { ApiFlavour, IncidentVersion } from '../defender/incident';
import { newBudget } from '../defender/http';
import { msToTicks, ticksToIso, toTicks } from '../defender/timestamp';
import { compareReads, type Comparison } from './compare';
import { graphPermissions, type PermissionCheck } from './permissions';

/** Calls and time one API's read of the window may take. */
const READ_CALLS = 20_000;
const READ_MS = 30 * 60_000;

export type ReadOutcome =
  { ok: true; incidents: number; apiCalls: number } | { ok: false; error: string; errorCode?: string };

export interface TenantReadiness {
  tenantId: string;
  /** The API the tenant's sync reads now. */
  api: ApiFlavour;
  window: { from: string; to: string };
  reads: Record<ApiFlavour, ReadOutcome>;
  /** Absent when either read failed. */
  comparison?: Comparison;
  permissions: PermissionCheck[];
  ready: boolean;
  /** What stands in the way of a switch (empty when ready). */
  reasons: string[];
  /** What differs but does not stand in the way. */
  notes: string[];
}

export interface MigrateCheckDeps {
  readers: Record<ApiFlavour, IncidentReader>;
  tokens: TokenProvider;
  now?: () => number;
}

export interface CheckProgress {
  tenantId: string;
  api: ApiFlavour;
  incidents: number;
}

export async function checkTenant(
  deps: MigrateCheckDeps,
  tenantId: string,
  options: { api: ApiFlavour; hours: number; onProgress?: (p: CheckProgress) => void },
): Promise<TenantReadiness> {
  const to = msToTicks((deps.now ?? Date.now)());
  const from = to - msToTicks(options.hours * 3_600_000);
  const read = (api: ApiFlavour) =>
    readWindow(deps.readers[api], tenantId, from, to, (n) =>
      options.onProgress?.({ tenantId, api, incidents: n }),
    );
  const graph = await read('graph');
  const legacy = await read('legacy');
  const graphToken = await graphPermissions(deps.tokens, tenantId);
  const report: TenantReadiness = {
    tenantId,
    api: options.api,
    window: { from: ticksToIso(from), to: ticksToIso(to) },
    reads: { graph: graph.outcome, legacy: legacy.outcome },
    comparison: graph.versions && legacy.versions ? compareReads(graph.versions, legacy.versions) : undefined,
    permissions: graphToken.permissions,
    ready: false,
    reasons: [],
    notes: [],
  };
  if (graphToken.error) report.reasons.push(`no Graph token: ${graphToken.error}`);
  judge(report);
  return report;
}

interface WindowRead {
  outcome: ReadOutcome;
  /** The latest version per incident id updated in [from, to); absent when the read failed. */
  versions?: Map<string, IncidentVersion>;
}

async function readWindow(
  reader: IncidentReader,
  tenantId: string,
  from: bigint,
  to: bigint,
  progress: (incidents: number) => void,
): Promise<WindowRead> {
  const budget = newBudget(READ_CALLS, READ_MS);
  const versions = new Map<string, IncidentVersion>();
  try {
    for await (const step of reader.read(tenantId, { from: ticksToIso(from), budget })) {
      for (const v of step.incidents) keepLatest(versions, v, to);
      progress(versions.size);
    }
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return {
      outcome: {
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        ...(typeof code === 'string' ? { errorCode: code } : {}),
      },
    };
  }
  return { outcome: { ok: true, incidents: versions.size, apiCalls: budget.callsMade }, versions };
}

function keepLatest(versions: Map<string, IncidentVersion>, v: IncidentVersion, to: bigint): void {
  const ticks = toTicks(v.header.lastUpdate);
  if (ticks >= to) return;
  const known = versions.get(v.header.incidentId);
  if (!known || toTicks(known.header.lastUpdate) < ticks) versions.set(v.header.incidentId, v);
}

/** The verdict: what blocks a switch to Graph, and what is only worth knowing. */
function judge(r: TenantReadiness): void {
  for (const api of ['graph', 'legacy'] as const) {
    const read = r.reads[api];
    if (read.ok) continue;
    if (api === 'legacy' && read.errorCode === 'legacy_api_retired')
      r.notes.push('the legacy API is retired: only Graph was read, switch now');
    else r.reasons.push(`the ${api} read failed: ${read.error}`);
  }
  for (const p of r.permissions.filter((p) => !p.granted))
    r.reasons.push(
      `the Graph token lacks ${p.need}: grant the application permission ${p.permission} (Microsoft Graph) with admin consent in tenant ${r.tenantId} (${p.why})`,
    );
  judgeComparison(r);
  r.ready = r.reasons.length === 0;
}

function judgeComparison(r: TenantReadiness): void {
  const c = r.comparison;
  if (!c) return;
  if (c.onlyLegacy.length > 0)
    r.reasons.push(
      `${c.onlyLegacy.length} incident(s) only the legacy API returned (${list(c.onlyLegacy)}): on Graph they would not be synced`,
    );
  if (c.timeDifferences.length > 0)
    r.reasons.push(
      `${c.timeDifferences.length} version(s) whose last-update times differ (${list(c.timeDifferences.map((d) => d.incidentId))}): after a switch they would be sent again; run the check again (an incident updated during the check shows here too)`,
    );
  if (c.onlyGraph.length > 0)
    r.notes.push(
      `${c.onlyGraph.length} incident(s) only Graph returned (${list(c.onlyGraph)}): they will be synced after the switch`,
    );
  if (c.fieldDifferences.length > 0)
    r.notes.push(
      `${c.fieldDifferences.length} header field(s) differ after normalization: ${c.fieldDifferences
        .slice(0, 5)
        .map((d) => `${d.incidentId} ${d.field} graph "${d.graph}" legacy "${d.legacy}"`)
        .join('; ')}`,
    );
}

function list(ids: string[]): string {
  return ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, …` : ids.join(', ');
}
