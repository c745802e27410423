/**
 * The application-context credential chain when the client secret is rotated: the relay has the old
 * secret cached (SECRET_CACHE_TTL_SECONDS), Entra ID rejects it, the relay reads Key Vault again once and
 * the run goes on. Tokens here live 60 s, so MSAL asks Entra ID for a new one on every run.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { movableClock, startWorld, type World } from '../helpers/world';

let sim: Simulator;
let world: World;
const clock = movableClock();
beforeAll(async () => {
  sim = await startSimulator({ tokenLifetimeSeconds: 60 });
  world = await startWorld({ sim, relayOptions: { now: clock.now } });
});
afterAll(async () => {
  await sim.stop();
});

test('a secret rotated in Key Vault is read again once when Entra ID rejects the cached one', async () => {
  sim.incidents.seed(world.tenantId, 2);
  expect((await world.relay.syncAll()).errors).toEqual([]);
  const secretName = world.config.credential.kind === 'secret' ? world.config.credential.secretName : '';
  expect(sim.counters.snapshot().keyVaultReads[secretName]).toBe(1);

  // The administrator rotates the secret: a new one on the app registration, the old one removed, the
  // new value stored as a new version of the Key Vault secret.
  const fresh = `rotated-${Date.now()}-secret-value`;
  sim.rotateAppSecret(world.app.clientId, fresh);
  sim.keyVault.setSecret(secretName, fresh);
  sim.incidents.create(world.tenantId);

  // Within SECRET_REFRESH_MIN_SECONDS of the last read the vault is not asked again: the run fails, and
  // says why; once the interval has passed, one read picks up the new secret.
  const early = await world.relay.syncAll();
  expect(early.errors).toEqual([expect.objectContaining({ error: expect.stringMatching(/AADSTS7000215/) })]);
  expect(sim.counters.snapshot().keyVaultReads[secretName]).toBe(1);
  clock.advance(world.config.secretRefreshMinMs);

  const run = await world.relay.syncAll();
  expect(run.errors).toEqual([]);
  expect(run.incidentsDelivered).toBe(1);
  const counters = sim.counters.snapshot();
  expect(counters.keyVaultReads[secretName]).toBe(2);
  // Entra ID refused the old secret once per run: the same value is never sent twice.
  expect(counters.byStatus.token?.['401'] ?? 0).toBe(2);
});

test('a secret that Key Vault still holds wrong is reported with what to do', async () => {
  sim.rotateAppSecret(world.app.clientId, `another-${Date.now()}-secret-value`);
  sim.incidents.create(world.tenantId);
  clock.advance(world.config.secretRefreshMinMs);
  const run = await world.relay.syncAll();
  expect(run.errors).toEqual([
    expect.objectContaining({
      tenantId: world.tenantId,
      error: expect.stringMatching(/AADSTS7000215.*VALUE \(not its ID\)/),
    }),
  ]);
});
