/**
 * What two-way sync remembers per incident version, in the inbound table (INBOUND_TABLE_NAME):
 *
 * - a snapshot of the update-able fields of each version the relay delivered (written before the version
 *   is delivered, so every version a sender can hold as its base is known) and of each version the relay's
 *   own update produced: conflict detection compares them with the current incident;
 * - echoes: the version the relay's own PATCH or comment produced (the answer's last-update time), with
 *   the sender and the inbound message id, so the sync marks that version when it delivers it.
 *
 * Snapshots: partition `snap|<tenant>`, row `<incident>|<ticks>`; echoes: partition `echo|<tenant>`, row
 * `<ticks>|<incident>` (a page's echoes are one range query from its earliest version).
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
        `${incidentId}|${ticksKey(ticks)}`,
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
        rowKey: `${ticksKey(toTicks(lastUpdate))}|${incidentId}`,
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
      versions.map((v) => [`${ticksKey(toTicks(v.header.lastUpdate))}|${v.header.incidentId}`, v.versionKey]),
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

  private snapshotEntity(tenantId: string, v: IncidentVersion) {
    const s = snapshotOf(v.header);
    return {
      partitionKey: snapPartition(tenantId),
      rowKey: `${v.header.incidentId}|${ticksKey(toTicks(v.header.lastUpdate))}`,
      status: s.status,
      assignedTo: s.assignedTo ?? '',
      classification: s.classification ?? '',
      determination: s.determination ?? '',
      tags: JSON.stringify(s.tags),
    };
  }
}
