/**
 * The simulator: a fake Microsoft cloud over real HTTPS on 127.0.0.1, so MSAL Node, @azure/identity and
 * @azure/keyvault-secrets run their real code against it. One HTTPS server serves Entra ID (OIDC metadata,
 * JWKS, v2 token endpoint), Microsoft Graph security incidents (`/graph/...`), the legacy Defender XDR API
 * (`/legacy/...`) and Key Vault (any `<vault>.vault.localhost` Host); a plain HTTP server plays the App
 * Service managed-identity endpoint (`IDENTITY_ENDPOINT`), as the real one is plain HTTP too.
 *
 * Processes that talk to it must trust the simulator CA and resolve `*.localhost` to loopback: run them
 * under `node tools/with-simulator-ca.mjs` (npm test, npm run demo, npm run bench do).
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CLOUD_RESOURCES, KEY_VAULT_RESOURCE, KNOWN_RESOURCES } from './clouds';
import { ensureSimulatorTls } from './tls.cjs';
import type {
  AppRegistration,
  CounterSnapshot,
  DefenderApi,
  FaultSpec,
  FaultTarget,
  FederatedIdentity,
  HuntingLimits,
  IssueTokenInput,
  ManagedIdentityInfo,
  RegisterAppInput,
  Simulator,
  SimulatorCloud,
  SimulatorOptions,
  SimulatorUrls,
  TokenRequestCount,
} from './types';
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
import {
  decodeJwt,
  isRecord,
  makeSigningKey,
  parseTicks,
  readBody,
  Rng,
  sendJson,
  sendRaw,
  recordSecret,
  signJwt,
  sleep,
  verifyRs256,
  type DecodedJwt,
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

// ---------------------------------------------------------------------------------------------------
// Internal records.

interface TenantRecord {
  tenantId: string;
  displayName: string;
  domain: string;
}

interface CertificateRecord {
  x5t: string;
  x5tS256: string;
  publicKey: crypto.KeyObject;
}

interface AppRecord {
  clientId: string;
  homeTenantId: string;
  displayName: string;
  secrets: string[];
  multiTenant: boolean;
  certificates: CertificateRecord[];
  federatedIdentities: FederatedIdentity[];
  requiredPermissions: { graph: string[]; legacy: string[] };
}

interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags: Record<string, string>;
  created: number;
}

interface VaultRecord {
  secrets: Map<string, SecretVersion[]>;
  readers: Set<string>;
  officers: Set<string>;
}

interface FaultState extends FaultSpec {
  remaining: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * One signing key and one system-assigned identity per process, shared by every simulator started in it:
 * MSAL Node keeps managed-identity tokens in a process-wide cache (so @azure/identity hands a token from
 * an earlier simulator to a later one); with the same key and principal such a token stays valid.
 */
let processSigningKey: SigningKey | undefined;
const PROCESS_SYSTEM_IDENTITY: ManagedIdentityInfo = {
  clientId: crypto.randomUUID(),
  principalId: crypto.randomUUID(),
  resourceId:
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-relay/providers/Microsoft.Web/sites/func-relay',
};

function pascal(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
function camel(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

// ---------------------------------------------------------------------------------------------------

class SimulatorImpl implements Simulator {
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

  private readonly clock: () => number;
  private readonly rng: Rng;
  private readonly latencyMs: number;
  private readonly lifetime: number;
  private readonly key: SigningKey;
  private readonly tenants = new Map<string, TenantRecord>();
  private readonly apps = new Map<string, AppRecord>();
  /** `${clientId}|${tenantId}` → roles per API; presence = the app's service principal exists there. */
  private readonly grants = new Map<string, { graph: Set<string>; legacy: Set<string> }>();
  private readonly spIds = new Map<string, string>();
  private readonly userAssigned = new Map<string, ManagedIdentityInfo>();
  private readonly systemIdentity: ManagedIdentityInfo;
  private readonly vaults = new Map<string, VaultRecord>();
  private faultList: FaultState[] = [];
  private huntingLimitState: HuntingLimits = {};
  readonly huntingLimits: Simulator['huntingLimits'] = {
    set: (limits) => void (this.huntingLimitState = { ...limits }),
    clear: () => void (this.huntingLimitState = {}),
  };
  private readonly limits = new Map<string, { perMinute: number; hits: number[] }>();
  private counts = this.emptyCounts();
  private readonly httpsServer: https.Server;
  private readonly msiServer: http.Server;
  private port = 0;

  constructor(options: SimulatorOptions) {
    this.cloud = options.cloud ?? 'public';
    const res = CLOUD_RESOURCES[this.cloud];
    this.resources = { graph: res.graph, legacy: res.legacy, keyVault: KEY_VAULT_RESOURCE };
    this.clock = options.clock ?? Date.now;
    this.rng = new Rng(options.seed ?? crypto.randomInt(1, 2 ** 31));
    this.latencyMs = options.latencyMs ?? 0;
    this.lifetime = options.tokenLifetimeSeconds ?? 3600;
    this.key = processSigningKey ??= makeSigningKey();
    this.incidents = new IncidentStore(
      this.rng,
      this.clock,
      (tid) => this.tenants.get(tid)?.domain ?? 'contoso.com',
    );
    this.homeTenantId = this.addTenant({
      displayName: 'Relay host tenant',
      domain: 'relayhost.onmicrosoft.com',
    });
    this.systemIdentity = { ...PROCESS_SYSTEM_IDENTITY };
    this.identities = {
      systemAssigned: this.systemIdentity,
      addUserAssigned: () => {
        const n = this.userAssigned.size + 1;
        const mi: ManagedIdentityInfo = {
          clientId: this.rng.guid(),
          principalId: this.rng.guid(),
          resourceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-relay/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-relay-${n}`,
        };
        this.userAssigned.set(mi.clientId, mi);
        return { ...mi };
      },
    };
    this.keyVault = {
      setSecret: (name, value, vaultName = 'relay') => this.setSecret(vaultName, name, value).version,
      grantSecretsUser: (principalId, vaultName = 'relay') =>
        void this.vault(vaultName).readers.add(principalId),
      grantSecretsOfficer: (principalId, vaultName = 'relay') =>
        void this.vault(vaultName).officers.add(principalId),
      revoke: (principalId, vaultName = 'relay') => {
        this.vault(vaultName).readers.delete(principalId);
        this.vault(vaultName).officers.delete(principalId);
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
      void this.handle(req, res, () => this.handleMsi(req, res));
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
  // Entra administration.

  addTenant(t: { tenantId?: string; displayName?: string; domain?: string } = {}): string {
    const n = this.tenants.size;
    const tenantId = t.tenantId ?? this.rng.guid();
    const name = n === 0 ? 'relayhost' : `contoso${n}`;
    this.tenants.set(tenantId, {
      tenantId,
      displayName: t.displayName ?? `Contoso ${n}`,
      domain: t.domain ?? `${name}.onmicrosoft.com`,
    });
    return tenantId;
  }

  registerApp(a: RegisterAppInput): AppRegistration {
    if (!this.tenants.has(a.homeTenantId))
      throw new Error(`registerApp: unknown home tenant ${a.homeTenantId}`);
    const clientId = a.clientId ?? this.rng.guid();
    const secrets = a.secrets ?? [
      `${this.rng.hex(3)}8Q~${crypto.randomBytes(27).toString('base64url').slice(0, 36)}`,
    ];
    secrets.forEach(recordSecret);
    const app: AppRecord = {
      clientId,
      homeTenantId: a.homeTenantId,
      displayName: a.displayName ?? 'Defender Relay',
      secrets: [...secrets],
      multiTenant: a.multiTenant ?? false,
      certificates: (a.certificates ?? []).map((pem) => {
        const x509 = new crypto.X509Certificate(pem);
        const der = x509.raw;
        return {
          x5t: crypto.createHash('sha1').update(der).digest('base64url'),
          x5tS256: crypto.createHash('sha256').update(der).digest('base64url'),
          publicKey: x509.publicKey,
        };
      }),
      federatedIdentities: [...(a.federatedIdentities ?? [])],
      requiredPermissions: {
        graph: [...(a.requiredPermissions?.graph ?? [])],
        legacy: [...(a.requiredPermissions?.legacy ?? [])],
      },
    };
    this.apps.set(clientId, app);
    return this.registration(app);
  }

  private registration(app: AppRecord): AppRegistration {
    return {
      clientId: app.clientId,
      homeTenantId: app.homeTenantId,
      displayName: app.displayName,
      secret: app.secrets[0],
      secrets: [...app.secrets],
      multiTenant: app.multiTenant,
    };
  }

  private app(clientId: string): AppRecord {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`unknown app ${clientId}`);
    return app;
  }

  rotateAppSecret(clientId: string, newSecret: string, opts: { keepOld?: boolean } = {}): void {
    const app = this.app(clientId);
    recordSecret(newSecret);
    app.secrets = opts.keepOld ? [newSecret, ...app.secrets] : [newSecret];
  }

  grantPermissions(clientId: string, tenantId: string, api: DefenderApi, roles: string[]): void {
    const app = this.app(clientId);
    if (!this.tenants.has(tenantId)) throw new Error(`grantPermissions: unknown tenant ${tenantId}`);
    if (!app.multiTenant && tenantId !== app.homeTenantId) {
      throw new Error(
        `grantPermissions: app ${clientId} is single-tenant; register it with multiTenant: true to consent it in ${tenantId}`,
      );
    }
    const key = `${clientId}|${tenantId}`;
    const g = this.grants.get(key) ?? { graph: new Set<string>(), legacy: new Set<string>() };
    for (const r of roles) g[api].add(r);
    this.grants.set(key, g);
  }

  revokeConsent(clientId: string, tenantId: string): void {
    this.grants.delete(`${clientId}|${tenantId}`);
  }

  servicePrincipalId(clientId: string, tenantId: string): string {
    const key = `${clientId}|${tenantId}`;
    let id = this.spIds.get(key);
    if (!id) {
      id = crypto.randomUUID();
      this.spIds.set(key, id);
    }
    return id;
  }

  // -------------------------------------------------------------------------------------------------
  // Tokens.

  private now(): number {
    return Math.floor(this.clock() / 1000);
  }

  issueToken(input: IssueTokenInput): string {
    const iat = this.now();
    const lifetime = input.lifetimeSeconds ?? this.lifetime;
    const claims: JwtClaims = {
      aud: input.audience,
      iss:
        input.version === '2.0'
          ? `${this.urls.authorityHost}/${input.tenantId}/v2.0`
          : `https://sts.windows.net/${input.tenantId}/`,
      iat: lifetime < 0 ? iat + lifetime - 60 : iat,
      nbf: lifetime < 0 ? iat + lifetime - 60 : iat,
      exp: iat + lifetime,
      aio: crypto.randomBytes(24).toString('base64url'),
      appid: input.appid ?? crypto.randomUUID(),
      appidacr: '1',
      azp: input.appid,
      idp: `https://sts.windows.net/${input.tenantId}/`,
      idtyp: input.upn ? 'user' : 'app',
      oid: input.oid ?? crypto.randomUUID(),
      sub: input.oid ?? crypto.randomUUID(),
      tid: input.tenantId,
      uti: crypto.randomBytes(16).toString('base64url'),
      ver: input.version ?? '1.0',
      ...(input.roles && input.roles.length > 0 ? { roles: input.roles } : {}),
      ...(input.scp ? { scp: input.scp } : {}),
      ...(input.upn ? { upn: input.upn, unique_name: input.upn, name: input.upn.split('@')[0] } : {}),
      ...input.extra,
    };
    if (claims.azp === undefined) delete claims.azp;
    return signJwt(this.key, claims);
  }

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [{ ...this.key.jwk, issuer: `${this.urls.authorityHost}/{tenantid}/v2.0` }] };
  }

  /** Verifies a token issued by this simulator: signature, then time. */
  private verifyOwnToken(token: string): { ok: true; claims: JwtClaims } | { ok: false; reason: string } {
    const decoded = decodeJwt(token);
    if (!decoded) return { ok: false, reason: 'malformed' };
    if (decoded.header.kid !== this.key.kid || !verifyRs256(decoded, this.key.publicKey)) {
      return { ok: false, reason: 'signature' };
    }
    const now = this.now();
    const exp = Number(decoded.claims.exp);
    const nbf = Number(decoded.claims.nbf ?? 0);
    if (!(exp > now) || nbf > now + 300) return { ok: false, reason: 'expired' };
    return { ok: true, claims: decoded.claims };
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

  private count(kind: string, res: http.ServerResponse, tenantId?: string): void {
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

  private countTokenRequest(clientId: string, tenantId: string, resource: string): void {
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
  private async applyFault(
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

  private async routeHttps(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const url = new URL(req.url ?? '/', `https://${req.headers.host ?? '127.0.0.1'}`);
    const vault = /^([a-z0-9-]+)\.vault\.localhost$/.exec(host);
    if (vault) return this.handleKeyVault(vault[1]!, req, res, url);
    const path = url.pathname;
    if (path.startsWith('/graph/')) return this.handleApi('graph', req, res, url);
    if (path.startsWith('/legacy/')) return this.handleApi('legacy', req, res, url);
    return this.handleEntra(req, res, url);
  }

  // -------------------------------------------------------------------------------------------------
  // Entra ID.

  private resolveTenant(segment: string): TenantRecord | undefined {
    const s = segment.toLowerCase();
    for (const t of this.tenants.values()) {
      if (t.tenantId.toLowerCase() === s || t.domain.toLowerCase() === s) return t;
    }
    return undefined;
  }

  private aadError(
    req: http.IncomingMessage,
    status: number,
    error: string,
    code: number,
    message: string,
  ): HttpError {
    const traceId = crypto.randomUUID();
    const correlationId = String(req.headers['client-request-id'] ?? crypto.randomUUID());
    const timestamp = new Date(this.clock())
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return new HttpError(
      status,
      {
        error,
        error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${this.urls.authorityHost}/error?code=${code}`,
      },
      { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    );
  }

  private tenantNotFound(req: http.IncomingMessage, segment: string): HttpError {
    return this.aadError(
      req,
      400,
      'invalid_request',
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }

  private openIdConfiguration(segment: string, tenantInUrls: string): Record<string, unknown> {
    const a = this.urls.authorityHost;
    const issuerTenant = ['common', 'organizations', 'consumers'].includes(segment)
      ? '{tenantid}'
      : tenantInUrls;
    return {
      token_endpoint: `${a}/${tenantInUrls}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${a}/${tenantInUrls}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${a}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${a}/oidc/userinfo`,
      authorization_endpoint: `${a}/${tenantInUrls}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${a}/${tenantInUrls}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${a}/${tenantInUrls}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'tid',
        'oid',
        'roles',
      ],
      kerberos_endpoint: `${a}/${tenantInUrls}/kerberos`,
      tenant_region_scope: 'NA',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  private async handleEntra(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean);
    const [segment, ...rest] = parts;
    const tail = rest.join('/');
    if (segment === 'common' && tail === 'discovery/instance') {
      this.count('instance-discovery', res);
      const host = `127.0.0.1:${this.port}`;
      return sendJson(res, 200, {
        tenant_discovery_endpoint: `${this.urls.authorityHost}/{tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    if (!segment) throw new HttpError(404, { error: 'not_found' });
    const isSpecial = ['common', 'organizations', 'consumers'].includes(segment);
    if (
      req.method === 'GET' &&
      (tail === 'v2.0/.well-known/openid-configuration' || tail === '.well-known/openid-configuration')
    ) {
      this.count('oidc', res);
      if (isSpecial) return sendJson(res, 200, this.openIdConfiguration(segment, segment));
      const t = this.resolveTenant(segment);
      if (!t) throw this.tenantNotFound(req, segment);
      return sendJson(res, 200, this.openIdConfiguration(segment, t.tenantId));
    }
    if (req.method === 'GET' && (tail === 'discovery/v2.0/keys' || tail === 'discovery/keys')) {
      this.count('jwks', res);
      return sendJson(res, 200, this.jwks());
    }
    if (req.method === 'GET' && (tail === 'adminconsent' || tail === 'v2.0/adminconsent')) {
      return this.handleAdminConsent(res, url, segment);
    }
    if (req.method === 'POST' && (tail === 'oauth2/v2.0/token' || tail === 'oauth2/token')) {
      return this.handleToken(req, res, segment);
    }
    throw new HttpError(404, {
      error: 'not_found',
      error_description: `No route for ${req.method} ${url.pathname}`,
    });
  }

  /**
   * Admin consent as an administrator of the tenant in the path would give it: grants the app's
   * requiredPermissions there and redirects to redirect_uri with tenant, state and admin_consent=True.
   * There is no sign-in page; the tenant must be named in the path (not common/organizations).
   */
  private handleAdminConsent(res: http.ServerResponse, url: URL, segment: string): void {
    this.count('adminconsent', res);
    const clientId = url.searchParams.get('client_id') ?? '';
    const redirectUri = url.searchParams.get('redirect_uri');
    const state = url.searchParams.get('state');
    if (!redirectUri)
      throw new HttpError(400, { error: 'invalid_request', error_description: 'redirect_uri is required.' });
    const back = (params: Record<string, string>): void => {
      const target = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
      if (state !== null) target.searchParams.set('state', state);
      res.writeHead(302, { location: target.toString(), 'content-length': '0' });
      res.end();
    };
    const tenant = this.resolveTenant(segment);
    const app = this.apps.get(clientId);
    if (!tenant)
      return back({
        error: 'invalid_request',
        error_description: `AADSTS90002: Tenant '${segment}' not found.`,
      });
    if (!app || (!app.multiTenant && app.homeTenantId !== tenant.tenantId)) {
      return back({
        error: 'unauthorized_client',
        error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'.`,
      });
    }
    const key = `${clientId}|${tenant.tenantId}`;
    const g = this.grants.get(key) ?? { graph: new Set<string>(), legacy: new Set<string>() };
    for (const r of app.requiredPermissions.graph) g.graph.add(r);
    for (const r of app.requiredPermissions.legacy) g.legacy.add(r);
    this.grants.set(key, g);
    back({ admin_consent: 'True', tenant: tenant.tenantId, scope: `${this.resources.graph}/.default` });
  }

  private async handleToken(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    segment: string,
  ): Promise<void> {
    const tenant = this.resolveTenant(segment);
    this.count('token', res, tenant?.tenantId ?? segment);
    const faulted = await this.applyFault('token', tenant?.tenantId ?? segment, res, (status) => ({
      error: 'temporarily_unavailable',
      error_description: `AADSTS90033: A transient error has occurred. Please try again. (simulated ${status})`,
      error_codes: [90033],
    }));
    if (faulted) return;
    const body = await readBody(req);
    if (!tenant) throw this.tenantNotFound(req, segment);
    const tid = tenant.tenantId;
    if (!String(req.headers['content-type'] ?? '').startsWith(FORM)) {
      throw this.aadError(
        req,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    }
    const form = new URLSearchParams(body);
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id') ?? '';
    const scopes = (form.get('scope') ?? '')
      .split(/\s+/)
      .filter((s) => s && !['openid', 'profile', 'offline_access', 'email'].includes(s));
    const scopeResource =
      scopes.length === 1 && scopes[0]!.endsWith('/.default')
        ? scopes[0]!.slice(0, -'/.default'.length)
        : undefined;
    this.countTokenRequest(clientId, tid, scopeResource ?? scopes.join(' '));

    if (grantType !== 'client_credentials' && grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      throw this.aadError(
        req,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
    }
    if (!clientId) {
      throw this.aadError(
        req,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    }
    const app = this.apps.get(clientId);
    const consented =
      app && (app.homeTenantId === tid || (app.multiTenant && this.grants.has(`${clientId}|${tid}`)));
    if (!app || !consented) {
      throw this.aadError(
        req,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }

    // Client authentication.
    const secret = form.get('client_secret');
    const assertionType = form.get('client_assertion_type');
    const assertion = form.get('client_assertion');
    let appidacr = '1';
    if (secret !== null) {
      if (!app.secrets.includes(secret)) {
        throw this.aadError(
          req,
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
    } else if (assertion !== null) {
      if (assertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        throw this.aadError(
          req,
          400,
          'invalid_request',
          50027,
          `Invalid client_assertion_type '${assertionType ?? ''}'.`,
        );
      }
      this.verifyClientAssertion(req, app, tid, assertion);
      appidacr = '2';
    } else {
      throw this.aadError(
        req,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }

    // Scope.
    if (scopes.length === 0) {
      throw this.aadError(
        req,
        400,
        'invalid_scope',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
    }
    if (scopeResource === undefined) {
      throw this.aadError(
        req,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const resource = scopeResource.replace(/\/+$/, '');
    const kind = KNOWN_RESOURCES[resource];
    if (!kind) {
      throw this.aadError(
        req,
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${scopeResource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }

    const oid = this.servicePrincipalId(clientId, tid);
    let roles: string[] = [];
    let scp: string | undefined;
    let userClaims: JwtClaims = {};
    const g = this.grants.get(`${clientId}|${tid}`);
    if (kind === 'graph' || kind === 'legacy') roles = [...(g?.[kind] ?? [])].sort();

    if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      // On-behalf-of: a user token for this app becomes a delegated token for the resource.
      if (form.get('requested_token_use') !== 'on_behalf_of') {
        throw this.aadError(
          req,
          400,
          'invalid_request',
          50034,
          "requested_token_use must be 'on_behalf_of'.",
        );
      }
      const userToken = form.get('assertion') ?? '';
      const v = this.verifyOwnToken(userToken);
      if (!v.ok) {
        throw this.aadError(
          req,
          400,
          'invalid_grant',
          v.reason === 'expired' ? 500133 : 50013,
          v.reason === 'expired'
            ? 'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.'
            : 'Assertion failed signature validation.',
        );
      }
      const aud = String(v.claims.aud);
      if (aud !== clientId && aud !== `api://${clientId}`) {
        throw this.aadError(
          req,
          400,
          'invalid_grant',
          50013,
          `Assertion audience '${aud}' does not match the client app '${clientId}'.`,
        );
      }
      if (v.claims.tid !== tid) {
        throw this.aadError(req, 400, 'invalid_grant', 50013, 'Assertion is for a different tenant.');
      }
      if (!v.claims.scp) {
        throw this.aadError(req, 400, 'invalid_grant', 50013, 'Assertion is not a delegated (user) token.');
      }
      scp = roles.join(' ');
      roles = [];
      userClaims = {
        oid: v.claims.oid,
        sub: v.claims.sub,
        upn: v.claims.upn,
        unique_name: v.claims.unique_name,
        name: v.claims.name,
        idtyp: 'user',
      };
    }

    const iat = this.now();
    const claims: JwtClaims = {
      aud: resource,
      iss: `https://sts.windows.net/${tid}/`,
      iat,
      nbf: iat,
      exp: iat + this.lifetime,
      aio: crypto.randomBytes(24).toString('base64url'),
      app_displayname: app.displayName,
      appid: clientId,
      appidacr,
      azp: clientId,
      azpacr: appidacr,
      idp: `https://sts.windows.net/${tid}/`,
      idtyp: 'app',
      oid,
      rh: `0.${crypto.randomBytes(18).toString('base64url')}.`,
      ...(roles.length > 0 ? { roles } : {}),
      ...(scp !== undefined ? { scp } : {}),
      sub: oid,
      tid,
      uti: crypto.randomBytes(16).toString('base64url'),
      ver: '1.0',
      ...userClaims,
    };
    sendJson(
      res,
      200,
      {
        token_type: 'Bearer',
        expires_in: this.lifetime,
        ext_expires_in: this.lifetime,
        access_token: signJwt(this.key, claims),
      },
      { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    );
  }

  private verifyClientAssertion(
    req: http.IncomingMessage,
    app: AppRecord,
    tid: string,
    assertion: string,
  ): void {
    const decoded = decodeJwt(assertion);
    if (!decoded)
      throw this.aadError(req, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
    const now = this.now();
    const { claims, header } = decoded;
    const timeOk = Number(claims.exp) > now - 300 && Number(claims.nbf ?? 0) <= now + 300;
    const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
    const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
    if (x5t || x5tS256) {
      // Certificate credential.
      const cert = app.certificates.find((c) => (x5tS256 && c.x5tS256 === x5tS256) || (x5t && c.x5t === x5t));
      if (!cert) {
        throw this.aadError(
          req,
          401,
          'invalid_client',
          700027,
          `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5tS256 ?? x5t ?? ''}']`,
        );
      }
      if (!verifyAssertionSignature(decoded, cert.publicKey)) {
        throw this.aadError(
          req,
          401,
          'invalid_client',
          7000274,
          'Client assertion contains an invalid signature.',
        );
      }
      if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
        throw this.aadError(
          req,
          401,
          'invalid_client',
          700021,
          `Client assertion application identifier doesn't match 'client_id' parameter.`,
        );
      }
      const a = this.urls.authorityHost;
      const tenant = this.tenants.get(tid);
      const validAud = [
        `${a}/${tid}/oauth2/v2.0/token`,
        `${a}/${tenant?.domain ?? tid}/oauth2/v2.0/token`,
        `${a}/${tid}/v2.0`,
      ];
      const auds = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
      if (!auds.some((x) => validAud.includes(x))) {
        throw this.aadError(
          req,
          401,
          'invalid_client',
          700212,
          `Client assertion audience '${auds.join(', ')}' is not the token endpoint of tenant '${tid}'.`,
        );
      }
      if (!timeOk)
        throw this.aadError(
          req,
          401,
          'invalid_client',
          700024,
          'Client assertion is not within its valid time range.',
        );
      return;
    }
    // Federated credential: a token from this simulator (e.g. a managed-identity token).
    if (decoded.header.kid !== this.key.kid || !verifyRs256(decoded, this.key.publicKey)) {
      throw this.aadError(
        req,
        401,
        'invalid_client',
        7000274,
        'Client assertion contains an invalid signature. [Reason - The key was not found.]',
      );
    }
    const aud = String(claims.aud);
    const match = app.federatedIdentities.find(
      (f) => f.issuer === claims.iss && f.subject === claims.sub && f.audience === aud,
    );
    if (!match) {
      throw this.aadError(
        req,
        400,
        'invalid_request',
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims.iss)}'. Assertion Subject: '${String(claims.sub)}'. Assertion Audience: '${aud}'.`,
      );
    }
    if (Number(claims.exp) <= now) {
      throw this.aadError(
        req,
        400,
        'invalid_client',
        700024,
        'Client assertion is not within its valid time range.',
      );
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Managed identity (App Service 2019-08-01).

  private async handleMsi(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.count('msi', res);
    const msiError = (status: number, message: string): HttpError =>
      new HttpError(status, { statusCode: status, message, correlationId: crypto.randomUUID() });
    if (url.pathname !== '/msi/token') throw msiError(404, 'Not found.');
    if (
      await this.applyFault('msi', undefined, res, (s) => ({
        statusCode: s,
        message: 'Simulated failure.',
        correlationId: crypto.randomUUID(),
      }))
    ) {
      return;
    }
    const header = req.headers['x-identity-header'];
    if (header === undefined) throw msiError(400, 'The X-IDENTITY-HEADER header is required.');
    if (header !== this.urls.identityHeader)
      throw msiError(401, 'The X-IDENTITY-HEADER header value is not valid.');
    const apiVersion = url.searchParams.get('api-version');
    if (apiVersion !== '2019-08-01') {
      throw msiError(400, `Unsupported api-version '${apiVersion ?? ''}'. Use api-version=2019-08-01.`);
    }
    const resource = url.searchParams.get('resource');
    if (!resource) throw msiError(400, 'The resource query parameter is required.');
    const clientId = url.searchParams.get('client_id');
    const resId = url.searchParams.get('mi_res_id');
    const principalId = url.searchParams.get('principal_id') ?? url.searchParams.get('object_id');
    let mi: ManagedIdentityInfo | undefined = this.systemIdentity;
    let selector = '';
    if (clientId) {
      mi = this.userAssigned.get(clientId);
      selector = `client_id '${clientId}'`;
    } else if (resId) {
      mi = [...this.userAssigned.values()].find((m) => m.resourceId.toLowerCase() === resId.toLowerCase());
      selector = `mi_res_id '${resId}'`;
    } else if (principalId) {
      mi = [...this.userAssigned.values()].find((m) => m.principalId === principalId);
      selector = `principal_id '${principalId}'`;
    }
    if (!mi) {
      throw msiError(
        400,
        `Unable to load the proper Managed Identity. No user-assigned identity with ${selector} is assigned to this app.`,
      );
    }
    const res0 = resource.replace(/\/\.default$/, '');
    this.countTokenRequest(mi.clientId, 'msi', res0);
    const iat = this.now();
    const exp = iat + this.lifetime;
    const home = this.homeTenantId;
    const exchange = res0 === 'api://AzureADTokenExchange' || res0 === 'api://AzureADTokenExchangeUSGov';
    const claims: JwtClaims = {
      aud: res0,
      iss: exchange ? this.urls.managedIdentityIssuer : `https://sts.windows.net/${home}/`,
      iat,
      nbf: iat,
      exp,
      aio: crypto.randomBytes(24).toString('base64url'),
      appid: mi.clientId,
      appidacr: '2',
      azp: mi.clientId,
      idp: `https://sts.windows.net/${home}/`,
      idtyp: 'app',
      oid: mi.principalId,
      sub: mi.principalId,
      tid: home,
      uti: crypto.randomBytes(16).toString('base64url'),
      ver: exchange ? '2.0' : '1.0',
      xms_mirid: mi.resourceId,
    };
    sendJson(res, 200, {
      access_token: signJwt(this.key, claims),
      expires_on: String(exp),
      resource: res0,
      token_type: 'Bearer',
      client_id: mi.clientId,
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Key Vault.

  private vault(name: string): VaultRecord {
    let v = this.vaults.get(name);
    if (!v) {
      v = { secrets: new Map(), readers: new Set(), officers: new Set() };
      this.vaults.set(name, v);
    }
    return v;
  }

  private setSecret(
    vaultName: string,
    name: string,
    value: string,
    extra: { contentType?: string; tags?: Record<string, string> } = {},
  ): SecretVersion {
    recordSecret(value);
    const versions = this.vault(vaultName).secrets.get(name) ?? [];
    const sv: SecretVersion = {
      version: crypto.randomBytes(16).toString('hex'),
      value,
      tags: extra.tags ?? {},
      created: this.now(),
      ...(extra.contentType !== undefined ? { contentType: extra.contentType } : {}),
    };
    versions.push(sv);
    this.vault(vaultName).secrets.set(name, versions);
    return sv;
  }

  private secretBundle(
    vaultName: string,
    name: string,
    sv: SecretVersion,
    withValue: boolean,
  ): Record<string, unknown> {
    return {
      ...(withValue ? { value: sv.value } : {}),
      ...(sv.contentType !== undefined ? { contentType: sv.contentType } : {}),
      id: `${this.urls.keyVaultUrl(vaultName)}/secrets/${name}/${sv.version}`,
      attributes: {
        enabled: true,
        created: sv.created,
        updated: sv.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: sv.tags,
    };
  }

  private async handleKeyVault(
    vaultName: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    this.count('keyvault', res);
    const body = await readBody(req);
    const challenge = {
      'www-authenticate': `Bearer authorization="${this.urls.authorityHost}/${this.homeTenantId}", resource="${KEY_VAULT_RESOURCE}"`,
    };
    const kvError = (status: number, code: string, message: string, inner?: string): HttpError =>
      new HttpError(
        status,
        { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } },
        status === 401 ? challenge : {},
      );
    const auth = req.headers.authorization;
    if (!auth) throw kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
    if (
      await this.applyFault('keyvault', undefined, res, (s) => ({
        error: { code: s === 429 ? 'Throttled' : 'ServiceUnavailable', message: 'Simulated failure.' },
      }))
    ) {
      return;
    }
    const token = auth.replace(/^Bearer\s+/i, '');
    const v = this.verifyOwnToken(token);
    if (!v.ok) {
      throw kvError(
        401,
        'Unauthorized',
        v.reason === 'expired'
          ? 'AKV10032: Token expired or not yet valid.'
          : 'AKV10032: Invalid issuer or signature.',
      );
    }
    const aud = String(v.claims.aud).replace(/\/+$/, '');
    if (aud !== KEY_VAULT_RESOURCE) {
      throw kvError(
        401,
        'Unauthorized',
        `AKV10022: Invalid audience. Expected ${KEY_VAULT_RESOURCE}, found: ${aud}.`,
      );
    }
    const oid = String(v.claims.oid);
    const vault = this.vault(vaultName);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const vaultUrl = this.urls.keyVaultUrl(vaultName);
    const forbid = (action: string): HttpError =>
      kvError(
        403,
        'Forbidden',
        `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${String(v.claims.appid)};oid=${oid};iss=${String(v.claims.iss)}\r\nAction: 'Microsoft.KeyVault/vaults/secrets/${action}/action'\r\nResource: '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-relay/providers/microsoft.keyvault/vaults/${vaultName}/secrets/${parts[1] ?? ''}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: ${vaultName};location=eastus\r\n`,
        'ForbiddenByRbac',
      );
    const canRead = vault.readers.has(oid) || vault.officers.has(oid);
    if (parts[0] !== 'secrets') throw kvError(404, 'NotFound', `No route for ${url.pathname}`);
    const name = parts[1];
    if (req.method === 'GET' && name === undefined) {
      if (!canRead) throw forbid('readMetadata');
      const value = [...vault.secrets.entries()].map(([n, vs]) => {
        const b = this.secretBundle(vaultName, n, vs.at(-1)!, false);
        return { ...b, id: `${vaultUrl}/secrets/${n}` };
      });
      return sendJson(res, 200, { value, nextLink: null });
    }
    if (name === undefined) throw kvError(405, 'BadRequest', 'Method not allowed.');
    const notFound = (): HttpError =>
      kvError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    if (req.method === 'PUT' && parts.length === 2) {
      if (!vault.officers.has(oid)) throw forbid('setSecret');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw kvError(400, 'BadParameter', 'The request body is not valid JSON.');
      }
      if (!isRecord(parsed) || typeof parsed.value !== 'string') {
        throw kvError(400, 'BadParameter', 'Property value is required.');
      }
      const sv = this.setSecret(vaultName, name, parsed.value, {
        ...(typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {}),
        ...(isRecord(parsed.tags) ? { tags: parsed.tags as Record<string, string> } : {}),
      });
      return sendJson(res, 200, this.secretBundle(vaultName, name, sv, true));
    }
    if (req.method !== 'GET') throw kvError(405, 'BadRequest', 'Method not allowed.');
    const versions = vault.secrets.get(name);
    if (parts[2] === 'versions' && parts.length === 3) {
      if (!canRead) throw forbid('readMetadata');
      if (!versions) throw notFound();
      const value = versions.map((sv) => this.secretBundle(vaultName, name, sv, false));
      return sendJson(res, 200, { value, nextLink: null });
    }
    if (!canRead) throw forbid('getSecret');
    this.counts.keyVaultReads[name] = (this.counts.keyVaultReads[name] ?? 0) + 1;
    const version = parts[2];
    const sv = version ? versions?.find((x) => x.version === version) : versions?.at(-1);
    if (!sv) throw notFound();
    return sendJson(res, 200, this.secretBundle(vaultName, name, sv, true));
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
    const v = this.verifyOwnToken(token);
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
    if (!this.tenants.has(tid))
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
    const limit = this.limits.get(`${tid}|${api}`);
    if (limit) {
      const now = this.clock();
      limit.hits = limit.hits.filter((t) => t > now - 60_000);
      if (limit.hits.length >= limit.perMinute) {
        const wait = Math.max(1, Math.ceil((limit.hits[0]! + 60_000 - now) / 1000));
        if (api === 'graph') {
          throw error(429, 'TooManyRequests', `Too many requests. Retry after ${wait} seconds.`, {
            'retry-after': String(wait),
          });
        }
        throw error(
          429,
          'TooManyRequests',
          `API calls quota exceeded! Maximum allowed ${limit.perMinute} per 1 minute(s). Next call can be made in ${wait} seconds`,
        );
      }
      limit.hits.push(now);
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

function verifyAssertionSignature(decoded: DecodedJwt, key: crypto.KeyObject): boolean {
  const data = Buffer.from(decoded.signingInput);
  if (decoded.header.alg === 'RS256') return crypto.verify('RSA-SHA256', data, key, decoded.signature);
  if (decoded.header.alg === 'PS256') {
    return crypto.verify(
      'sha256',
      data,
      {
        key,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: crypto.constants.RSA_PSS_SALTLEN_AUTO,
      },
      decoded.signature,
    );
  }
  return false;
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
