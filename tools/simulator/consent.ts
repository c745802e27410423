/** Entra ID admin consent (`/{tenant}/adminconsent`): how a customer tenant onboards a multi-tenant app. */
import type * as http from 'node:http';
import { HttpError, type SimContext } from './context';

/**
 * Admin consent as an administrator of the tenant in the path would give it: grants the app's
 * requiredPermissions there and redirects to redirect_uri with tenant, state and admin_consent=True.
 * There is no sign-in page; the tenant must be named in the path (not common/organizations).
 */
export function handleAdminConsent(
  ctx: SimContext,
  res: http.ServerResponse,
  url: URL,
  segment: string,
): void {
  ctx.count('adminconsent', res);
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
  const tenant = ctx.directory.resolveTenant(segment);
  const app = ctx.directory.apps.get(clientId);
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
  const g = ctx.directory.grants.get(key) ?? { graph: new Set<string>(), legacy: new Set<string>() };
  for (const r of app.requiredPermissions.graph) g.graph.add(r);
  for (const r of app.requiredPermissions.legacy) g.legacy.add(r);
  ctx.directory.grants.set(key, g);
  back({ admin_consent: 'True', tenant: tenant.tenantId, scope: `${ctx.resources.graph}/.default` });
}
