/**
 * Lag is how far behind the relay's reading is: now minus the time up to which the tenant has been read
 * completely (src/sync/lag.ts), not now minus the last incident update. A quiet tenant synced just now is
 * not behind; a tenant whose syncs fail falls further behind with the clock. `status` and `check` (CLI
 * child processes), deep health and the sync's own result agree.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { healthDeepHandler } from '../../src/functions/health';
import { runHealthChecks } from '../../src/health/checks';
import { startActionsWorld, call, createDestinations, type ActionsWorld } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';
import { runCli } from '../helpers/cli';
import { newBudget } from '../../src/defender/http';

const QUIET_MS = 45 * 60_000;
/** Several CLI child processes per test: room for a loaded machine (nothing here asserts a duration). */
const CLI_TEST_TIMEOUT_MS = 240_000;
const logs = new LogCapture();
let sim: Simulator;

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  logs.restore();
  await sim?.stop();
});

async function quietWorld(api: 'graph' | 'legacy'): Promise<ActionsWorld> {
  const world = await startActionsWorld(sim, logs, { DEFENDER_API: api });
  await createDestinations(world);
  // No incident has changed for 45 minutes.
  for (let i = 0; i < 3; i++)
    sim.incidents.create(
      world.tenantId,
      {},
      { stamp: new Date(Date.now() - QUIET_MS - i * 60_000).toISOString() },
    );
  return world;
}

function cliEnv(world: ActionsWorld): Record<string, string> {
  return { ...world.env, ...identityEnv(sim) };
}

interface StatusRow {
  tenantId: string;
  lagSeconds: number | null;
  readThrough: string | null;
}

async function statusOf(world: ActionsWorld): Promise<StatusRow> {
  const { code, stdout } = await runCli(['status', '--json'], cliEnv(world));
  expect(code).toBe(0);
  const rows = (JSON.parse(stdout) as { tenants: StatusRow[] }).tenants;
  return rows.find((r) => r.tenantId === world.tenantId)!;
}

async function checkLagOf(
  world: ActionsWorld,
): Promise<{ ok: boolean; lagSeconds?: number; detail: string }> {
  const { stdout } = await runCli(['check', '--json'], cliEnv(world));
  const report = JSON.parse(stdout) as {
    checks: { name: string; ok: boolean; lagSeconds?: number; detail: string }[];
  };
  return report.checks.find((c) => c.name === `lag:${world.tenantId}`)!;
}

describe.each(['graph', 'legacy'] as const)('a quiet tenant on the %s API', (api) => {
  test(
    'synced just now is about the run’s age behind in status, check and deep health',
    async () => {
      const world = await quietWorld(api);
      const before = Date.now();
      const sync = await runCli(['sync', '--json'], cliEnv(world));
      expect(sync.code).toBe(0);
      const summary = JSON.parse(sync.stdout) as { perTenant: { lagSeconds: number; readThrough: string }[] };
      const ranFor = () => Math.ceil((Date.now() - before) / 1000) + 2;
      // The time read completely is when the traversal began (the server's clock), not the last update.
      expect(Date.parse(summary.perTenant[0]!.readThrough)).toBeGreaterThanOrEqual(before - 2000);
      expect(summary.perTenant[0]!.lagSeconds).toBeLessThanOrEqual(ranFor());

      const status = await statusOf(world);
      expect(status.readThrough).toBe(summary.perTenant[0]!.readThrough);
      // The last incident update is 45 minutes old; the lag is not.
      expect(status.lagSeconds).toBeLessThanOrEqual(ranFor());

      const lag = await checkLagOf(world);
      expect(lag.ok).toBe(true);
      expect(lag.lagSeconds).toBeLessThanOrEqual(ranFor());
      expect(lag.detail).toContain(status.readThrough!);

      const deep = await call(
        healthDeepHandler(world.relay),
        { method: 'GET', path: '/api/health/deep' },
        logs,
      );
      expect(deep.json.checks).toContainEqual(
        expect.objectContaining({ name: `lag:${world.tenantId}`, ok: true }),
      );
      // Graph tenants are healthy; a legacy tenant carries the retirement warning (degraded), nothing worse.
      expect(deep.json.status).toBe(api === 'graph' ? 'healthy' : 'degraded');
    },
    CLI_TEST_TIMEOUT_MS,
  );
});

test(
  'a stuck tenant (its syncs failing) keeps its time read completely, so its lag grows',
  async () => {
    const world = await quietWorld('graph');
    expect((await runCli(['sync', '--json'], cliEnv(world))).code).toBe(0);
    const synced = await statusOf(world);

    // From now on every Graph call for the tenant fails.
    sim.faults.inject({ target: 'graph', tenantId: world.tenantId, status: 503, count: Infinity });
    try {
      const failed = await runCli(['sync', '--json'], cliEnv(world));
      expect(failed.code).toBe(1);
      const stuck = await statusOf(world);
      expect(stuck.readThrough).toBe(synced.readThrough);
      expect(stuck.lagSeconds).toBeGreaterThanOrEqual(synced.lagSeconds!);

      const lag = await checkLagOf(world);
      expect(lag.ok).toBe(false);
      expect(lag.detail).toMatch(/last sync failed/);

      // Forty minutes on, the same state is forty minutes behind: past the threshold, unhealthy.
      const later = await runHealthChecks(world.relay, { now: () => Date.now() + 40 * 60_000 });
      const lagLater = later.checks.find((c) => c.name === `lag:${world.tenantId}`)!;
      expect(lagLater.lagSeconds).toBeGreaterThanOrEqual(40 * 60);
      expect(later.status).toBe('unhealthy');
    } finally {
      sim.faults.clear();
    }
  },
  CLI_TEST_TIMEOUT_MS,
);

test('legacy: a traversal resumed after its budget is read completely up to its first answer, not the resume', async () => {
  const world = await quietWorld('legacy');
  // Two pages (the legacy API's page is 100 incidents), all last updated two hours ago; the first run may
  // make one call only.
  for (let i = 0; i < 150; i++)
    sim.incidents.create(
      world.tenantId,
      {},
      { stamp: new Date(Date.now() - 2 * 3600_000 + i).toISOString() },
    );
  const beforeFirst = Date.now();
  const first = await world.relay.syncTenant(world.tenantId, { budget: newBudget(1, 60_000) });
  expect(first.outcome).toBe('budget');
  expect(first.readThrough).toBeUndefined();
  const firstDone = Date.now();
  // The next run's first answer is a whole second later (the server's Date header has whole seconds).
  await new Promise((r) => setTimeout(r, 1100));
  const second = await world.relay.syncTenant(world.tenantId);
  expect(second.outcome).toBe('complete');
  // Not the resume's time, and not the latest update read (two hours ago): the first answer's time.
  expect(Date.parse(second.readThrough!)).toBeLessThanOrEqual(firstDone);
  expect(Date.parse(second.readThrough!)).toBeGreaterThanOrEqual(beforeFirst - 2000);
  expect((await world.relay.state.getTenant(world.tenantId))?.readThrough).toBe(second.readThrough);
});
