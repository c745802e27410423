/**
 * Per-tenant sync state in one Azure Table: the checkpoint (the last-update time up to which every version
 * has been delivered), the run record (last outcome, last error), and the record of delivered versions that
 * suppresses repeats inside the overlap window. Delivered records are keyed by time first, so a run loads
 * only its window with one range query, and records older than the window are pruned (bounded size).
 */
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { toTicks } from '../defender/timestamp';
import type { IncidentVersion } from '../defender/incident';
import { onceReady } from '../storage/once-ready';

export interface TenantState {
  tenantId: string;
  /** Canonical timestamp; every version up to it has been delivered (minus late arrivals, see overlap). */
  cursor?: string;
  cursorUpdatedAt?: string;
  lastRunAt?: string;
  lastOutcome?: string;
  lastError?: string;
  lastErrorAt?: string;
  lastDelivered?: number;
  /** An unordered traversal stopped by its budget: where to resume it. */
  resume?: ResumePoint;
}

export interface ResumePoint {
  /** The traversal's `since` (canonical). */
  from: string;
  /** The offset reached. */
  skip: number;
  /** The latest last-update time read so far in the traversal (canonical). */
  maxSeen?: string;
}

const CHECKPOINT_ROW = 'checkpoint';
const DELIVERED_PREFIX = 'v_';
const TICKS_WIDTH = 20;

function deliveredRowKey(lastUpdateTicks: bigint, incidentId: string): string {
  return `${DELIVERED_PREFIX}${lastUpdateTicks.toString().padStart(TICKS_WIDTH, '0')}_${encodeURIComponent(incidentId)}`;
}

function ticksRowKey(ticks: bigint): string {
  return `${DELIVERED_PREFIX}${(ticks < 0n ? 0n : ticks).toString().padStart(TICKS_WIDTH, '0')}`;
}

function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export interface StateStore {
  getTenant(tenantId: string): Promise<TenantState | undefined>;
  listTenants(): Promise<TenantState[]>;
  saveCursor(tenantId: string, cursor: string): Promise<void>;
  /** Stores (or, with null, clears) where an interrupted unordered traversal resumes. */
  saveResume(tenantId: string, resume: ResumePoint | null): Promise<void>;
  recordRun(tenantId: string, run: { outcome: string; error?: string; delivered: number }): Promise<void>;
  /** Version keys delivered with a last-update time at or after `fromTicks`. */
  deliveredSince(tenantId: string, fromTicks: bigint): Promise<Set<string>>;
  recordDelivered(tenantId: string, versions: IncidentVersion[]): Promise<void>;
  /** Deletes delivered records older than `beforeTicks`; returns how many. */
  pruneDelivered(tenantId: string, beforeTicks: bigint): Promise<number>;
}

export class TableStateStore implements StateStore {
  constructor(private readonly table: TableClient) {}

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() => this.table.createTable());

  async getTenant(tenantId: string): Promise<TenantState | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<Record<string, unknown>>(tenantId, CHECKPOINT_ROW);
      return toState(e);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async listTenants(): Promise<TenantState[]> {
    await this.ensure();
    const out: TenantState[] = [];
    const entities = this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `RowKey eq ${odataString(CHECKPOINT_ROW)}` },
    });
    for await (const e of entities) out.push(toState(e));
    return out;
  }

  async saveCursor(tenantId: string, cursor: string): Promise<void> {
    await this.ensure();
    await this.table.upsertEntity(
      { partitionKey: tenantId, rowKey: CHECKPOINT_ROW, cursor, cursorUpdatedAt: new Date().toISOString() },
      'Merge',
    );
  }

  async saveResume(tenantId: string, resume: ResumePoint | null): Promise<void> {
    await this.ensure();
    await this.table.upsertEntity(
      {
        partitionKey: tenantId,
        rowKey: CHECKPOINT_ROW,
        resumeFrom: resume?.from ?? '',
        resumeSkip: resume?.skip ?? 0,
        resumeMaxSeen: resume?.maxSeen ?? '',
      },
      'Merge',
    );
  }

  async recordRun(
    tenantId: string,
    run: { outcome: string; error?: string; delivered: number },
  ): Promise<void> {
    await this.ensure();
    const now = new Date().toISOString();
    await this.table.upsertEntity(
      {
        partitionKey: tenantId,
        rowKey: CHECKPOINT_ROW,
        lastRunAt: now,
        lastOutcome: run.outcome,
        lastDelivered: run.delivered,
        // A successful run clears the error; the time of the last error stays for the record.
        lastError: run.error ?? '',
        ...(run.error ? { lastErrorAt: now } : {}),
      },
      'Merge',
    );
  }

  async deliveredSince(tenantId: string, fromTicks: bigint): Promise<Set<string>> {
    await this.ensure();
    const keys = new Set<string>();
    const entities = this.table.listEntities<{ versionKey?: string }>({
      queryOptions: {
        filter: `PartitionKey eq ${odataString(tenantId)} and RowKey ge ${odataString(ticksRowKey(fromTicks))} and RowKey lt ${odataString(`${DELIVERED_PREFIX}~`)}`,
        select: ['versionKey'],
      },
    });
    for await (const e of entities) if (e.versionKey) keys.add(e.versionKey);
    return keys;
  }

  async recordDelivered(tenantId: string, versions: IncidentVersion[]): Promise<void> {
    if (versions.length === 0) return;
    await this.ensure();
    const deliveredAt = new Date().toISOString();
    const rows = new Map<string, { versionKey: string; incidentId: string; lastUpdate: string }>();
    for (const v of versions) {
      rows.set(deliveredRowKey(toTicks(v.header.lastUpdate), v.header.incidentId), {
        versionKey: v.versionKey,
        incidentId: v.header.incidentId,
        lastUpdate: v.header.lastUpdate,
      });
    }
    const all = [...rows.entries()];
    // Entity group transactions: at most 100 entities of one partition each.
    for (let i = 0; i < all.length; i += 100) {
      await this.table.submitTransaction(
        all
          .slice(i, i + 100)
          .map(([rowKey, row]) => [
            'upsert',
            { partitionKey: tenantId, rowKey, ...row, deliveredAt },
            'Replace',
          ]),
      );
    }
  }

  async pruneDelivered(tenantId: string, beforeTicks: bigint): Promise<number> {
    await this.ensure();
    const old: string[] = [];
    const entities = this.table.listEntities({
      queryOptions: {
        filter: `PartitionKey eq ${odataString(tenantId)} and RowKey ge ${odataString(DELIVERED_PREFIX)} and RowKey lt ${odataString(ticksRowKey(beforeTicks))}`,
        select: ['RowKey'],
      },
    });
    for await (const e of entities) if (e.rowKey) old.push(e.rowKey);
    for (let i = 0; i < old.length; i += 100) {
      await this.table.submitTransaction(
        old.slice(i, i + 100).map((rowKey) => ['delete', { partitionKey: tenantId, rowKey }]),
      );
    }
    return old.length;
  }
}

function toState(e: TableEntityResult<Record<string, unknown>>): TenantState {
  const s = (k: string) => (typeof e[k] === 'string' && e[k] !== '' ? (e[k] as string) : undefined);
  return {
    tenantId: e.partitionKey ?? '',
    cursor: s('cursor'),
    cursorUpdatedAt: s('cursorUpdatedAt'),
    lastRunAt: s('lastRunAt'),
    lastOutcome: s('lastOutcome'),
    lastError: s('lastError'),
    lastErrorAt: s('lastErrorAt'),
    lastDelivered: typeof e.lastDelivered === 'number' ? e.lastDelivered : undefined,
    resume: s('resumeFrom')
      ? { from: s('resumeFrom') as string, skip: Number(e.resumeSkip ?? 0), maxSeen: s('resumeMaxSeen') }
      : undefined,
  };
}
