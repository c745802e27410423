/**
 * Builds the relay's object graph from a validated config, once: SDK clients (managed identity, Key Vault,
 * MSAL, storage), the Defender HTTP client and incident source, the destinations and the use cases. Both
 * the Functions entry point (src/index.ts) and the CLI start here, so they run the same code.
 */
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { RelayConfig } from './config/settings';
import { AppTokenProvider } from './auth/app-token';
import { KeyVaultSecrets } from './auth/key-vault-secrets';
import { DefenderHttp } from './defender/http';
import { GraphIncidentSource, LegacyIncidentSource, type IncidentSource } from './defender/incident-source';
import { createStorageClients, type StorageClients } from './storage/clients';
import { StorageQueueDestination } from './delivery/storage-queue';
import type { Destination } from './delivery/destination';
import { TableStateStore, type StateStore } from './sync/state-store';
import { TenantSync } from './sync/tenant-sync';
import { syncTenants, type SyncSummary } from './sync/sync-tenants';
import type { TenantSyncOptions } from './sync/tenant-sync';
import type { Logger } from './telemetry';
import { RelayAuthError } from './auth/errors';

export interface Relay {
  config: RelayConfig;
  storage: StorageClients;
  state: StateStore;
  secrets?: KeyVaultSecrets;
  tokens: AppTokenProvider;
  source: IncidentSource;
  destinations: Destination[];
  tenantSync: TenantSync;
  syncAll(options?: TenantSyncOptions & { tenants?: string[]; log?: Logger }): Promise<SyncSummary>;
}

export function managedIdentity(config: RelayConfig): TokenCredential {
  return config.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: config.managedIdentityClientId })
    : new ManagedIdentityCredential();
}

export function createRelay(config: RelayConfig, options: { log?: Logger } = {}): Relay {
  const identity = managedIdentity(config);
  const storage = createStorageClients(config.storage, () =>
    config.storage.clientId ? new ManagedIdentityCredential({ clientId: config.storage.clientId }) : identity,
  );
  const secrets = config.keyVaultUrl
    ? new KeyVaultSecrets(new SecretClient(config.keyVaultUrl, identity), config.secretCacheTtlMs)
    : undefined;
  if (config.credential.kind !== 'secret') {
    throw new RelayAuthError(
      `DEFENDER_CREDENTIAL "${config.credential.kind}" is not available in this version; use "secret".`,
      'credential_unsupported',
    );
  }
  if (!secrets)
    throw new RelayAuthError('KEY_VAULT_URL is required for the client secret.', 'keyvault_missing');
  const tokens = new AppTokenProvider({
    clientId: config.clientId,
    endpoints: config.endpoints,
    secrets,
    secretName: config.credential.secretName,
  });
  const http = new DefenderHttp({
    tokens,
    timeoutMs: config.http.timeoutMs,
    maxRetries: config.http.maxRetries,
  });
  const source: IncidentSource =
    config.api === 'graph'
      ? new GraphIncidentSource(http, config.endpoints.graphBaseUrl, config.endpoints.portalUrl)
      : new LegacyIncidentSource(http, config.endpoints.legacyBaseUrl, config.endpoints.portalUrl);
  const state = new TableStateStore(storage.table(config.names.stateTable));
  const destinations: Destination[] = [
    new StorageQueueDestination(
      storage.queues.getQueueClient(config.names.incidentsQueue),
      storage.blobs.getContainerClient(config.names.claimCheckContainer),
    ),
  ];
  const tenantSync = new TenantSync({ source, destinations, state, settings: config.sync, log: options.log });
  return {
    config,
    storage,
    state,
    secrets,
    tokens,
    source,
    destinations,
    tenantSync,
    syncAll: (opts = {}) =>
      syncTenants(tenantSync, opts.tenants ?? config.tenants, { ...opts, log: opts.log ?? options.log }),
  };
}
