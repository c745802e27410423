/**
 * What two-way sync remembers per incident version, in the inbound table (INBOUND_TABLE_NAME):
 *
 * - a snapshot of the update-able fields of each version the relay delivered (written before the version
 *   is delivered, so every version a sender can hold as its base is known) and of each version the relay's
 *   own update produced: conflict detection compares them with the current incident;
 * - echoes: the version the relay's own PATCH or comment produced (the answer's last-update time), with
 *   the sender and the inbound message id, so the sync marks that version when it delivers it.
 *
 * Rows are keyed `<ticks>|<incident>` in the partitions `snap|<tenant>` and `echo|<tenant>`: a snapshot is
 * a point read, a page's echoes one range query from its earliest version, and what is older than
 * RETENTION_DAYS one range query to prune (a base that old is answered as unknown: a conflict, the safe
 * side).
 */
import { odata, TableTransaction, type TableClient } from '@azure/data-tables';
import type { IncidentVersion } from '../defender/incident';
import { toTicks } from '../defender/timestamp';
import { onceReady } from '../storage/once-ready';
import { snapshotOf, type FieldSnapshot } from './snapshot';

export interface Echo {
  sender: string;
  webhookId: string;
}

const ticksKey = (ticks: bigint) => ticks.toString().padStart(20, '0');
const snapPartition = (tenantId: string) => `snap|${tenantId.toLowerCase()}`;
const echoPartition = (tenantId: string) => `echo|${tenantId.toLowerCase()}`;
/** Azure Tables: at most 100 operations per transaction. */
const BATCH = 100;
/** How long snapshots and echoes are kept: a ticket based on an older version rebases. */
export const RETENTION_DAYS = 30;
const rowKey = (ticks: bigint, incidentId: string) => `${ticksKey(ticks)}|${incidentId}`;

export class VersionLedger {
  private readonly ensure: () => Promise<void>;

  constructor(private readonly table: TableClient) {
    this.ensure = onceReady(() =>
      table.createTable().catch((e: { statusCode?: number }) => {
        if (e?.statusCode !== 409) throw e;
      }),
    );
  }

  /** Records the snapshots of versions about to be delivered (one transaction per 100). */
  async recordSnapshots(tenantId: string, versions: IncidentVersion[]): Promise<void> {
    if (versions.length === 0) return;
    await this.ensure();
    for (let i = 0; i < versions.length; i += BATCH) {
      const tx = new TableTransaction();
      for (const v of versions.slice(i, i + BATCH))
        tx.upsertEntity(this.snapshotEntity(tenantId, v), 'Replace');
      await this.table.submitTransaction(tx.actions);
    }
  }

  async snapshot(tenantId: string, incidentId: string, ticks: bigint): Promise<FieldSnapshot | undefined> {
    await this.ensure();
    try {
      const e = await this.table.getEntity<Record<string, string>>(
        snapPartition(tenantId),
        rowKey(ticks, incidentId),
      );
      return {
        status: e.status ?? 'unknown',
        assignedTo: e.assignedTo || null,
        classification: e.classification || null,
        determination: e.determination || null,
        tags: JSON.parse(e.tags ?? '[]') as string[],
      };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  /** Records the version the relay's own update produced, and its snapshot. */
  async recordEcho(version: IncidentVersion, echo: Echo): Promise<void> {
    await this.ensure();
    const { tenantId, incidentId, lastUpdate } = version.header;
    await this.table.upsertEntity(
      {
        partitionKey: echoPartition(tenantId),
        rowKey: rowKey(toTicks(lastUpdate), incidentId),
        sender: echo.sender,
        webhookId: echo.webhookId,
      },
      'Replace',
    );
    await this.table.upsertEntity(this.snapshotEntity(tenantId, version), 'Replace');
  }

  /** The echoes among versions of one tenant (by version key). */
  async echoesOf(tenantId: string, versions: IncidentVersion[]): Promise<Map<string, Echo>> {
    const out = new Map<string, Echo>();
    if (versions.length === 0) return out;
    await this.ensure();
    const wanted = new Map(
      versions.map((v) => [rowKey(toTicks(v.header.lastUpdate), v.header.incidentId), v.versionKey]),
    );
    const from = [...wanted.keys()].sort()[0]!;
    const rows = this.table.listEntities<{ rowKey?: string; sender?: string; webhookId?: string }>({
      queryOptions: { filter: odata`PartitionKey eq ${echoPartition(tenantId)} and RowKey ge ${from}` },
    });
    for await (const row of rows) {
      const key = wanted.get(row.rowKey ?? '');
      if (key && row.sender && row.webhookId) out.set(key, { sender: row.sender, webhookId: row.webhookId });
    }
    return out;
  }

  /** Deletes the tenant's snapshots and echoes of versions older than `beforeTicks`; returns how many. */
  async prune(tenantId: string, beforeTicks: bigint): Promise<number> {
    await this.ensure();
    let deleted = 0;
    for (const partition of [snapPartition(tenantId), echoPartition(tenantId)]) {
      const rows = this.table.listEntities<{ rowKey?: string }>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partition} and RowKey lt ${ticksKey(beforeTicks)}`,
          select: ['RowKey'],
        },
      });
      let tx = new TableTransaction();
      for await (const row of rows) {
        tx.deleteEntity(partition, row.rowKey!);
        if (tx.actions.length === BATCH) {
          await this.table.submitTransaction(tx.actions);
          deleted += BATCH;
          tx = new TableTransaction();
        }
      }
      if (tx.actions.length > 0) await this.table.submitTransaction(tx.actions);
      deleted += tx.actions.length;
    }
    return deleted;
  }

  private snapshotEntity(tenantId: string, v: IncidentVersion) {
    const s = snapshotOf(v.header);
    return {
      partitionKey: snapPartition(tenantId),
      rowKey: rowKey(toTicks(v.header.lastUpdate), v.header.incidentId),
      status: s.status,
      assignedTo: s.assignedTo ?? '',
      classification: s.classification ?? '',
      determination: s.determination ?? '',
      tags: JSON.stringify(s.tags),
    };
  }
}
