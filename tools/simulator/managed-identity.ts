/**
 * Managed identities and the App Service managed-identity endpoint (`IDENTITY_ENDPOINT`, api-version
 * 2019-08-01, plain HTTP as the real one): the system-assigned identity, user-assigned ones by client id,
 * resource id or principal id, and tokens for any resource (`api://AzureADTokenExchange` tokens are the
 * federated credential of an app registration).
 */
import * as crypto from 'node:crypto';
import type * as http from 'node:http';
import { HttpError, type SimContext } from './context';
import type { ManagedIdentityInfo } from './types';
import { sendJson, signJwt, type JwtClaims, type Rng } from './util';

/**
 * One system-assigned identity per process, shared by every simulator started in it: MSAL Node keeps
 * managed-identity tokens in a process-wide cache (so @azure/identity hands a token from an earlier
 * simulator to a later one); with the same principal (and signing key) such a token stays valid.
 */
const PROCESS_SYSTEM_IDENTITY: ManagedIdentityInfo = {
  clientId: crypto.randomUUID(),
  principalId: crypto.randomUUID(),
  resourceId:
    '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-relay/providers/Microsoft.Web/sites/func-relay',
};

export class ManagedIdentities {
  readonly systemAssigned: ManagedIdentityInfo = { ...PROCESS_SYSTEM_IDENTITY };
  readonly userAssigned = new Map<string, ManagedIdentityInfo>();

  constructor(private readonly rng: Rng) {}

  addUserAssigned(): ManagedIdentityInfo {
    const n = this.userAssigned.size + 1;
    const mi: ManagedIdentityInfo = {
      clientId: this.rng.guid(),
      principalId: this.rng.guid(),
      resourceId: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-relay/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-relay-${n}`,
    };
    this.userAssigned.set(mi.clientId, mi);
    return { ...mi };
  }
}

export async function handleMsi(
  ctx: SimContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  ctx.count('msi', res);
  const msiError = (status: number, message: string): HttpError =>
    new HttpError(status, { statusCode: status, message, correlationId: crypto.randomUUID() });
  if (url.pathname !== '/msi/token') throw msiError(404, 'Not found.');
  if (
    await ctx.applyFault('msi', undefined, res, (s) => ({
      statusCode: s,
      message: 'Simulated failure.',
      correlationId: crypto.randomUUID(),
    }))
  ) {
    return;
  }
  const header = req.headers['x-identity-header'];
  if (header === undefined) throw msiError(400, 'The X-IDENTITY-HEADER header is required.');
  if (header !== ctx.urls.identityHeader)
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
  let mi: ManagedIdentityInfo | undefined = ctx.managedIdentities.systemAssigned;
  let selector = '';
  if (clientId) {
    mi = ctx.managedIdentities.userAssigned.get(clientId);
    selector = `client_id '${clientId}'`;
  } else if (resId) {
    mi = [...ctx.managedIdentities.userAssigned.values()].find(
      (m) => m.resourceId.toLowerCase() === resId.toLowerCase(),
    );
    selector = `mi_res_id '${resId}'`;
  } else if (principalId) {
    mi = [...ctx.managedIdentities.userAssigned.values()].find((m) => m.principalId === principalId);
    selector = `principal_id '${principalId}'`;
  }
  if (!mi) {
    throw msiError(
      400,
      `Unable to load the proper Managed Identity. No user-assigned identity with ${selector} is assigned to this app.`,
    );
  }
  const res0 = resource.replace(/\/\.default$/, '');
  ctx.countTokenRequest(mi.clientId, 'msi', res0);
  const iat = ctx.now();
  const exp = iat + ctx.lifetime;
  const home = ctx.homeTenantId;
  const exchange = res0 === 'api://AzureADTokenExchange' || res0 === 'api://AzureADTokenExchangeUSGov';
  const claims: JwtClaims = {
    aud: res0,
    iss: exchange ? ctx.urls.managedIdentityIssuer : `https://sts.windows.net/${home}/`,
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
    access_token: signJwt(ctx.key, claims),
    expires_on: String(exp),
    resource: res0,
    token_type: 'Bearer',
    client_id: mi.clientId,
  });
}
