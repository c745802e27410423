/**
 * Entra ID's v2 token endpoint (`/{tenant}/oauth2/v2.0/token`): client credentials with a secret or a
 * client assertion (certificate, or a federated identity such as a managed-identity token), and
 * on-behalf-of (a user token for the app becomes a delegated token for the resource).
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { KNOWN_RESOURCES } from './clouds';
import type { SimContext } from './context';
import type { AppRecord } from './directory';
import { aadError, tenantNotFound, verifyOwnToken } from './entra';
import { decodeJwt, readBody, sendJson, signJwt, verifyRs256, type DecodedJwt, type JwtClaims } from './util';

const FORM = 'application/x-www-form-urlencoded';

export async function handleToken(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  segment: string,
): Promise<void> {
  const tenant = ctx.directory.resolveTenant(segment);
  ctx.count('token', res, tenant?.tenantId ?? segment);
  const faulted = await ctx.applyFault('token', tenant?.tenantId ?? segment, res, (status) => ({
    error: 'temporarily_unavailable',
    error_description: `AADSTS90033: A transient error has occurred. Please try again. (simulated ${status})`,
    error_codes: [90033],
  }));
  if (faulted) return;
  const body = await readBody(req);
  if (!tenant) throw tenantNotFound(ctx, req, segment);
  const tid = tenant.tenantId;
  if (!String(req.headers['content-type'] ?? '').startsWith(FORM)) {
    throw aadError(
      ctx,
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
  ctx.countTokenRequest(clientId, tid, scopeResource ?? scopes.join(' '));

  if (grantType !== 'client_credentials' && grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    throw aadError(
      ctx,
      req,
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType ?? ''}'.`,
    );
  }
  if (!clientId) {
    throw aadError(
      ctx,
      req,
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    );
  }
  const app = ctx.directory.apps.get(clientId);
  const consented =
    app && (app.homeTenantId === tid || (app.multiTenant && ctx.directory.grants.has(`${clientId}|${tid}`)));
  if (!app || !consented) {
    throw aadError(
      ctx,
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
      throw aadError(
        ctx,
        req,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
  } else if (assertion !== null) {
    if (assertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      throw aadError(
        ctx,
        req,
        400,
        'invalid_request',
        50027,
        `Invalid client_assertion_type '${assertionType ?? ''}'.`,
      );
    }
    verifyClientAssertion(ctx, req, app, tid, assertion);
    appidacr = '2';
  } else {
    throw aadError(
      ctx,
      req,
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }

  // Scope.
  if (scopes.length === 0) {
    throw aadError(
      ctx,
      req,
      400,
      'invalid_scope',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  }
  if (scopeResource === undefined) {
    throw aadError(
      ctx,
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
    throw aadError(
      ctx,
      req,
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${scopeResource} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }

  const oid = ctx.directory.servicePrincipalId(clientId, tid);
  let roles: string[] = [];
  let scp: string | undefined;
  let userClaims: JwtClaims = {};
  const g = ctx.directory.grants.get(`${clientId}|${tid}`);
  if (kind === 'graph' || kind === 'legacy') roles = [...(g?.[kind] ?? [])].sort();

  if (grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    // On-behalf-of: a user token for this app becomes a delegated token for the resource.
    if (form.get('requested_token_use') !== 'on_behalf_of') {
      throw aadError(ctx, req, 400, 'invalid_request', 50034, "requested_token_use must be 'on_behalf_of'.");
    }
    const userToken = form.get('assertion') ?? '';
    const v = verifyOwnToken(ctx, userToken);
    if (!v.ok) {
      throw aadError(
        ctx,
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
      throw aadError(
        ctx,
        req,
        400,
        'invalid_grant',
        50013,
        `Assertion audience '${aud}' does not match the client app '${clientId}'.`,
      );
    }
    if (v.claims.tid !== tid) {
      throw aadError(ctx, req, 400, 'invalid_grant', 50013, 'Assertion is for a different tenant.');
    }
    if (!v.claims.scp) {
      throw aadError(ctx, req, 400, 'invalid_grant', 50013, 'Assertion is not a delegated (user) token.');
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

  const iat = ctx.now();
  const claims: JwtClaims = {
    aud: resource,
    iss: `https://sts.windows.net/${tid}/`,
    iat,
    nbf: iat,
    exp: iat + ctx.lifetime,
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
      expires_in: ctx.lifetime,
      ext_expires_in: ctx.lifetime,
      access_token: signJwt(ctx.key, claims),
    },
    { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
  );
}

function verifyClientAssertion(
  ctx: SimContext,
  req: http.IncomingMessage,
  app: AppRecord,
  tid: string,
  assertion: string,
): void {
  const decoded = decodeJwt(assertion);
  if (!decoded) throw aadError(ctx, req, 400, 'invalid_request', 50027, 'JWT token is invalid or malformed.');
  const now = ctx.now();
  const { claims, header } = decoded;
  const timeOk = Number(claims.exp) > now - 300 && Number(claims.nbf ?? 0) <= now + 300;
  const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
  const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  if (x5t || x5tS256) {
    // Certificate credential.
    const cert = app.certificates.find((c) => (x5tS256 && c.x5tS256 === x5tS256) || (x5t && c.x5t === x5t));
    if (!cert) {
      throw aadError(
        ctx,
        req,
        401,
        'invalid_client',
        700027,
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5tS256 ?? x5t ?? ''}']`,
      );
    }
    if (!verifyAssertionSignature(decoded, cert.publicKey)) {
      throw aadError(
        ctx,
        req,
        401,
        'invalid_client',
        7000274,
        'Client assertion contains an invalid signature.',
      );
    }
    if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
      throw aadError(
        ctx,
        req,
        401,
        'invalid_client',
        700021,
        `Client assertion application identifier doesn't match 'client_id' parameter.`,
      );
    }
    const a = ctx.urls.authorityHost;
    const tenant = ctx.directory.tenants.get(tid);
    const validAud = [
      `${a}/${tid}/oauth2/v2.0/token`,
      `${a}/${tenant?.domain ?? tid}/oauth2/v2.0/token`,
      `${a}/${tid}/v2.0`,
    ];
    const auds = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
    if (!auds.some((x) => validAud.includes(x))) {
      throw aadError(
        ctx,
        req,
        401,
        'invalid_client',
        700212,
        `Client assertion audience '${auds.join(', ')}' is not the token endpoint of tenant '${tid}'.`,
      );
    }
    if (!timeOk)
      throw aadError(
        ctx,
        req,
        401,
        'invalid_client',
        700024,
        'Client assertion is not within its valid time range.',
      );
    return;
  }
  // Federated credential: a token from this simulator (e.g. a managed-identity token).
  if (decoded.header.kid !== ctx.key.kid || !verifyRs256(decoded, ctx.key.publicKey)) {
    throw aadError(
      ctx,
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
    throw aadError(
      ctx,
      req,
      400,
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims.iss)}'. Assertion Subject: '${String(claims.sub)}'. Assertion Audience: '${aud}'.`,
    );
  }
  if (Number(claims.exp) <= now) {
    throw aadError(
      ctx,
      req,
      400,
      'invalid_client',
      700024,
      'Client assertion is not within its valid time range.',
    );
  }
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
