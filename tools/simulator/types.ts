/**
 * The simulator's public types: the options, the URLs it serves, the administration inputs and outputs,
 * faults, counters and the `Simulator` interface itself. `./index` re-exports them.
 */
import type { IncidentStore } from './incidents';
import type { JwtClaims } from './util';

export type SimulatorCloud = 'public' | 'gcc' | 'gcchigh' | 'dod';
export type DefenderApi = 'graph' | 'legacy';
/** `oidc`: a tenant's OpenID metadata document, which MSAL reads before its first token for the tenant. */
export type FaultTarget = 'token' | 'oidc' | 'msi' | 'keyvault' | 'graph' | 'legacy';

export interface SimulatorOptions {
  /** Added before every Graph/legacy API response (the benchmark uses 50). */
  latencyMs?: number;
  /** Lifetime of every token issued. Default 3600. */
  tokenLifetimeSeconds?: number;
  /** ms since the epoch; default Date.now. Lets tests move time. */
  clock?: () => number;
  /** Deterministic ids and data. */
  seed?: number;
  /** Which audiences the APIs accept. Default public. */
  cloud?: SimulatorCloud;
  /** A Graph list page with `$expand=alerts` carrying more alerts than this answers 500. Default 200. */
  graphExpandAlertsPerPage?: number;
}

export interface SimulatorUrls {
  /** `https://127.0.0.1:PORT`; a tenant's authority is `${authorityHost}/${tenantId}`. */
  authorityHost: string;
  /** The value for MSAL's `auth.knownAuthorities`: `['127.0.0.1:PORT']`. */
  knownAuthorities: string[];
  /** `https://127.0.0.1:PORT/graph`: the app calls `${graphBaseUrl}/v1.0/security/incidents`. */
  graphBaseUrl: string;
  /** `https://127.0.0.1:PORT/legacy`: the app calls `${legacyBaseUrl}/api/incidents`. */
  legacyBaseUrl: string;
  /** `https://<name>.vault.localhost:PORT` (default vault `relay`). */
  keyVaultUrl(vaultName?: string): string;
  /** Plain-HTTP App Service managed-identity endpoint (`IDENTITY_ENDPOINT`). */
  identityEndpoint: string;
  /** The secret the managed-identity endpoint requires in `X-IDENTITY-HEADER` (`IDENTITY_HEADER`). */
  identityHeader: string;
  /** Issuer of managed-identity tokens for `api://AzureADTokenExchange` (for federated identities). */
  managedIdentityIssuer: string;
}

export interface RegisterAppInput {
  clientId?: string;
  homeTenantId: string;
  /** Client secrets; when omitted one is generated; pass [] for none. */
  secrets?: string[];
  multiTenant?: boolean;
  displayName?: string;
  /** PEM certificates; client assertions signed with their keys are accepted (x5t / x5t#S256). */
  certificates?: string[];
  federatedIdentities?: FederatedIdentity[];
  /** App roles the app asks for; an admin-consent visit (`/{tenant}/adminconsent`) grants them there. */
  requiredPermissions?: { graph?: string[]; legacy?: string[] };
}

export interface FederatedIdentity {
  issuer: string;
  subject: string;
  audience: string;
}

export interface AppRegistration {
  clientId: string;
  homeTenantId: string;
  displayName: string;
  /** The first secret (undefined when registered without one). */
  secret: string | undefined;
  secrets: string[];
  multiTenant: boolean;
}

export interface ManagedIdentityInfo {
  clientId: string;
  principalId: string;
  resourceId: string;
}

export interface FaultSpec {
  target: FaultTarget;
  tenantId?: string;
  status?: number;
  /** How many requests it hits; default 1, Infinity allowed. */
  count?: number;
  delayMs?: number;
  malformedBody?: boolean;
  retryAfterSeconds?: number;
  body?: unknown;
  /** Only requests of this Defender API operation (a route kind: list, get, update, comment, hunting). */
  operation?: string;
  /**
   * The operation is carried out, then its answer is replaced by the fault: an answer lost after the
   * service committed (a gateway timeout, a connection reset after the write). Needs `status`.
   */
  afterApply?: boolean;
}

export interface TokenRequestCount {
  clientId: string;
  tenantId: string;
  resource: string;
  count: number;
}

export interface CounterSnapshot {
  /** Requests per endpoint kind: token, oidc, jwks, instance-discovery, msi, keyvault, graph.list,
   *  graph.get, graph.update, graph.comment, legacy.list, legacy.get, legacy.update. */
  byKind: Record<string, number>;
  /** Requests per tenant per kind (tenant from the token endpoint path or the API token's tid). */
  byTenant: Record<string, Record<string, number>>;
  /** Response statuses per kind: `{ 'graph.list': { '200': 3, '429': 1 } }`. */
  byStatus: Record<string, Record<string, number>>;
  /** Token endpoint requests per (clientId, tenantId, resource); the MI endpoint uses tenantId 'msi'. */
  tokenRequests: TokenRequestCount[];
  /** Key Vault secret reads (GET) per secret name. */
  keyVaultReads: Record<string, number>;
}

export interface IssueTokenInput {
  tenantId: string;
  audience: string;
  roles?: string[];
  /** Delegated scopes (space-separated in the token), for user tokens. */
  scp?: string;
  oid?: string;
  appid?: string;
  /** Seconds; negative makes an already expired token. */
  lifetimeSeconds?: number;
  upn?: string;
  /** Token format: '1.0' (default; issuer `https://sts.windows.net/{tid}/`) or '2.0' (issuer
   *  `${authorityHost}/{tid}/v2.0`, as an app with accessTokenAcceptedVersion 2 receives). */
  version?: '1.0' | '2.0';
  extra?: JwtClaims;
}

export interface HuntingLimits {
  /** Rows a query may return before it fails (default 100,000, the service's cap). */
  maxRows?: number;
  /** A query containing this text fails as timed out (the service stops queries after a few minutes). */
  timeoutMarker?: string;
}

export interface Simulator {
  urls: SimulatorUrls;
  homeTenantId: string;
  cloud: SimulatorCloud;
  /** Audiences (resources) the APIs accept in this cloud. */
  resources: { graph: string; legacy: string; keyVault: string };
  addTenant(t?: { tenantId?: string; displayName?: string; domain?: string }): string;
  registerApp(a: RegisterAppInput): AppRegistration;
  rotateAppSecret(clientId: string, newSecret: string, opts?: { keepOld?: boolean }): void;
  grantPermissions(clientId: string, tenantId: string, api: DefenderApi, roles: string[]): void;
  revokeConsent(clientId: string, tenantId: string): void;
  /** Object id of the app's service principal in a tenant (its tokens' `oid`), e.g. for Key Vault RBAC. */
  servicePrincipalId(clientId: string, tenantId: string): string;
  identities: {
    systemAssigned: ManagedIdentityInfo;
    addUserAssigned(): ManagedIdentityInfo;
  };
  keyVault: {
    setSecret(name: string, value: string, vaultName?: string): string;
    grantSecretsUser(principalId: string, vaultName?: string): void;
    grantSecretsOfficer(principalId: string, vaultName?: string): void;
    revoke(principalId: string, vaultName?: string): void;
  };
  incidents: IncidentStore;
  faults: { inject(f: FaultSpec): void; clear(): void };
  rateLimits: { set(tenantId: string, api: DefenderApi, perMinute: number): void; clear(): void };
  counters: { snapshot(): CounterSnapshot; reset(): void };
  /** Signs a token as this simulator's Entra would (for tests of token validation and of the APIs). */
  issueToken(input: IssueTokenInput): string;
  /** JWKS of the simulator's signing key. */
  jwks(): { keys: Record<string, unknown>[] };
  /** Advanced hunting's limits (row cap, timeout), to test how they come back. */
  huntingLimits: { set(limits: HuntingLimits): void; clear(): void };
  /**
   * The Graph incident list's measured failures, made harder for a test: the alerts a page may carry
   * before `$expand=alerts` answers 500, and a number of list pages of a tenant that ignore
   * `$orderby=createdDateTime` as well (as if the service stopped honouring it).
   */
  graphList: {
    expandAlertsPerPage(n: number): void;
    ignoreCreatedOrder(tenantId: string, pages: number): void;
  };
  /**
   * What a tenant moving from the legacy API to Graph can meet: an incident one API's list does not
   * return, and the legacy API answering that it is gone (410 Gone with a retirement message, for every
   * call of the tenant, or of every tenant).
   */
  migration: {
    hideIncident(tenantId: string, incidentId: number | string, api: DefenderApi): void;
    retireLegacy(tenantId?: string): void;
  };
  stop(): Promise<void>;
}
