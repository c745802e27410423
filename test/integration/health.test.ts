/**
 * Health: liveness says nothing; deep health checks Key Vault, a token per context and tenant, the
 * destinations and per-tenant lag, and names a broken dependency in words a person can act on. The CLI
 * `defender-relay check` runs the same checks.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { healthDeepHandler, healthHandler } from '../../src/functions/health';
import { runHealthChecks } from '../../src/health/checks';
import { startActionsWorld, call, type ActionsWorld, createDestinations } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';
import { runCheck } from '../../src/cli/check-command';

const logs = new LogCapture();
let sim: Simulator;
let world: ActionsWorld;

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  world = await startActionsWorld(sim, logs);
  await createDestinations(world);
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  logs.restore();
  await world?.stop();
  await sim?.stop();
});

test('liveness answers with no details; deep on the anonymous route points to the keyed one', async () => {
  const res = await call(healthHandler(), { method: 'GET', path: '/api/health' }, logs);
  expect(res.status).toBe(200);
  expect(res.json).toEqual({ status: 'alive' });
  const deep = await call(
    healthHandler(),
    { method: 'GET', path: '/api/health', query: { deep: 'true' } },
    logs,
  );
  expect(deep.status).toBe(401);
  expect(String(deep.json.detail)).toContain('/api/health/deep');
});

test('deep health is healthy when everything works', async () => {
  const res = await call(healthDeepHandler(world.relay), { method: 'GET', path: '/api/health/deep' }, logs);
  expect(res.json.checks).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: `token:application:${world.tenantId}`, ok: true }),
      expect.objectContaining({ name: `token:user:${world.tenantId}`, ok: true }),
      expect.objectContaining({ name: `lag:${world.tenantId}`, ok: true }),
      expect.objectContaining({ name: `inbound:table:${world.config.inbound.table}`, ok: true }),
    ]),
  );
  expect(res.json.status).toBe('healthy');
  expect(res.status).toBe(200);
});

test('a broken dependency is named, with what to do', async () => {
  // The managed identity loses its Key Vault role: the app secret cannot be read, so no token either.
  sim.keyVault.revoke(sim.identities.systemAssigned.principalId);
  const fresh = (await import('../../src/relay')).createRelay(world.config);
  try {
    const res = await call(healthDeepHandler(fresh), { method: 'GET', path: '/api/health/deep' }, logs);
    expect(res.status).toBe(503);
    expect(res.json.status).toBe('unhealthy');
    const failed = (res.json.checks as { name: string; ok: boolean; detail: string }[]).filter((c) => !c.ok);
    const kv = failed.find((c) => c.name.startsWith('keyvault:defender-client-secret'));
    expect(kv?.detail).toMatch(/Key Vault Secrets User/);
    // The CLI runs the same checks and exits 1.
    const out: string[] = [];
    const code = await runCheck(fresh, { json: true, write: (s) => out.push(s) });
    expect(code).toBe(1);
    expect(JSON.parse(out.join(''))).toMatchObject({ status: 'unhealthy' });
  } finally {
    sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  }
});

test('an inbound table the app may not use is a required failure naming the table (every sync writes to it)', async () => {
  // Azurite checks the shared-key signature: a wrong key is refused with 403, as a missing role is in Azure.
  const { createRelay } = await import('../../src/relay');
  const { loadConfig } = await import('../../src/config/settings');
  const wrongKey = world.env.AzureWebJobsStorage!.replace(
    /AccountKey=[^;]+/,
    `AccountKey=${Buffer.alloc(64, 7).toString('base64')}`,
  );
  expect(wrongKey).not.toBe(world.env.AzureWebJobsStorage);
  const relay = createRelay(loadConfig({ ...world.env, AzureWebJobsStorage: wrongKey }));
  const report = await runHealthChecks(relay);
  const table = report.checks.find((c) => c.name === `inbound:table:${relay.config.inbound.table}`);
  expect(table).toMatchObject({ ok: false, required: true });
  expect(table?.detail).toContain(`may not use The inbound table ${relay.config.inbound.table}`);
  expect(report.status).toBe('unhealthy');
});

test('per-tenant lag is reported from the checkpoint', async () => {
  await world.relay.state.saveCursor(world.tenantId, new Date().toISOString());
  const report = await runHealthChecks(world.relay, { now: () => Date.now() + 2 * 3600_000 });
  const lag = report.checks.find((c) => c.name === `lag:${world.tenantId}`);
  expect(lag).toMatchObject({ ok: false });
  expect(lag?.lagSeconds).toBeGreaterThan(3600);
});

test('WEBHOOK_ALLOW_PRIVATE_ADDRESSES on: deep health warns (degraded, not unhealthy)', async () => {
  const { createRelay } = await import('../../src/relay');
  const { loadConfig } = await import('../../src/config/settings');
  const relay = createRelay(loadConfig({ ...world.env, WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' }));
  const res = await call(healthDeepHandler(relay), { method: 'GET', path: '/api/health/deep' }, logs);
  expect(res.status).toBe(200);
  expect(res.json.status).toBe('degraded');
  expect(res.json.checks).toContainEqual(
    expect.objectContaining({
      name: 'webhooks:private-addresses',
      ok: false,
      required: false,
      detail: expect.stringMatching(/WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on/),
    }),
  );
});
