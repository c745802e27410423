/**
 * Whether the app's Graph token in a tenant carries the application permissions the relay needs there,
 * read from the token's `roles` claim (the token is decoded, never logged or printed). Incident read is
 * always needed; incident write and hunting are needed where the relay uses them on the legacy API today
 * (its legacy token carries `Incident.ReadWrite.All` / `AdvancedHunting.Read.All`): the same use on Graph
 * needs the Graph permission.
 */
import type { TokenProvider } from '../auth/app-token';

export interface PermissionCheck {
  need: 'incident read' | 'incident write' | 'hunting';
  /** The Graph application permission to grant (with admin consent in the tenant) when missing. */
  permission: string;
  granted: boolean;
  /** Why it is needed. */
  why: string;
}

interface Need {
  need: PermissionCheck['need'];
  permission: string;
  /** Graph roles any of which gives it. */
  satisfiedBy: string[];
  /** The legacy role whose presence says the relay uses it (none: always needed). */
  usedIf?: string;
}

const NEEDS: Need[] = [
  {
    need: 'incident read',
    permission: 'SecurityIncident.Read.All',
    satisfiedBy: ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'],
  },
  {
    need: 'incident write',
    permission: 'SecurityIncident.ReadWrite.All',
    satisfiedBy: ['SecurityIncident.ReadWrite.All'],
    usedIf: 'Incident.ReadWrite.All',
  },
  {
    need: 'hunting',
    permission: 'ThreatHunting.Read.All',
    satisfiedBy: ['ThreatHunting.Read.All'],
    usedIf: 'AdvancedHunting.Read.All',
  },
];

/** The app roles of a token (its `roles` claim); an unreadable token has none. */
export function tokenRoles(token: string): string[] {
  try {
    const payload = token.split('.')[1] ?? '';
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.map(String) : [];
  } catch {
    return [];
  }
}

/** The permission checks for one tenant, from the Graph token's roles and (when known) the legacy token's. */
export function permissionChecks(graphRoles: string[], legacyRoles: string[] | undefined): PermissionCheck[] {
  return NEEDS.filter((n) => !n.usedIf || legacyRoles?.includes(n.usedIf)).map((n) => ({
    need: n.need,
    permission: n.permission,
    granted: n.satisfiedBy.some((r) => graphRoles.includes(r)),
    why: n.usedIf
      ? `the app has ${n.usedIf} on the legacy API, so the relay uses it there`
      : 'the sync reads incidents',
  }));
}

/** The permission checks of a tenant from the app's tokens there (no Graph token: none, and why). */
export async function graphPermissions(
  tokens: TokenProvider,
  tenantId: string,
): Promise<{ permissions: PermissionCheck[]; error?: string }> {
  const graph = await appRoles(tokens, tenantId, 'graph');
  if ('error' in graph) return { permissions: [], error: graph.error };
  const legacy = await appRoles(tokens, tenantId, 'legacy');
  return { permissions: permissionChecks(graph.roles, 'roles' in legacy ? legacy.roles : undefined) };
}

/** The roles of the app's token for an API in a tenant, or the reason there is no token. */
async function appRoles(
  tokens: TokenProvider,
  tenantId: string,
  api: 'graph' | 'legacy',
): Promise<{ roles: string[] } | { error: string }> {
  try {
    return { roles: tokenRoles(await tokens.getToken(tenantId, api)) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
