/**
 * Bench scenario 6 (`--only sweep`): the completeness sweep over a 20,000-version day (times the scale).
 * One tenant's day of incident updates, synced; then ten versions stamped long before the sync's overlap
 * (as an update visible only after the overlap had passed it), which no later sync reads; then one sweep over the 24-hour window: its API calls (against the floor
 * of ceil(N/50) Graph pages), wall time, versions checked and repaired; and the delivered record's size
 * (rows and bytes of the state table's record rows) that the sweep's window keeps.
 * It runs in the benchmark's own process (the sweep is not the hot path measured by scenarios 1–5).
 */
import { performance } from 'node:perf_hooks';
import type { Simulator } from '../simulator';
import { loadConfig } from '../../src/config/settings';
import { createRelay } from '../../src/relay';

export interface SweepBenchInput {
  sim: Simulator;
  clientId: string;
  settings: Record<string, string>;
  versions: number;
  log: (line: string) => void;
}

const HIDDEN = 10;

export async function sweepBench(input: SweepBenchInput) {
  const { sim, versions, log } = input;
  const tenantId = sim.addTenant();
  sim.grantPermissions(input.clientId, tenantId, 'graph', ['SecurityIncident.Read.All']);
  // A day of updates: one version each, spread over the last 23 hours.
  for (let left = versions; left > 0; left -= 5000)
    sim.incidents.seed(tenantId, Math.min(5000, left), { spreadHours: 23, alertsPerIncident: 1 });
  Object.assign(process.env, input.settings);
  const relay = createRelay(
    loadConfig({
      ...input.settings,
      DEFENDER_TENANTS: tenantId,
      SYNC_INITIAL_LOOKBACK_MINUTES: '1500',
      SWEEP_MAX_API_CALLS_PER_RUN: '100000',
    }),
  );
  log(`   syncing ${versions} versions of one day…`);
  const sync = await relay.syncAll();
  hide(sim, tenantId, HIDDEN);
  log('   sweeping the 24-hour window…');
  const started = performance.now();
  const cpu = process.cpuUsage();
  const [sweep] = await relay.sweepAll();
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - started;
  const record = await recordSize(relay, tenantId);
  const checked = sweep!.checked;
  return {
    versions,
    syncedVersions: sync.incidentsDelivered,
    sweep: {
      outcome: sweep!.outcome,
      checked,
      missing: sweep!.missing,
      repaired: sweep!.repaired,
      apiCalls: sweep!.apiCalls,
      floorCalls: Math.ceil(versions / 50),
      wallSeconds: Math.round(wallMs / 100) / 10,
      cpuSeconds: Math.round((used.user + used.system) / 100_000) / 10,
      callsPerThousandVersions: Math.round((sweep!.apiCalls / checked) * 1000 * 10) / 10,
    },
    deliveredRecord: record,
    targets: { repairedAll: sweep!.repaired === HIDDEN && sweep!.missing === HIDDEN },
  };
}

/** Incidents last updated over an hour ago get a version stamped a second later, after the sync: late-visible. */
function hide(sim: Simulator, tenantId: string, n: number): void {
  const cutoff = Date.now() - 3_600_000;
  const old = sim.incidents
    .ids(tenantId)
    .map((id) => sim.incidents.get(tenantId, id))
    .filter((i) => Date.parse(i.lastUpdateDateTime) < cutoff)
    .slice(0, n);
  for (const i of old) {
    const stamp = new Date(Date.parse(i.lastUpdateDateTime) + 1000).toISOString();
    sim.incidents.update(tenantId, i.id, { displayName: `${i.displayName} (late)` }, { stamp });
  }
}

async function recordSize(relay: ReturnType<typeof createRelay>, tenantId: string) {
  const table = relay.storage.table(relay.config.names.stateTable);
  let rows = 0;
  let bytes = 0;
  let keys = 0;
  const entities = table.listEntities<{ versions?: string }>({
    queryOptions: { filter: `PartitionKey eq '${tenantId}' and RowKey ge 'v_' and RowKey lt 'v_~'` },
  });
  for await (const e of entities) {
    rows++;
    const versions = e.versions ?? '';
    bytes += Buffer.byteLength(versions) + Buffer.byteLength(e.rowKey ?? '') + 64;
    keys += versions ? versions.split('\n').length : 0;
  }
  return {
    rows,
    versionKeys: keys,
    approxBytes: bytes,
    bytesPerVersion: keys ? Math.round(bytes / keys) : 0,
  };
}
