/**
 * User context, step 2: exchange a validated user token (src/auth/user-token.ts) for a Defender token
 * with MSAL's on-behalf-of flow, so Defender's own RBAC and audit trail apply to the person.
 *
 * Token caches are partitioned per user: each user (tenant + object id) has its own MSAL client and so its
 * own token cache, kept in a bounded LRU. A token acquired for one user can never be found in another
 * user's cache, even if two users sent the same scopes at the same moment.
 */
import { ConfidentialClientApplication, LogLevel } from '@azure/msal-node';
import type { ApiFlavour } from '../defender/incident';
import type { TokenProvider } from './app-token';
import { msalAuthorityOptions, scopeFor } from './app-token';
import type { CloudEndpoints } from './clouds';
import type { ClientCredentialSource, MsalCredential } from './credentials';
import { aadstsCodes, describeEntraError, RelayAuthError } from './errors';
import { UserTokenError, type UserIdentity } from './user-token';

export interface OboOptions {
  clientId: string;
  endpoints: CloudEndpoints;
  /** The app's credential (src/auth/credentials.ts): secret, certificate or federated. */
  credential: ClientCredentialSource;
  /** Users whose MSAL client (and token cache) is kept; the least recently used is dropped. */
  maxUsers?: number;
}

interface UserClient {
  version: string;
  app: ConfidentialClientApplication;
}

export class OboTokenProvider {
  private readonly clients = new Map<string, UserClient>();
  private requests = 0;

  constructor(private readonly options: OboOptions) {}

  /** OBO requests that reached Entra ID (cache misses). */
  get tokenRequestCount(): number {
    return this.requests;
  }

  /** Users whose token cache is held now. */
  get cachedUsers(): number {
    return this.clients.size;
  }

  /** A token provider acting as `user`, in the user's own tenant only. */
  forUser(user: UserIdentity): TokenProvider {
    return {
      getToken: async (tenantId: string, api: ApiFlavour) => {
        if (tenantId.toLowerCase() !== user.tenantId) {
          throw new UserTokenError(
            `A user of tenant ${user.tenantId} can act only in that tenant, not in ${tenantId}.`,
            403,
            'cross_tenant',
          );
        }
        return this.getToken(user, api);
      },
    };
  }

  async getToken(user: UserIdentity, api: ApiFlavour): Promise<string> {
    let current: MsalCredential;
    try {
      current = await this.options.credential.current();
    } catch (error) {
      throw this.describe(error, user, api);
    }
    try {
      return await this.acquire(user, api, current);
    } catch (error) {
      if (!this.options.credential.isRejected(error)) throw this.describe(error, user, api);
      // The credential may have been rotated in Key Vault since it was read (read again at most once per
      // SECRET_REFRESH_MIN_SECONDS); tried again only when it changed.
      const fresh = await this.options.credential.refresh().catch(() => undefined);
      if (!fresh || fresh.key === current.key) throw this.describe(error, user, api);
      try {
        return await this.acquire(user, api, fresh);
      } catch (retryError) {
        throw this.describe(retryError, user, api);
      }
    }
  }

  private client(user: UserIdentity, credential: MsalCredential): ConfidentialClientApplication {
    const key = `${user.tenantId}.${user.objectId}`;
    const hit = this.clients.get(key);
    if (hit && hit.version === credential.key) {
      // Most recently used goes last.
      this.clients.delete(key);
      this.clients.set(key, hit);
      return hit.app;
    }
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: this.options.clientId,
        ...credential.auth,
        ...msalAuthorityOptions(this.options.endpoints.authorityHost, user.tenantId),
      },
      system: {
        loggerOptions: {
          logLevel: LogLevel.Error,
          piiLoggingEnabled: false,
          loggerCallback: () => undefined,
        },
      },
    });
    this.clients.delete(key);
    this.clients.set(key, { version: credential.key, app });
    const max = this.options.maxUsers ?? 500;
    while (this.clients.size > max) {
      const oldest = this.clients.keys().next().value as string;
      this.clients.delete(oldest);
    }
    return app;
  }

  private async acquire(user: UserIdentity, api: ApiFlavour, credential: MsalCredential): Promise<string> {
    const result = await this.client(user, credential).acquireTokenOnBehalfOf({
      oboAssertion: user.assertion,
      scopes: [scopeFor(this.options.endpoints, api)],
      authority: `${this.options.endpoints.authorityHost}/${user.tenantId}`,
    });
    if (!result?.accessToken) throw new Error('MSAL returned no access token');
    if (!result.fromCache) this.requests++;
    return result.accessToken;
  }

  private describe(error: unknown, user: UserIdentity, api: ApiFlavour): Error {
    if (error instanceof UserTokenError || error instanceof RelayAuthError) return error;
    const resource = scopeFor(this.options.endpoints, api).replace(/\/\.default$/, '');
    const codes = aadstsCodes(error);
    if (codes.includes(500133)) {
      return new UserTokenError(
        'The bearer token has expired: get a new token and try again.',
        401,
        'token_expired',
      );
    }
    if (codes.includes(50013) || codes.includes(50027)) {
      return new UserTokenError(
        "Entra ID did not accept the caller's token for the on-behalf-of exchange (AADSTS50013): request a new token for this app.",
        401,
        'assertion_rejected',
      );
    }
    if (codes.includes(65001)) {
      return new UserTokenError(
        `Tenant ${user.tenantId} has not consented to this app's delegated permission for ${resource} (AADSTS65001): an admin must grant consent.`,
        403,
        'consent_missing',
      );
    }
    return describeEntraError(error, { tenantId: user.tenantId, clientId: this.options.clientId, resource });
  }
}
