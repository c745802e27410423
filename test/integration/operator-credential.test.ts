/**
 * The CLI signs in as a person (or pipeline) outside Functions; the Function App stays its managed
 * identity. Against the simulator's Entra ID and Key Vault, with the real @azure/identity classes:
 * EnvironmentCredential (AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST
 * pointing at the simulator), Azure CLI and azd (not installed here: unavailable, as on a machine without
 * them), the managed identity only where IDENTITY_ENDPOINT is set.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { startWorld, type World } from '../helpers/world';
import { runCli } from '../helpers/cli';
import { createRelay } from '../../src/relay';
import type { AppRegistration } from '../../tools/simulator/types';

let sim: Simulator;
let world: World;
let operator: AppRegistration;

beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  // The operator: a service principal of the deployment's tenant, given Key Vault Secrets User.
  operator = sim.registerApp({ homeTenantId: sim.homeTenantId });
  sim.keyVault.grantSecretsUser(sim.servicePrincipalId(operator.clientId, sim.homeTenantId));
  // The Function App's identity may no longer read the vault: whatever reads it now is someone else.
  sim.keyVault.revoke(sim.identities.systemAssigned.principalId);
});
afterAll(async () => {
  await sim?.stop();
});

/** A workstation: no managed-identity endpoint (the test process has one; the child must not). */
function workstation(extra: Record<string, string> = {}): Record<string, string> {
  return { ...world.env, IDENTITY_ENDPOINT: '', IDENTITY_HEADER: '', ...extra };
}

function operatorEnv(): Record<string, string> {
  return {
    AZURE_TENANT_ID: sim.homeTenantId,
    AZURE_CLIENT_ID: operator.clientId,
    AZURE_CLIENT_SECRET: operator.secret!,
    AZURE_AUTHORITY_HOST: sim.urls.authorityHost,
  };
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
async function checks(env: Record<string, string>): Promise<{ code: number; checks: Check[] }> {
  const { code, stdout } = await runCli(['check', '--json'], env);
  return { code, checks: (JSON.parse(stdout) as { checks: Check[] }).checks };
}
const secretCheck = () => `keyvault:${world.env.DEFENDER_CLIENT_SECRET_NAME!}`;

test('with environment credentials the CLI reads Key Vault as that principal, and gets Defender tokens', async () => {
  const { checks: found } = await checks(workstation(operatorEnv()));
  expect(found).toContainEqual(expect.objectContaining({ name: secretCheck(), ok: true }));
  expect(found).toContainEqual(
    expect.objectContaining({ name: `token:application:${world.tenantId}`, ok: true }),
  );
  // `sync` works end to end from the workstation too.
  world.sim.incidents.seed(world.tenantId, 2);
  const sync = await runCli(['sync', '--json'], workstation(operatorEnv()));
  expect(sync.code).toBe(0);
  expect(JSON.parse(sync.stdout)).toMatchObject({ incidentsDelivered: 2, errors: [] });
}, 180_000); // two CLI child processes: room for a loaded machine (no duration is asserted)

test('signed in as a principal without the role, the CLI says who may not read and which role to give', async () => {
  const other = sim.registerApp({ homeTenantId: sim.homeTenantId });
  const { code, checks: found } = await checks(
    workstation({ ...operatorEnv(), AZURE_CLIENT_ID: other.clientId, AZURE_CLIENT_SECRET: other.secret! }),
  );
  expect(code).toBe(1);
  const kv = found.find((c) => c.name === secretCheck())!;
  expect(kv.ok).toBe(false);
  expect(kv.detail).toMatch(/^You \(the account the CLI signed in with/);
  expect(kv.detail).toContain('Key Vault Secrets User');
});

test('signed in as nobody, the CLI says how to sign in', async () => {
  const { code, checks: found } = await checks(workstation());
  expect(code).toBe(1);
  const kv = found.find((c) => c.name === secretCheck())!;
  expect(kv.ok).toBe(false);
  expect(kv.detail).toMatch(/az login/);
  expect(kv.detail).toMatch(/AZURE_CLIENT_ID/);
});

test("the Function App's relay uses only its managed identity, even with environment credentials present", async () => {
  const saved = { ...process.env };
  Object.assign(process.env, operatorEnv());
  try {
    // What src/index.ts builds: the operator's credentials in the environment are not used.
    const app = createRelay(world.config);
    await expect(app.secrets!.get(world.env.DEFENDER_CLIENT_SECRET_NAME!)).rejects.toThrow(
      /The Function App's managed identity may not read secret/,
    );
    sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
    await expect(
      createRelay(world.config).secrets!.get(world.env.DEFENDER_CLIENT_SECRET_NAME!),
    ).resolves.toBe(world.app.secret);
  } finally {
    sim.keyVault.revoke(sim.identities.systemAssigned.principalId);
    for (const key of Object.keys(operatorEnv())) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
});
