/**
 * Entra ID: the simulator's signing key and the tokens it issues and verifies, the Entra error shape
 * (AADSTS codes), instance discovery, OIDC metadata and JWKS. The token endpoint is in ./entra-token,
 * admin consent in ./consent; ./index routes the paths here.
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { HttpError, type SimContext } from './context';
import type { IssueTokenInput } from './types';
import {
  decodeJwt,
  makeSigningKey,
  sendJson,
  signJwt,
  verifyRs256,
  type JwtClaims,
  type SigningKey,
} from './util';

/**
 * One signing key per process, shared by every simulator started in it: MSAL Node keeps managed-identity
 * tokens in a process-wide cache (so @azure/identity hands a token from an earlier simulator to a later
 * one); with the same key such a token stays valid.
 */
let processSigningKey: SigningKey | undefined;

export function signingKey(): SigningKey {
  return (processSigningKey ??= makeSigningKey());
}

// ---------------------------------------------------------------------------------------------------
// Tokens.

export function issueToken(ctx: SimContext, input: IssueTokenInput): string {
  const iat = ctx.now();
  const lifetime = input.lifetimeSeconds ?? ctx.lifetime;
  const claims: JwtClaims = {
    aud: input.audience,
    iss:
      input.version === '2.0'
        ? `${ctx.urls.authorityHost}/${input.tenantId}/v2.0`
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
  return signJwt(ctx.key, claims);
}

export function jwks(ctx: SimContext): { keys: Record<string, unknown>[] } {
  return { keys: [{ ...ctx.key.jwk, issuer: `${ctx.urls.authorityHost}/{tenantid}/v2.0` }] };
}

/** Verifies a token issued by this simulator: signature, then time. */
export function verifyOwnToken(
  ctx: SimContext,
  token: string,
): { ok: true; claims: JwtClaims } | { ok: false; reason: string } {
  const decoded = decodeJwt(token);
  if (!decoded) return { ok: false, reason: 'malformed' };
  if (decoded.header.kid !== ctx.key.kid || !verifyRs256(decoded, ctx.key.publicKey)) {
    return { ok: false, reason: 'signature' };
  }
  const now = ctx.now();
  const exp = Number(decoded.claims.exp);
  const nbf = Number(decoded.claims.nbf ?? 0);
  if (!(exp > now) || nbf > now + 300) return { ok: false, reason: 'expired' };
  return { ok: true, claims: decoded.claims };
}

// ---------------------------------------------------------------------------------------------------
// Errors.

export function aadError(
  ctx: SimContext,
  req: http.IncomingMessage,
  status: number,
  error: string,
  code: number,
  message: string,
): HttpError {
  const traceId = crypto.randomUUID();
  const correlationId = String(req.headers['client-request-id'] ?? crypto.randomUUID());
  const timestamp = new Date(ctx.clock())
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
      error_uri: `${ctx.urls.authorityHost}/error?code=${code}`,
    },
    { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
  );
}

/**
 * An unknown tenant: HTTP 400, AADSTS90002. The OAuth error is `invalid_tenant` on the OpenID metadata
 * document (as Entra answers discovery: the body quoted in Azure/azure-cli#14509 and
 * james-gould/azure-keyvault-emulator#324) and `invalid_request` on the token endpoint.
 */
export function tenantNotFound(
  ctx: SimContext,
  req: http.IncomingMessage,
  segment: string,
  error: 'invalid_request' | 'invalid_tenant' = 'invalid_request',
): HttpError {
  return aadError(
    ctx,
    req,
    400,
    error,
    90002,
    `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Instance discovery, OIDC metadata, JWKS.

export function handleInstanceDiscovery(ctx: SimContext, res: http.ServerResponse): void {
  ctx.count('instance-discovery', res);
  const host = `127.0.0.1:${ctx.port}`;
  return sendJson(res, 200, {
    tenant_discovery_endpoint: `${ctx.urls.authorityHost}/{tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

export async function handleOpenIdConfiguration(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  segment: string,
): Promise<void> {
  const isSpecial = ['common', 'organizations', 'consumers'].includes(segment);
  ctx.count('oidc', res);
  if (isSpecial) return sendJson(res, 200, openIdConfiguration(ctx, segment, segment));
  const t = ctx.directory.resolveTenant(segment);
  // An outage of the metadata endpoint, as of any Entra ID endpoint (AADSTS90033, HTTP 503).
  const faulted = await ctx.applyFault('oidc', t?.tenantId ?? segment, res, (status) => ({
    error: 'temporarily_unavailable',
    error_description: `AADSTS90033: A transient error has occurred. Please try again. (simulated ${status})`,
    error_codes: [90033],
  }));
  if (faulted) return;
  if (!t) throw tenantNotFound(ctx, req, segment, 'invalid_tenant');
  return sendJson(res, 200, openIdConfiguration(ctx, segment, t.tenantId));
}

export function handleJwks(ctx: SimContext, res: http.ServerResponse): void {
  ctx.count('jwks', res);
  return sendJson(res, 200, jwks(ctx));
}

function openIdConfiguration(
  ctx: SimContext,
  segment: string,
  tenantInUrls: string,
): Record<string, unknown> {
  const a = ctx.urls.authorityHost;
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
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'tid', 'oid', 'roles'],
    kerberos_endpoint: `${a}/${tenantInUrls}/kerberos`,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}
