/**
 * `defender-relay tenants list|invite|add|enable|disable|remove|set-api`: the tenant registry from the
 * command line. `invite` prints a customer's admin-consent link (the operator's act; the relay records the
 * tenant once the consent is proven). Disabling or removing a tenant stops its sync and keeps its history
 * (its row and its checkpoint). `tenants set-api <tenant id> graph|legacy` moves a tenant's sync to the
 * other API (docs/migration.md).
 */
import fs from 'node:fs';
import type { Relay } from '../relay';
import { describeOnboarded, importTenants, onboardTenant } from './tenants-onboard';
import { ConsentError } from '../tenants/consent';
import { isTenantId, TenantNotFoundError, type TenantEntry } from '../tenants/tenant-registry';

export interface TenantsCommandOptions {
  json: boolean;
  all?: boolean;
  name?: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

export const TENANTS_USAGE = `  tenants list [--json] [--all]                 the tenants the relay syncs (--all: removed ones too)
  tenants invite <tenant id or domain>          print the admin-consent link to send to the customer's admin
  tenants add <tenant id> [--name <name>]       add (or re-enable) a tenant; says whether a token for it can be had
  tenants import <csv file>                     add many: "tenant id, display name" a row; prints consent links
  tenants enable|disable <tenant id>            resume or stop a tenant's sync (history is kept)
  tenants remove <tenant id>                    stop a tenant's sync and hide it from the list (history is kept)
  tenants set-api <tenant id> graph|legacy      the API the tenant's sync reads (checkpoint and record kept)`;

export async function runTenantsCommand(
  relay: Pick<Relay, 'tenants' | 'state' | 'consent' | 'tokens' | 'config'>,
  args: string[],
  options: TenantsCommandOptions,
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const [action, tenantId, ...extra] = args;
  const usage = (message: string) => {
    err.write(`${message}\n\nUsage:\n${TENANTS_USAGE}\n`);
    return 2;
  };
  if (action === 'list') {
    if (tenantId) return usage('tenants list takes no tenant id.');
    const tenants = await relay.tenants.list({ includeRemoved: options.all });
    // A tenant only in DEFENDER_TENANTS has no registry row: its last error is in the state table.
    const states = new Map((await relay.state.listTenants()).map((s) => [s.tenantId, s]));
    const rows = tenants.map((t) => {
      const s = states.get(t.tenantId);
      return {
        ...t,
        lastOutcome: t.lastOutcome ?? s?.lastOutcome,
        lastSyncAt: t.lastSyncAt ?? s?.lastRunAt,
        lastError: t.lastError ?? (t.lastOutcome ? undefined : s?.lastError),
        checkpoint: s?.cursor,
      };
    });
    if (options.json) {
      out.write(`${JSON.stringify({ tenants: rows })}\n`);
      return 0;
    }
    if (rows.length === 0) {
      out.write(
        'No tenants. Onboard one with the consent link (/api/consent?tenant=<id>) or `tenants add <id>`.\n',
      );
      return 0;
    }
    for (const t of rows) out.write(`${describe(t)}\n`);
    return 0;
  }
  if (action === 'invite') {
    if (!tenantId || extra.length > 0) return usage('tenants invite takes one tenant id or domain.');
    return invite(relay, tenantId, options.json, out, err);
  }
  if (action === 'set-api') return setApi(relay, tenantId, extra, options, usage);
  if (action === 'import') {
    if (!tenantId || extra.length > 0) return usage('tenants import takes one CSV file.');
    let csv: string;
    try {
      csv = fs.readFileSync(tenantId, 'utf8');
    } catch (error) {
      err.write(
        `tenants import: the file ${tenantId} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).\n`,
      );
      return 2;
    }
    return importTenants(relay, csv, { json: options.json, out, err });
  }
  if (action === 'add') {
    if (!tenantId || extra.length > 0) return usage('tenants add takes one tenant id.');
    if (!isTenantId(tenantId)) return usage(`"${tenantId}" is not a tenant id (a GUID).`);
    const result = await onboardTenant(relay, tenantId, options.name);
    if (options.json) out.write(`${JSON.stringify({ ...result, tenant: result.tenant })}\n`);
    else if (result.tenant)
      out.write(`${describe(result.tenant)}\n${describeOnboarded(result, relay.consent.enabled)}\n`);
    else err.write(`${describeOnboarded(result, relay.consent.enabled)}\n`);
    return result.outcome === 'added' ? 0 : 1;
  }
  if (!action || !['add', 'enable', 'disable', 'remove'].includes(action)) {
    return usage(action ? `Unknown tenants action "${action}".` : 'Which tenants action?');
  }
  if (!tenantId || extra.length > 0) return usage(`tenants ${action} takes one tenant id.`);
  if (!isTenantId(tenantId)) return usage(`"${tenantId}" is not a tenant id (a GUID).`);
  try {
    const entry =
      action === 'add' || action === 'enable'
        ? action === 'add'
          ? await relay.tenants.add(tenantId, { onboardedBy: 'cli', displayName: options.name })
          : await relay.tenants.setStatus(tenantId, 'enabled')
        : await relay.tenants.setStatus(tenantId, action === 'disable' ? 'disabled' : 'removed');
    if (options.json) out.write(`${JSON.stringify({ tenant: entry })}\n`);
    else out.write(`${describe(entry)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof TenantNotFoundError) {
      err.write(`${error.message} Add it with \`tenants add ${error.tenantId}\`.\n`);
      return 1;
    }
    throw error;
  }
}

async function invite(
  relay: Pick<Relay, 'consent'>,
  tenant: string,
  json: boolean,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  try {
    const link = await relay.consent.start(tenant);
    if (json)
      out.write(
        `${JSON.stringify({ consentUrl: link.url, tenantId: link.tenantId, expiresAt: link.expiresAt })}\n`,
      );
    else
      out.write(
        `Send this link to an administrator of tenant ${link.tenantId} (valid until ${link.expiresAt}, once):\n${link.url}\n`,
      );
    return 0;
  } catch (error) {
    if (error instanceof ConsentError) {
      err.write(`${error.detail}${error.logDetail ? ` ${error.logDetail}` : ''}\n`);
      return error.status >= 500 ? 1 : 2;
    }
    throw error;
  }
}

/** `tenants set-api <tenant id> graph|legacy`. */
async function setApi(
  relay: Pick<Relay, 'tenants'>,
  tenantId: string | undefined,
  extra: string[],
  options: TenantsCommandOptions,
  usage: (message: string) => number,
): Promise<number> {
  const [api, ...more] = extra;
  if (!tenantId || !api || more.length > 0)
    return usage('tenants set-api takes a tenant id and graph or legacy.');
  if (!isTenantId(tenantId)) return usage(`"${tenantId}" is not a tenant id (a GUID).`);
  if (api !== 'graph' && api !== 'legacy') return usage(`"${api}" is not an API: use graph or legacy.`);
  const out = options.out ?? process.stdout;
  try {
    const entry = await relay.tenants.setApi(tenantId, api);
    if (options.json) out.write(`${JSON.stringify({ tenant: entry })}\n`);
    else
      out.write(
        `${describe(entry)}\n    its next sync reads the ${api === 'graph' ? 'Microsoft Graph security' : 'legacy Defender XDR'} API from its checkpoint; nothing delivered is sent again.\n`,
      );
    return 0;
  } catch (error) {
    if (!(error instanceof TenantNotFoundError)) throw error;
    (options.err ?? process.stderr).write(
      `${error.message} Add it with \`tenants add ${error.tenantId}\`.\n`,
    );
    return 1;
  }
}

function describe(t: TenantEntry & { checkpoint?: string }): string {
  const parts = [
    `${t.tenantId}  ${t.status.padEnd(8)}`,
    ` ${t.api}${t.apiFrom === 'default' ? '' : ` (${t.apiFrom === 'registry' ? 'set-api' : 'DEFENDER_TENANTS'})`}`,
    t.displayName ? ` ${t.displayName}` : '',
    ` (${sourceOf(t)})`,
    t.lastSyncAt ? `, last sync ${t.lastSyncAt} ${t.lastOutcome ?? ''}`.trimEnd() : '',
  ];
  return parts.join('') + (t.lastError ? `\n    last error: ${t.lastError}` : '');
}

/** Where the tenant comes from (which source wins: docs/partner-setup.md §7). */
function sourceOf(t: TenantEntry): string {
  if (t.removedFrom)
    return `was in ${t.removedFrom}, which no longer lists it: not synced; \`tenants add ${t.tenantId}\` keeps it as a registry tenant`;
  if (t.source === 'setting') return 'DEFENDER_TENANTS';
  return `onboarded ${t.onboardedAt ?? '?'} by ${t.onboardedBy ?? '?'}${t.source === 'both' ? ', also in DEFENDER_TENANTS' : ''}`;
}
