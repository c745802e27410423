/**
 * Records delivered pages, pipelined: a page's record is written while the next page is read and
 * delivered. Records go in page order (each waits for the one before), each in one table transaction with
 * the checkpoint up to its page and the traversal's position after it, so the checkpoint never passes an
 * unrecorded version and a resumed traversal never skips one. If a record fails, the pages sent after it
 * were not recorded and are sent again by the next run (as after a crash), never lost.
 *
 * Record rows this run wrote that fell behind the checkpoint's horizon are deleted in the same
 * transactions, so the record stays small however long the backlog: one table transaction per page.
 */
import type { IncidentVersion } from '../defender/incident';
import { msToTicks, toTicks } from '../defender/timestamp';
import type { RecordRef, StateStore, Traversal } from './state-store';
import { failpoint } from './failpoints';

/** Delivered records are kept this long past the next run's window before they are pruned. */
export const RECORD_MARGIN_MS = 60 * 60_000;

export interface PageRecord {
  /** The checkpoint to move to with this page. */
  cursor?: string;
  /** The traversal's position after this page (null: complete; undefined: not stored, a backfill). */
  traversal?: Traversal | null;
  /** The time read completely to move to with this page (src/sync/lag.ts). */
  readThrough?: string;
}

export class PageRecorder {
  private pending: Promise<void> | undefined;
  private failure: unknown;
  /** A position after pages that had nothing to record: stored with the next record, or at the end. */
  private unsaved: Traversal | null | undefined;
  private readonly written: RecordRef[] = [];
  private writtenHead = 0;
  /** The checkpoint stored so far. */
  private storedCursor: string | undefined;

  constructor(
    private readonly state: StateStore,
    private readonly tenantId: string,
    /** How far behind the checkpoint records are kept (the overlap, or the sweep's window). */
    private readonly retentionMs: number,
    private readonly onRecorded: (versions: number, cursor: string | undefined, readThrough?: string) => void,
  ) {}

  /** Queues the page's record behind the one before; throws when the one before failed. */
  async record(fresh: IncidentVersion[], page: PageRecord): Promise<void> {
    if (fresh.length === 0 && !page.cursor && !page.readThrough) {
      if (page.traversal !== undefined) this.unsaved = page.traversal;
      return;
    }
    await this.pending;
    this.unsaved = undefined;
    this.pending = this.write(fresh, page);
    // A failure surfaces where the record is awaited (next page, end of run); not as unhandled.
    this.pending.catch(() => undefined);
  }

  /** Waits for the last record and stores a position not yet stored; a failure is kept for `finish`. */
  async settle(): Promise<void> {
    try {
      await this.pending;
      if (this.unsaved !== undefined) await this.state.saveTraversal(this.tenantId, this.unsaved);
      this.unsaved = undefined;
    } catch (error) {
      this.failure ??= error;
    }
  }

  /** Throws the failure of a record, if one failed. */
  finish(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private async write(fresh: IncidentVersion[], page: PageRecord): Promise<void> {
    const forget = this.behindHorizon();
    const refs = await this.state.recordDelivered(this.tenantId, fresh, {
      cursor: page.cursor,
      traversal: page.traversal,
      readThrough: page.readThrough,
      forget,
    });
    this.written.push(...refs);
    if (page.cursor) this.storedCursor = page.cursor;
    if (this.writtenHead > 1024) {
      this.written.splice(0, this.writtenHead);
      this.writtenHead = 0;
    }
    await failpoint('recorded');
    this.onRecorded(fresh.length, page.cursor, page.readThrough);
  }

  /** Rows this run wrote that can no longer suppress anything (at most 90, to fit one transaction). */
  private behindHorizon(): RecordRef[] {
    if (!this.storedCursor) return [];
    const horizon = toTicks(this.storedCursor) - msToTicks(this.retentionMs) - msToTicks(RECORD_MARGIN_MS);
    const forget: RecordRef[] = [];
    while (this.writtenHead < this.written.length && forget.length < 90) {
      const ref = this.written[this.writtenHead] as RecordRef;
      if (ref.lastUpdateTicks >= horizon) break;
      forget.push(ref);
      this.writtenHead++;
    }
    return forget;
  }
}
