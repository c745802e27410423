/**
 * Application context: a Defender token for one tenant, from MSAL's client-credentials grant with the app
 * registration's credential (credentials.ts: a client secret or a certificate read from Key Vault, or a
 * managed identity as a federated credential). One MSAL client serves every tenant (the authority is
 * chosen per request) and keeps its token cache, per tenant, across invocations; a secret or certificate
 * that Entra ID rejects is read again from Key Vault once (it may have been rotated) and the request
 * retried.
 */
import { ConfidentialClientApplication, LogLevel, type Configuration } from '@azure/msal-node';
import type { ApiFlavour } from '../defender/incident';
import type { CloudEndpoints } from './clouds';
import type { SecretSource } from './key-vault-secrets';
import { describeEntraError, RelayAuthError } from './errors';
import { tenantDiscovery } from './tenant-discovery';

/** What MSAL's failure to read a tenant's metadata becomes in describeEntraError. */
const UNRESOLVED = new Set(['endpoints_resolution_error', 'entra_unreachable']);
import { SecretCredential, type ClientCredentialSource, type MsalCredential } from './credentials';

export interface TokenOptions {
  /** A new token from Entra ID, not one from the cache (its roles are what is granted now). */
  fresh?: boolean;
}

export interface TokenProvider {
  getToken(tenantId: string, api: ApiFlavour, options?: TokenOptions): Promise<string>;
}

export type AppTokenOptions = {
  clientId: string;
  endpoints: CloudEndpoints;
} & (
  | { credential: ClientCredentialSource }
  /** A client secret from Key Vault (the same as `credential: new SecretCredential(secrets, secretName)`). */
  | { secrets: SecretSource; secretName: string }
);

/** Hosts MSAL knows itself; any other authority host (a sovereign override, the simulator) is declared. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
]);

/** Whether MSAL knows this authority host itself (otherwise it is declared: no instance discovery). */
export function isMicrosoftAuthorityHost(authorityHost: string): boolean {
  return MICROSOFT_AUTHORITY_HOSTS.has(new URL(authorityHost).host);
}

export function msalAuthorityOptions(
  authorityHost: string,
  tenantId: string,
): Pick<Configuration['auth'], 'authority' | 'knownAuthorities'> {
  const host = new URL(authorityHost).host;
  return {
    authority: `${authorityHost}/${tenantId}`,
    knownAuthorities: MICROSOFT_AUTHORITY_HOSTS.has(host) ? undefined : [host],
  };
}

export function scopeFor(endpoints: CloudEndpoints, api: ApiFlavour): string {
  return `${api === 'graph' ? endpoints.graphResource : endpoints.legacyResource}/.default`;
}

export class AppTokenProvider implements TokenProvider {
  private client?: { key: string; app: ConfidentialClientApplication };
  private tokenRequests = 0;
  private readonly credential: ClientCredentialSource;

  constructor(private readonly options: AppTokenOptions) {
    this.credential =
      'credential' in options
        ? options.credential
        : new SecretCredential(options.secrets, options.secretName);
  }

  /** Which kind of credential this provider presents. */
  get credentialKind(): ClientCredentialSource['kind'] {
    return this.credential.kind;
  }

  /** Token requests that reached Entra ID (cache misses), for the benchmark. */
  get tokenRequestCount(): number {
    return this.tokenRequests;
  }

  async getToken(tenantId: string, api: ApiFlavour, options: TokenOptions = {}): Promise<string> {
    try {
      return await this.tokenFor(tenantId, api, options);
    } catch (error) {
      // MSAL drops Entra's answer when a tenant's metadata could not be read: read it to say why.
      if (!(error instanceof RelayAuthError) || !UNRESOLVED.has(error.code)) throw error;
      const found = await tenantDiscovery(this.options.endpoints.authorityHost, tenantId);
      if (found.kind === 'failed') throw this.describe(found.error, tenantId, api);
      if (found.kind === 'unknown') throw error;
      return this.afterPassingFailure(tenantId, api, options);
    }
  }

  /** The metadata reads fine now, so MSAL's failure was passing (an outage, a broken connection): once more. */
  private async afterPassingFailure(
    tenantId: string,
    api: ApiFlavour,
    options: TokenOptions,
  ): Promise<string> {
    try {
      return await this.tokenFor(tenantId, api, options);
    } catch (error) {
      if (!(error instanceof RelayAuthError) || !UNRESOLVED.has(error.code)) throw error;
      throw new RelayAuthError(
        `Entra ID's metadata for tenant ${tenantId} could not be read by MSAL twice, though it answers: try again shortly.`,
        'entra_unreachable',
        true,
      );
    }
  }

  private async tokenFor(tenantId: string, api: ApiFlavour, options: TokenOptions): Promise<string> {
    let current: MsalCredential;
    try {
      current = await this.credential.current();
    } catch (error) {
      throw this.describe(error, tenantId, api);
    }
    try {
      return await this.acquire(tenantId, api, current, options);
    } catch (error) {
      if (!this.credential.isRejected(error)) throw this.describe(error, tenantId, api);
      // The secret or certificate may have been rotated in Key Vault since it was cached: read it once more
      // (at most once per SECRET_REFRESH_MIN_SECONDS), and try again only with a different one.
      const fresh = await this.credential.refresh();
      if (!fresh || fresh.key === current.key) throw this.describe(error, tenantId, api);
      try {
        return await this.acquire(tenantId, api, fresh, options);
      } catch (retryError) {
        throw this.describe(retryError, tenantId, api);
      }
    }
  }

  private describe(error: unknown, tenantId: string, api: ApiFlavour): Error {
    if (error instanceof Error && error.name === 'RelayAuthError') return error;
    return describeEntraError(error, {
      tenantId,
      clientId: this.options.clientId,
      resource: scopeFor(this.options.endpoints, api).replace(/\/\.default$/, ''),
    });
  }

  private app(credential: MsalCredential): ConfidentialClientApplication {
    if (this.client?.key !== credential.key) {
      const { authorityHost } = this.options.endpoints;
      this.client = {
        key: credential.key,
        app: new ConfidentialClientApplication({
          auth: {
            clientId: this.options.clientId,
            ...credential.auth,
            ...msalAuthorityOptions(authorityHost, 'organizations'),
          },
          system: {
            loggerOptions: {
              logLevel: LogLevel.Error,
              piiLoggingEnabled: false,
              loggerCallback: () => undefined,
            },
          },
        }),
      };
    }
    return this.client.app;
  }

  private async acquire(
    tenantId: string,
    api: ApiFlavour,
    credential: MsalCredential,
    options: TokenOptions,
  ): Promise<string> {
    const app = this.app(credential);
    const request = {
      scopes: [scopeFor(this.options.endpoints, api)],
      authority: `${this.options.endpoints.authorityHost}/${tenantId}`,
      ...(options.fresh ? { skipCache: true } : {}),
    };
    const result = await app.acquireTokenByClientCredential(request);
    if (!result?.accessToken) throw new Error('MSAL returned no access token');
    if (!result.fromCache) this.tokenRequests++;
    return result.accessToken;
  }
}
