/**
 * User context, step 1: validate the caller's `Authorization: Bearer <token for this app>` with jose.
 * The tenant (`tid`) is read first, unverified, only to pick the issuer and the JWKS, and must be an
 * allowed tenant before anything is fetched; then the signature is checked against that tenant's JWKS
 * (`${authorityHost}/${tid}/discovery/v2.0/keys`, cached per tenant), and the issuer (v2
 * `${authorityHost}/${tid}/v2.0`, or v1 `https://sts.windows.net/${tid}/`), the audience (the client id
 * or `api://<client id>`), expiry and not-before (2 minutes' clock skew), that it is a delegated (user)
 * token, the required scope and, when configured, the required app role.
 *
 * Errors are `UserTokenError`s with a status (401, 403, 503) and a message safe to return: no token or
 * claim value beyond tenant ids, audiences and scope names.
 */
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

export interface UserIdentity {
  tenantId: string;
  /** Object id of the user in `tenantId`. */
  objectId: string;
  /** UPN or preferred_username, for logs and audit (not secret). */
  name?: string;
  scopes: string[];
  roles: string[];
  /** The validated token, for the on-behalf-of exchange. Never log it. */
  assertion: string;
  /** Expiry of the assertion, ms epoch. */
  expiresAt: number;
}

export interface UserTokenValidatorOptions {
  authorityHost: string;
  clientId: string;
  allowedTenants: string[];
  requiredScope: string;
  requiredRole?: string;
  clockToleranceSeconds?: number;
  /** v1 tokens' issuer host (the same in every cloud). */
  v1IssuerHost?: string;
}

export class UserTokenError extends Error {
  constructor(
    message: string,
    public readonly status: 401 | 403 | 503,
    public readonly code: string,
  ) {
    super(message);
    this.name = 'UserTokenError';
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class UserTokenValidator {
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  private readonly allowed: Set<string>;

  constructor(private readonly options: UserTokenValidatorOptions) {
    this.allowed = new Set(options.allowedTenants.map((t) => t.toLowerCase()));
  }

  /** The JWKS of a tenant, fetched once and cached by jose (refetched on an unknown `kid`). */
  private keys(tenantId: string): ReturnType<typeof createRemoteJWKSet> {
    let set = this.jwks.get(tenantId);
    if (!set) {
      set = createRemoteJWKSet(new URL(`${this.options.authorityHost}/${tenantId}/discovery/v2.0/keys`), {
        timeoutDuration: 10_000,
        cooldownDuration: 30_000,
        cacheMaxAge: 24 * 3600_000,
      });
      this.jwks.set(tenantId, set);
    }
    return set;
  }

  /** Checks that the JWKS of a tenant can be read (deep health). */
  async checkKeys(tenantId: string): Promise<void> {
    const res = await fetch(`${this.options.authorityHost}/${tenantId}/discovery/v2.0/keys`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`the signing keys of tenant ${tenantId} answered ${res.status}`);
    const body = (await res.json()) as { keys?: unknown[] };
    if (!Array.isArray(body.keys) || body.keys.length === 0)
      throw new Error(`the signing keys of tenant ${tenantId} are empty`);
  }

  /** Validates an Authorization header value; returns who is calling. */
  async validate(authorization: string | null | undefined): Promise<UserIdentity> {
    const match = /^\s*Bearer\s+([A-Za-z0-9_\-.=]+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      throw new UserTokenError(
        'Send the caller\'s Entra ID token for this app as "Authorization: Bearer <token>".',
        401,
        'token_missing',
      );
    }
    const token = match[1]!;
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new UserTokenError('The bearer token is not a JWT.', 401, 'token_malformed');
    }
    const tid = typeof unverified.tid === 'string' ? unverified.tid.toLowerCase() : '';
    if (!GUID.test(tid))
      throw new UserTokenError('The bearer token has no tenant (tid).', 401, 'token_malformed');
    if (!this.allowed.has(tid)) {
      throw new UserTokenError(
        `Users of tenant ${tid} may not call this relay: add the tenant to USER_ALLOWED_TENANTS (or DEFENDER_TENANTS).`,
        403,
        'tenant_not_allowed',
      );
    }
    const { authorityHost, clientId } = this.options;
    const v1Host = this.options.v1IssuerHost ?? 'https://sts.windows.net';
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys(tid), {
        issuer: [`${authorityHost}/${tid}/v2.0`, `${v1Host}/${tid}/`],
        audience: [clientId, `api://${clientId}`],
        algorithms: ['RS256'],
        clockTolerance: this.options.clockToleranceSeconds ?? 120,
        requiredClaims: ['exp', 'iss', 'aud', 'tid'],
      }));
    } catch (error) {
      throw describeJoseError(error, tid, clientId);
    }
    if (String(payload.tid).toLowerCase() !== tid) {
      throw new UserTokenError('The bearer token was changed after it was read.', 401, 'token_invalid');
    }
    const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
    const roles = Array.isArray(payload.roles) ? payload.roles.map(String) : [];
    if (scopes.length === 0) {
      throw new UserTokenError(
        'The bearer token is an application token; these functions act for a person and need a user token (with the scp claim).',
        401,
        'not_a_user_token',
      );
    }
    if (!scopes.includes(this.options.requiredScope)) {
      throw new UserTokenError(
        `The bearer token lacks the scope ${this.options.requiredScope}: request a token for api://${clientId}/${this.options.requiredScope}.`,
        403,
        'scope_missing',
      );
    }
    if (this.options.requiredRole && !roles.includes(this.options.requiredRole)) {
      throw new UserTokenError(
        `The user does not have the app role ${this.options.requiredRole}: assign it to the user (or a group) on the app's enterprise application.`,
        403,
        'role_missing',
      );
    }
    const objectId = typeof payload.oid === 'string' ? payload.oid : '';
    if (!GUID.test(objectId))
      throw new UserTokenError('The bearer token has no user object id (oid).', 401, 'token_invalid');
    const name = [payload.preferred_username, payload.upn, payload.unique_name].find(
      (v): v is string => typeof v === 'string',
    );
    return {
      tenantId: tid,
      objectId: objectId.toLowerCase(),
      name,
      scopes,
      roles,
      assertion: token,
      expiresAt: Number(payload.exp) * 1000,
    };
  }
}

function describeJoseError(error: unknown, tid: string, clientId: string): UserTokenError {
  if (error instanceof joseErrors.JWTExpired) {
    return new UserTokenError(
      'The bearer token has expired: get a new token and try again.',
      401,
      'token_expired',
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'aud') {
      return new UserTokenError(
        `The bearer token is for another audience: request a token for api://${clientId} (this relay's app registration).`,
        401,
        'wrong_audience',
      );
    }
    if (claim === 'iss') {
      return new UserTokenError(
        `The bearer token was not issued by Entra ID for tenant ${tid} in this cloud.`,
        401,
        'wrong_issuer',
      );
    }
    if (claim === 'nbf')
      return new UserTokenError('The bearer token is not valid yet.', 401, 'token_not_yet_valid');
    return new UserTokenError(`The bearer token's ${claim} claim is not valid.`, 401, 'token_invalid');
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys
  ) {
    return new UserTokenError(
      `The bearer token's signature does not match the signing keys of tenant ${tid}.`,
      401,
      'invalid_signature',
    );
  }
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new UserTokenError(
      `The signing keys of tenant ${tid} could not be read from Entra ID: check DEFENDER_AUTHORITY_HOST and the network.`,
      503,
      'jwks_unavailable',
    );
  }
  if (error instanceof joseErrors.JOSEError) {
    return new UserTokenError(`The bearer token is not valid (${error.code}).`, 401, 'token_invalid');
  }
  // Network errors while fetching the JWKS.
  return new UserTokenError(
    `The signing keys of tenant ${tid} could not be read from Entra ID: check DEFENDER_AUTHORITY_HOST and the network.`,
    503,
    'jwks_unavailable',
  );
}
