/**
 * The legacy Defender XDR API (api.security.microsoft.com, incidents and advanced hunting) is retired by
 * Microsoft on 2027-02-01. What the relay does about it, in one place: the date and the days left, the
 * warning for tenants still reading it (start log, `check`, deep health), the answer of a retired API
 * recognised as such, and the API that hunting and incident updates use (Graph, for every tenant).
 */
import type { ApiFlavour } from './incident';

export const LEGACY_RETIREMENT_DATE = '2027-02-01';
const RETIREMENT_MS = Date.parse(`${LEGACY_RETIREMENT_DATE}T00:00:00Z`);
const DAY_MS = 86_400_000;

/** Hunting and incident updates go to Graph for every tenant, whatever API its sync reads. */
export const ACTIONS_API: ApiFlavour = 'graph';

/** Whole days from `now` until the retirement (0 on the day, negative after). */
export function legacyDaysLeft(now: number = Date.now()): number {
  return Math.ceil((RETIREMENT_MS - now) / DAY_MS);
}

/** The commands that move one tenant to Graph (docs/migration.md). */
export function migrationCommands(tenantId: string): string {
  return `defender-relay migrate check --tenant ${tenantId}, then defender-relay tenants set-api ${tenantId} graph`;
}

/** The warning for one tenant that still reads the legacy API. */
export function legacyWarning(tenantId: string, now: number = Date.now()): string {
  const days = legacyDaysLeft(now);
  const when =
    days > 0
      ? `Microsoft retires it on ${LEGACY_RETIREMENT_DATE}, in ${days} day${days === 1 ? '' : 's'}`
      : `Microsoft retired it on ${LEGACY_RETIREMENT_DATE}`;
  return `Tenant ${tenantId} still reads the legacy Defender XDR API: ${when}. Run: ${migrationCommands(tenantId)} (docs/migration.md).`;
}

/**
 * Whether a legacy API answer says the API is gone: 410 Gone, or a 404 (or 400) whose message speaks of
 * the retirement. A plain 404 (an incident not found, a wrong base URL) is not taken for it.
 */
export function isRetiredAnswer(status: number, message: string | undefined): boolean {
  if (status === 410) return true;
  if (status !== 404 && status !== 400) return false;
  return /retire|decommission|deprecat|no longer (available|supported)|sunset/i.test(message ?? '');
}

/** The error text of a tenant whose legacy API answered that it is gone. */
export function retiredMessage(tenantId: string, status: number): string {
  return (
    `The legacy Defender XDR API answered ${status}: it has been retired (Microsoft retired it on ${LEGACY_RETIREMENT_DATE}), ` +
    `so tenant ${tenantId} cannot be read from it any more. Move the tenant to Microsoft Graph: ` +
    `grant the app SecurityIncident.Read.All on Graph in that tenant, then run defender-relay tenants set-api ${tenantId} graph ` +
    `(its checkpoint is kept; nothing is sent twice).`
  );
}

/** The start log's warnings: one per tenant that the settings put on the legacy API. */
export function startWarnings(
  config: { api: ApiFlavour; tenants: string[]; tenantApis?: Record<string, ApiFlavour> },
  now: number = Date.now(),
): string[] {
  return config.tenants
    .filter((t) => (config.tenantApis?.[t] ?? config.api) === 'legacy')
    .map((t) => legacyWarning(t, now));
}
