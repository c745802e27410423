/**
 * Per-tenant sync state in one Azure Table: the checkpoint (the last-update time up to which every version
 * has been delivered), the run record (last outcome, last error), and the record of delivered versions that
 * suppresses repeats inside the overlap window. Delivered records are keyed by time first, so a run loads
 * only its window with one range query, and records older than the window are pruned (bounded size).
 * One record row holds the version keys of one page (up to 100), keyed by the page's latest time: a page
 * costs one small entity, not one entity per version.
 */
import crypto from 'node:crypto';
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { toTicks } from '../defender/timestamp';
import type { ApiFlavour, IncidentVersion } from '../defender/incident';
import { onceReady } from '../storage/once-ready';

export interface TenantState {
  tenantId: string;
  /** Canonical timestamp; every version up to it has been delivered (minus late arrivals, see overlap). */
  cursor?: string;
  cursorUpdatedAt?: string;
  /**
   * Canonical timestamp: every version updated before it has been read (src/sync/lag.ts). Stored when a
   * traversal completes (and, on Graph, as each part of a window completes); only moves forward.
   */
  readThrough?: string;
  lastRunAt?: string;
  lastOutcome?: string;
  lastError?: string;
  lastErrorAt?: string;
  lastDelivered?: number;
  /** A traversal stopped by its budget or a crash: where to resume it. */
  traversal?: Traversal;
  /** Where the tenant's first sync started reading: nothing before it was owed (the completeness sweep's floor). */
  deliveredFrom?: string;
}

/** A reader's traversal in progress: where it started and its own position (src/defender/incident-reader.ts). */
export interface Traversal {
  /** The traversal's start (canonical). */
  from: string;
  position: string;
  /** The API whose reader made the position (absent in rows written before tenants had their own API). */
  api?: ApiFlavour;
}

const CHECKPOINT_ROW = 'checkpoint';
const DELIVERED_PREFIX = 'v_';
const TICKS_WIDTH = 20;

/** A page's row: its latest time first (range queries and pruning), then a digest of its version keys. */
function pageRowKey(maxTicks: bigint, keys: string[]): string {
  const digest = crypto.createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
  return `${DELIVERED_PREFIX}${maxTicks.toString().padStart(TICKS_WIDTH, '0')}_p${digest}`;
}

/** Version keys per record row: 100 keys of ~90 characters stay far below a property's 64 KiB. */
const KEYS_PER_ROW = 100;

function ticksRowKey(ticks: bigint): string {
  return `${DELIVERED_PREFIX}${(ticks < 0n ? 0n : ticks).toString().padStart(TICKS_WIDTH, '0')}`;
}

function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A delivered-record row written by `recordDelivered`: it holds versions up to `lastUpdateTicks`. */
export interface RecordRef {
  rowKey: string;
  lastUpdateTicks: bigint;
}

export interface RecordOptions {
  /** Move the checkpoint to this (canonical) time together with the records. */
  cursor?: string;
  /** Store (or, with null, clear) the traversal's position together with the records. */
  traversal?: Traversal | null;
  /** Record rows to delete in the same transaction: only ones known to exist (written by this run). */
  forget?: RecordRef[];
  /** Move the time read completely (`TenantState.readThrough`) to this (canonical) time. */
  readThrough?: string;
}

export interface StateStore {
  getTenant(tenantId: string): Promise<TenantState | undefined>;
  listTenants(): Promise<TenantState[]>;
  saveCursor(tenantId: string, cursor: string): Promise<void>;
  /** Stores where the tenant's first sync started reading (TenantState.deliveredFrom). */
  saveDeliveredFrom(tenantId: string, from: string): Promise<void>;
  /** Stores (or, with null, clears) where an interrupted traversal resumes. */
  saveTraversal(tenantId: string, traversal: Traversal | null): Promise<void>;
  recordRun(tenantId: string, run: { outcome: string; error?: string; delivered: number }): Promise<void>;
  /** Version keys delivered with a last-update time at or after `fromTicks`. */
  deliveredSince(tenantId: string, fromTicks: bigint): Promise<Set<string>>;
  /**
   * Records versions as delivered. With `cursor`, the checkpoint moves to it in the same entity-group
   * transaction as the last records (never ahead of them). With `forget`, records this run wrote that can no
   * longer suppress anything are deleted in the same transactions, so the record stays small while a long
   * backlog is paged (one table call per page instead of three).
   */
  recordDelivered(
    tenantId: string,
    versions: IncidentVersion[],
    options?: RecordOptions,
  ): Promise<RecordRef[]>;
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

  async saveDeliveredFrom(tenantId: string, from: string): Promise<void> {
    await this.ensure();
    await this.table.upsertEntity(
      { partitionKey: tenantId, rowKey: CHECKPOINT_ROW, deliveredFrom: from },
      'Merge',
    );
  }

  async saveTraversal(tenantId: string, traversal: Traversal | null): Promise<void> {
    await this.ensure();
    await this.table.upsertEntity(
      { partitionKey: tenantId, rowKey: CHECKPOINT_ROW, ...traversalProps(traversal) },
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
    const entities = this.table.listEntities<{ versions?: unknown }>({
      queryOptions: {
        filter: `PartitionKey eq ${odataString(tenantId)} and RowKey ge ${odataString(ticksRowKey(fromTicks))} and RowKey lt ${odataString(`${DELIVERED_PREFIX}~`)}`,
        select: ['versions'],
      },
    });
    for await (const e of entities) {
      if (typeof e.versions === 'string')
        for (const key of e.versions.split('\n'))
          // A page's row holds versions up to its key's time; only those in the window are asked for.
          if (key && toTicks(key.slice(key.lastIndexOf('/') + 1)) >= fromTicks) keys.add(key);
    }
    return keys;
  }

  async recordDelivered(
    tenantId: string,
    versions: IncidentVersion[],
    options: RecordOptions = {},
  ): Promise<RecordRef[]> {
    const moves = !!options.cursor || !!options.readThrough || options.traversal !== undefined;
    if (versions.length === 0 && !moves) return [];
    await this.ensure();
    const deliveredAt = new Date().toISOString();
    const byKey = new Map<string, bigint>();
    for (const v of versions) byKey.set(v.versionKey, toTicks(v.header.lastUpdate));
    const all = [...byKey.entries()].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    const refs: RecordRef[] = [];
    const rows: { rowKey: string; versions: string; count: number }[] = [];
    for (let i = 0; i < all.length; i += KEYS_PER_ROW) {
      const chunk = all.slice(i, i + KEYS_PER_ROW);
      const keys = chunk.map(([key]) => key);
      const maxTicks = (chunk[chunk.length - 1] as [string, bigint])[1];
      const rowKey = pageRowKey(maxTicks, keys);
      refs.push({ rowKey, lastUpdateTicks: maxTicks });
      rows.push({ rowKey, versions: keys.join('\n'), count: keys.length });
    }
    type Action = Parameters<TableClient['submitTransaction']>[0][number];
    const writes: Action[] = rows.map((row) => [
      'upsert',
      { partitionKey: tenantId, ...row, deliveredAt },
      'Replace',
    ]);
    const written = new Set(rows.map((r) => r.rowKey));
    const deletes: Action[] = (options.forget ?? [])
      .filter((f) => !written.has(f.rowKey))
      .map((f) => ['delete', { partitionKey: tenantId, rowKey: f.rowKey }]);
    // The checkpoint goes last, in the transaction of the last records: it never passes an unwritten one.
    const checkpoint: Action[] = moves
      ? [
          [
            'upsert',
            {
              partitionKey: tenantId,
              rowKey: CHECKPOINT_ROW,
              ...(options.cursor ? { cursor: options.cursor, cursorUpdatedAt: deliveredAt } : {}),
              ...(options.readThrough ? { readThrough: options.readThrough } : {}),
              ...(options.traversal !== undefined ? traversalProps(options.traversal) : {}),
            },
            'Merge',
          ],
        ]
      : [];
    const submit = async (actions: Action[]) => {
      // Entity group transactions: at most 100 entities of one partition each.
      for (let i = 0; i < actions.length; i += 100)
        await this.table.submitTransaction(actions.slice(i, i + 100));
    };
    try {
      await submit([...deletes, ...writes, ...checkpoint]);
    } catch (error) {
      // A record to forget that is already gone fails its whole transaction: write without forgetting
      // (the end-of-run prune still removes what is old).
      if (deletes.length === 0) throw error;
      await submit([...writes, ...checkpoint]);
    }
    return refs;
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

function traversalProps(t: Traversal | null): Record<string, string> {
  // The legacy resume fields of earlier versions are cleared with it.
  return {
    traversalFrom: t?.from ?? '',
    traversalPosition: t?.position ?? '',
    traversalApi: t?.api ?? '',
    resumeFrom: '',
  };
}

/** The traversal stored, or the legacy API's resume point of earlier versions (an offset). */
function toTraversal(
  s: (k: string) => string | undefined,
  e: Record<string, unknown>,
): Traversal | undefined {
  const from = s('traversalFrom');
  const position = s('traversalPosition');
  const api = s('traversalApi');
  if (from && position)
    return api === 'graph' || api === 'legacy' ? { from, position, api } : { from, position };
  const legacyFrom = s('resumeFrom');
  if (legacyFrom)
    return {
      from: legacyFrom,
      position: JSON.stringify({ skip: Number(e.resumeSkip ?? 0), maxSeen: s('resumeMaxSeen') }),
    };
  return undefined;
}

function toState(e: TableEntityResult<Record<string, unknown>>): TenantState {
  const s = (k: string) => (typeof e[k] === 'string' && e[k] !== '' ? (e[k] as string) : undefined);
  return {
    tenantId: e.partitionKey ?? '',
    cursor: s('cursor'),
    cursorUpdatedAt: s('cursorUpdatedAt'),
    readThrough: s('readThrough'),
    lastRunAt: s('lastRunAt'),
    lastOutcome: s('lastOutcome'),
    lastError: s('lastError'),
    lastErrorAt: s('lastErrorAt'),
    lastDelivered: typeof e.lastDelivered === 'number' ? e.lastDelivered : undefined,
    traversal: toTraversal(s, e),
    deliveredFrom: s('deliveredFrom'),
  };
}
