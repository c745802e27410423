/**
 * The simulator: a fake Microsoft cloud over real HTTPS on 127.0.0.1, so MSAL Node, @azure/identity and
 * @azure/keyvault-secrets run their real code against it. One HTTPS server serves Entra ID (OIDC metadata,
 * JWKS, v2 token endpoint), Microsoft Graph security incidents (`/graph/...`), the legacy Defender XDR API
 * (`/legacy/...`) and Key Vault (any `<vault>.vault.localhost` Host); a plain HTTP server plays the App
 * Service managed-identity endpoint (`IDENTITY_ENDPOINT`), as the real one is plain HTTP too.
 *
 * Processes that talk to it must trust the simulator CA and resolve `*.localhost` to loopback: run them
 * under `node tools/with-simulator-ca.mjs` (npm test, npm run demo, npm run bench do).
 *
 * This file is the shell: the public API, the servers, routing by host and path, counters, faults and
 * rate limits. One module per simulated service:
 * - ./entra (signing, OIDC metadata, JWKS, AADSTS errors), ./entra-token (token endpoint: secret, client
 *   assertion, on-behalf-of), ./consent (admin consent), ./directory (tenants, apps, grants);
 * - ./managed-identity (the App Service MSI endpoint), ./key-vault (vaults and secrets);
 * - ./defender-api (what Graph and legacy share: token, roles, rate limit, error shape), ./graph-incidents,
 *   ./legacy-incidents, ./paging ($top/$skip, nextLink), ./hunting, ./api-input (request bodies);
 * - ./incidents (the incidents world model), ./types (the public types), ./context (what services share).
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CLOUD_RESOURCES, KEY_VAULT_RESOURCE } from './clouds';
import { handleAdminConsent } from './consent';
import { HttpError, type FaultStage, type GraphQuirks, type SimContext } from './context';
import { handleApi } from './defender-api';
import { Directory } from './directory';
import * as entra from './entra';
import { handleToken } from './entra-token';
import { IncidentStore } from './incidents';
import { handleKeyVault, KeyVaults } from './key-vault';
import { handleMsi, ManagedIdentities } from './managed-identity';
import { ensureSimulatorTls } from './tls.cjs';
import type {
  AppRegistration,
  CounterSnapshot,
  DefenderApi,
  FaultSpec,
  FaultTarget,
  HuntingLimits,
  IssueTokenInput,
  RegisterAppInput,
  Simulator,
  SimulatorCloud,
  SimulatorOptions,
  SimulatorUrls,
  TokenRequestCount,
} from './types';
import { recordSecret, Rng, sendJson, sendRaw, sleep, type SigningKey } from './util';

export { IncidentStore } from './incidents';
export type {
  AlertData,
  HistoryEntry,
  IncidentData,
  IncidentPatch,
  IncidentSnapshot,
  IncidentVersion,
  SeedOptions,
  CreateOptions,
  UpdateOptions,
} from './incidents';
export { formatTicks, parseTicks } from './util';
export type * from './types';

interface FaultState extends FaultSpec {
  remaining: number;
}

/** Alerts a page of `$expand=alerts` may carry before the list answers 500 (a large tenant's page). */
const DEFAULT_EXPAND_ALERTS_PER_PAGE = 200;

/** What the retired legacy API answers (our assumption of its shape: 410 Gone, its error envelope). */
const LEGACY_RETIRED_BODY = {
  error: {
    code: 'ApiRetired',
    message:
      'The Microsoft Defender XDR incidents and advanced hunting APIs were retired on February 1, 2027. Use the Microsoft Graph security API instead.',
  },
};

interface RateWindow {
  limit: number;
  windowMs: number;
}

const SERVICE_RATES: Record<DefenderApi, RateWindow[]> = {
  graph: [{ limit: 150, windowMs: 60_000 }],
  legacy: [
    { limit: 50, windowMs: 60_000 },
    { limit: 1500, windowMs: 3_600_000 },
  ],
};

class SimulatorImpl implements Simulator, SimContext {
  readonly cloud: SimulatorCloud;
  readonly resources: { graph: string; legacy: string; keyVault: string };
  urls!: SimulatorUrls;
  homeTenantId: string;
  readonly incidents: IncidentStore;
  readonly identities: Simulator['identities'];
  readonly keyVault: Simulator['keyVault'];
  readonly faults: Simulator['faults'];
  readonly rateLimits: Simulator['rateLimits'];
  readonly counters: Simulator['counters'];
  huntingLimitState: HuntingLimits = {};
  readonly huntingLimits: Simulator['huntingLimits'] = {
    set: (limits) => void (this.huntingLimitState = { ...limits }),
    clear: () => void (this.huntingLimitState = {}),
  };

  readonly graphQuirks: GraphQuirks;
  readonly graphList: Simulator['graphList'];
  readonly hiddenIncidents = new Set<string>();
  readonly migration: Simulator['migration'] = {
    hideIncident: (tenantId, incidentId, api) =>
      void this.hiddenIncidents.add(`${api}|${tenantId}|${incidentId}`),
    retireLegacy: (tenantId) =>
      this.faults.inject({
        target: 'legacy',
        tenantId,
        status: 410,
        count: Infinity,
        body: LEGACY_RETIRED_BODY,
      }),
  };

  // The world and settings the services share (SimContext).
  readonly clock: () => number;
  readonly latencyMs: number;
  readonly lifetime: number;
  readonly key: SigningKey;
  readonly directory: Directory;
  readonly managedIdentities: ManagedIdentities;
  readonly keyVaults: KeyVaults;
  port = 0;

  private readonly rng: Rng;
  /** Orders list results (its own stream, so seeded data stays the same whatever is listed). */
  private readonly orderRng: Rng;
  private faultList: FaultState[] = [];
  private readonly limits = new Map<string, { perMinute: number; hits: number[] }>();
  private readonly serviceRate = new Map<string, { hits: number[] }>();
  private counts = this.emptyCounts();
  private readonly httpsServer: https.Server;
  private readonly msiServer: http.Server;

  constructor(options: SimulatorOptions) {
    this.cloud = options.cloud ?? 'public';
    const res = CLOUD_RESOURCES[this.cloud];
    this.resources = { graph: res.graph, legacy: res.legacy, keyVault: KEY_VAULT_RESOURCE };
    this.clock = options.clock ?? Date.now;
    this.rng = new Rng(options.seed ?? crypto.randomInt(1, 2 ** 31));
    this.orderRng = new Rng((options.seed ?? crypto.randomInt(1, 2 ** 31)) ^ 0x5bd1e995);
    this.graphQuirks = {
      expandAlertsPerPage: options.graphExpandAlertsPerPage ?? DEFAULT_EXPAND_ALERTS_PER_PAGE,
      createdOrderIgnored: new Map(),
    };
    this.graphList = {
      expandAlertsPerPage: (n) => void (this.graphQuirks.expandAlertsPerPage = n),
      ignoreCreatedOrder: (tenantId, pages) => void this.graphQuirks.createdOrderIgnored.set(tenantId, pages),
    };
    this.latencyMs = options.latencyMs ?? 0;
    this.lifetime = options.tokenLifetimeSeconds ?? 3600;
    this.key = entra.signingKey();
    this.directory = new Directory(this.rng);
    this.managedIdentities = new ManagedIdentities(this.rng);
    this.keyVaults = new KeyVaults(() => this.now());
    this.incidents = new IncidentStore(
      this.rng,
      this.clock,
      (tid) => this.directory.tenants.get(tid)?.domain ?? 'contoso.com',
    );
    this.homeTenantId = this.addTenant({
      displayName: 'Relay host tenant',
      domain: 'relayhost.onmicrosoft.com',
    });
    this.identities = {
      systemAssigned: this.managedIdentities.systemAssigned,
      addUserAssigned: () => this.managedIdentities.addUserAssigned(),
    };
    this.keyVault = {
      setSecret: (name, value, vaultName = 'relay') =>
        this.keyVaults.setSecret(vaultName, name, value).version,
      grantSecretsUser: (principalId, vaultName = 'relay') =>
        void this.keyVaults.vault(vaultName).readers.add(principalId),
      grantSecretsOfficer: (principalId, vaultName = 'relay') =>
        void this.keyVaults.vault(vaultName).officers.add(principalId),
      revoke: (principalId, vaultName = 'relay') => {
        this.keyVaults.vault(vaultName).readers.delete(principalId);
        this.keyVaults.vault(vaultName).officers.delete(principalId);
      },
    };
    this.faults = {
      inject: (f) => void this.faultList.push({ ...f, remaining: f.count ?? 1 }),
      clear: () => void (this.faultList = []),
    };
    this.rateLimits = {
      set: (tenantId, api, perMinute) => void this.limits.set(`${tenantId}|${api}`, { perMinute, hits: [] }),
      clear: () => this.limits.clear(),
    };
    this.counters = {
      snapshot: () => this.snapshot(),
      reset: () => void (this.counts = this.emptyCounts()),
    };
    const tls = ensureSimulatorTls();
    this.httpsServer = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      void this.handle(req, res, () => this.routeHttps(req, res));
    });
    this.msiServer = http.createServer((req, res) => {
      void this.handle(req, res, () => handleMsi(this, req, res));
    });
    // Idle keep-alive connections are kept 2 minutes, as Microsoft's HTTP.sys does by default
    // (TimeoutManager.IdleConnection, "the default timer is 2 minutes"), not Node's 5 s: with 5 s, a
    // client that reuses a pooled connection just as the server drops it (a test's event loop busy for
    // seconds) gets a reset no real service would cause that often. Resets are still what the clients
    // are built for: the relay retries network failures as transient.
    for (const server of [this.httpsServer, this.msiServer]) server.keepAliveTimeout = 120_000;
  }

  async listen(): Promise<void> {
    const listen = (server: http.Server | https.Server): Promise<number> =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
      });
    this.port = await listen(this.httpsServer);
    const msiPort = await listen(this.msiServer);
    const authorityHost = `https://127.0.0.1:${this.port}`;
    const identityHeader = crypto.randomBytes(24).toString('hex');
    recordSecret(identityHeader);
    this.urls = {
      authorityHost,
      knownAuthorities: [`127.0.0.1:${this.port}`],
      graphBaseUrl: `${authorityHost}/graph`,
      legacyBaseUrl: `${authorityHost}/legacy`,
      keyVaultUrl: (vaultName = 'relay') => `https://${vaultName}.vault.localhost:${this.port}`,
      identityEndpoint: `http://127.0.0.1:${msiPort}/msi/token`,
      identityHeader,
      managedIdentityIssuer: `${authorityHost}/${this.homeTenantId}/v2.0`,
    };
  }

  async stop(): Promise<void> {
    const close = (server: http.Server | https.Server): Promise<void> =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    await Promise.all([close(this.httpsServer), close(this.msiServer)]);
  }

  // -------------------------------------------------------------------------------------------------
  // Entra administration (./directory) and tokens (./entra).

  addTenant(t: { tenantId?: string; displayName?: string; domain?: string } = {}): string {
    return this.directory.addTenant(t);
  }

  registerApp(a: RegisterAppInput): AppRegistration {
    return this.directory.registerApp(a);
  }

  rotateAppSecret(clientId: string, newSecret: string, opts: { keepOld?: boolean } = {}): void {
    this.directory.rotateAppSecret(clientId, newSecret, opts);
  }

  grantPermissions(clientId: string, tenantId: string, api: DefenderApi, roles: string[]): void {
    this.directory.grantPermissions(clientId, tenantId, api, roles);
  }

  revokeConsent(clientId: string, tenantId: string): void {
    this.directory.revokeConsent(clientId, tenantId);
  }

  servicePrincipalId(clientId: string, tenantId: string): string {
    return this.directory.servicePrincipalId(clientId, tenantId);
  }

  now(): number {
    return Math.floor(this.clock() / 1000);
  }

  issueToken(input: IssueTokenInput): string {
    return entra.issueToken(this, input);
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return entra.jwks(this);
  }

  // -------------------------------------------------------------------------------------------------
  // HTTP plumbing.

  private async handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    fn: () => Promise<void>,
  ): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendJson(res, err.status, err.body, err.headers);
      else sendJson(res, 500, { error: { code: 'InternalServerError', message: String(err) } });
    }
  }

  count(kind: string, res: http.ServerResponse, tenantId?: string): void {
    const c = this.counts;
    c.byKind[kind] = (c.byKind[kind] ?? 0) + 1;
    if (tenantId) {
      const t = (c.byTenant[tenantId] ??= {});
      t[kind] = (t[kind] ?? 0) + 1;
    }
    res.once('finish', () => {
      const s = (c.byStatus[kind] ??= {});
      s[String(res.statusCode)] = (s[String(res.statusCode)] ?? 0) + 1;
    });
  }

  private emptyCounts(): CounterSnapshot & { tokenMap: Map<string, TokenRequestCount> } {
    return {
      byKind: {},
      byTenant: {},
      byStatus: {},
      tokenRequests: [],
      keyVaultReads: {},
      tokenMap: new Map(),
    };
  }

  countTokenRequest(clientId: string, tenantId: string, resource: string): void {
    const key = `${clientId}|${tenantId}|${resource}`;
    const entry = this.counts.tokenMap.get(key) ?? { clientId, tenantId, resource, count: 0 };
    entry.count++;
    this.counts.tokenMap.set(key, entry);
  }

  private snapshot(): CounterSnapshot {
    const c = structuredClone({
      byKind: this.counts.byKind,
      byTenant: this.counts.byTenant,
      byStatus: this.counts.byStatus,
      keyVaultReads: this.counts.keyVaultReads,
    });
    return { ...c, tokenRequests: [...this.counts.tokenMap.values()].map((t) => ({ ...t })) };
  }

  private findFault(
    target: FaultTarget,
    tenantId: string | undefined,
    at: FaultStage,
  ): FaultState | undefined {
    return this.faultList.find(
      (x) =>
        x.target === target &&
        x.remaining > 0 &&
        (x.tenantId === undefined || x.tenantId === tenantId) &&
        (x.operation === undefined || x.operation === at.operation) &&
        !!x.afterApply === !!at.afterApply,
    );
  }

  takeAfterApplyFault(
    target: FaultTarget,
    tenantId: string | undefined,
    operation: string,
  ): FaultSpec | undefined {
    const f = this.findFault(target, tenantId, { operation, afterApply: true });
    if (!f || f.status === undefined) return undefined;
    f.remaining--;
    return f;
  }

  /** Applies the first matching fault: true when it answered the request. */
  async applyFault(
    target: FaultTarget,
    tenantId: string | undefined,
    res: http.ServerResponse,
    defaultBody: (status: number, retryAfter: number | undefined) => unknown,
    at: FaultStage = {},
  ): Promise<boolean> {
    const f = this.findFault(target, tenantId, at);
    if (!f) return false;
    f.remaining--;
    if (f.delayMs) await sleep(f.delayMs);
    if (f.malformedBody) {
      sendRaw(res, f.status ?? 200, '{"value":[{"id":"1","displayName":"trunc');
      return true;
    }
    if (f.status === undefined) return false;
    const headers: Record<string, string> = {};
    let retryAfter = f.retryAfterSeconds;
    if (f.status === 429 && retryAfter === undefined) retryAfter = 1;
    // The legacy API puts the wait in the body only; everyone else sends Retry-After.
    if (retryAfter !== undefined && target !== 'legacy') headers['retry-after'] = String(retryAfter);
    sendJson(res, f.status, f.body ?? defaultBody(f.status, retryAfter), headers);
    return true;
  }

  countKeyVaultRead(name: string): void {
    this.counts.keyVaultReads[name] = (this.counts.keyVaultReads[name] ?? 0) + 1;
  }

  /**
   * The service's own rate per app per tenant (always on): Graph security about 150 requests a minute
   * (Microsoft Graph throttling limits, security service; the brief's measured figure), the legacy API 50
   * calls a minute and 1,500 an hour (its "Limitations" sections). `rateLimits.set` adds a lower
   * per-tenant limit on top, for tests of throttling.
   */
  random(): number {
    return this.orderRng.next();
  }

  rateLimited(
    tenantId: string,
    api: DefenderApi,
    appId: string,
  ): { waitSeconds: number; limit: number; minutes: number } | undefined {
    const now = this.clock();
    const explicit = this.limits.get(`${tenantId}|${api}`);
    const checks: [{ hits: number[] }, RateWindow][] = SERVICE_RATES[api].map((w) => [
      this.serviceHits(`${tenantId}|${api}|${appId}|${w.windowMs}`),
      w,
    ]);
    if (explicit) checks.push([explicit, { limit: explicit.perMinute, windowMs: 60_000 }]);
    for (const [state, w] of checks) {
      state.hits = state.hits.filter((t) => t > now - w.windowMs);
      if (state.hits.length >= w.limit) {
        const waitSeconds = Math.max(1, Math.ceil((state.hits[0]! + w.windowMs - now) / 1000));
        return { waitSeconds, limit: w.limit, minutes: w.windowMs / 60_000 };
      }
    }
    for (const [state] of checks) state.hits.push(now);
    return undefined;
  }

  private serviceHits(key: string): { hits: number[] } {
    let state = this.serviceRate.get(key);
    if (!state) this.serviceRate.set(key, (state = { hits: [] }));
    return state;
  }

  // -------------------------------------------------------------------------------------------------
  // Routing.

  private async routeHttps(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
    const vault = /^([a-z0-9-]+)\.vault\.localhost$/.exec(host);
    if (vault) return handleKeyVault(this, vault[1]!, req, res, url);
    const path = url.pathname;
    if (path.startsWith('/graph/')) return handleApi(this, 'graph', req, res, url);
    if (path.startsWith('/legacy/')) return handleApi(this, 'legacy', req, res, url);
    return this.routeEntra(req, res, url);
  }

  private async routeEntra(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean);
    const [segment, ...rest] = parts;
    const tail = rest.join('/');
    if (segment === 'common' && tail === 'discovery/instance')
      return entra.handleInstanceDiscovery(this, res);
    if (!segment) throw new HttpError(404, { error: 'not_found' });
    if (
      req.method === 'GET' &&
      (tail === 'v2.0/.well-known/openid-configuration' || tail === '.well-known/openid-configuration')
    ) {
      return entra.handleOpenIdConfiguration(this, req, res, segment);
    }
    if (req.method === 'GET' && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys')) {
      return entra.handleJwks(this, res);
    }
    if (req.method === 'GET' && (tail === 'adminconsent' || tail === 'v2.0/adminconsent')) {
      return handleAdminConsent(this, res, url, segment);
    }
    if (req.method === 'POST' && (tail === 'oauth2/v2.0/token' || tail === 'oauth2/token')) {
      return handleToken(this, req, res, segment);
    }
    throw new HttpError(404, {
      error: 'not_found',
      error_description: `No route for ${req.method} ${url.pathname}`,
    });
  }
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorImpl(options);
  await sim.listen();
  return sim;
}
