/**
 * Onboarding from the command line: `tenants add <id>` and `tenants import <csv>` (an MSSP's customer
 * list). Each tenant id is checked as a GUID, then probed: can the app get a token for it now? A tenant
 * Entra ID does not know (AADSTS90002) is refused and not added; a tenant that has not consented yet is
 * added with the consent link to send to its admin (when CONSENT_REDIRECT_URI is set), so its sync
 * starts working the moment the admin consents.
 */
import type { Relay } from '../relay';
import { RelayAuthError } from '../auth/errors';
import { ConsentError } from '../tenants/consent';
import type { TenantEntry } from '../tenants/tenant-registry';
import { parseTenantCsv } from './tenant-csv';

type OnboardRelay = Pick<Relay, 'tenants' | 'tokens' | 'consent' | 'config'>;

export interface Onboarded {
  tenantId: string;
  displayName?: string;
  /** `added`, or `refused` (not added: the tenant does not exist). */
  outcome: 'added' | 'refused';
  /** Whether a token for the tenant's API could be had now. */
  token: boolean;
  /** Why not, in words. */
  problem?: string;
  consentUrl?: string;
  tenant?: TenantEntry;
}

async function probe(
  relay: OnboardRelay,
  tenantId: string,
): Promise<{ ok: boolean; missing: boolean; problem?: string }> {
  const api = relay.config.tenantApis?.[tenantId] ?? relay.config.api;
  try {
    await relay.tokens.getToken(tenantId, api);
    return { ok: true, missing: false };
  } catch (error) {
    const code = error instanceof RelayAuthError ? error.code : undefined;
    return {
      ok: false,
      missing: code === 'AADSTS90002',
      problem: error instanceof Error ? error.message : String(error),
    };
  }
}

async function consentLink(relay: OnboardRelay, tenantId: string): Promise<string | undefined> {
  if (!relay.consent.enabled) return undefined;
  try {
    return (await relay.consent.start(tenantId)).url;
  } catch (error) {
    if (error instanceof ConsentError) return undefined;
    throw error;
  }
}

/** Probes one tenant, then adds it (unless Entra ID does not know it) and makes its consent link. */
export async function onboardTenant(
  relay: OnboardRelay,
  tenantId: string,
  displayName?: string,
): Promise<Onboarded> {
  const id = tenantId.toLowerCase();
  const token = await probe(relay, id);
  if (token.missing)
    return { tenantId: id, displayName, outcome: 'refused', token: false, problem: token.problem };
  const tenant = await relay.tenants.add(id, { onboardedBy: 'cli', displayName });
  const consentUrl = token.ok ? undefined : await consentLink(relay, id);
  return {
    tenantId: id,
    displayName,
    outcome: 'added',
    token: token.ok,
    problem: token.problem,
    consentUrl,
    tenant,
  };
}

export function describeOnboarded(r: Onboarded, consentEnabled: boolean): string {
  const who = `${r.tenantId}${r.displayName ? ` (${r.displayName})` : ''}`;
  if (r.outcome === 'refused') return `${who}: not added: ${r.problem}`;
  if (r.token) return `${who}: added; a token for it was issued, so its next sync runs.`;
  return (
    `${who}: added, but no token can be had yet: ${r.problem}\n` +
    (r.consentUrl
      ? `    send this admin-consent link to an administrator of the tenant (once):\n    ${r.consentUrl}`
      : consentEnabled
        ? '    make its consent link with `defender-relay tenants invite <tenant id>`.'
        : '    set CONSENT_REDIRECT_URI to print its admin-consent link (docs/partner-setup.md).')
  );
}

/** `tenants import <csv>`: every row checked first (nothing is imported when one is bad), then each onboarded. */
export async function importTenants(
  relay: OnboardRelay,
  csv: string,
  options: { json: boolean; out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const parsed = parseTenantCsv(csv);
  if (parsed.problems.length > 0) {
    options.err.write(
      `${parsed.problems.map((p) => `line ${p.line}: ${p.problem}`).join('\n')}\n` +
        `Nothing was imported: fix ${parsed.problems.length === 1 ? 'this row' : 'these rows'} and run the import again.\n`,
    );
    return 2;
  }
  const results: (Onboarded & { line: number })[] = [];
  for (const row of parsed.rows) {
    const result = await onboardTenant(relay, row.tenantId, row.displayName);
    results.push({ line: row.line, ...result });
    if (!options.json)
      options.out.write(`line ${row.line}: ${describeOnboarded(result, relay.consent.enabled)}\n`);
  }
  const added = results.filter((r) => r.outcome === 'added');
  const refused = results.length - added.length;
  const ready = added.filter((r) => r.token).length;
  if (options.json)
    options.out.write(
      `${JSON.stringify({ imported: added.length, refused, ready, tenants: results.map(({ tenant: _t, ...r }) => r) })}\n`,
    );
  else
    options.out.write(
      `${added.length} tenant(s) added (${ready} ready to sync, ${added.length - ready} waiting for consent), ${refused} refused.\n`,
    );
  return refused > 0 ? 1 : 0;
}
