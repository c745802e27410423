/**
 * Moving tenants from the legacy Defender XDR API to Graph (issue 16, docs/migration.md), on the simulator
 * with both APIs serving one tenant's incidents: a switch in the middle of a backlog delivers every version
 * once; `migrate check` finds a missing Graph permission, an incident only one API returns, and a ready
 * tenant; tenants still on the legacy API are warned about; a retired legacy API is named as such.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { startWorld, type World } from '../helpers/world';
import { currentVersionKeys } from '../helpers/version-keys';
import { runCli } from '../helpers/cli';
import { legacyDaysLeft } from '../../src/defender/legacy-retirement';
import type { IncidentVersion } from '../../src/defender/incident';
import type { TenantReadiness } from '../../src/migration/migrate-check';
import { runMigrateCommand } from '../../src/cli/migrate-command';
import { runHealthChecks } from '../../src/health/checks';
import { PassThrough } from 'node:stream';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

function cliEnv(world: World): Record<string, string> {
  return { ...world.env, ...identityEnv(sim) };
}

async function readAll(world: World, api: 'graph' | 'legacy'): Promise<IncidentVersion[]> {
  const out: IncidentVersion[] = [];
  const from = new Date(Date.now() - 24 * 3_600_000).toISOString();
  for await (const step of world.relay.readers[api].read(world.tenantId, { from }))
    out.push(...step.incidents);
  return out;
}

async function migrateCheck(world: World, args: string[] = []) {
  const { code, stdout, stderr } = await runCli(['migrate', 'check', '--json', ...args], cliEnv(world));
  expect(stderr).toBe('');
  const report = JSON.parse(stdout) as { ready: boolean; tenants: TenantReadiness[] };
  return { code, report, tenant: report.tenants[0]! };
}

test('one incident version has one version key whichever API read it', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  sim.incidents.seed(world.tenantId, 60);
  // Stamps of every precision the APIs print: whole seconds, trimmed fractions, all seven digits; an hour
  // ago, inside the read window whatever the day the suite runs.
  const second = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
  for (const stamp of [`${second}Z`, `${second}.29Z`, `${second}.0733333Z`])
    sim.incidents.update(world.tenantId, sim.incidents.ids(world.tenantId)[0]!, {}, { stamp });
  // A reader may yield a version twice (a page boundary); the sync suppresses the repeat.
  const keys = async (api: 'graph' | 'legacy') =>
    [...new Set((await readAll(world, api)).map((v) => v.versionKey))].sort();
  const graph = await keys('graph');
  expect(graph).toHaveLength(60);
  expect(await keys('legacy')).toEqual(graph);
  await world.stop();
});

test('a tenant switched from legacy to Graph in the middle of a backlog delivers every version once', async () => {
  const world = await startWorld({ api: 'legacy', sim, env: { SYNC_MAX_API_CALLS_PER_RUN: '2' } });
  sim.incidents.seed(world.tenantId, 250);
  // The legacy traversal stops on its budget after two pages (200 of 250).
  const first = await world.relay.syncAll();
  expect(first.results[0]).toMatchObject({ api: 'legacy', outcome: 'budget', delivered: 200 });
  const ids = sim.incidents.ids(world.tenantId);
  sim.incidents.update(world.tenantId, ids[0]!, { severity: 'high' });
  sim.incidents.update(world.tenantId, ids[1]!, { status: 'inProgress' });

  const switched = await runCli(['tenants', 'set-api', world.tenantId, 'graph'], cliEnv(world));
  expect(switched.code).toBe(0);
  expect(switched.stdout).toContain('graph (set-api)');
  expect(await world.relay.tenants.apiOf(world.tenantId)).toBe('graph');

  const runs = [];
  for (let i = 0; i < 40; i++) {
    const run = await world.relay.syncAll();
    expect(run.errors).toEqual([]);
    runs.push(run);
    if (run.incomplete.length === 0) break;
  }
  expect(runs.at(-1)!.incomplete).toEqual([]);
  expect(runs.every((r) => r.results[0]!.api === 'graph')).toBe(true);
  // What the legacy API delivered was read again on Graph and suppressed, not sent again.
  expect(runs.reduce((n, r) => n + r.incidentsSuppressed, 0)).toBeGreaterThanOrEqual(198);

  const events = await world.drainQueue();
  const eventIds = events.map((e) => e.id);
  expect(new Set(eventIds).size).toBe(eventIds.length);
  expect(eventIds.filter((id) => !id.includes('/'))).toEqual([]);
  const delivered = new Set(eventIds);
  expect(currentVersionKeys(world).filter((k) => !delivered.has(k))).toEqual([]);
  // 250 first versions (two of them replaced before Graph read them, or not) and two new versions.
  expect(eventIds.length).toBeGreaterThanOrEqual(250);
  expect(eventIds.length).toBeLessThanOrEqual(252);
  const apis = new Set(events.map((e) => e.data.header.api));
  expect(apis).toEqual(new Set(['legacy', 'graph']));

  // Rolling back to the legacy API sends nothing again either.
  await world.relay.tenants.setApi(world.tenantId, 'legacy');
  for (let i = 0; i < 10; i++) if ((await world.relay.syncAll()).incomplete.length === 0) break;
  expect(await world.drainQueue()).toEqual([]);
  await world.stop();
});

test('migrate check: a ready tenant', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  sim.incidents.seed(world.tenantId, 30, { spreadHours: 3 });
  const { code, tenant } = await migrateCheck(world, ['--hours', '6']);
  expect(code).toBe(0);
  expect(tenant).toMatchObject({ tenantId: world.tenantId, api: 'legacy', ready: true, reasons: [] });
  expect(tenant.comparison).toMatchObject({
    graphCount: 30,
    legacyCount: 30,
    onlyGraph: [],
    onlyLegacy: [],
    timeDifferences: [],
    fieldDifferences: [],
  });
  expect(tenant.permissions).toEqual([
    expect.objectContaining({
      need: 'incident read',
      permission: 'SecurityIncident.Read.All',
      granted: true,
    }),
  ]);
  const text = await runCli(['migrate', 'check'], cliEnv(world));
  expect(text.stdout).toContain(`READY: defender-relay tenants set-api ${world.tenantId} graph`);
  await world.stop();
});

test('migrate check: a permission missing on Graph, with the exact permission to grant', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  // The relay writes incidents on the legacy API (inbound webhooks): on Graph it needs the write permission.
  sim.grantPermissions(world.app.clientId, world.tenantId, 'legacy', ['Incident.ReadWrite.All']);
  sim.incidents.seed(world.tenantId, 5, { spreadHours: 2 });
  const { code, tenant } = await migrateCheck(world);
  expect(code).toBe(1);
  expect(tenant.ready).toBe(false);
  expect(tenant.permissions).toContainEqual(
    expect.objectContaining({
      need: 'incident write',
      permission: 'SecurityIncident.ReadWrite.All',
      granted: false,
    }),
  );
  expect(tenant.reasons.join('\n')).toContain(
    `grant the application permission SecurityIncident.ReadWrite.All (Microsoft Graph) with admin consent in tenant ${world.tenantId}`,
  );
  await world.stop();
});

test('migrate check: incidents only one API returned, and header fields that differ', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  const [a, b, c] = sim.incidents.seed(world.tenantId, 12, { spreadHours: 2 });
  sim.migration.hideIncident(world.tenantId, a!.id, 'graph');
  sim.migration.hideIncident(world.tenantId, b!.id, 'legacy');
  const { code, tenant } = await migrateCheck(world);
  expect(code).toBe(1);
  expect(tenant.comparison).toMatchObject({ onlyLegacy: [String(a!.id)], onlyGraph: [String(b!.id)] });
  expect(tenant.reasons.join('\n')).toContain(`only the legacy API returned (${a!.id})`);
  expect(tenant.notes.join('\n')).toContain(`only Graph returned (${b!.id})`);
  // Values that only differ in each API's spelling are equal after normalization.
  expect(tenant.comparison!.fieldDifferences).toEqual([]);
  expect(c).toBeDefined();
  await world.stop();
});

test('check warns of a tenant still on the legacy API, with the days left and the command', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  const { stdout } = await runCli(['check'], cliEnv(world));
  const days = legacyDaysLeft();
  expect(stdout).toContain(
    `warn  api:legacy:${world.tenantId}: Tenant ${world.tenantId} still reads the legacy`,
  );
  expect(stdout).toContain(`in ${days} day`);
  expect(stdout).toContain(`defender-relay tenants set-api ${world.tenantId} graph`);
  // Deep health (GET /api/health/deep) runs the same checks: a warning, not a failure.
  const deep = await runHealthChecks(world.relay);
  expect(deep.checks).toContainEqual(
    expect.objectContaining({ name: `api:legacy:${world.tenantId}`, ok: false, required: false }),
  );
  // Once it is on Graph, no warning.
  await world.relay.tenants.setApi(world.tenantId, 'graph');
  const after = await runCli(['check'], cliEnv(world));
  expect(after.stdout).not.toContain('api:legacy:');
  await world.stop();
});

test('a retired legacy API is named in the tenant error with the fix; migrate check reads Graph alone', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  sim.incidents.seed(world.tenantId, 3, { spreadHours: 1 });
  sim.migration.retireLegacy(world.tenantId);
  try {
    const run = await world.relay.syncAll();
    expect(run.results[0]).toMatchObject({ outcome: 'failed', errorCode: 'legacy_api_retired' });
    const error = run.results[0]!.error!;
    expect(error).toContain('it has been retired');
    expect(error).toContain(`defender-relay tenants set-api ${world.tenantId} graph`);
    const { code, tenant } = await migrateCheck(world);
    expect(code).toBe(0);
    expect(tenant.reads.legacy).toMatchObject({ ok: false, errorCode: 'legacy_api_retired' });
    expect(tenant.notes.join('\n')).toContain('the legacy API is retired');
    // The switch, and the tenant syncs again.
    await world.relay.tenants.setApi(world.tenantId, 'graph');
    const again = await world.relay.syncAll();
    expect(again.results[0]).toMatchObject({ api: 'graph', outcome: 'complete', delivered: 3 });
  } finally {
    sim.faults.clear();
  }
  await world.stop();
});

test('incident updates go to Graph for a tenant whose sync still reads the legacy API', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  sim.grantPermissions(world.app.clientId, world.tenantId, 'graph', ['SecurityIncident.ReadWrite.All']);
  const incident = sim.incidents.create(world.tenantId, { status: 'active' });
  const before = sim.counters.snapshot().byKind;
  // The default sender (INBOUND_WEBHOOK_SECRET_NAME) may act in the tenants of DEFENDER_TENANTS.
  const sender = world.config.inbound.senders[0]!;
  const outcome = await world.relay.inbound.accept(
    `msg-${incident.id}`,
    sender,
    { tenantId: world.tenantId, incidentId: String(incident.id), status: 'resolved' },
    () => undefined,
  );
  expect(outcome).toMatchObject({ kind: 'applied', result: { api: 'graph' } });
  const after = sim.counters.snapshot().byKind;
  expect((after['graph.update'] ?? 0) - (before['graph.update'] ?? 0)).toBe(1);
  expect((after['legacy.update'] ?? 0) - (before['legacy.update'] ?? 0)).toBe(0);
  expect(sim.incidents.get(world.tenantId, incident.id).status).toBe('resolved');
  await world.stop();
});

test('migrate check shows its progress on a terminal', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  sim.incidents.seed(world.tenantId, 4, { spreadHours: 1 });
  const err = Object.assign(new PassThrough(), { isTTY: true });
  const out = new PassThrough();
  let progress = '';
  err.on('data', (d: Buffer) => (progress += d.toString()));
  const code = await runMigrateCommand(world.relay, ['check'], {
    json: false,
    tenants: [world.tenantId],
    out,
    err,
  });
  expect(code).toBe(0);
  expect(progress).toContain(`${world.tenantId}: reading graph, 4 incident(s)`);
  expect(progress).toContain(`${world.tenantId}: reading legacy, 4 incident(s)`);
  expect(String(out.read())).toContain('1 of 1 tenant(s) ready for Graph.');
  await world.stop();
});
