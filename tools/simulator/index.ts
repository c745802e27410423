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
import { HttpError, type SimContext } from './context';
import { Directory } from './directory';
import * as entra from './entra';
import { handleToken } from './entra-token';
import {
  graphIncident,
  IncidentStore,
  legacyIncident,
  matches,
  ODataError,
  parseFilter,
  type Classification,
  type IncidentPatch,
  type IncidentStatus,
  type IncidentVersion,
  type Severity,
} from './incidents';
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
import {
  decodeJwt,
  isRecord,
  parseTicks,
  readBody,
  recordSecret,
  Rng,
  sendJson,
  sendRaw,
  sleep,
  type JwtClaims,
  type SigningKey,
} from './util';

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

const GRAPH_READ_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
const GRAPH_WRITE_ROLES = ['SecurityIncident.ReadWrite.All'];
const LEGACY_READ_ROLES = ['Incident.Read.All', 'Incident.ReadWrite.All'];
const LEGACY_WRITE_ROLES = ['Incident.ReadWrite.All'];

const GRAPH_STATUSES: IncidentStatus[] = ['active', 'inProgress', 'resolved', 'redirected'];
const SEVERITIES: Severity[] = ['unknown', 'informational', 'low', 'medium', 'high'];
const CLASSIFICATIONS: Classification[] = [
  'unknown',
  'falsePositive',
  'truePositive',
  'informationalExpectedActivity',
];
const DETERMINATIONS = [
  'unknown',
  'apt',
  'malware',
  'securityPersonnel',
  'securityTesting',
  'unwantedSoftware',
  'other',
  'multiStagedAttack',
  'compromisedAccount',
  'phishing',
  'maliciousUserActivity',
  'notMalicious',
  'notEnoughDataToValidate',
  'confirmedUserActivity',
  'lineOfBusinessApplication',
];

function pascal(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
function camel(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

interface FaultState extends FaultSpec {
  remaining: number;
}

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
  private faultList: FaultState[] = [];
  private readonly limits = new Map<string, { perMinute: number; hits: number[] }>();
  private counts = this.emptyCounts();
  private readonly httpsServer: https.Server;
  private readonly msiServer: http.Server;

  constructor(options: SimulatorOptions) {
    this.cloud = options.cloud ?? 'public';
    const res = CLOUD_RESOURCES[this.cloud];
    this.resources = { graph: res.graph, legacy: res.legacy, keyVault: KEY_VAULT_RESOURCE };
    this.clock = options.clock ?? Date.now;
    this.rng = new Rng(options.seed ?? crypto.randomInt(1, 2 ** 31));
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

  /** Applies the first matching fault: true when it answered the request. */
  async applyFault(
    target: FaultTarget,
    tenantId: string | undefined,
    res: http.ServerResponse,
    defaultBody: (status: number, retryAfter: number | undefined) => unknown,
  ): Promise<boolean> {
    const f = this.faultList.find(
      (x) => x.target === target && x.remaining > 0 && (x.tenantId === undefined || x.tenantId === tenantId),
    );
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

  rateLimited(tenantId: string, api: DefenderApi): { waitSeconds: number; perMinute: number } | undefined {
    const limit = this.limits.get(`${tenantId}|${api}`);
    if (!limit) return undefined;
    const now = this.clock();
    limit.hits = limit.hits.filter((t) => t > now - 60_000);
    if (limit.hits.length >= limit.perMinute) {
      const waitSeconds = Math.max(1, Math.ceil((limit.hits[0]! + 60_000 - now) / 1000));
      return { waitSeconds, perMinute: limit.perMinute };
    }
    limit.hits.push(now);
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------
  // Routing.

  private async routeHttps(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
    const vault = /^([a-z0-9-]+)\.vault\.localhost$/.exec(host);
    if (vault) return handleKeyVault(this, vault[1]!, req, res, url);
    const path = url.pathname;
    if (path.startsWith('/graph/')) return this.handleApi('graph', req, res, url);
    if (path.startsWith('/legacy/')) return this.handleApi('legacy', req, res, url);
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

  // -------------------------------------------------------------------------------------------------
  // Graph and the legacy Defender API.

  private async handleApi(
    api: DefenderApi,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    const body = await readBody(req);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const path = url.pathname.replace(/^\/(graph|legacy)/, '').replace(/\/+$/, '');
    const route =
      api === 'graph'
        ? this.graphRoute(req.method ?? 'GET', path)
        : this.legacyRoute(req.method ?? 'GET', path);
    const auth = req.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '';
    const unverifiedTid = decodeJwt(token)?.claims.tid;
    const tenantHint = typeof unverifiedTid === 'string' ? unverifiedTid : undefined;
    this.count(`${api}.${route?.kind ?? 'unknown'}`, res, tenantHint);

    const error = (
      status: number,
      code: string,
      message: string,
      headers: Record<string, string> = {},
    ): HttpError =>
      new HttpError(
        status,
        api === 'graph'
          ? {
              error: {
                code,
                message,
                innerError: {
                  date: new Date(this.clock()).toISOString().replace(/\.\d+Z$/, ''),
                  'request-id': crypto.randomUUID(),
                  'client-request-id': String(req.headers['client-request-id'] ?? crypto.randomUUID()),
                },
              },
            }
          : { error: { code, message, target: crypto.randomUUID() } },
        headers,
      );

    const faulted = await this.applyFault(api, tenantHint, res, (status, retryAfter) => {
      if (status === 429) {
        return api === 'graph'
          ? {
              error: {
                code: 'TooManyRequests',
                message: `Too many requests. Retry after ${retryAfter ?? 1} seconds.`,
              },
            }
          : {
              error: {
                code: 'TooManyRequests',
                message: `API calls quota exceeded! Maximum allowed 50 per 1 minute(s). Next call can be made in ${retryAfter ?? 1} seconds`,
              },
            };
      }
      return {
        error: {
          code: status >= 500 ? 'ServiceUnavailable' : 'BadRequest',
          message: `Simulated ${status} failure.`,
        },
      };
    });
    if (faulted) return;

    // Authentication.
    const wwwAuth = {
      'www-authenticate': `Bearer realm="", authorization_uri="${this.urls.authorityHost}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
    };
    if (!token)
      throw error(
        401,
        api === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized',
        'Access token is empty.',
        wwwAuth,
      );
    const v = entra.verifyOwnToken(this, token);
    if (!v.ok) {
      const msg =
        v.reason === 'expired'
          ? 'Access token has expired or is not yet valid.'
          : v.reason === 'malformed'
            ? 'IDX14100: JWT is not well formed, there are no dots (.).'
            : 'Access token validation failure. Invalid signature.';
      throw error(401, api === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized', msg, wwwAuth);
    }
    const expectedAud = this.resources[api];
    const aud = String(v.claims.aud).replace(/\/+$/, '');
    if (aud !== expectedAud) {
      throw error(
        401,
        api === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized',
        `Access token validation failure. Invalid audience. Expected ${expectedAud}, found ${aud}.`,
        wwwAuth,
      );
    }
    const tid = String(v.claims.tid);
    if (!this.directory.tenants.has(tid))
      throw error(401, 'InvalidAuthenticationToken', `Unknown tenant ${tid}.`, wwwAuth);
    if (!route)
      throw error(
        404,
        api === 'graph' ? 'UnknownError' : 'NotFound',
        `No route for ${req.method} ${url.pathname}`,
      );

    // Authorization: app roles, or delegated scopes for user tokens.
    const granted = new Set<string>([
      ...(Array.isArray(v.claims.roles) ? v.claims.roles.map(String) : []),
      ...(typeof v.claims.scp === 'string' ? v.claims.scp.split(' ') : []),
    ]);
    const needed = route.roles
      ? route.roles
      : route.write
        ? api === 'graph'
          ? GRAPH_WRITE_ROLES
          : LEGACY_WRITE_ROLES
        : api === 'graph'
          ? GRAPH_READ_ROLES
          : LEGACY_READ_ROLES;
    if (!needed.some((r) => granted.has(r))) {
      throw error(
        403,
        'Forbidden',
        api === 'graph'
          ? `Missing application roles. API required roles: ${needed.join(', ')}. Roles in the token: ${[...granted].join(', ') || '(none)'}.`
          : `The application does not have any of the required application permissions (${needed.join(', ')}) to access the resource.`,
      );
    }

    // Rate limit (sliding one-minute window per tenant per API).
    const limited = this.rateLimited(tid, api);
    if (limited) {
      const wait = limited.waitSeconds;
      if (api === 'graph') {
        throw error(429, 'TooManyRequests', `Too many requests. Retry after ${wait} seconds.`, {
          'retry-after': String(wait),
        });
      }
      throw error(
        429,
        'TooManyRequests',
        `API calls quota exceeded! Maximum allowed ${limited.perMinute} per 1 minute(s). Next call can be made in ${wait} seconds`,
      );
    }

    try {
      return await route.run(this, tid, url, body, res, v.claims);
    } catch (err) {
      if (err instanceof ODataError)
        throw error(400, api === 'graph' ? 'BadRequest' : 'BadRequest', err.message);
      throw err;
    }
  }

  private graphRoute(method: string, path: string): ApiRoute | undefined {
    if (/^\/(v1\.0|beta)\/security\/runHuntingQuery$/.test(path) && method === 'POST') {
      return {
        kind: 'hunting',
        write: false,
        roles: ['ThreatHunting.Read.All'],
        run: (s, tid, _u, body, res) => s.hunting('graph', tid, body, res),
      };
    }
    const m = /^\/(v1\.0|beta)\/security\/incidents(?:\/([^/]+))?(\/comments)?$/.exec(path);
    if (!m) return undefined;
    const [, , id, comments] = m;
    if (id === undefined && method === 'GET')
      return {
        kind: 'list',
        write: false,
        run: (s, tid, url, body, res) => s.graphList(tid, url, body, res),
      };
    if (id !== undefined && !comments && method === 'GET') {
      return { kind: 'get', write: false, run: (s, tid, url, _b, res) => s.graphGet(tid, id, url, res) };
    }
    if (id !== undefined && !comments && method === 'PATCH') {
      return {
        kind: 'update',
        write: true,
        run: (s, tid, _u, body, res, claims) => s.graphPatch(tid, id, body, res, claims),
      };
    }
    if (id !== undefined && comments && method === 'POST') {
      return {
        kind: 'comment',
        write: true,
        run: (s, tid, _u, body, res, claims) => s.graphComment(tid, id, body, res, claims),
      };
    }
    return undefined;
  }

  private legacyRoute(method: string, path: string): ApiRoute | undefined {
    if (path === '/api/advancedhunting/run' && method === 'POST') {
      return {
        kind: 'hunting',
        write: false,
        roles: ['AdvancedHunting.Read.All'],
        run: (s, tid, _u, body, res) => s.hunting('legacy', tid, body, res),
      };
    }
    const m = /^\/api\/incidents(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const [, id] = m;
    if (id === undefined && method === 'GET')
      return {
        kind: 'list',
        write: false,
        run: (s, tid, url, body, res) => s.legacyList(tid, url, body, res),
      };
    if (id !== undefined && method === 'GET')
      return { kind: 'get', write: false, run: (s, tid, _u, _b, res) => s.legacyGet(tid, id, res) };
    if (id !== undefined && method === 'PATCH') {
      return {
        kind: 'update',
        write: true,
        run: (s, tid, _u, body, res, claims) => s.legacyPatch(tid, id, body, res, claims),
      };
    }
    return undefined;
  }

  private parsePaging(url: URL, max: number, dflt: number, api: DefenderApi): { top: number; skip: number } {
    const topRaw = url.searchParams.get('$top');
    const skipRaw = url.searchParams.get('$skip');
    const top = topRaw === null ? dflt : Number(topRaw);
    const skip = skipRaw === null ? 0 : Number(skipRaw);
    if (!Number.isInteger(top) || top < 1 || top > max) {
      throw new ODataError(
        api === 'graph'
          ? `Invalid page size specified: '${topRaw ?? ''}'. Must be between 1 and ${max} inclusive.`
          : `The limit of '${max}' for Top query has been exceeded. The value from the incoming request is '${topRaw ?? ''}'.`,
      );
    }
    if (!Number.isInteger(skip) || skip < 0)
      throw new ODataError(`Invalid value for $skip: '${skipRaw ?? ''}'.`);
    return { top, skip };
  }

  private nextLink(base: string, url: URL, skip: number): string {
    const params: string[] = [];
    for (const [k, v] of url.searchParams) if (k !== '$skip') params.push(`${k}=${encodeURIComponent(v)}`);
    params.push(`$skip=${skip}`);
    return `${base}?${params.join('&')}`;
  }

  async graphList(tid: string, url: URL, _body: string, res: http.ServerResponse): Promise<void> {
    const { top, skip } = this.parsePaging(url, 50, 20, 'graph');
    const expand = url.searchParams.get('$expand');
    if (expand !== null && expand.toLowerCase() !== 'alerts') {
      throw new ODataError(
        `Could not find a property named '${expand}' on type 'microsoft.graph.security.incident'.`,
      );
    }
    const clauses = parseFilter(
      url.searchParams.get('$filter'),
      ['lastUpdateDateTime', 'createdDateTime'],
      ['status', 'severity', 'assignedTo', 'classification', 'determination', 'id'],
    );
    const orderby = (url.searchParams.get('$orderby') ?? 'createdDateTime desc').trim();
    const om = /^(lastUpdateDateTime|createdDateTime|id)(?:\s+(asc|desc))?$/i.exec(orderby);
    if (!om) throw new ODataError(`Order by '${orderby}' is not supported.`);
    const field = om[1]!.toLowerCase();
    const dir = (om[2] ?? 'asc').toLowerCase() === 'desc' ? -1 : 1;
    const key = (v: IncidentVersion): bigint =>
      field === 'id'
        ? BigInt(v.data.id)
        : field === 'createddatetime'
          ? parseTicks(v.data.createdDateTime)!
          : v.ticks;
    const rows = this.incidents
      .visible(tid)
      .filter((v) => matches(clauses, (f) => graphField(v, f)))
      .sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        if (ka !== kb) return ka < kb ? -dir : dir;
        return a.data.id - b.data.id;
      });
    const page = rows.slice(skip, skip + top);
    const expanded = expand !== null;
    const out: Record<string, unknown> = {
      '@odata.context': `${this.urls.graphBaseUrl}/v1.0/$metadata#security/incidents${expanded ? '(alerts())' : ''}`,
    };
    if (url.searchParams.get('$count') === 'true') out['@odata.count'] = rows.length;
    out.value = page.map((v) => graphIncident(v, tid, expanded));
    if (skip + top < rows.length)
      out['@odata.nextLink'] = this.nextLink(
        `${this.urls.graphBaseUrl}/v1.0/security/incidents`,
        url,
        skip + top,
      );
    sendJson(res, 200, out);
  }

  private graphFind(tid: string, id: string): IncidentVersion {
    const n = Number(id);
    const v = Number.isInteger(n) ? this.incidents.visibleOne(tid, n) : undefined;
    if (!v) {
      throw new HttpError(404, {
        error: { code: 'NotFound', message: `Entity with id '${id}' was not found.` },
      });
    }
    return v;
  }

  async graphGet(tid: string, id: string, url: URL, res: http.ServerResponse): Promise<void> {
    const v = this.graphFind(tid, id);
    const expanded = url.searchParams.get('$expand')?.toLowerCase() === 'alerts';
    sendJson(res, 200, {
      '@odata.context': `${this.urls.graphBaseUrl}/v1.0/$metadata#security/incidents${expanded ? '(alerts())' : ''}/$entity`,
      ...graphIncident(v, tid, expanded),
    });
  }

  private actor(claims: JwtClaims): string {
    return typeof claims.upn === 'string'
      ? claims.upn
      : String(claims.app_displayname ?? claims.appid ?? 'API-App');
  }

  async graphPatch(
    tid: string,
    id: string,
    body: string,
    res: http.ServerResponse,
    claims: JwtClaims,
  ): Promise<void> {
    const current = this.graphFind(tid, id);
    const input = parseJsonObject(body);
    const patch: IncidentPatch = {};
    const allowed = [
      'status',
      'assignedTo',
      'classification',
      'determination',
      'customTags',
      'severity',
      'displayName',
      'description',
      'resolvingComment',
      'summary',
    ];
    for (const k of Object.keys(input)) {
      if (!allowed.includes(k) && !k.startsWith('@odata'))
        throw new ODataError(`Property '${k}' cannot be updated.`);
    }
    if (input.status !== undefined) patch.status = enumValue(input.status, GRAPH_STATUSES, 'status');
    if (input.severity !== undefined) patch.severity = enumValue(input.severity, SEVERITIES, 'severity');
    if (input.classification !== undefined)
      patch.classification = enumValue(input.classification, CLASSIFICATIONS, 'classification');
    if (input.determination !== undefined)
      patch.determination = enumValue(input.determination, DETERMINATIONS, 'determination');
    if (input.assignedTo !== undefined)
      patch.assignedTo = input.assignedTo === null ? null : String(input.assignedTo);
    if (input.customTags !== undefined) {
      if (!Array.isArray(input.customTags))
        throw new ODataError("Property 'customTags' must be an array of strings.");
      patch.customTags = input.customTags.map(String);
    }
    if (typeof input.displayName === 'string') patch.displayName = input.displayName;
    if (typeof input.description === 'string') patch.description = input.description;
    if (typeof input.resolvingComment === 'string') patch.resolvingComment = input.resolvingComment;
    const classification = patch.classification ?? current.data.classification;
    if (
      patch.determination !== undefined &&
      patch.determination !== 'unknown' &&
      classification !== 'truePositive'
    ) {
      throw new ODataError('determination can only be set when classification is truePositive.');
    }
    void this.actor(claims);
    this.incidents.update(tid, id, patch);
    sendJson(res, 200, {
      '@odata.context': `${this.urls.graphBaseUrl}/v1.0/$metadata#security/incidents/$entity`,
      ...graphIncident(this.graphFind(tid, id), tid, false),
    });
  }

  async graphComment(
    tid: string,
    id: string,
    body: string,
    res: http.ServerResponse,
    claims: JwtClaims,
  ): Promise<void> {
    this.graphFind(tid, id);
    const input = parseJsonObject(body);
    if (typeof input.comment !== 'string' || input.comment === '')
      throw new ODataError("Property 'comment' is required.");
    const snap = this.incidents.update(tid, id, { comment: input.comment, commentBy: this.actor(claims) });
    sendJson(res, 200, {
      '@odata.context': `${this.urls.graphBaseUrl}/v1.0/$metadata#Collection(microsoft.graph.security.alertComment)`,
      value: snap.comments.map((c) => ({
        '@odata.type': '#microsoft.graph.security.alertComment',
        comment: c.comment,
        createdByDisplayName: c.createdBy,
        createdDateTime: c.createdTime,
      })),
    });
  }

  /**
   * Advanced hunting: any KQL is accepted; the rows are the tenant's alerts as the AlertInfo table
   * (newest first), limited by a trailing `take N` / `limit N` (default 100,000 rows as the service caps).
   */
  async hunting(api: DefenderApi, tid: string, body: string, res: http.ServerResponse): Promise<void> {
    const input = parseJsonObject(body);
    const query = input.Query ?? input.query;
    if (typeof query !== 'string' || query.trim() === '')
      throw new ODataError("Property 'Query' is required.");
    const take = /\b(?:take|limit)\s+(\d+)\s*$/i.exec(query.trim());
    const cap = this.huntingLimitState.maxRows ?? 100_000;
    const max = take ? Number(take[1]) : Infinity;
    if (this.huntingLimitState.timeoutMarker && query.includes(this.huntingLimitState.timeoutMarker)) {
      throw new ODataError(
        'Query execution has exceeded the allowed limits. The query execution was timed out after 3 minutes. Optimize the query and try again.',
      );
    }
    const rows = this.incidents
      .visible(tid)
      .flatMap((v) =>
        v.data.alerts.map((a) => ({
          Timestamp: a.createdDateTime,
          AlertId: a.id,
          Title: a.title,
          Category: a.category,
          Severity: pascal(a.severity),
          ServiceSource: a.serviceSource,
          DetectionSource: a.detectionSource,
          AttackTechniques: JSON.stringify(a.mitreTechniques),
        })),
      )
      .sort((x, y) => (x.Timestamp < y.Timestamp ? 1 : -1))
      .slice(0, max);
    if (rows.length > cap) {
      throw new ODataError(
        `Query result exceeded the allowed limit of ${cap} rows. Reduce the result size, for example with take or summarize.`,
      );
    }
    const columns: [string, string][] = [
      ['Timestamp', 'DateTime'],
      ['AlertId', 'String'],
      ['Title', 'String'],
      ['Category', 'String'],
      ['Severity', 'String'],
      ['ServiceSource', 'String'],
      ['DetectionSource', 'String'],
      ['AttackTechniques', 'String'],
    ];
    if (api === 'graph') {
      return sendJson(res, 200, {
        '@odata.context': `${this.urls.graphBaseUrl}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults`,
        schema: columns.map(([name, type]) => ({ name, type: `System.${type}` })),
        results: rows,
      });
    }
    return sendJson(res, 200, {
      Stats: {
        ExecutionTime: 0.05,
        resource_usage: { cache: {}, cpu: {}, memory: {} },
        dataset_statistics: [{ table_row_count: rows.length, table_size: 0 }],
      },
      Schema: columns.map(([Name, Type]) => ({ Name, Type })),
      Results: rows,
    });
  }

  async legacyList(tid: string, url: URL, _body: string, res: http.ServerResponse): Promise<void> {
    const { top, skip } = this.parsePaging(url, 100, 100, 'legacy');
    if (url.searchParams.has('$orderby'))
      throw new ODataError('The query specified in the URI is not valid. $orderby is not supported.');
    const clauses = parseFilter(
      url.searchParams.get('$filter'),
      ['lastUpdateTime', 'createdTime'],
      ['status', 'assignedTo', 'severity', 'classification', 'determination', 'incidentId'],
    );
    const rows = this.incidents
      .visible(tid)
      .filter((v) => matches(clauses, (f) => legacyField(v, f)))
      .sort((a, b) => shuffleKey(tid, a.data.id) - shuffleKey(tid, b.data.id) || a.data.id - b.data.id);
    const page = rows.slice(skip, skip + top);
    const out: Record<string, unknown> = {
      '@odata.context': `${this.urls.legacyBaseUrl}/api/$metadata#Incidents`,
      value: page.map((v) => legacyIncident(v, tid)),
    };
    if (skip + top < rows.length)
      out['@odata.nextLink'] = this.nextLink(`${this.urls.legacyBaseUrl}/api/incidents`, url, skip + top);
    sendJson(res, 200, out);
  }

  private legacyFind(tid: string, id: string): IncidentVersion {
    const n = Number(id);
    const v = Number.isInteger(n) ? this.incidents.visibleOne(tid, n) : undefined;
    if (!v)
      throw new HttpError(404, {
        error: { code: 'NotFound', message: `Incident ${id} was not found`, target: crypto.randomUUID() },
      });
    return v;
  }

  async legacyGet(tid: string, id: string, res: http.ServerResponse): Promise<void> {
    const v = this.legacyFind(tid, id);
    sendJson(res, 200, {
      '@odata.context': `${this.urls.legacyBaseUrl}/api/$metadata#Incidents/$entity`,
      ...legacyIncident(v, tid),
    });
  }

  async legacyPatch(
    tid: string,
    id: string,
    body: string,
    res: http.ServerResponse,
    claims: JwtClaims,
  ): Promise<void> {
    const current = this.legacyFind(tid, id);
    const input = parseJsonObject(body);
    const patch: IncidentPatch = {};
    const allowed = ['status', 'assignedTo', 'classification', 'determination', 'tags', 'comment'];
    for (const k of Object.keys(input))
      if (!allowed.includes(k)) throw new ODataError(`Property '${k}' cannot be updated.`);
    if (input.status !== undefined)
      patch.status = enumValue<IncidentStatus>(
        camelIn(input.status),
        ['active', 'inProgress', 'resolved'],
        'status',
      );
    if (input.classification !== undefined) {
      patch.classification = enumValue(camelIn(input.classification), CLASSIFICATIONS, 'classification');
    }
    if (input.determination !== undefined) {
      const d = input.determination === 'NotAvailable' ? 'unknown' : camelIn(input.determination);
      patch.determination = enumValue(d, DETERMINATIONS, 'determination');
    }
    if (input.assignedTo !== undefined)
      patch.assignedTo = input.assignedTo === null ? null : String(input.assignedTo);
    if (input.tags !== undefined) {
      if (!Array.isArray(input.tags)) throw new ODataError("Property 'tags' must be an array of strings.");
      patch.customTags = input.tags.map(String);
    }
    if (typeof input.comment === 'string' && input.comment !== '') {
      patch.comment = input.comment;
      patch.commentBy = this.actor(claims);
    }
    const classification = patch.classification ?? current.data.classification;
    if (
      patch.determination !== undefined &&
      patch.determination !== 'unknown' &&
      classification !== 'truePositive'
    ) {
      throw new ODataError('Determination can only be set when Classification is TruePositive.');
    }
    this.incidents.update(tid, id, patch);
    sendJson(res, 200, legacyIncident(this.legacyFind(tid, id), tid));
  }
}

interface ApiRoute {
  kind: string;
  write: boolean;
  /** Roles of which one is required, when not the API's incident read/write roles. */
  roles?: string[];
  run(
    sim: SimulatorImpl,
    tid: string,
    url: URL,
    body: string,
    res: http.ServerResponse,
    claims: JwtClaims,
  ): Promise<void>;
}

function graphField(v: IncidentVersion, field: string): bigint | string | null {
  switch (field) {
    case 'lastUpdateDateTime':
      return v.ticks;
    case 'createdDateTime':
      return parseTicks(v.data.createdDateTime) ?? null;
    case 'id':
      return String(v.data.id);
    case 'status':
    case 'severity':
    case 'assignedTo':
    case 'classification':
    case 'determination':
      return v.data[field];
    default:
      return null;
  }
}

function legacyField(v: IncidentVersion, field: string): bigint | string | null {
  switch (field) {
    case 'lastUpdateTime':
      return v.ticks;
    case 'createdTime':
      return parseTicks(v.data.createdDateTime) ?? null;
    case 'incidentId':
      return String(v.data.id);
    case 'status':
    case 'assignedTo':
    case 'classification':
      return v.data[field];
    case 'severity':
      return v.data.severity === 'unknown' ? 'UnSpecified' : v.data.severity;
    case 'determination':
      return v.data.determination === 'unknown' ? 'NotAvailable' : v.data.determination;
    default:
      return null;
  }
}

/** A stable pseudo-random order for the legacy API (not by time, the same on every page). */
function shuffleKey(tid: string, id: number): number {
  return crypto.createHash('sha1').update(`${tid}:${id}`).digest().readUInt32BE(0);
}

function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    throw new ODataError('The request body is not valid JSON.');
  }
  if (!isRecord(parsed)) throw new ODataError('The request body must be a JSON object.');
  return parsed;
}

function camelIn(value: unknown): string {
  return camel(String(value));
}

function enumValue<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  const hit = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (!hit)
    throw new ODataError(`Invalid value '${String(value)}' for ${name}. Allowed: ${allowed.join(', ')}.`);
  return hit;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorImpl(options);
  await sim.listen();
  return sim;
}
