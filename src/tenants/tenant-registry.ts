/**
 * The tenant registry (partner context): which customer tenants the relay syncs. Onboarded tenants live in
 * an Azure Table (TENANTS_TABLE_NAME), one row each in partition `tenant`: display name if known, when and
 * how it was onboarded (admin consent, CLI), enabled / disabled / removed, and the last sync error. The
 * tenants of DEFENDER_TENANTS (or the home tenant) are merged in: a table row wins over the setting, so a
 * tenant of the setting can be disabled too. Disabling or removing a tenant stops its sync and deletes
 * nothing: its row (and its checkpoint in the state table) stay for the record, and onboarding it again
 * resumes from its checkpoint.
 *
 * Each tenant reads one Defender API (graph or legacy): the row's `api` (`defender-relay tenants set-api`)
 * wins over the setting's `<id>:legacy`, which wins over DEFENDER_API. Changing it keeps the tenant's
 * checkpoint and delivered record (docs/migration.md).
 *
 * The same table keeps the consent `state` nonces already used (partition `consent-state`): creating the
 * row is atomic, so a second use of one `state` is refused.
 */
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { onceReady } from '../storage/once-ready';
import type { ApiFlavour } from '../defender/incident';

export type TenantStatus = 'enabled' | 'disabled' | 'removed';
export type OnboardedBy = 'admin-consent' | 'cli' | 'setting';

export interface TenantEntry {
  tenantId: string;
  displayName?: string;
  status: TenantStatus;
  /** Where the tenant comes from: a table row, the DEFENDER_TENANTS setting, or both. */
  source: 'registry' | 'setting' | 'both';
  /** The API the tenant's sync reads, and where that choice comes from. */
  api: ApiFlavour;
  apiFrom: 'registry' | 'setting' | 'default';
  onboardedAt?: string;
  onboardedBy?: OnboardedBy;
  /** For admin consent: the nonce of the `state` that came back with it. */
  consentId?: string;
  /** When admin consent was last proven for this tenant. */
  consentedAt?: string;
  updatedAt?: string;
  lastOutcome?: string;
  lastSyncAt?: string;
  lastError?: string;
  lastErrorCode?: string;
  lastErrorAt?: string;
  /**
   * Set when the tenant came from DEFENDER_TENANTS (its row only holds an operator's change: set-api,
   * disable, enable) and the setting no longer lists it: it is then `removed` (not synced), its row and
   * history kept. `tenants add` makes it a registry tenant of its own.
   */
  removedFrom?: 'DEFENDER_TENANTS';
}

const TENANT_PARTITION = 'tenant';
const NONCE_PARTITION = 'consent-state';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isTenantId(value: string): boolean {
  return GUID.test(value);
}

export interface ConsentRecord {
  tenant: TenantEntry;
  /** `kept-off`: the tenant is disabled or removed by an operator and stays so. */
  outcome: 'onboarded' | 'reconsented' | 'kept-off';
}

export class TenantNotFoundError extends Error {
  constructor(readonly tenantId: string) {
    super(`Tenant ${tenantId} is not in the registry or in DEFENDER_TENANTS.`);
    this.name = 'TenantNotFoundError';
  }
}

/** Which API a tenant reads when its row does not say: DEFENDER_TENANTS' `<id>:legacy`, else DEFENDER_API. */
export interface TenantApiDefaults {
  defaultApi: ApiFlavour;
  settingApis?: Record<string, ApiFlavour>;
}

export class TenantRegistry {
  private readonly settingTenants: string[];

  constructor(
    private readonly table: TableClient,
    settingTenants: readonly string[],
    private readonly now: () => Date = () => new Date(),
    private readonly apis: TenantApiDefaults = { defaultApi: 'graph' },
  ) {
    this.settingTenants = [...new Set(settingTenants.map((t) => t.toLowerCase()))];
  }

  /** The API a tenant reads when its row names none. */
  private settingApi(tenantId: string): Pick<TenantEntry, 'api' | 'apiFrom'> {
    const api = this.apis.settingApis?.[tenantId];
    return api ? { api, apiFrom: 'setting' } : { api: this.apis.defaultApi, apiFrom: 'default' };
  }

  /** The API the tenant's sync reads now (one table read; a tenant with no row: the settings). */
  async apiOf(tenantId: string): Promise<ApiFlavour> {
    const id = tenantId.toLowerCase();
    await this.ensure();
    const api = (await this.row(id))?.api;
    return api === 'graph' || api === 'legacy' ? api : this.settingApi(id).api;
  }

  /**
   * Sets the API a tenant reads (a row for a tenant only in the setting is created). Its checkpoint and
   * delivered record stay: the next run goes on from there on the other API.
   */
  async setApi(tenantId: string, api: ApiFlavour): Promise<TenantEntry> {
    return this.mergeKnown(tenantId, { api });
  }

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() => this.table.createTable());

  /** Every tenant of the registry and the setting; removed ones only with `includeRemoved`. */
  async list(options: { includeRemoved?: boolean } = {}): Promise<TenantEntry[]> {
    await this.ensure();
    const rows = new Map<string, TenantEntry>();
    const entities = this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `PartitionKey eq '${TENANT_PARTITION}'` },
    });
    for await (const e of entities) {
      const entry = toEntry(e, (id) => this.settingApi(id));
      rows.set(entry.tenantId, entry);
    }
    // Which source wins (docs/partner-setup.md §7): a tenant onboarded in the registry (admin consent,
    // `tenants add` / `import`) stays until the registry says otherwise; a tenant of the setting stays only
    // while the setting lists it, even when a row holds an operator's change to it.
    for (const row of rows.values()) {
      if (isSettingOrigin(row) && !this.settingTenants.includes(row.tenantId)) {
        row.source = 'setting';
        row.status = 'removed';
        row.removedFrom = 'DEFENDER_TENANTS';
      }
    }
    for (const tenantId of this.settingTenants) {
      const row = rows.get(tenantId);
      if (row) row.source = isSettingOrigin(row) ? 'setting' : 'both';
      else
        rows.set(tenantId, {
          tenantId,
          status: 'enabled',
          source: 'setting',
          onboardedBy: 'setting',
          ...this.settingApi(tenantId),
        });
    }
    return [...rows.values()]
      .filter((t) => options.includeRemoved || t.status !== 'removed')
      .sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  }

  async get(tenantId: string): Promise<TenantEntry | undefined> {
    const id = tenantId.toLowerCase();
    return (await this.list({ includeRemoved: true })).find((t) => t.tenantId === id);
  }

  /** The tenants to sync: every enabled one. The scheduler (fan-out) calls this. */
  async enabledTenantIds(): Promise<string[]> {
    return (await this.list()).filter((t) => t.status === 'enabled').map((t) => t.tenantId);
  }

  /** Adds (or re-enables) a tenant. Keeps what is known already (onboarding time, display name). */
  async add(
    tenantId: string,
    info: { displayName?: string; onboardedBy: OnboardedBy; consentId?: string },
  ): Promise<TenantEntry> {
    const id = normalize(tenantId);
    await this.ensure();
    const existing = await this.row(id);
    const now = this.now().toISOString();
    await this.table.upsertEntity(
      {
        partitionKey: TENANT_PARTITION,
        rowKey: id,
        status: 'enabled',
        updatedAt: now,
        ...(typeof existing?.onboardedAt === 'string' ? {} : { onboardedAt: now }),
        onboardedBy: info.onboardedBy,
        ...(info.consentId ? { consentId: info.consentId } : {}),
        ...(info.displayName ? { displayName: info.displayName } : {}),
        // A re-consent after a revocation starts with a clean slate.
        ...(existing ? { lastError: '', lastErrorCode: '' } : {}),
      },
      'Merge',
    );
    return (await this.get(id))!;
  }

  /**
   * Records a proven admin consent. A new tenant is added enabled; an enabled one gets the new consent
   * (and a clean slate); a tenant an operator disabled or removed keeps its status: consent is the
   * customer's act, switching a tenant back on is the operator's. Atomic against a concurrent
   * `setStatus` (the row's ETag), so an operator's disable is never overwritten.
   */
  async recordConsent(tenantId: string, info: { consentId: string }): Promise<ConsentRecord> {
    const id = normalize(tenantId);
    await this.ensure();
    for (let attempt = 0; ; attempt++) {
      const now = this.now().toISOString();
      const existing = await this.row(id);
      try {
        if (!existing) {
          await this.table.createEntity({
            partitionKey: TENANT_PARTITION,
            rowKey: id,
            status: 'enabled',
            onboardedAt: now,
            onboardedBy: 'admin-consent',
            consentId: info.consentId,
            consentedAt: now,
            updatedAt: now,
          });
          return { tenant: (await this.get(id))!, outcome: 'onboarded' };
        }
        const entry = toEntry(existing, (id) => this.settingApi(id));
        const kept = entry.status !== 'enabled';
        await this.table.updateEntity(
          {
            partitionKey: TENANT_PARTITION,
            rowKey: id,
            consentId: info.consentId,
            consentedAt: now,
            updatedAt: now,
            ...(typeof existing.onboardedAt === 'string' ? {} : { onboardedAt: now }),
            // A consent makes a tenant of the setting a registry tenant of its own.
            ...(isSettingOrigin(entry) ? { onboardedBy: 'admin-consent' } : {}),
            // A re-consent after a revocation starts with a clean slate.
            ...(kept ? {} : { lastError: '', lastErrorCode: '' }),
          },
          'Merge',
          { etag: existing.etag },
        );
        return { tenant: (await this.get(id))!, outcome: kept ? 'kept-off' : 'reconsented' };
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        // Someone wrote the row meanwhile (an operator, a second callback): read it again.
        if ((status === 409 || status === 412) && attempt < 3) continue;
        throw error;
      }
    }
  }

  /** Whether a consent `state` nonce was used already (checked before the consent is proven). */
  async isNonceUsed(nonce: string): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.getEntity(NONCE_PARTITION, nonce, { queryOptions: { select: ['RowKey'] } });
      return true;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return false;
      throw error;
    }
  }

  /** Disables or removes a tenant: its sync stops, its row and its history stay. */
  async setStatus(tenantId: string, status: TenantStatus): Promise<TenantEntry> {
    return this.mergeKnown(tenantId, { status });
  }

  /** Merges properties into a known tenant's row (creating the row of a tenant only in the setting). */
  private async mergeKnown(tenantId: string, props: Record<string, string>): Promise<TenantEntry> {
    const id = normalize(tenantId);
    await this.ensure();
    const known = (await this.row(id)) ?? this.settingTenants.includes(id);
    if (!known) throw new TenantNotFoundError(id);
    await this.table.upsertEntity(
      {
        partitionKey: TENANT_PARTITION,
        rowKey: id,
        // A row made for a tenant of the setting says so: the setting stays its source.
        ...(known === true ? { onboardedBy: 'setting' } : {}),
        ...props,
        updatedAt: this.now().toISOString(),
      },
      'Merge',
    );
    return (await this.get(id))!;
  }

  /**
   * Records a sync's outcome on the tenant's row (a tenant only in the setting gets no row: its last
   * error is in the state table). A failure keeps a readable message and its code.
   */
  async recordOutcome(
    tenantId: string,
    outcome: { outcome: string; error?: string; errorCode?: string },
  ): Promise<void> {
    const id = tenantId.toLowerCase();
    await this.ensure();
    const now = this.now().toISOString();
    try {
      await this.table.updateEntity(
        {
          partitionKey: TENANT_PARTITION,
          rowKey: id,
          lastOutcome: outcome.outcome,
          lastSyncAt: now,
          lastError: outcome.error ?? '',
          lastErrorCode: outcome.error ? (outcome.errorCode ?? '') : '',
          ...(outcome.error ? { lastErrorAt: now } : {}),
        },
        'Merge',
      );
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  /**
   * Marks a consent `state` nonce as used. Returns false when it was used before (a replay). The row
   * records when; it is never read back except by this conflict. Rows of states that have expired are
   * deleted on the way: an expired state is refused before its nonce is looked at, so they guard nothing.
   */
  async consumeNonce(nonce: string, info: { tenantId: string; expiresAt: string }): Promise<boolean> {
    await this.ensure();
    try {
      await this.table.createEntity({
        partitionKey: NONCE_PARTITION,
        rowKey: nonce,
        usedAt: this.now().toISOString(),
        tenantId: info.tenantId,
        expiresAt: info.expiresAt,
      });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 409) return false;
      throw error;
    }
    await this.pruneExpiredNonces().catch(() => undefined);
    return true;
  }

  /** Deletes the used-nonce rows of states that have expired; returns how many. */
  async pruneExpiredNonces(): Promise<number> {
    await this.ensure();
    const now = this.now().toISOString();
    const expired: string[] = [];
    const rows = this.table.listEntities({
      queryOptions: {
        filter: `PartitionKey eq '${NONCE_PARTITION}' and expiresAt lt '${now}'`,
        select: ['RowKey'],
      },
    });
    for await (const row of rows) if (row.rowKey) expired.push(row.rowKey);
    for (const rowKey of expired)
      await this.table.deleteEntity(NONCE_PARTITION, rowKey).catch(() => undefined);
    return expired.length;
  }

  private async row(id: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
    try {
      return await this.table.getEntity<Record<string, unknown>>(TENANT_PARTITION, id);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}

function normalize(tenantId: string): string {
  const id = tenantId.trim().toLowerCase();
  if (!isTenantId(id)) throw new Error(`"${tenantId}" is not a tenant id (a GUID).`);
  return id;
}

/**
 * A row that only holds an operator's change to a tenant of DEFENDER_TENANTS: made by set-api / disable /
 * enable (`onboardedBy: 'setting'`; rows from before that was recorded: never onboarded, no onboardedAt).
 */
function isSettingOrigin(entry: TenantEntry): boolean {
  return (
    entry.onboardedBy === 'setting' || (entry.onboardedAt === undefined && entry.onboardedBy === undefined)
  );
}

function toEntry(
  e: TableEntityResult<Record<string, unknown>>,
  settingApi: (tenantId: string) => Pick<TenantEntry, 'api' | 'apiFrom'>,
): TenantEntry {
  const s = (k: string) => (typeof e[k] === 'string' && e[k] !== '' ? (e[k] as string) : undefined);
  const status = s('status');
  const api = s('api');
  return {
    tenantId: e.rowKey ?? '',
    displayName: s('displayName'),
    status: status === 'disabled' || status === 'removed' ? status : 'enabled',
    source: 'registry',
    ...(api === 'graph' || api === 'legacy'
      ? { api, apiFrom: 'registry' as const }
      : settingApi(e.rowKey ?? '')),
    onboardedAt: s('onboardedAt'),
    onboardedBy: s('onboardedBy') as OnboardedBy | undefined,
    consentId: s('consentId'),
    consentedAt: s('consentedAt'),
    updatedAt: s('updatedAt'),
    lastOutcome: s('lastOutcome'),
    lastSyncAt: s('lastSyncAt'),
    lastError: s('lastError'),
    lastErrorCode: s('lastErrorCode'),
    lastErrorAt: s('lastErrorAt'),
  };
}
