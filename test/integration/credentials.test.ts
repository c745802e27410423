/**
 * The three credentials of the application context, each getting a Defender token from the simulator's
 * Entra ID through MSAL, for the home tenant and for a customer tenant of the multi-tenant app:
 * a client secret from Key Vault, a certificate from Key Vault (PEM, and base64 PKCS#12 as Key Vault
 * stores a certificate; MSAL sends an x5t#S256 / x5c assertion), and a user-assigned managed identity as
 * a federated identity credential (no stored secret at all).
 */
import { decodeJwt } from 'jose';
import { RelayAuthError } from '../../src/auth/errors';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { makeCertificate } from '../helpers/certificates';
import { partnerWorld, type PartnerWorld } from '../helpers/partner';
import { CertificateCredential } from '../../src/auth/credentials';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

async function tokensFor(world: PartnerWorld) {
  const customer = world.addCustomer({ consent: true });
  const home = decodeJwt(await world.relay.tokens.getToken(world.homeTenantId, 'graph'));
  const other = decodeJwt(await world.relay.tokens.getToken(customer, 'graph'));
  return { customer, home, other };
}

test('secret: a client secret read from Key Vault', async () => {
  const world = partnerWorld(sim);
  const { customer, home, other } = await tokensFor(world);
  expect(world.relay.tokens.credentialKind).toBe('secret');
  expect(home).toMatchObject({ tid: world.homeTenantId, appid: world.app.clientId, appidacr: '1' });
  expect(other).toMatchObject({ tid: customer, appidacr: '1', roles: ['SecurityIncident.Read.All'] });
});

describe.each([
  ['PEM', (c: ReturnType<typeof makeCertificate>) => c.pem],
  ['PKCS#12 (base64, empty password)', (c: ReturnType<typeof makeCertificate>) => c.pkcs12('')],
])('certificate from Key Vault as %s', (_format, value) => {
  test('gets tokens for the home and a customer tenant with a signed assertion', async () => {
    const cert = makeCertificate();
    const world = partnerWorld(sim, {
      app: { secrets: [], certificates: [cert.certificatePem] },
      secretValue: value(cert),
      env: { DEFENDER_CREDENTIAL: 'certificate' },
    });
    const { customer, home, other } = await tokensFor(world);
    expect(world.relay.tokens.credentialKind).toBe('certificate');
    // appidacr 2: the app authenticated with a certificate (client assertion), not a secret.
    expect(home).toMatchObject({ tid: world.homeTenantId, appid: world.app.clientId, appidacr: '2' });
    expect(other).toMatchObject({ tid: customer, appidacr: '2' });
    expect(
      sim.counters.snapshot().keyVaultReads[
        world.config.credential.kind === 'certificate' ? world.config.credential.secretName : ''
      ],
    ).toBe(1);

    // What MSAL is given: the SHA-256 thumbprint of the certificate and the chain for x5c.
    const credential = await new CertificateCredential(
      world.relay.secrets!,
      world.env.DEFENDER_CLIENT_SECRET_NAME!,
    ).current();
    expect(credential.auth.clientCertificate?.x5c).toBe(cert.certificatePem.replace(/\r\n/g, '\n').trim());
    expect(credential.auth.clientCertificate?.thumbprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(credential.auth.clientCertificate?.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});

test('certificate not registered on the app: a readable error naming the cause', async () => {
  const registered = makeCertificate();
  const world = partnerWorld(sim, {
    app: { secrets: [], certificates: [registered.certificatePem] },
    secretValue: makeCertificate().pem,
    env: { DEFENDER_CREDENTIAL: 'certificate' },
  });
  const error = await world.relay.tokens.getToken(world.homeTenantId, 'graph').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RelayAuthError);
  expect((error as Error).message).toMatch(/AADSTS700027.*certificate is not registered/);
});

test('federated: a user-assigned managed identity as federated credential, no stored secret', async () => {
  const mi = sim.identities.addUserAssigned();
  sim.keyVault.grantSecretsUser(mi.principalId);
  const world = partnerWorld(sim, {
    app: {
      secrets: [],
      federatedIdentities: [
        {
          issuer: sim.urls.managedIdentityIssuer,
          subject: mi.principalId,
          audience: 'api://AzureADTokenExchange',
        },
      ],
    },
    env: { DEFENDER_CREDENTIAL: 'federated', MANAGED_IDENTITY_CLIENT_ID: mi.clientId },
  });
  sim.counters.reset();
  const { customer, home, other } = await tokensFor(world);
  expect(world.relay.tokens.credentialKind).toBe('federated');
  expect(home).toMatchObject({ tid: world.homeTenantId, appid: world.app.clientId, appidacr: '2' });
  expect(other).toMatchObject({
    tid: customer,
    appid: world.app.clientId,
    roles: ['SecurityIncident.Read.All'],
  });
  const counters = sim.counters.snapshot();
  // The assertion is the identity's token for the federation audience (asked as a resource).
  expect(counters.tokenRequests).toContainEqual(
    expect.objectContaining({
      clientId: mi.clientId,
      tenantId: 'msi',
      resource: 'api://AzureADTokenExchange',
    }),
  );
  // No credential read from Key Vault.
  expect(counters.keyVaultReads).toEqual({});

  // And it syncs.
  sim.incidents.create(customer, { displayName: 'federated flow' });
  const summary = await world.relay.syncAll({ tenants: [customer] });
  expect(summary.errors).toEqual([]);
  expect((await world.drainQueue()).map((e) => e.data.header.title)).toEqual(['federated flow']);
});

test('federated credential missing on the app: AADSTS70021 explained', async () => {
  const mi = sim.identities.addUserAssigned();
  const world = partnerWorld(sim, {
    app: { secrets: [] },
    env: { DEFENDER_CREDENTIAL: 'federated', MANAGED_IDENTITY_CLIENT_ID: mi.clientId },
  });
  const error = await world.relay.tokens.getToken(world.homeTenantId, 'graph').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RelayAuthError);
  expect((error as Error).message).toMatch(/No federated identity credential .*AADSTS70021/);
});

test("a passing failure of a tenant's OpenID metadata (MSAL: endpoints_resolution_error) is tried again, not a tenant failure", async () => {
  const world = partnerWorld(sim);
  const customer = world.addCustomer({ consent: true });
  const before = sim.counters.snapshot().byKind.oidc ?? 0;
  // Entra ID's metadata endpoint answers 503 once: MSAL cannot resolve the tenant's endpoints.
  sim.faults.inject({ target: 'oidc', tenantId: customer, status: 503, count: 1 });
  const token = decodeJwt(await world.relay.tokens.getToken(customer, 'graph'));
  expect(token).toMatchObject({ tid: customer, roles: ['SecurityIncident.Read.All'] });
  // MSAL's failed read, the relay's own read (it answers now), MSAL's read on the second try.
  expect((sim.counters.snapshot().byKind.oidc ?? 0) - before).toBeGreaterThanOrEqual(3);

  // Failing on and on, it is a transient failure in words, worth trying again, never a wrong tenant id.
  // A new relay: MSAL keeps the metadata it read per authority host, so it reads it again only then.
  const fresh = partnerWorld(sim);
  const other = fresh.addCustomer({ consent: true });
  sim.faults.inject({ target: 'oidc', tenantId: other, status: 503, count: Infinity });
  const error = await fresh.relay.tokens.getToken(other, 'graph').catch((e: unknown) => e);
  sim.faults.clear();
  expect(error).toBeInstanceOf(RelayAuthError);
  expect(error).toMatchObject({ code: 'entra_unavailable', transient: true });
  expect((error as Error).message).toContain(`Entra ID is temporarily unavailable for tenant ${other}`);
});
