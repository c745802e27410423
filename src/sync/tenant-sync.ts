/**
 * Syncs one tenant: every incident version updated since the checkpoint reaches every destination once.
 *
 * - The run reads from the checkpoint minus an overlap window, so updates that become visible late
 *   (eventual consistency) or share a timestamp across a page boundary are read again; versions already
 *   delivered (the delivered record) are suppressed.
 * - A page's new versions go to every destination, then are recorded as delivered; the checkpoint moves
 *   only after that, and only forward. A crash anywhere leads to redelivery of unrecorded versions, never
 *   to a loss.
 * - An incident seen in two versions during one run was updated while the run paged; the API's offset
 *   paging may then have skipped a neighbour, so the checkpoint stays at the incident's older time and the
 *   next run reads that stretch again.
 * - A run stops cleanly when its call or time budget is spent; the next one continues from the checkpoint.
 */
import type { IncidentSource } from '../defender/incident-source';
import type { IncidentVersion } from '../defender/incident';
import { BudgetExhaustedError } from '../defender/errors';
import { newBudget, type RunBudget } from '../defender/http';
import { msToTicks, ticksToIso, toTicks } from '../defender/timestamp';
import { toIncidentEvent } from '../delivery/envelope';
import type { Destination } from '../delivery/destination';
import type { StateStore } from './state-store';

export interface SyncSettings {
  initialLookbackMs: number;
  overlapMs: number;
  maxApiCallsPerRun: number;
  maxRunMs: number;
}

export interface TenantSyncResult {
  tenantId: string;
  api: 'graph' | 'legacy';
  outcome: 'complete' | 'budget' | 'failed';
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

export class TenantSync {
  private readonly now: () => number;

  constructor(private readonly deps: TenantSyncDeps) {
    this.now = deps.now ?? Date.now;
  }

  async run(tenantId: string, options: TenantSyncOptions = {}): Promise<TenantSyncResult> {
    const { source, destinations, state, settings } = this.deps;
    const started = this.now();
    const budget = options.budget ?? newBudget(settings.maxApiCallsPerRun, settings.maxRunMs, started);
    const callsBefore = budget.callsMade;
    const tenant = await state.getTenant(tenantId);
    const cursorTicks = tenant?.cursor ? toTicks(tenant.cursor) : undefined;
    const fromTicks = options.since
      ? toTicks(options.since)
      : (cursorTicks ?? msToTicks(started - settings.initialLookbackMs)) - msToTicks(settings.overlapMs);
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

    const delivered = await state.deliveredSince(tenantId, fromTicks);
    /** Latest last-update time of the versions read (all delivered or suppressed). */
    let maxSeen: bigint | undefined;
    /** Oldest earlier version of an incident that changed while this run paged. */
    let movedFloor: bigint | undefined;
    const seenVersion = new Map<string, bigint>();

    const moveCheckpoint = async () => {
      let target = maxSeen;
      if (target !== undefined && movedFloor !== undefined && movedFloor < target) target = movedFloor;
      if (target === undefined || (cursorTicks !== undefined && target <= cursorTicks)) return;
      if (result.checkpoint && target <= toTicks(result.checkpoint)) return;
      const cursor = ticksToIso(target);
      await state.saveCursor(tenantId, cursor);
      result.checkpoint = cursor;
    };

    try {
      for await (const page of source.pages(tenantId, from, budget)) {
        result.fetched += page.incidents.length;
        result.malformed += page.malformed.length;
        for (const reason of page.malformed)
          this.deps.log?.(`tenant ${tenantId}: skipped an unreadable incident (${reason})`);
        const fresh: IncidentVersion[] = [];
        for (const version of page.incidents) {
          const ticks = toTicks(version.header.lastUpdate);
          const earlier = seenVersion.get(version.header.incidentId);
          if (earlier !== undefined && earlier !== ticks) {
            const older = earlier < ticks ? earlier : ticks;
            if (movedFloor === undefined || older < movedFloor) movedFloor = older;
          }
          seenVersion.set(
            version.header.incidentId,
            earlier !== undefined && earlier > ticks ? earlier : ticks,
          );
          if (maxSeen === undefined || ticks > maxSeen) maxSeen = ticks;
          if (delivered.has(version.versionKey)) {
            result.suppressed++;
            continue;
          }
          delivered.add(version.versionKey);
          fresh.push(version);
        }
        if (fresh.length > 0) {
          const events = fresh.map(toIncidentEvent);
          // Every destination must accept the page before it is recorded as delivered.
          for (const destination of destinations) await destination.deliver(events);
          await state.recordDelivered(tenantId, fresh);
          result.delivered += fresh.length;
        }
        // Ordered pages: everything up to the latest time read has been handled (late arrivals are the
        // overlap's job). Unordered pages: only the end of the whole result says that.
        if (source.ordered) await moveCheckpoint();
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
      await moveCheckpoint();
    } catch (error) {
      result.apiCalls = budget.callsMade - callsBefore;
      if (error instanceof BudgetExhaustedError) {
        result.outcome = 'budget';
        result.error = error.message;
      } else {
        result.outcome = 'failed';
        result.error = error instanceof Error ? error.message : String(error);
      }
    }
    result.apiCalls = budget.callsMade - callsBefore;

    if (result.outcome !== 'failed' && result.checkpoint) {
      // Records older than the next run's window can never suppress anything again.
      const horizon = toTicks(result.checkpoint) - msToTicks(settings.overlapMs) - msToTicks(60 * 60_000);
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
