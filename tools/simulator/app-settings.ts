/**
 * The app settings that point the relay at a running simulator, as a local.settings.json "Values" block
 * would: the relay reaches the fake cloud through settings alone. Shared by the tests, the demo and the
 * benchmark. IDENTITY_ENDPOINT / IDENTITY_HEADER are set by the Functions host in Azure, so they are
 * returned apart (`identityEnv`).
 */
import type { AppRegistration, Simulator } from './index';

export function simulatorAppSettings(
  sim: Simulator,
  app: AppRegistration,
  storageConnectionString: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DEFENDER_TENANT_ID: app.homeTenantId,
    DEFENDER_CLIENT_ID: app.clientId,
    DEFENDER_AUTHORITY_HOST: sim.urls.authorityHost,
    DEFENDER_GRAPH_BASE_URL: sim.urls.graphBaseUrl,
    DEFENDER_LEGACY_BASE_URL: sim.urls.legacyBaseUrl,
    KEY_VAULT_URL: sim.urls.keyVaultUrl(),
    AzureWebJobsStorage: storageConnectionString,
    ...extra,
  };
}

export function identityEnv(sim: Simulator): { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string } {
  return { IDENTITY_ENDPOINT: sim.urls.identityEndpoint, IDENTITY_HEADER: sim.urls.identityHeader };
}

/**
 * A tenant as the demo and `npm run worker` set it up: an app registration with Graph read permission,
 * its secret in Key Vault as `defender-client-secret`, the system-assigned identity allowed to read it,
 * and `incidents` incidents updated in the last hours.
 */
export function setUpDemoTenant(
  sim: Simulator,
  options: { displayName: string; incidents: number },
): { tenantId: string; app: AppRegistration } {
  const tenantId = sim.homeTenantId;
  const app = sim.registerApp({ homeTenantId: tenantId, displayName: options.displayName });
  sim.grantPermissions(app.clientId, tenantId, 'graph', ['SecurityIncident.Read.All']);
  sim.keyVault.setSecret('defender-client-secret', app.secret ?? '');
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  sim.incidents.seed(tenantId, options.incidents);
  return { tenantId, app };
}
