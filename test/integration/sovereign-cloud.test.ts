/**
 * A GCC High deployment: DEFENDER_CLOUD=gcchigh resolves every host and audience to the US Government
 * ones (the simulator plays the gcchigh cloud: its APIs accept only gcchigh audiences); only the hosts are
 * pointed at the simulator, one setting each. The federated credential uses the US Gov federation audience.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { partnerWorld } from '../helpers/partner';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ cloud: 'gcchigh' });
});
afterAll(async () => {
  await sim.stop();
});

describe.each(['graph', 'legacy'] as const)('GCC High on the %s API', (api) => {
  test('every host and audience resolves to GCC High; a federated tenant syncs', async () => {
    const mi = sim.identities.addUserAssigned();
    sim.keyVault.grantSecretsUser(mi.principalId);
    const world = partnerWorld(sim, {
      app: {
        secrets: [],
        federatedIdentities: [
          {
            issuer: sim.urls.managedIdentityIssuer,
            subject: mi.principalId,
            audience: 'api://AzureADTokenExchangeUSGov',
          },
        ],
      },
      env: {
        DEFENDER_CLOUD: 'gcchigh',
        DEFENDER_API: api,
        DEFENDER_CREDENTIAL: 'federated',
        MANAGED_IDENTITY_CLIENT_ID: mi.clientId,
      },
    });
    // Overridden one by one: the hosts the simulator serves. Everything else: GCC High's own values.
    expect(world.config.endpoints).toEqual({
      authorityHost: sim.urls.authorityHost,
      graphBaseUrl: sim.urls.graphBaseUrl,
      legacyBaseUrl: sim.urls.legacyBaseUrl,
      graphResource: 'https://graph.microsoft.us',
      legacyResource: 'https://api-gov.security.microsoft.us',
      federationAudience: 'api://AzureADTokenExchangeUSGov',
      portalUrl: 'https://security.microsoft.us',
    });
    expect(sim.resources[api]).toBe(
      api === 'graph' ? 'https://graph.microsoft.us' : 'https://api-gov.security.microsoft.us',
    );

    const customer = world.addCustomer();
    sim.grantPermissions(world.app.clientId, customer, api, [
      api === 'graph' ? 'SecurityIncident.Read.All' : 'Incident.Read.All',
    ]);
    sim.incidents.create(customer, { displayName: 'gov incident' });
    sim.counters.reset();
    const summary = await world.relay.syncAll({ tenants: [customer] });
    expect(summary.errors).toEqual([]);
    const events = await world.drainQueue();
    expect(events.map((e) => e.data.header.title)).toEqual(['gov incident']);
    const requests = sim.counters.snapshot().tokenRequests;
    expect(requests).toContainEqual(
      expect.objectContaining({
        clientId: world.app.clientId,
        tenantId: customer,
        resource: sim.resources[api],
      }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({
        clientId: mi.clientId,
        tenantId: 'msi',
        resource: 'api://AzureADTokenExchangeUSGov',
      }),
    );

    // The admin-consent link goes to the cloud's authority host.
    const link = await world.relay.consent.start(customer);
    expect(link.url.startsWith(`${sim.urls.authorityHost}/${customer}/adminconsent?`)).toBe(true);
  });
});
