/**
 * What every simulated service sees of the simulator (`SimulatorImpl` in ./index implements it): the
 * shared world (directory, managed identities, vaults, incidents), the clock and token settings, the
 * counters, faults and rate limits. Also the error a handler throws to answer with a status and a body.
 */
import type * as http from 'node:http';
import type { Directory } from './directory';
import type { IncidentStore } from './incidents';
import type { KeyVaults } from './key-vault';
import type { ManagedIdentities } from './managed-identity';
import type { DefenderApi, FaultSpec, FaultTarget, HuntingLimits, SimulatorUrls } from './types';
import type { JwtClaims, SigningKey } from './util';

export interface SimContext {
  readonly resources: { graph: string; legacy: string; keyVault: string };
  readonly urls: SimulatorUrls;
  readonly port: number;
  readonly homeTenantId: string;
  readonly directory: Directory;
  readonly managedIdentities: ManagedIdentities;
  readonly keyVaults: KeyVaults;
  readonly incidents: IncidentStore;
  readonly key: SigningKey;
  /** Lifetime in seconds of every token the token and managed-identity endpoints issue. */
  readonly lifetime: number;
  /** Added before every Graph/legacy API response. */
  readonly latencyMs: number;
  readonly huntingLimitState: HuntingLimits;
  /** ms since the epoch. */
  readonly clock: () => number;
  /** Seconds since the epoch. */
  now(): number;
  count(kind: string, res: http.ServerResponse, tenantId?: string): void;
  countTokenRequest(clientId: string, tenantId: string, resource: string): void;
  countKeyVaultRead(name: string): void;
  /** Applies the first matching fault: true when it answered the request. */
  applyFault(
    target: FaultTarget,
    tenantId: string | undefined,
    res: http.ServerResponse,
    defaultBody: (status: number, retryAfter: number | undefined) => unknown,
    at?: FaultStage,
  ): Promise<boolean>;
  /** Whether a fault waits to replace the answer of this operation after it is carried out (and takes it). */
  takeAfterApplyFault(
    target: FaultTarget,
    tenantId: string | undefined,
    operation: string,
  ): FaultSpec | undefined;
  /** A number in [0, 1) for the order of list results. */
  random(): number;
  /** How the Graph incident list misbehaves as the real one does (see graph-incidents.ts). */
  readonly graphQuirks: GraphQuirks;
  /** Incidents one API's list leaves out: `${api}|${tenantId}|${incidentId}` (Simulator['migration']). */
  readonly hiddenIncidents: Set<string>;
  /** Takes one call from the tenant's per-minute limit for the API; when it is used up, how long to wait. */
  rateLimited(
    tenantId: string,
    api: DefenderApi,
    appId: string,
  ): { waitSeconds: number; limit: number; minutes: number } | undefined;
}

/** Where a fault is looked for: before an operation (of a kind), or after it was carried out. */
export interface FaultStage {
  operation?: string;
  afterApply?: boolean;
}

export interface GraphQuirks {
  /** A page with `$expand=alerts` that would carry more alerts than this answers 500. */
  expandAlertsPerPage: number;
  /** Per tenant: list pages left that ignore `$orderby=createdDateTime` too (a service regression). */
  createdOrderIgnored: Map<string, number>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** One Graph or legacy API operation, found by method and path. */
export interface ApiRoute {
  kind: string;
  write: boolean;
  /** Roles of which one is required, when not the API's incident read/write roles. */
  roles?: string[];
  run(
    ctx: SimContext,
    tid: string,
    url: URL,
    body: string,
    res: http.ServerResponse,
    claims: JwtClaims,
    req: http.IncomingMessage,
  ): Promise<void>;
}
