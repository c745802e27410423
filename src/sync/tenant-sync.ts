/**
 * Syncs one tenant: every incident version updated since the checkpoint reaches every destination once.
 *
 * - The run reads from the checkpoint minus an overlap window, so updates that become visible late
 *   (eventual consistency) or share a timestamp across a page boundary are read again; versions already
 *   delivered (the delivered record) are suppressed.
 * - A page's new versions go to every destination, then are recorded as delivered; the checkpoint moves
 *   only after that, and only forward. A crash anywhere leads to redelivery of unrecorded versions, never
 *   to a loss.
 * - Ordered (Graph) pages move the checkpoint page by page. Unordered (legacy) results move it only when
 *   the whole result has been read; a run stopped by its budget first stores where to resume (offset and
 *   latest time read), so a backlog larger than one run's budget is still worked off across runs.
 * - An incident seen in two versions during one unordered traversal was updated while it paged; had the
 *   API's order moved it, offset paging may have skipped a neighbour, so the checkpoint stays at the
 *   incident's older time and the next run reads that stretch again.
 * - A run stops cleanly when its call or time budget is spent; the next one continues from the checkpoint.
 */
import type { IncidentSource } from '../defender/incident-source';
import type { IncidentVersion } from '../defender/incident';
import { BudgetExhaustedError } from '../defender/errors';
import { newBudget, type RunBudget } from '../defender/http';
import { msToTicks, ticksToIso, toTicks } from '../defender/timestamp';
import { toIncidentEvent } from '../delivery/envelope';
import type { Destination } from '../delivery/destination';
import type { RecordRef, ResumePoint, StateStore } from './state-store';
import { failpoint } from './failpoints';

export interface SyncSettings {
  initialLookbackMs: number;
  overlapMs: number;
  maxApiCallsPerRun: number;
  maxRunMs: number;
}

export interface TenantSyncResult {
  tenantId: string;
  api: 'graph' | 'legacy';
  /** `busy`: another run held the tenant's lease, so this one did nothing. */
  outcome: 'complete' | 'budget' | 'failed' | 'busy';
  fetched: number;
  delivered: number;
  suppressed: number;
  malformed: number;
  apiCalls: number;
  /** Where the run started reading (checkpoint minus overlap, or `since`). */
  from: string;
  /** The checkpoint after the run. */
  checkpoint?: string;
  lagSeconds?: number;
  durationMs: number;
  error?: string;
  /** Machine-readable cause of a failure when known (e.g. `consent_missing` from src/auth/errors.ts). */
  errorCode?: string;
}

export interface SyncProgress {
  tenantId: string;
  fetched: number;
  delivered: number;
  suppressed: number;
  apiCalls: number;
  latest?: string;
}

export interface TenantSyncDeps {
  source: IncidentSource;
  destinations: Destination[];
  state: StateStore;
  settings: SyncSettings;
  now?: () => number;
  log?: (message: string) => void;
}

export interface TenantSyncOptions {
  /** Backfill: read from this time (no overlap) instead of the checkpoint. The checkpoint never moves back. */
  since?: string;
  onProgress?: (p: SyncProgress) => void;
  budget?: RunBudget;
}

/** Delivered records are kept this long past the next run's window before they are pruned. */
const RECORD_MARGIN_MS = 60 * 60_000;

/** The last-update time in a version key (`<tenant>/<incident>/<canonical time>`), as ticks. */
function versionTicks(versionKey: string): bigint {
  return toTicks(versionKey.slice(versionKey.lastIndexOf('/') + 1));
}

export class TenantSync {
  private readonly now: () => number;

  constructor(private readonly deps: TenantSyncDeps) {
    this.now = deps.now ?? Date.now;
  }

  get api(): 'graph' | 'legacy' {
    return this.deps.source.api;
  }

  async run(tenantId: string, options: TenantSyncOptions = {}): Promise<TenantSyncResult> {
    const { source, destinations, state, settings } = this.deps;
    const started = this.now();
    const budget = options.budget ?? newBudget(settings.maxApiCallsPerRun, settings.maxRunMs, started);
    const callsBefore = budget.callsMade;
    const tenant = await state.getTenant(tenantId);
    const cursorTicks = tenant?.cursor ? toTicks(tenant.cursor) : undefined;
    // An unordered traversal interrupted by its budget is resumed where it stopped (not for a backfill).
    const resume: ResumePoint | undefined = !options.since && !source.ordered ? tenant?.resume : undefined;
    const fromTicks = resume
      ? toTicks(resume.from)
      : options.since
        ? toTicks(options.since)
        : (cursorTicks ?? msToTicks(started - settings.initialLookbackMs)) -
          // A run that stopped on its budget is continued where it stopped: re-reading the overlap first
          // would spend the next budget on versions already delivered (and could stall a dense backlog).
          // The overlap is for the tail of a finished run, where late updates can still appear.
          (tenant?.lastOutcome === 'budget' && cursorTicks !== undefined
            ? 0n
            : msToTicks(settings.overlapMs));
    const from = ticksToIso(fromTicks);
    const result: TenantSyncResult = {
      tenantId,
      api: source.api,
      outcome: 'complete',
      fetched: 0,
      delivered: 0,
      suppressed: 0,
      malformed: 0,
      apiCalls: 0,
      from,
      checkpoint: tenant?.cursor,
      durationMs: 0,
    };

    /** Versions delivered (before or during this run) that the rest of the run may still read. */
    const delivered = new Map<string, bigint>();
    for (const key of await state.deliveredSince(tenantId, fromTicks)) delivered.set(key, versionTicks(key));
    /** Latest last-update time of the versions read (all delivered or suppressed). */
    let maxSeen: bigint | undefined = resume?.maxSeen ? toTicks(resume.maxSeen) : undefined;
    /** Unordered traversal: the version of each incident read so far, and the oldest earlier version of
     * an incident that changed while the traversal paged. */
    const seenVersion = new Map<string, bigint>();
    let movedFloor: bigint | undefined;

    /** The checkpoint to move to now, when it moves forward. */
    const checkpointTarget = (): string | undefined => {
      let target = maxSeen;
      if (target !== undefined && movedFloor !== undefined && movedFloor < target) target = movedFloor;
      if (target === undefined || (cursorTicks !== undefined && target <= cursorTicks)) return undefined;
      if (result.checkpoint && target <= toTicks(result.checkpoint)) return undefined;
      return ticksToIso(target);
    };
    const moveCheckpoint = async () => {
      const cursor = checkpointTarget();
      if (!cursor) return;
      await state.saveCursor(tenantId, cursor);
      result.checkpoint = cursor;
    };
    /** Ordered runs: the records this run wrote, oldest first, until they are too old to matter. */
    const written: RecordRef[] = [];
    let writtenHead = 0;
    const horizonOf = (checkpoint: string) =>
      toTicks(checkpoint) - msToTicks(settings.overlapMs) - msToTicks(RECORD_MARGIN_MS);
    /** The record of the last delivered ordered page, being written while the next page is worked. */
    let pendingRecord: Promise<void> | undefined;
    /**
     * Ordered pages: the page's records and the checkpoint up to it in one table transaction; records this
     * run wrote that fell behind the saved checkpoint's horizon are deleted in it too, so the record stays
     * small however long the backlog: one table transaction per page.
     */
    const recordOrdered = async (fresh: IncidentVersion[]): Promise<void> => {
      const cursor = checkpointTarget();
      const forget: typeof written = [];
      if (result.checkpoint) {
        const horizon = horizonOf(result.checkpoint);
        while (
          writtenHead < written.length &&
          forget.length < 90 &&
          (written[writtenHead] as (typeof written)[number]).lastUpdateTicks < horizon
        )
          forget.push(written[writtenHead++] as (typeof written)[number]);
      }
      written.push(...(await state.recordDelivered(tenantId, fresh, { cursor, forget })));
      if (cursor) result.checkpoint = cursor;
      if (writtenHead > 1024) {
        written.splice(0, writtenHead);
        writtenHead = 0;
      }
      await failpoint('recorded');
      result.delivered += fresh.length;
    };

    try {
      for await (const page of source.pages(tenantId, from, budget, resume?.skip)) {
        await failpoint('page-read');
        result.fetched += page.incidents.length;
        result.malformed += page.malformed.length;
        for (const reason of page.malformed)
          this.deps.log?.(`tenant ${tenantId}: skipped an unreadable incident (${reason})`);
        const fresh: IncidentVersion[] = [];
        let pageLatest: bigint | undefined;
        for (const version of page.incidents) {
          const ticks = toTicks(version.header.lastUpdate);
          if (pageLatest === undefined || ticks > pageLatest) pageLatest = ticks;
          if (!source.ordered) {
            const earlier = seenVersion.get(version.header.incidentId);
            if (earlier !== undefined && earlier !== ticks) {
              const older = earlier < ticks ? earlier : ticks;
              if (movedFloor === undefined || older < movedFloor) movedFloor = older;
            }
            if (earlier === undefined || ticks > earlier) seenVersion.set(version.header.incidentId, ticks);
          }
          if (delivered.has(version.versionKey)) {
            result.suppressed++;
            continue;
          }
          delivered.set(version.versionKey, ticks);
          fresh.push(version);
        }
        if (pageLatest !== undefined && (maxSeen === undefined || pageLatest > maxSeen)) maxSeen = pageLatest;
        if (fresh.length > 0) {
          const events = fresh.map(toIncidentEvent);
          // Every destination must accept the page before it is recorded as delivered.
          for (const destination of destinations) await destination.deliver(events);
          await failpoint('delivered');
          if (source.ordered) {
            // Pipelined: this page's record is written while the next page is read and delivered. Records
            // go in page order (each waits for the one before), each with the checkpoint up to its page, so
            // the checkpoint never passes an unrecorded version; if a record fails, the pages sent after it
            // were not recorded and are sent again by the next run (as after a crash), never lost.
            await pendingRecord;
            pendingRecord = recordOrdered(fresh);
            // A failure surfaces where the record is awaited (next page, end of run); not as unhandled.
            pendingRecord.catch(() => undefined);
          } else {
            await state.recordDelivered(tenantId, fresh);
            await failpoint('recorded');
            result.delivered += fresh.length;
          }
        }
        // Ordered pages: everything up to the latest time read has been handled (late arrivals are the
        // overlap's job). Unordered pages: only the end of the whole result says that; until then the
        // traversal's position is kept so that a later run can resume it.
        if (source.ordered) {
          // A page with nothing new still moves the checkpoint, after the records before it.
          if (fresh.length === 0) {
            await pendingRecord;
            await moveCheckpoint();
          }
          // Ordered pages are asked for from the latest time read: older versions cannot come back in
          // this run, so memory stays flat however long the backlog.
          if (maxSeen !== undefined) for (const [key, t] of delivered) if (t < maxSeen) delivered.delete(key);
        } else if (page.nextSkip !== undefined) {
          await state.saveResume(tenantId, {
            from,
            skip: page.nextSkip,
            maxSeen: maxSeen !== undefined ? ticksToIso(maxSeen) : undefined,
          });
        }
        result.apiCalls = budget.callsMade - callsBefore;
        options.onProgress?.({
          tenantId,
          fetched: result.fetched,
          delivered: result.delivered,
          suppressed: result.suppressed,
          apiCalls: result.apiCalls,
          latest: maxSeen !== undefined ? ticksToIso(maxSeen) : undefined,
        });
      }
      await pendingRecord;
      await moveCheckpoint();
      if (!source.ordered) await state.saveResume(tenantId, null);
    } catch (error) {
      // A record still being written settles first: the checkpoint and counts reflect what was recorded.
      await pendingRecord?.catch(() => undefined);
      result.apiCalls = budget.callsMade - callsBefore;
      if (error instanceof BudgetExhaustedError) {
        result.outcome = 'budget';
        result.error = error.message;
      } else {
        result.outcome = 'failed';
        result.error = error instanceof Error ? error.message : String(error);
        const code = (error as { code?: unknown })?.code;
        if (typeof code === 'string') result.errorCode = code;
      }
    }
    result.apiCalls = budget.callsMade - callsBefore;

    if (result.outcome !== 'failed' && result.checkpoint) {
      // Records older than the next run's window can never suppress anything again.
      const horizon = horizonOf(result.checkpoint);
      await state
        .pruneDelivered(tenantId, horizon)
        .catch((e: Error) => this.deps.log?.(`prune failed: ${e.message}`));
    }
    await state.recordRun(tenantId, {
      outcome: result.outcome,
      error: result.outcome === 'failed' ? result.error : undefined,
      delivered: result.delivered,
    });
    if (result.checkpoint)
      result.lagSeconds = Math.max(
        0,
        Math.round((this.now() - Number(toTicks(result.checkpoint) / 10_000n)) / 1000),
      );
    result.durationMs = this.now() - started;
    return result;
  }
}
