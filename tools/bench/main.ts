/**
 * `npm run bench` (= `defender-relay bench`): fixed scenarios against the simulator and Azurite, all on
 * loopback, showing where the relay's own cost stands beside the Defender API's and the queue's.
 *
 *   1. throughput   N incidents of 10 tenants to the queue, relay against a floor (the cheapest correct
 *                   pages and the same messages with the SDKs directly, same concurrency); incidents/s,
 *                   ratio, CPU/incident
 *   2. economy      Graph list calls against the documented floor ceil(N/50) (the throughput run, a steady
 *                   run, the backlog), legacy calls, token requests per tenant, Key Vault reads
 *   3. fan-out      T tenants x 5 incidents at 50 ms API latency through the timer + queue workers
 *   4. backlog      a B-incident backfill of one tenant (paced by Graph's per-tenant rate): peak RSS as
 *                   the backlog grows
 *   5. cold start   load time of the bundled entry point against the unbundled build, bundle size
 *
 * The relay and the floor each run in a child process (bundled like dist/ and run with plain node), so
 * CPU and memory figures are theirs alone: the simulator runs here, Azurite in its own process.
 *
 * Options: --json (one JSON object on stdout; progress on stderr), --quick (= --scale 0.1: every scenario
 * size times the factor),
 * --only <name,...> (throughput, economy, fanout, backlog, coldstart, sweep).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { startAzurite, type AzuriteHandle } from '../azurite';
import { startSimulator, type AppRegistration, type Simulator } from '../simulator';
import { identityEnv, simulatorAppSettings } from '../simulator/app-settings';
import { RESULT_PREFIX } from './proc';
import { printTable } from './report';
import { sweepBench } from './sweep';
import { bundleOptions } from '../build-options.cjs';

const ROOT = path.resolve(__dirname, '../..');
const SECRET_NAME = 'bench-client-secret';

export interface Scale {
  throughputIncidents: number;
  /** The throughput incidents are spread over this many tenants (Graph's rate limit is per tenant). */
  throughputTenants: number;
  /** Incidents updated before the steady run. */
  steadyUpdates: number;
  fanoutTenants: number;
  fanoutIncidentsPerTenant: number;
  fanoutLatencyMs: number;
  fanoutConcurrency: number;
  backlogIncidents: number;
  backlogMarks: number[];
  legacyIncidents: number;
  coldStartRuns: number;
}

const FULL: Scale = {
  throughputIncidents: 20_000,
  throughputTenants: 10,
  steadyUpdates: 200,
  fanoutTenants: 1000,
  fanoutIncidentsPerTenant: 5,
  fanoutLatencyMs: 50,
  // One Functions instance works batchSize (host.json: 8) + newBatchThreshold (batchSize/2 per core: 8 on
  // 2 cores) queue messages at once: 16. One instance is the worst case (no scale-out).
  fanoutConcurrency: 16,
  // One tenant: Graph allows about 150 calls a minute per tenant, so 20,000 incidents take 3.5 minutes.
  backlogIncidents: 20_000,
  backlogMarks: [5_000, 10_000, 20_000],
  legacyIncidents: 2_000,
  coldStartRuns: 9,
};

/** `--quick` = `--scale 0.1`: every scenario size times the factor (fan-out latency and workers stay). */
function scaled(factor: number): Scale {
  const n = (x: number) => Math.max(1, Math.round(x * factor));
  return {
    ...FULL,
    throughputIncidents: n(FULL.throughputIncidents),
    steadyUpdates: n(FULL.steadyUpdates),
    fanoutTenants: n(FULL.fanoutTenants),
    backlogIncidents: n(FULL.backlogIncidents),
    backlogMarks: FULL.backlogMarks.map(n),
    legacyIncidents: Math.max(100, n(FULL.legacyIncidents)),
    coldStartRuns: factor < 1 ? 5 : FULL.coldStartRuns,
  };
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** The documented floor of Graph list calls: pages of 50 (`$top` at most 50). */
export const offsetMinimum = (n: number, page = 50) => Math.max(1, Math.ceil(n / page));

// ---------------------------------------------------------------------------------------------------
// Bundles: the children and the entry points, built with npm run build's settings (tools/build-options.cjs)
// into a scratch dir, without source maps.

const BUILD: BuildOptions = { ...bundleOptions(), sourcemap: false };

interface Bundles {
  dir: string;
  relayChild: string;
  floor: string;
  index: string;
  unbundledIndex: string;
}

async function buildAll(dir: string): Promise<Bundles> {
  await build({
    ...BUILD,
    entryPoints: {
      'relay-child': 'tools/bench/relay-child.ts',
      floor: 'tools/bench/floor.ts',
      index: 'src/index.ts',
    },
    outdir: dir,
  });
  // The unbundled build: every module of src/ emitted on its own; node_modules required at run time.
  const sources: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, d), { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) sources.push(p);
    }
  };
  walk('src');
  await build({
    entryPoints: sources,
    outdir: path.join(dir, 'unbundled', 'src'),
    outbase: 'src',
    bundle: false,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  return {
    dir,
    relayChild: path.join(dir, 'relay-child.js'),
    floor: path.join(dir, 'floor.js'),
    index: path.join(dir, 'index.js'),
    unbundledIndex: path.join(dir, 'unbundled', 'src', 'index.js'),
  };
}

// ---------------------------------------------------------------------------------------------------
// Processes: each measured run gets a fresh Azurite (in memory); every process started is ended on the way
// out, also on Ctrl-C (Azurite ignores SIGTERM while busy, so it is killed outright).

const live = { azurites: new Set<AzuriteHandle>(), children: new Set<ChildProcess>() };

function killAll(): void {
  for (const pid of [...[...live.azurites].map((a) => a.pid), ...[...live.children].map((c) => c.pid)]) {
    try {
      if (pid !== undefined && pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.azurites.clear();
  live.children.clear();
}

/**
 * Runs `fn` with an Azurite of its own. A long run leaves Azurite's in-memory store busy (its memory grew
 * past 1 GB and it kept a core busy after 20,000-message queues were deleted), which would slow whatever ran
 * next; a fresh one per run keeps the runs independent of each other.
 */
async function withAzurite<T>(fn: (azurite: AzuriteHandle) => Promise<T>): Promise<T> {
  const azurite = await startAzurite();
  live.azurites.add(azurite);
  try {
    return await fn(azurite);
  } finally {
    // SIGTERM (stop() also removes its scratch folder once it exited), SIGKILL if it has not within 2 s.
    const kill = setTimeout(() => {
      try {
        process.kill(azurite.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 2000);
    await azurite.stop();
    clearTimeout(kill);
    live.azurites.delete(azurite);
  }
}

// ---------------------------------------------------------------------------------------------------
// Children.

interface ChildRun<T> {
  result: T;
  /** Wall time of the whole child process (start, load, work, exit). */
  processWallMs: number;
}

function runChild<T>(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ChildRun<T>> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // BENCH_CPU_PROF=<dir>: every child writes a V8 CPU profile there (read it with tools/bench/profile.ts).
    const prof = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : [];
    // BENCH_CHILD_NODE_ARGS: V8 flags for the measured processes only (e.g. a heap cap), not the simulator's.
    const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, ...prof, script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      live.children.delete(child);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) {
        reject(
          new Error(
            `${path.basename(script)} ${args.join(' ')} ended with ${signal ?? code}: ${stderr.trim().slice(-2000)}`,
          ),
        );
        return;
      }
      resolve({
        result: JSON.parse(line.slice(RESULT_PREFIX.length)) as T,
        processWallMs: performance.now() - t0,
      });
    });
  });
}

interface SyncChildResult {
  wallMs: number;
  cpuMs: number;
  processCpuMs: number;
  memory: { hwmMiB: number; rssMiB: number; heapUsedMiB: number };
  samples: { fetched: number; hwmMiB: number; rssMiB: number; heapUsedMiB: number }[];
  startup: { cpuMs: number; memory: { hwmMiB: number } };
  keyVaultReads: number;
  phases?: Record<string, number>;
  summary: {
    incidentsDelivered: number;
    incidentsFetched: number;
    incidentsSuppressed: number;
    apiCalls: number;
    errors: { tenantId: string; error: string }[];
    incomplete: { tenantId: string; reason: string }[];
    perTenant: { tenantId: string; from: string; apiCalls: number }[];
  };
}

interface FloorResult {
  wallMs: number;
  cpuMs: number;
  processCpuMs: number;
  memory: { hwmMiB: number };
  apiCalls: number;
  delivered: number;
  phases: Record<string, number>;
}

interface FanoutChildResult {
  concurrency: number;
  rounds: {
    round: number;
    wallMs: number;
    scheduleMs: number;
    cpuMs: number;
    jobs: number;
    failed: number;
    memory: { hwmMiB: number; rssMiB: number };
  }[];
  memory: { hwmMiB: number; rssMiB: number };
  keyVaultReads: number;
  logs: { lines: number; errors: string[] };
}

// ---------------------------------------------------------------------------------------------------
// The world: one simulator (or a second one with latency for the fan-out), one app, its secret.

interface World {
  sim: Simulator;
  app: AppRegistration;
  settings(azurite: AzuriteHandle, names: string, extra?: Record<string, string>): Record<string, string>;
}

let nameCounter = 0;
async function world(latencyMs: number): Promise<World> {
  const sim = await startSimulator({ seed: 8, latencyMs });
  const app = sim.registerApp({ homeTenantId: sim.homeTenantId, multiTenant: true, displayName: 'bench' });
  sim.keyVault.setSecret(SECRET_NAME, app.secret ?? '');
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  return {
    sim,
    app,
    settings: (azurite, names, extra = {}) => {
      const n = `${names}${++nameCounter}`;
      return {
        ...simulatorAppSettings(sim, app, azurite.connectionString, {
          DEFENDER_CLIENT_SECRET_NAME: SECRET_NAME,
          INCIDENTS_QUEUE_NAME: `bench-${n}`,
          STATE_TABLE_NAME: `bench${n}`,
          TENANTS_TABLE_NAME: `benchtenants${n}`,
          SYNC_JOBS_QUEUE_NAME: `bench-jobs-${n}`,
          LEASES_CONTAINER_NAME: `bench-leases-${n}`,
          CLAIM_CHECK_CONTAINER_NAME: `bench-payloads-${n}`,
          // One run must be able to take the whole scenario (the defaults stop at 500 calls / 4 minutes).
          SYNC_MAX_API_CALLS_PER_RUN: '100000',
          SYNC_MAX_RUN_SECONDS: '3600',
          ...extra,
        }),
        ...identityEnv(sim),
      };
    },
  };
}

function tenantWithIncidents(w: World, count: number, api: 'graph' | 'legacy' = 'graph', alerts?: number) {
  const tenantId = w.sim.addTenant();
  w.sim.grantPermissions(
    w.app.clientId,
    tenantId,
    api,
    api === 'graph' ? ['SecurityIncident.Read.All'] : ['Incident.Read.All'],
  );
  // Seeded in chunks so a large store does not build one huge array of snapshots at once.
  for (let left = count; left > 0; left -= 5000)
    w.sim.incidents.seed(tenantId, Math.min(5000, left), alerts ? { alertsPerIncident: alerts } : {});
  return tenantId;
}

function tokensFor(sim: Simulator, clientId: string, tenantId: string): number {
  return sim.counters
    .snapshot()
    .tokenRequests.filter((t) => t.clientId === clientId && t.tenantId === tenantId)
    .reduce((n, t) => n + t.count, 0);
}

// ---------------------------------------------------------------------------------------------------
// Scenarios.

async function throughput(w: World, bundles: Bundles, scale: Scale) {
  const n = scale.throughputIncidents;
  const tenants = Array.from({ length: scale.throughputTenants }, () =>
    tenantWithIncidents(w, Math.round(n / scale.throughputTenants)),
  );
  const runs: {
    floor: FloorResult & { processWallMs: number };
    relay: SyncChildResult & { processWallMs: number; calls: number; tokens: number; kvReads: number };
  }[] = [];
  let steady: Awaited<ReturnType<typeof steadyRun>> | undefined;
  // Two rounds, floor then relay, each in a fresh process on fresh queues; the better of each is reported
  // (the machine has 2 cores shared with Azurite and the simulator, so a single run is noisy).
  for (let rep = 0; rep < 2; rep++) {
    log(`  floor: ${n} incidents of ${tenants.length} tenants…`);
    const floor = await withAzurite((azurite) => {
      const env = w.settings(azurite, 'floor', { FLOOR_TENANTS: tenants.join(',') });
      env.FLOOR_QUEUE = env.INCIDENTS_QUEUE_NAME as string;
      env.FLOOR_TENANT_CONCURRENCY = env.SYNC_TENANT_CONCURRENCY ?? '8';
      return runChild<FloorResult>(bundles.floor, [], env, 600_000);
    });
    w.sim.counters.reset();
    log(`  relay: ${n} incidents of ${tenants.length} tenants…`);
    const relay = await withAzurite(async (azurite) => {
      const env = w.settings(azurite, 'relay', { DEFENDER_TENANTS: tenants.join(',') });
      const run = await runChild<SyncChildResult>(bundles.relayChild, ['sync'], env, 600_000);
      // The first round's state goes on to a steady run: some incidents change, the next run reads them.
      if (rep === 0) steady = await steadyRun(w, bundles, env, tenants[0] as string, scale.steadyUpdates);
      return run;
    });
    const snapshot = w.sim.counters.snapshot();
    const calls =
      tenants.reduce((c, t) => c + (snapshot.byTenant[t]?.['graph.list'] ?? 0), 0) -
      (steady && rep === 0 ? steady.calls : 0);
    if (relay.result.summary.incidentsDelivered !== n || floor.result.delivered !== n)
      throw new Error(
        `throughput: expected ${n} delivered, relay ${relay.result.summary.incidentsDelivered}, floor ${floor.result.delivered}: ${JSON.stringify(relay.result.summary.errors)}`,
      );
    runs.push({
      floor: { ...floor.result, processWallMs: floor.processWallMs },
      relay: {
        ...relay.result,
        processWallMs: relay.processWallMs,
        calls,
        tokens: Math.max(...tenants.map((t) => tokensFor(w.sim, w.app.clientId, t))),
        kvReads: snapshot.keyVaultReads[SECRET_NAME] ?? 0,
      },
    });
  }
  const best = <T extends { wallMs: number }>(xs: T[]) => xs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const floor = best(runs.map((r) => r.floor));
  const relay = best(runs.map((r) => r.relay));
  const relayRate = n / (relay.wallMs / 1000);
  const floorRate = n / (floor.wallMs / 1000);
  const relayCpu = relay.cpuMs / n;
  const floorCpu = floor.cpuMs / n;
  return {
    incidents: n,
    relay: {
      incidentsPerSecond: round(relayRate, 0),
      wallMs: relay.wallMs,
      cpuMs: relay.cpuMs,
      cpuMsPerIncident: round(relayCpu, 3),
      peakRssMiB: relay.memory.hwmMiB,
      apiCalls: relay.calls,
      ...(relay.phases ? { phases: relay.phases } : {}),
      runs: runs.map((r) => ({ wallMs: r.relay.wallMs, cpuMs: r.relay.cpuMs })),
    },
    floor: {
      incidentsPerSecond: round(floorRate, 0),
      wallMs: floor.wallMs,
      cpuMs: floor.cpuMs,
      cpuMsPerIncident: round(floorCpu, 3),
      peakRssMiB: floor.memory.hwmMiB,
      apiCalls: floor.apiCalls,
      phases: floor.phases,
      runs: runs.map((r) => ({ wallMs: r.floor.wallMs, cpuMs: r.floor.cpuMs })),
    },
    ratio: round(relayRate / floorRate, 3),
    cpuRatio: round(relayCpu / floorCpu, 3),
    targets: {
      ratioAtLeast: 0.9,
      cpuRatioAtMost: 1.25,
      met: relayRate / floorRate >= 0.9 && relayCpu / floorCpu <= 1.25,
    },
    economy: {
      calls: relay.calls,
      floor: tenants.length * offsetMinimum(Math.round(n / tenants.length)),
      tokens: relay.tokens,
      kvReads: relay.kvReads,
      steady,
    },
  };
}

/**
 * A steady run: after a tenant is caught up, `updates` of its incidents change and the next run reads
 * its window (the checkpoint minus the overlap). Its Graph list calls against ceil(N/50), N the incidents
 * whose last update lies in that window.
 */
async function steadyRun(
  w: World,
  bundles: Bundles,
  env: Record<string, string>,
  tenantId: string,
  updates: number,
) {
  const ids = w.sim.incidents.ids(tenantId);
  for (let i = 0; i < updates; i++)
    w.sim.incidents.update(tenantId, ids[(i * 7919) % ids.length] as string, { severity: 'high' });
  const before = w.sim.counters.snapshot().byTenant[tenantId]?.['graph.list'] ?? 0;
  const run = await runChild<SyncChildResult>(
    bundles.relayChild,
    ['sync', '--tenant', tenantId],
    env,
    600_000,
  );
  const calls = (w.sim.counters.snapshot().byTenant[tenantId]?.['graph.list'] ?? 0) - before;
  const from = run.result.summary.perTenant[0]?.from;
  const inWindow = from
    ? w.sim.incidents
        .ids(tenantId)
        .filter((id) => Date.parse(w.sim.incidents.get(tenantId, id).lastUpdateDateTime) >= Date.parse(from))
        .length
    : 0;
  return {
    updates,
    incidentsInWindow: inWindow,
    delivered: run.result.summary.incidentsDelivered,
    calls,
    floor: offsetMinimum(inWindow),
    ratio: round(calls / offsetMinimum(inWindow), 3),
  };
}

async function legacyEconomy(w: World, bundles: Bundles, scale: Scale) {
  const n = scale.legacyIncidents;
  const tenantId = tenantWithIncidents(w, n, 'legacy');
  w.sim.counters.reset();
  log(`  relay (legacy API): ${n} incidents…`);
  const run = await withAzurite((azurite) =>
    runChild<SyncChildResult>(
      bundles.relayChild,
      ['sync'],
      w.settings(azurite, 'legacy', { DEFENDER_TENANTS: tenantId, DEFENDER_API: 'legacy' }),
      600_000,
    ),
  );
  const snapshot = w.sim.counters.snapshot();
  return {
    incidents: n,
    delivered: run.result.summary.incidentsDelivered,
    calls: snapshot.byTenant[tenantId]?.['legacy.list'] ?? 0,
    minimum: offsetMinimum(n, 100),
    tokens: tokensFor(w.sim, w.app.clientId, tenantId),
    kvReads: snapshot.keyVaultReads[SECRET_NAME] ?? 0,
  };
}

async function fanout(bundles: Bundles, scale: Scale) {
  const w = await world(scale.fanoutLatencyMs);
  try {
    const tenants = Array.from({ length: scale.fanoutTenants }, () =>
      tenantWithIncidents(w, scale.fanoutIncidentsPerTenant),
    );
    w.sim.counters.reset();
    log(
      `  ${tenants.length} tenants x ${scale.fanoutIncidentsPerTenant} incidents, ${scale.fanoutLatencyMs} ms API latency, ${scale.fanoutConcurrency} workers, 2 rounds…`,
    );
    const run = await withAzurite((azurite) =>
      runChild<FanoutChildResult>(
        bundles.relayChild,
        ['fanout', '--concurrency', String(scale.fanoutConcurrency), '--rounds', '2'],
        w.settings(azurite, 'fanout', { DEFENDER_TENANTS: tenants.join(',') }),
        600_000,
      ),
    );
    const snapshot = w.sim.counters.snapshot();
    const perTenantTokens = tenants.map((t) => tokensFor(w.sim, w.app.clientId, t));
    const perTenantCalls = tenants.map((t) => snapshot.byTenant[t]?.['graph.list'] ?? 0);
    const [first, second] = run.result.rounds;
    if (!first || first.failed > 0 || first.jobs !== tenants.length)
      throw new Error(`fan-out: round 1 ${JSON.stringify(first)} ${JSON.stringify(run.result.logs.errors)}`);
    return {
      tenants: tenants.length,
      incidentsPerTenant: scale.fanoutIncidentsPerTenant,
      apiLatencyMs: scale.fanoutLatencyMs,
      concurrency: run.result.concurrency,
      roundWallMs: first.wallMs,
      scheduleMs: first.scheduleMs,
      roundCpuMs: first.cpuMs,
      secondRoundWallMs: second?.wallMs,
      peakRssMiB: first.memory.hwmMiB,
      peakRssMiBAfterTwoRounds: run.result.memory.hwmMiB,
      targets: {
        wallMsUnder: 30_000,
        peakRssMiBUnder: 300,
        met: first.wallMs < 30_000 && first.memory.hwmMiB < 300,
      },
      economy: {
        tokensPerTenant: { min: Math.min(...perTenantTokens), max: Math.max(...perTenantTokens) },
        callsPerTenantTwoRounds: { min: Math.min(...perTenantCalls), max: Math.max(...perTenantCalls) },
        keyVaultReads: snapshot.keyVaultReads[SECRET_NAME] ?? 0,
        managedIdentityTokenRequests: snapshot.byKind.msi ?? 0,
      },
    };
  } finally {
    await w.sim.stop();
  }
}

async function backlog(w: World, bundles: Bundles, scale: Scale) {
  const n = scale.backlogIncidents;
  log(`  seeding ${n} incidents…`);
  const tenantId = tenantWithIncidents(w, n);
  const since = new Date(Date.now() - 2 * 24 * 3600_000).toISOString();
  const callsBefore = w.sim.counters.snapshot().byTenant[tenantId]?.['graph.list'] ?? 0;
  log(`  relay: backfill of ${n} incidents…`);
  const run = await withAzurite((azurite) =>
    runChild<SyncChildResult>(
      bundles.relayChild,
      ['sync', '--since', since, '--marks', scale.backlogMarks.join(',')],
      w.settings(azurite, 'backlog', { DEFENDER_TENANTS: tenantId }),
      900_000,
    ),
  );
  const r = run.result;
  const calls = (w.sim.counters.snapshot().byTenant[tenantId]?.['graph.list'] ?? 0) - callsBefore;
  if (r.summary.incidentsDelivered !== n)
    throw new Error(
      `backlog: ${r.summary.incidentsDelivered} of ${n} delivered: ${JSON.stringify(r.summary)}`,
    );
  const peaks = r.samples.map((s) => ({
    incidents: s.fetched,
    peakRssMiB: s.hwmMiB,
    heapUsedMiB: s.heapUsedMiB,
  }));
  const last = r.memory.hwmMiB;
  const firstMark = peaks[0]?.peakRssMiB ?? last;
  return {
    incidents: n,
    wallMs: r.wallMs,
    incidentsPerSecond: round(n / (r.wallMs / 1000), 0),
    cpuMsPerIncident: round(r.cpuMs / n, 3),
    peakRssMiB: last,
    /** The relay process after loading and building the relay, before the first page. */
    rssMiBAtStart: r.startup.memory.hwmMiB,
    heapUsedMiBAtEnd: r.memory.heapUsedMiB,
    atMarks: peaks,
    growthMiBFirstToLastMark: round(last - firstMark, 1),
    graphCalls: calls,
    graphCallsFloor: offsetMinimum(n),
    targets: { peakRssMiBUnder: 200, met: last < 200 && last - firstMark < 0.1 * firstMark + 10 },
  };
}

async function coldStart(bundles: Bundles, scale: Scale) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DEFENDER_TENANT_ID: '11111111-1111-4111-8111-111111111111',
    DEFENDER_CLIENT_ID: '22222222-2222-4222-8222-222222222222',
    KEY_VAULT_URL: 'https://relay-bench.vault.azure.net',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  };
  const probe = (file: string) =>
    `const t=process.hrtime.bigint();require(${JSON.stringify(file)});` +
    `const ms=Number(process.hrtime.bigint()-t)/1e6;` +
    `process.stdout.write(JSON.stringify({ms,modules:Object.keys(require.cache).length,rss:process.memoryUsage.rss()}))`;
  const once = (file: string, extra: Record<string, string>) =>
    new Promise<{ loadMs: number; processMs: number; modules: number; rssMiB: number }>((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(process.execPath, ['-e', probe(file)], {
        cwd: os.tmpdir(),
        env: { ...env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => {
        const processMs = performance.now() - t0;
        if (code !== 0) return reject(new Error(`loading ${file} failed: ${err.trim().slice(-1000)}`));
        const r = JSON.parse(out) as { ms: number; modules: number; rss: number };
        resolve({ loadMs: r.ms, processMs, modules: r.modules, rssMiB: round(r.rss / 1048576, 1) });
      });
    });
  const measure = async (file: string, extra: Record<string, string>) => {
    await once(file, extra); // warm the file system cache
    const runs = [];
    for (let i = 0; i < scale.coldStartRuns; i++) runs.push(await once(file, extra));
    return {
      loadMs: round(median(runs.map((r) => r.loadMs)), 1),
      processMs: round(median(runs.map((r) => r.processMs)), 1),
      modules: runs[0]?.modules ?? 0,
      rssMiB: round(median(runs.map((r) => r.rssMiB)), 1),
    };
  };
  // The unbundled build finds its packages through NODE_PATH (it lives outside the checkout).
  const unbundled = await measure(bundles.unbundledIndex, { NODE_PATH: path.join(ROOT, 'node_modules') });
  const bundled = await measure(bundles.index, {});
  const size = fs.statSync(bundles.index).size;
  return {
    runs: scale.coldStartRuns,
    bundled: { ...bundled, bytes: size },
    unbundled,
    ratio: round(bundled.loadMs / unbundled.loadMs, 3),
    targets: { ratioAtMost: 0.5, met: bundled.loadMs <= 0.5 * unbundled.loadMs },
  };
}

// ---------------------------------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      scale: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const factor = values.scale !== undefined ? Number(values.scale) : values.quick ? 0.1 : 1;
  if (!(factor > 0 && factor <= 1)) throw new Error('--scale must be a number in (0, 1]');
  const scale = factor === 1 ? FULL : scaled(factor);
  const only = new Set((values.only ?? 'throughput,economy,fanout,backlog,coldstart,sweep').split(','));
  const started = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-bench-'));
  let w: World | undefined;
  const out: Record<string, unknown> = {
    machine: machine(),
    mode: factor === 1 ? 'full' : `scaled x${factor}`,
    startedAt: new Date().toISOString(),
  };
  const onSignal = () => {
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log('Building the bundles (esbuild, the settings of tools/build.mjs)…');
    const bundles = await buildAll(dir);
    if (['throughput', 'economy', 'fanout', 'backlog', 'sweep'].some((s) => only.has(s))) {
      w = await world(0);
    }
    let tp: Awaited<ReturnType<typeof throughput>> | undefined;
    let fo: Awaited<ReturnType<typeof fanout>> | undefined;
    if (only.has('throughput') || only.has('economy')) {
      log('1. Throughput against the floor');
      tp = await throughput(w!, bundles, scale);
      if (only.has('throughput')) {
        const { economy: _e, ...rest } = tp;
        out.throughput = rest;
      }
    }
    if (only.has('fanout') || only.has('economy')) {
      log('3. Fan-out');
      fo = await fanout(bundles, scale);
      if (only.has('fanout')) {
        const { economy: _e, ...rest } = fo;
        out.fanout = rest;
      }
    }
    if (only.has('economy')) {
      log('2. API economy');
      const legacy = await legacyEconomy(w!, bundles, scale);
      const n = tp!.incidents;
      const graph = {
        incidents: n,
        tenants: scale.throughputTenants,
        calls: tp!.economy.calls,
        floor: tp!.economy.floor,
        ratio: round(tp!.economy.calls / tp!.economy.floor, 3),
        steady: tp!.economy.steady,
      };
      out.economy = {
        graph,
        legacy,
        tokensPerTenant: {
          throughputTenant: tp!.economy.tokens,
          legacyTenant: legacy.tokens,
          fanoutTwoRounds: fo!.economy.tokensPerTenant,
        },
        keyVaultReadsPerSecret: {
          throughputProcess: tp!.economy.kvReads,
          fanoutProcessTwoRounds: fo!.economy.keyVaultReads,
        },
        managedIdentityTokenRequestsFanout: fo!.economy.managedIdentityTokenRequests,
        fanoutCallsPerTenantTwoRounds: fo!.economy.callsPerTenantTwoRounds,
        targets: {
          graphCallsRatioAtMost: 1.15,
          graphCallsWithin: graph.ratio <= 1.15 && (graph.steady?.ratio ?? 0) <= 1.15,
          legacyPagesAtMinimum: legacy.calls === legacy.minimum,
          oneTokenPerTenant:
            tp!.economy.tokens === 1 &&
            legacy.tokens === 1 &&
            fo!.economy.tokensPerTenant.min === 1 &&
            fo!.economy.tokensPerTenant.max === 1,
          oneKeyVaultReadPerSecret: tp!.economy.kvReads === 1 && fo!.economy.keyVaultReads === 1,
        },
      };
    }
    if (only.has('backlog')) {
      log('4. Backlog memory');
      out.backlog = await backlog(w!, bundles, scale);
    }
    if (only.has('coldstart')) {
      log('5. Cold start');
      out.coldStart = await coldStart(bundles, scale);
    }
    if (only.has('sweep')) {
      log('6. Completeness sweep');
      out.sweep = await withAzurite((azurite) =>
        sweepBench({
          sim: w!.sim,
          clientId: w!.app.clientId,
          settings: w!.settings(azurite, 'sweep'),
          versions: Math.round(20_000 * factor),
          log,
        }),
      );
    }
    out.benchmarkWallSeconds = round((performance.now() - started) / 1000, 1);
    if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else printTable(out);
    return 0;
  } finally {
    await w?.sim.stop().catch(() => undefined);
    killAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exitCode = 1;
    },
  );
}
