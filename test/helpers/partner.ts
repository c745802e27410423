/**
 * A partner (MSSP) world on a shared simulator: a multi-tenant app registration in its own home tenant,
 * its credential in Key Vault (or a user-assigned identity as its federated credential), a consent
 * signing key, and unique storage names; customer tenants are added by the tests.
 */
import crypto from 'node:crypto';
import type { AppRegistration, RegisterAppInput, Simulator } from '../../tools/simulator';
import { identityEnv, simulatorAppSettings } from '../../tools/simulator/app-settings';
import { loadConfig, type RelayConfig } from '../../src/config/settings';
import { createRelay, type Relay, type RelayOptions } from '../../src/relay';
import { drainQueue, storageConnectionString, uniqueSuffix } from './world';
import type { IncidentEvent } from '../../src/delivery/envelope';

export const REDIRECT_URI = 'https://relay.example.net/api/consent/callback';

export interface PartnerWorld {
  sim: Simulator;
  homeTenantId: string;
  app: AppRegistration;
  env: Record<string, string>;
  config: RelayConfig;
  relay: Relay;
  /** A new customer tenant; with `consent`, the app's permissions are granted there. */
  addCustomer(options?: { consent?: boolean; domain?: string }): string;
  /** A relay built anew from the same settings (a new instance: empty MSAL cache). */
  freshRelay(): Relay;
  drainQueue(): Promise<IncidentEvent[]>;
}

export function partnerWorld(
  sim: Simulator,
  options: {
    app?: Partial<RegisterAppInput>;
    env?: Record<string, string>;
    secretValue?: string;
    relayOptions?: RelayOptions;
  } = {},
): PartnerWorld {
  Object.assign(process.env, identityEnv(sim));
  const homeTenantId = sim.addTenant();
  const app = sim.registerApp({
    homeTenantId,
    multiTenant: true,
    requiredPermissions: { graph: ['SecurityIncident.Read.All'], legacy: ['Incident.Read.All'] },
    ...options.app,
  });
  sim.grantPermissions(app.clientId, homeTenantId, 'graph', ['SecurityIncident.Read.All']);
  const suffix = uniqueSuffix();
  const secretName = `defender-credential-${suffix}`;
  const keyName = `consent-state-key-${suffix}`;
  sim.keyVault.setSecret(secretName, options.secretValue ?? app.secret ?? '');
  sim.keyVault.setSecret(keyName, crypto.randomBytes(32).toString('base64url'));
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  const names = { queue: `incidents-${suffix}`, table: `state${suffix}`, container: `payloads-${suffix}` };
  const env = {
    ...simulatorAppSettings(sim, app, storageConnectionString(), {
      INCIDENTS_QUEUE_NAME: names.queue,
      STATE_TABLE_NAME: names.table,
      CLAIM_CHECK_CONTAINER_NAME: names.container,
      TENANTS_TABLE_NAME: `tenants${suffix}`,
      DEFENDER_MAX_RETRIES: '1',
      DEFENDER_CLIENT_SECRET_NAME: secretName,
      CONSENT_REDIRECT_URI: REDIRECT_URI,
      CONSENT_STATE_KEY_SECRET_NAME: keyName,
    }),
    ...options.env,
  };
  const config = loadConfig(env);
  const relay = createRelay(config, options.relayOptions);
  return {
    sim,
    homeTenantId,
    app,
    env,
    config,
    relay,
    addCustomer: ({ consent = false, domain } = {}) => {
      const tenantId = sim.addTenant(domain ? { domain } : {});
      if (consent) sim.grantPermissions(app.clientId, tenantId, 'graph', ['SecurityIncident.Read.All']);
      return tenantId;
    },
    freshRelay: () => createRelay(loadConfig(env), options.relayOptions),
    drainQueue: () => drainQueue(relay.storage.queues.getQueueClient(names.queue)),
  };
}

/** Token requests the app made per tenant (the simulator's counters). */
export function tokenRequestsByTenant(sim: Simulator, clientId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of sim.counters.snapshot().tokenRequests) {
    if (t.clientId === clientId) out[t.tenantId] = (out[t.tenantId] ?? 0) + t.count;
  }
  return out;
}
