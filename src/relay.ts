/**
 * Builds the relay's object graph from a validated config, once: SDK clients (managed identity, Key Vault,
 * MSAL, storage), the Defender HTTP client and incident source, the destinations and the use cases. Both
 * the Functions entry point (src/index.ts) and the CLI start here, so they run the same code.
 */
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { RelayConfig } from './config/settings';
import { AppTokenProvider } from './auth/app-token';
import { KeyVaultSecrets, type KeyVaultCaller, type SecretSource } from './auth/key-vault-secrets';
import {
  CertificateCredential,
  FederatedCredential,
  SecretCredential,
  type ClientCredentialSource,
} from './auth/credentials';
import { TenantRegistry } from './tenants/tenant-registry';
import { ConsentService } from './tenants/consent';
import { DefenderHttp } from './defender/http';
import type { IncidentReader } from './defender/incident-reader';
import type { ApiFlavour } from './defender/incident';
import { GraphWindowReader } from './defender/graph-windows';
import { LegacyOffsetReader } from './defender/legacy-offsets';
import { createStorageClients, type StorageClients } from './storage/clients';
import { StorageQueueDestination } from './delivery/storage-queue';
import type { Destination } from './delivery/destination';
import { WebhookOutboxDestination } from './delivery/webhook-outbox';
import { WebhookDelivery, type WebhookDeliveryDeps } from './delivery/webhook-delivery';
import { TableStateStore, type StateStore } from './sync/state-store';
import { TenantSync } from './sync/tenant-sync';
import { syncTenantLeased, syncTenants, type SyncSummary } from './sync/sync-tenants';
import type { TenantSyncOptions, TenantSyncResult } from './sync/tenant-sync';
import { BlobTenantLeases, type TenantLeases } from './sync/tenant-lease';
import { SyncJobQueue } from './sync/sync-jobs';
import { SlidingWindowLimiter } from './defender/rate-limiter';
import type { Logger } from './telemetry';
import { RelayAuthError } from './auth/errors';
import type { TokenProvider } from './auth/app-token';
import { UserTokenValidator } from './auth/user-token';
import { OboTokenProvider } from './auth/obo';
import { DefenderActions } from './defender/actions';
import { ACTIONS_API } from './defender/legacy-retirement';
import { InboundUpdates } from './inbound/inbound-updates';
import { VersionLedger } from './two-way/version-ledger';
import { sweepUseCases, type SweepUseCases } from './sweep/sweep-use-cases';

/** The completeness sweep (src/sweep/): `sweepTenant`, `sweepAll`, `sweepJobs`, `sweepState`. */
export interface Relay extends SweepUseCases {
  config: RelayConfig;
  storage: StorageClients;
  state: StateStore;
  secrets?: KeyVaultSecrets;
  tokens: AppTokenProvider;
  /** The reader of DEFENDER_API (`readers[config.api]`). */
  source: IncidentReader;
  /** One reader per API: each tenant's sync reads with the one of its API (TenantRegistry.apiOf). */
  readers: Record<ApiFlavour, IncidentReader>;
  destinations: Destination[];
  /** Sends the jobs of the webhook outbox queue (WEBHOOKS). */
  webhooks: WebhookDelivery;
  tenantSync: TenantSync;
  leases: TenantLeases;
  /** The fan-out queue: one job per tenant, worked by the syncWorker function. */
  syncJobs: SyncJobQueue;
  /** One tenant's sync under its lease (outcome `busy` when another run holds it); records the outcome. */
  syncTenant(tenantId: string, options?: TenantSyncOptions & { log?: Logger }): Promise<TenantSyncResult>;
  /** The tenant registry (TENANTS_TABLE_NAME merged with DEFENDER_TENANTS); `enabledTenantIds()` = what to sync. */
  tenants: TenantRegistry;
  /** Admin-consent onboarding (CONSENT_REDIRECT_URI). */
  consent: ConsentService;
  /** Syncs `tenants`, or every enabled tenant of the registry; records each outcome in the registry. */
  syncAll(options?: TenantSyncOptions & { tenants?: string[]; log?: Logger }): Promise<SyncSummary>;
  /** User context: validates callers' tokens and exchanges them on their behalf (per-user token caches). */
  user: { validator: UserTokenValidator; obo: OboTokenProvider };
  /** Hunting and incident updates with a token provider: `relay.obo.forUser(user)` or `relay.tokens`. */
  actions(tokens: TokenProvider): DefenderActions;
  /** Inbound webhooks from ticketing / SOAR systems, applied with the application context. */
  inbound: InboundUpdates;
  /** Two-way sync's records: field snapshots of delivered versions and the relay's own echoes. */
  ledger: VersionLedger;
}

export function managedIdentity(config: RelayConfig): TokenCredential {
  return config.managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: config.managedIdentityClientId })
    : new ManagedIdentityCredential();
}

/** The webhook delivery use case on the relay's storage and Key Vault (tests override timing through `overrides`). */
export function createWebhookDelivery(
  config: RelayConfig,
  storage: StorageClients,
  secrets: SecretSource,
  overrides: Partial<WebhookDeliveryDeps> = {},
): WebhookDelivery {
  return new WebhookDelivery({
    destinations: config.webhooks.destinations,
    secrets,
    outbox: storage.queues.getQueueClient(config.webhooks.outboxQueue),
    poison: storage.queues.getQueueClient(config.webhooks.poisonQueue),
    blobs: storage.blobs,
    claimCheckContainer: config.names.claimCheckContainer,
    settings: config.webhooks,
    ...overrides,
  });
}

export interface RelayOptions {
  log?: Logger;
  /** The clock of the Key Vault cache (tests move it past the refresh interval). */
  now?: () => number;
  /**
   * Who reaches storage and Key Vault, instead of the managed identity: the CLI on a person's machine
   * (src/auth/operator-credential.ts). The Function App never sets it: its managed identity is its only
   * credential. The federated credential's assertion always comes from the managed identity.
   */
  resourceCredential?: { credential: TokenCredential; caller: KeyVaultCaller };
}

export function createRelay(config: RelayConfig, options: RelayOptions = {}): Relay {
  const identity = managedIdentity(config);
  const resources = options.resourceCredential?.credential;
  const storage = createStorageClients(
    config.storage,
    () =>
      resources ??
      (config.storage.clientId
        ? new ManagedIdentityCredential({ clientId: config.storage.clientId })
        : identity),
  );
  const secrets = keyVaultSecrets(config, resources ?? identity, options);
  // One credential for the application context and the on-behalf-of flow: read from Key Vault once.
  const credential = clientCredential(config, identity, secrets);
  const tokens = new AppTokenProvider({ clientId: config.clientId, endpoints: config.endpoints, credential });
  const limiters = apiLimiters(config);
  const readers = incidentReaders(config, tokens, limiters);
  const tenants = new TenantRegistry(storage.table(config.names.tenantsTable), config.tenants, undefined, {
    defaultApi: config.api,
    settingApis: config.tenantApis,
  });
  // Two-way sync's records (docs/two-way.md): written by inbound updates, read by every delivery path.
  const ledger = versionLedger(config, storage);
  const sync = syncUseCases(config, storage, readers, tenants, ledger, options.log);
  const actions = actionsFactory(config, limiters);
  const sweep = sweepUseCases({
    config,
    storage,
    state: sync.state,
    destinations: sync.destinations,
    leases: sync.leases,
    readerFor: (tenantId) => sync.tenantSync.readerFor(tenantId),
    enabledTenantIds: () => tenants.enabledTenantIds(),
    ledger,
    log: options.log,
  });
  return {
    config,
    storage,
    secrets,
    tokens,
    ...sync,
    ...sweep,
    ledger,
    source: readers[config.api],
    readers,
    tenants,
    user: userContext(config, credential),
    actions,
    inbound: new InboundUpdates({
      secrets: secrets ?? noKeyVault(),
      senders: config.inbound.senders,
      table: storage.table(config.inbound.table),
      retryQueue: storage.queues.getQueueClient(config.inbound.retryQueue),
      replayWindowMs: config.inbound.replayWindowMs,
      // Incident updates from ticketing / SOAR systems go to Graph, whatever API the tenant's sync reads.
      api: ACTIONS_API,
      actions: actions(tokens),
      ledger,
    }),
    webhooks: createWebhookDelivery(config, storage, secrets ?? noKeyVault()),
    consent: new ConsentService({
      clientId: config.clientId,
      authorityHost: config.endpoints.authorityHost,
      redirectUri: config.consent.redirectUri,
      stateLifetimeMs: config.consent.stateLifetimeMs,
      keySecretName: config.consent.stateKeySecretName,
      secrets,
      registry: tenants,
      tokens,
      api: config.api,
    }),
  };
}

/** Key Vault secrets read with the managed identity, cached, refreshed at most once per interval. */
function keyVaultSecrets(
  config: RelayConfig,
  identity: TokenCredential,
  options: RelayOptions,
): KeyVaultSecrets | undefined {
  if (!config.keyVaultUrl) return undefined;
  return new KeyVaultSecrets(new SecretClient(config.keyVaultUrl, identity), {
    ttlMs: config.secretCacheTtlMs,
    minRefreshMs: config.secretRefreshMinMs,
    now: options.now,
    caller: options.resourceCredential?.caller,
    onStale: (name, error) =>
      (options.log ?? console.warn)(
        `Key Vault secret '${name}' could not be read again (${(error as { code?: string })?.code ?? 'error'}); the last value read is used meanwhile.`,
      ),
  });
}

/** The sync's readers of both APIs, on one Defender HTTP client with the per-tenant limiters. */
function incidentReaders(
  config: RelayConfig,
  tokens: TokenProvider,
  limiters: Record<ApiFlavour, SlidingWindowLimiter>,
): Record<ApiFlavour, IncidentReader> {
  const http = new DefenderHttp({
    tokens,
    timeoutMs: config.http.timeoutMs,
    maxRetries: config.http.maxRetries,
    limiters,
  });
  return {
    graph: new GraphWindowReader(http, config.endpoints.graphBaseUrl, config.endpoints.portalUrl),
    legacy: new LegacyOffsetReader(http, config.endpoints.legacyBaseUrl, config.endpoints.portalUrl),
  };
}

/** The queue, and the webhook outbox when webhooks are configured (the sync only stores their jobs). */
function syncDestinations(config: RelayConfig, storage: StorageClients): Destination[] {
  const claimChecks = storage.blobs.getContainerClient(config.names.claimCheckContainer);
  const destinations: Destination[] = [
    new StorageQueueDestination(
      storage.deliveryQueues.getQueueClient(config.names.incidentsQueue),
      claimChecks,
    ),
  ];
  if (config.webhooks.destinations.length > 0) {
    destinations.push(
      new WebhookOutboxDestination(
        storage.queues.getQueueClient(config.webhooks.outboxQueue),
        claimChecks,
        config.webhooks.destinations,
      ),
    );
  }
  return destinations;
}

/** Snapshots and echoes of incident versions (two-way sync), in the inbound table. */
function versionLedger(config: RelayConfig, storage: StorageClients): VersionLedger {
  return new VersionLedger(storage.table(config.inbound.table));
}

/** The sync: one tenant under its lease (its outcome recorded in the registry), many, the fan-out queue. */
function syncUseCases(
  config: RelayConfig,
  storage: StorageClients,
  readers: Record<ApiFlavour, IncidentReader>,
  tenants: TenantRegistry,
  ledger: VersionLedger,
  relayLog: Logger | undefined,
): Pick<Relay, 'state' | 'destinations' | 'tenantSync' | 'leases' | 'syncJobs' | 'syncTenant' | 'syncAll'> {
  const state = new TableStateStore(storage.table(config.names.stateTable));
  const destinations = syncDestinations(config, storage);
  const tenantSync = new TenantSync({
    source: readers[config.api],
    readers,
    apiOf: (tenantId) => tenants.apiOf(tenantId),
    destinations,
    state,
    // Delivered records are kept for the completeness sweep's window, which checks against them.
    settings: { ...config.sync, recordRetentionMs: config.sweep.windowMs },
    log: relayLog,
    ledger,
  });
  const leases = new BlobTenantLeases(storage.blobs.getContainerClient(config.sync.leasesContainer));
  const syncTenant = async (tenantId: string, opts: TenantSyncOptions & { log?: Logger } = {}) => {
    const log = opts.log ?? relayLog;
    const result = await syncTenantLeased(tenantSync, leases, tenantId, opts);
    if (result.outcome !== 'busy') {
      await tenants
        .recordOutcome(result.tenantId, {
          outcome: result.outcome,
          error: result.error,
          errorCode: result.errorCode,
        })
        .catch((e: Error) =>
          log?.(`tenant ${tenantId}: recording the outcome in the registry failed: ${e.message}`),
        );
    }
    return result;
  };
  return {
    state,
    destinations,
    tenantSync,
    leases,
    syncJobs: new SyncJobQueue(storage.queues.getQueueClient(config.sync.jobsQueue)),
    syncTenant,
    syncAll: async (opts = {}) => {
      const log = opts.log ?? relayLog;
      const tenantIds = opts.tenants ?? (await tenants.enabledTenantIds());
      return syncTenants((tenantId, o) => syncTenant(tenantId, { ...o, log }), tenantIds, {
        concurrency: config.sync.tenantConcurrency,
        ...opts,
        log,
      });
    },
  };
}

/** User context: callers' tokens validated, exchanged on their behalf (per-user token caches). */
function userContext(config: RelayConfig, credential: ClientCredentialSource): Relay['user'] {
  return {
    validator: new UserTokenValidator({
      authorityHost: config.endpoints.authorityHost,
      clientId: config.clientId,
      allowedTenants: config.user.allowedTenants,
      requiredScope: config.user.requiredScope,
      requiredRole: config.user.requiredRole,
    }),
    obo: new OboTokenProvider({ clientId: config.clientId, endpoints: config.endpoints, credential }),
  };
}

/** Interactive actions: fewer retries than a sync run, and the per-tenant limiters shared with it. */
function actionsFactory(
  config: RelayConfig,
  limiters: Record<ApiFlavour, SlidingWindowLimiter>,
): Relay['actions'] {
  return (actionTokens: TokenProvider) =>
    new DefenderActions(
      new DefenderHttp({
        tokens: actionTokens,
        timeoutMs: config.http.timeoutMs,
        maxRetries: Math.min(config.http.maxRetries, 2),
        limiters,
      }),
      {
        graphBaseUrl: config.endpoints.graphBaseUrl,
        legacyBaseUrl: config.endpoints.legacyBaseUrl,
        portalUrl: config.endpoints.portalUrl,
      },
    );
}

/**
 * Per-tenant limiters shared by the sync and the actions: Graph allows about 150 requests a minute per app
 * per tenant on /security before it answers 429; the legacy API documents 50 a minute and 1,500 an hour.
 */
function apiLimiters(config: RelayConfig): Record<'graph' | 'legacy', SlidingWindowLimiter> {
  return {
    graph: new SlidingWindowLimiter([{ limit: config.sync.graphCallsPerMinute, windowMs: 60_000 }]),
    legacy: new SlidingWindowLimiter([
      { limit: config.sync.legacyCallsPerMinute, windowMs: 60_000 },
      { limit: config.sync.legacyCallsPerHour, windowMs: 3_600_000 },
    ]),
  };
}

/** The app registration's credential, as DEFENDER_CREDENTIAL says (loadConfig checked the settings it needs). */
export function clientCredential(
  config: RelayConfig,
  identity: TokenCredential,
  secrets: SecretSource | undefined,
): ClientCredentialSource {
  if (config.credential.kind === 'federated') {
    if (!config.managedIdentityClientId) {
      throw new RelayAuthError(
        'DEFENDER_CREDENTIAL "federated" needs MANAGED_IDENTITY_CLIENT_ID (a user-assigned identity).',
        'managed_identity_missing',
      );
    }
    return new FederatedCredential(identity, config.endpoints.federationAudience);
  }
  if (!secrets) {
    throw new RelayAuthError(
      `KEY_VAULT_URL is required for the client ${config.credential.kind}.`,
      'keyvault_missing',
    );
  }
  return config.credential.kind === 'certificate'
    ? new CertificateCredential(secrets, config.credential.secretName)
    : new SecretCredential(secrets, config.credential.secretName);
}

/** Stands in for Key Vault when KEY_VAULT_URL is not set (federated credential): any read says so. */
function noKeyVault(): SecretSource {
  const fail = (name: string): Promise<string> =>
    Promise.reject(
      new RelayAuthError(
        `KEY_VAULT_URL is not set, so Key Vault secret '${name}' cannot be read: set KEY_VAULT_URL.`,
        'keyvault_missing',
      ),
    );
  return { get: fail, refresh: fail };
}
