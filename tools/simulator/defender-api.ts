/**
 * What Microsoft Graph security (`/graph/...`) and the legacy Defender XDR API (`/legacy/...`) have in
 * common in front of every operation: latency, faults, the bearer token (signature, time, audience,
 * tenant), app roles or delegated scopes, the per-tenant rate limit and each API's error shape. The
 * operations are in ./graph-incidents, ./legacy-incidents and ./hunting.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { HttpError, type SimContext } from './context';
import { verifyOwnToken } from './entra';
import { graphRoute } from './graph-incidents';
import { ODataError } from './incidents';
import { legacyRoute } from './legacy-incidents';
import type { DefenderApi } from './types';
import { decodeJwt, readBody, sleep } from './util';

const GRAPH_READ_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
const GRAPH_WRITE_ROLES = ['SecurityIncident.ReadWrite.All'];
const LEGACY_READ_ROLES = ['Incident.Read.All', 'Incident.ReadWrite.All'];
const LEGACY_WRITE_ROLES = ['Incident.ReadWrite.All'];

export async function handleApi(
  ctx: SimContext,
  api: DefenderApi,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const body = await readBody(req);
  if (ctx.latencyMs > 0) await sleep(ctx.latencyMs);
  // The service's own clock in its Date header (RFC 9110 §6.6.1): the relay takes a traversal's end from it.
  res.setHeader('date', new Date(ctx.clock()).toUTCString());
  const path = url.pathname.replace(/^\/(graph|legacy)/, '').replace(/\/+$/, '');
  const route =
    api === 'graph' ? graphRoute(req.method ?? 'GET', path) : legacyRoute(req.method ?? 'GET', path);
  const auth = req.headers.authorization ?? '';
  const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '';
  const unverifiedTid = decodeJwt(token)?.claims.tid;
  const tenantHint = typeof unverifiedTid === 'string' ? unverifiedTid : undefined;
  ctx.count(`${api}.${route?.kind ?? 'unknown'}`, res, tenantHint);

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
                date: new Date(ctx.clock()).toISOString().replace(/\.\d+Z$/, ''),
                'request-id': crypto.randomUUID(),
                'client-request-id': String(req.headers['client-request-id'] ?? crypto.randomUUID()),
              },
            },
          }
        : { error: { code, message, target: crypto.randomUUID() } },
      headers,
    );

  const faultBody = (status: number, retryAfter: number | undefined): unknown => {
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
  };
  if (await ctx.applyFault(api, tenantHint, res, faultBody, { operation: route?.kind })) return;

  // Authentication.
  const wwwAuth = {
    'www-authenticate': `Bearer realm="", authorization_uri="${ctx.urls.authorityHost}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
  };
  if (!token)
    throw error(
      401,
      api === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized',
      'Access token is empty.',
      wwwAuth,
    );
  const v = verifyOwnToken(ctx, token);
  if (!v.ok) {
    const msg =
      v.reason === 'expired'
        ? 'Access token has expired or is not yet valid.'
        : v.reason === 'malformed'
          ? 'IDX14100: JWT is not well formed, there are no dots (.).'
          : 'Access token validation failure. Invalid signature.';
    throw error(401, api === 'graph' ? 'InvalidAuthenticationToken' : 'Unauthorized', msg, wwwAuth);
  }
  const expectedAud = ctx.resources[api];
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
  if (!ctx.directory.tenants.has(tid))
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

  // Rate limits (sliding windows per app per tenant per API).
  const limited = ctx.rateLimited(tid, api, String(v.claims.appid ?? v.claims.azp ?? ''));
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
      `API calls quota exceeded! Maximum allowed ${limited.limit} per ${limited.minutes} minute(s). Next call can be made in ${wait} seconds`,
    );
  }

  try {
    // A test's harsher world: the operation is carried out, and its answer is lost on the way back.
    const lost = ctx.takeAfterApplyFault(api, tid, route.kind);
    if (lost) {
      await route.run(ctx, tid, url, body, new http.ServerResponse(req), v.claims, req);
      throw error(
        lost.status!,
        'GatewayTimeout',
        `Simulated ${lost.status} after the ${route.kind} was carried out.`,
      );
    }
    return await route.run(ctx, tid, url, body, res, v.claims, req);
  } catch (err) {
    if (err instanceof ODataError)
      throw error(400, api === 'graph' ? 'BadRequest' : 'BadRequest', err.message);
    throw err;
  }
}
