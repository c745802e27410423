/**
 * Syncs one tenant: every incident version updated since the checkpoint reaches every destination once.
 *
 * - The run reads from the checkpoint minus an overlap window, so updates that become visible late
 *   (eventual consistency) or share a timestamp across a boundary are read again; versions already
 *   delivered (the delivered record) are suppressed.
 * - How the tenant's incidents are read is the reader's business (src/defender/incident-reader.ts): after
 *   each page it says where its traversal stands and up to which time everything has been read.
 * - A page's new versions go to every destination, then are recorded as delivered together with the
 *   traversal's position and the checkpoint (one table transaction, see PageRecorder); the checkpoint moves
 *   only forward and never past a version not yet recorded. A crash anywhere leads to redelivery of
 *   unrecorded versions, never to a loss; a run stopped by its budget or a crash resumes the traversal.
 * - A run stops cleanly when its call or time budget is spent; the next one continues the traversal.
 * - Each tenant reads its own API (`apiOf`, from the tenant registry). Switching a tenant keeps its
 *   checkpoint and delivered record: a version has one key whichever API read it, so the other reader
 *   starts a new traversal from the checkpoint minus the overlap and suppresses what was delivered.
 * - Two-way sync (docs/two-way.md): a page's versions have their fields recorded before delivery (the base
 *   of a later inbound update), and those the relay's own inbound updates produced are marked as echoes.
 */
import type { IncidentReader, ReadStart, ReadStep } from '../defender/incident-reader';
import type { ApiFlavour, IncidentVersion } from '../defender/incident';
import { BudgetExhaustedError } from '../defender/errors';
import { newBudget, type RunBudget } from '../defender/http';
import { canonicalTimestamp, msToTicks, ticksToIso, toTicks } from '../defender/timestamp';
import { toIncidentEvent, type IncidentEvent } from '../delivery/envelope';
import { outgoingEvents } from './outgoing-events';
import { RETENTION_DAYS, type VersionLedger } from '../two-way/version-ledger';
import type { Destination } from '../delivery/destination';
import type { StateStore, TenantState, Traversal } from './state-store';
import { PageRecorder, RECORD_MARGIN_MS } from './page-recorder';
import { failpoint } from './failpoints';
import { lagSeconds, readThroughOf } from './lag';

export interface SyncSettings {
  initialLookbackMs: number;
  overlapMs: number;
  maxApiCallsPerRun: number;
  maxRunMs: number;
  /**
   * How far behind the checkpoint delivered records are kept, when longer than the overlap: the
   * completeness sweep's window (src/sweep/), which checks versions against them.
   */
  recordRetentionMs?: number;
}

/** How far behind the checkpoint delivered records are kept: the overlap, or the sweep's window. */
export function recordRetentionMs(settings: SyncSettings): number {
  return Math.max(settings.overlapMs, settings.recordRetentionMs ?? 0);
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
  /** Versions a destination sent again after a send it may have carried out (each maybe there twice). */
  possibleRepeats: number;
  apiCalls: number;
  /** Where the run's traversal started reading (checkpoint minus overlap, or `since`). */
  from: string;
  /** The checkpoint after the run. */
  checkpoint?: string;
  /** The time up to which the tenant has been read completely after the run (src/sync/lag.ts). */
  readThrough?: string;
  /** Now minus `readThrough`, at the end of the run (src/sync/lag.ts). */
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
  /** The checkpoint so far. */
  latest?: string;
}

export interface TenantSyncDeps {
  /** The reader of tenants whose API `apiOf` does not name (or when there is no `apiOf`). */
  source: IncidentReader;
  /** One reader per API; a tenant's API picks its reader. */
  readers?: Partial<Record<ApiFlavour, IncidentReader>>;
  /** The API a tenant reads now (the tenant registry). */
  apiOf?: (tenantId: string) => Promise<ApiFlavour>;
  destinations: Destination[];
  state: StateStore;
  settings: SyncSettings;
  now?: () => number;
  log?: (message: string) => void;
  /** Two-way sync: snapshots recorded before delivery, echoes of the relay's own updates marked. */
  ledger?: VersionLedger;
}

export interface TenantSyncOptions {
  /** Backfill: read from this time (no overlap) instead of the checkpoint. The checkpoint never moves back. */
  since?: string;
  onProgress?: (p: SyncProgress) => void;
  budget?: RunBudget;
  /** Where this run logs (the invocation's logger in the Functions host); else the relay's own. */
  log?: (message: string) => void;
  /** The tenant lease's signal: aborted when the lease is lost, the run stops before its next page. */
  signal?: AbortSignal;
}

/** Where a run starts: a traversal to resume, or a new one from a time. */
interface RunStart {
  from: string;
  position?: string;
  /** Whether the traversal's position is stored (not for a backfill, which never resumes). */
  persist: boolean;
}

/** Where a run starts when no traversal is resumed: the checkpoint (or the initial lookback) minus the overlap. */
function freshStart(tenant: TenantState | undefined, settings: SyncSettings, now: number): RunStart {
  const cursor = tenant?.cursor ? toTicks(tenant.cursor) : msToTicks(now - settings.initialLookbackMs);
  return { from: ticksToIso(cursor - msToTicks(settings.overlapMs)), persist: true };
}

export class TenantSync {
  private readonly now: () => number;

  constructor(private readonly deps: TenantSyncDeps) {
    this.now = deps.now ?? Date.now;
  }

  get api(): 'graph' | 'legacy' {
    return this.deps.source.api;
  }

  /** The reader of the tenant's API. */
  async readerFor(tenantId: string): Promise<IncidentReader> {
    const api = this.deps.apiOf ? await this.deps.apiOf(tenantId) : this.deps.source.api;
    return this.deps.readers?.[api] ?? this.deps.source;
  }

  async run(tenantId: string, options: TenantSyncOptions = {}): Promise<TenantSyncResult> {
    const { settings } = this.deps;
    const started = this.now();
    const budget = options.budget ?? newBudget(settings.maxApiCallsPerRun, settings.maxRunMs, started);
    const callsBefore = budget.callsMade;
    const source = await this.readerFor(tenantId);
    const tenant = await this.deps.state.getTenant(tenantId);
    const start = this.startOf(tenant, options, started, source.api);
    // The first sync of a tenant says from when versions were owed (the completeness sweep's floor).
    if (start.persist && !tenant?.cursor && !tenant?.deliveredFrom && !tenant?.traversal)
      await this.deps.state.saveDeliveredFrom(tenantId, start.from);
    const result: TenantSyncResult = {
      tenantId,
      api: source.api,
      outcome: 'complete',
      fetched: 0,
      delivered: 0,
      suppressed: 0,
      malformed: 0,
      possibleRepeats: 0,
      apiCalls: 0,
      from: start.from,
      checkpoint: tenant?.cursor,
      readThrough: readThroughOf(tenant),
      durationMs: 0,
    };
    const apiCalls = () => budget.callsMade - callsBefore;
    try {
      const deps = { ...this.deps, source, log: options.log ?? this.deps.log };
      await new SyncRun(deps, tenantId, start, result, tenant, options.signal).readAll(budget, (r) =>
        options.onProgress?.({
          tenantId,
          fetched: r.fetched,
          delivered: r.delivered,
          suppressed: r.suppressed,
          apiCalls: apiCalls(),
          latest: r.checkpoint,
        }),
      );
    } catch (error) {
      describeFailure(result, error);
    }
    result.apiCalls = apiCalls();
    await this.finish(tenantId, result, started);
    return result;
  }

  /**
   * A traversal of the other API (the tenant was switched) is not resumed: the other reader's position
   * means nothing here, and records behind the checkpoint may be pruned already, so the new traversal
   * starts from the checkpoint minus the overlap, whose delivered record is complete.
   */
  private startOf(
    tenant: TenantState | undefined,
    options: TenantSyncOptions,
    now: number,
    api: ApiFlavour,
  ): RunStart {
    if (options.since) return { from: canonicalTimestamp(options.since), persist: false };
    const traversal = tenant?.traversal;
    if (traversal && (traversal.api ?? this.deps.source.api) === api)
      return { from: traversal.from, position: traversal.position, persist: true };
    // No checkpoint yet: nothing was pruned, and the other traversal's start is the earlier one.
    if (traversal && !tenant?.cursor) return { from: traversal.from, persist: true };
    return freshStart(tenant, this.deps.settings, now);
  }

  /** Prunes what can no longer suppress anything, records the run, and works out the lag. */
  private async finish(tenantId: string, result: TenantSyncResult, started: number): Promise<void> {
    const { state, settings } = this.deps;
    if (result.outcome !== 'failed' && result.checkpoint) {
      // Records older than the next run's window (and the sweep's) can never suppress anything again.
      const horizon =
        toTicks(result.checkpoint) - msToTicks(recordRetentionMs(settings)) - msToTicks(RECORD_MARGIN_MS);
      await state
        .pruneDelivered(tenantId, horizon)
        .catch((e: Error) => this.deps.log?.(`prune failed: ${e.message}`));
      await this.deps.ledger
        ?.prune(tenantId, msToTicks(this.now() - RETENTION_DAYS * 86_400_000))
        .catch((e: Error) => this.deps.log?.(`two-way records: prune failed: ${e.message}`));
    }
    await state.recordRun(tenantId, {
      outcome: result.outcome,
      error: result.outcome === 'failed' ? result.error : undefined,
      delivered: result.delivered,
    });
    result.lagSeconds = lagSeconds(result.readThrough ?? result.checkpoint, this.now());
    result.durationMs = this.now() - started;
  }
}

function describeFailure(result: TenantSyncResult, error: unknown): void {
  if (error instanceof BudgetExhaustedError) {
    result.outcome = 'budget';
    result.error = error.message;
    return;
  }
  result.outcome = 'failed';
  result.error = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') result.errorCode = code;
}

/** One run's traversal: read, suppress what was delivered, deliver, record. */
class SyncRun {
  /** Versions delivered (before or during this run) that the rest of the traversal may still read. */
  private readonly delivered = new Map<string, bigint>();
  private readonly recorder: PageRecorder;
  /** Ticks of the checkpoint as it stands (stored or being stored). */
  private cursorTicks: bigint | undefined;
  /** Below this the delivered set has been trimmed. */
  private trimmedTo: bigint | undefined;
  /** Ticks of the time read completely as it stands; undefined while this run may not move it. */
  private readThroughTicks: bigint | undefined;
  /** Whether this run's traversal joins what was read before (it starts at or before `readThrough`). */
  private readonly extendsRead: boolean;

  constructor(
    private readonly deps: TenantSyncDeps,
    private readonly tenantId: string,
    private readonly start: RunStart,
    private readonly result: TenantSyncResult,
    tenant: TenantState | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.cursorTicks = tenant?.cursor ? toTicks(tenant.cursor) : undefined;
    const through = readThroughOf(tenant);
    this.readThroughTicks = through ? toTicks(through) : undefined;
    // A backfill from after the time read completely leaves a gap: it proves nothing about the lag.
    this.extendsRead = this.readThroughTicks === undefined || toTicks(start.from) <= this.readThroughTicks;
    this.recorder = new PageRecorder(
      deps.state,
      tenantId,
      recordRetentionMs(deps.settings),
      (versions, cursor, readThrough) => {
        this.result.delivered += versions;
        if (cursor) this.result.checkpoint = cursor;
        if (readThrough) this.result.readThrough = readThrough;
      },
    );
  }

  async readAll(budget: RunBudget, progress: (r: TenantSyncResult) => void): Promise<void> {
    const { source, state } = this.deps;
    for (const key of await state.deliveredSince(this.tenantId, toTicks(this.start.from)))
      this.delivered.set(key, toTicks(key.slice(key.lastIndexOf('/') + 1)));
    const read: ReadStart = {
      from: this.start.from,
      position: this.start.position,
      budget,
      log: this.deps.log,
    };
    try {
      for await (const step of source.read(this.tenantId, read)) {
        await failpoint('page-read');
        await this.handle(step);
        progress(this.result);
      }
    } finally {
      // Records still being written settle first: the checkpoint and counts reflect what was recorded.
      await this.recorder.settle();
    }
    this.recorder.finish();
  }

  private async handle(step: ReadStep): Promise<void> {
    // A lost lease (src/sync/tenant-lease.ts): another run may hold the tenant, so nothing more is done.
    this.signal?.throwIfAborted();
    this.result.fetched += step.incidents.length;
    this.result.malformed += step.malformed.length;
    for (const reason of step.malformed)
      this.deps.log?.(`tenant ${this.tenantId}: skipped an unreadable incident (${reason})`);
    const fresh = this.fresh(step.incidents);
    if (fresh.length > 0) {
      const events = await this.events(fresh);
      // Every destination must accept the page before it is recorded as delivered.
      for (const destination of this.deps.destinations) {
        const report = await destination.deliver(events);
        if (report && report.possibleRepeats > 0) {
          this.result.possibleRepeats += report.possibleRepeats;
          this.deps.log?.(
            `tenant ${this.tenantId}: ${report.possibleRepeats} version(s) sent to ${destination.name} again after a send that got no answer; each may be there twice (same id)`,
          );
        }
      }
      await failpoint('delivered');
    }
    const cursor = this.nextCursor(step.checkpoint);
    const traversal: Traversal | null | undefined = !this.start.persist
      ? undefined
      : step.position
        ? { from: this.start.from, position: step.position, api: this.deps.source.api }
        : null;
    const readThrough = this.nextReadThrough(step.readThrough ?? step.checkpoint);
    await this.recorder.record(fresh, { cursor, traversal, readThrough });
    if (step.checkpoint) this.trim(toTicks(step.checkpoint));
  }

  /**
   * The events of a page: each version's fields are recorded first (a sender can base an update only on a
   * version it received), and versions the relay's own inbound updates produced are marked as echoes.
   */
  private events(fresh: IncidentVersion[]): Promise<IncidentEvent[]> {
    return outgoingEvents(this.deps.ledger, this.tenantId, fresh, (v) => toIncidentEvent(v));
  }

  /** The versions of a page not delivered before (now remembered as delivered). */
  private fresh(incidents: IncidentVersion[]): IncidentVersion[] {
    const fresh: IncidentVersion[] = [];
    for (const version of incidents) {
      if (this.delivered.has(version.versionKey)) {
        this.result.suppressed++;
        continue;
      }
      this.delivered.set(version.versionKey, toTicks(version.header.lastUpdate));
      fresh.push(version);
    }
    return fresh;
  }

  /** The checkpoint to move to with this page, when it moves forward. */
  private nextCursor(checkpoint: string | undefined): string | undefined {
    if (!checkpoint) return undefined;
    const ticks = toTicks(checkpoint);
    if (this.cursorTicks !== undefined && ticks <= this.cursorTicks) return undefined;
    this.cursorTicks = ticks;
    return ticksToIso(ticks);
  }

  /** The time read completely to move to with this page, when it moves forward. */
  private nextReadThrough(through: string | undefined): string | undefined {
    if (!through || !this.extendsRead) return undefined;
    const ticks = toTicks(through);
    if (this.readThroughTicks !== undefined && ticks <= this.readThroughTicks) return undefined;
    this.readThroughTicks = ticks;
    return ticksToIso(ticks);
  }

  /** Versions updated before what the traversal has finished cannot come back in it: memory stays flat. */
  private trim(before: bigint): void {
    if (this.trimmedTo !== undefined && before <= this.trimmedTo) return;
    this.trimmedTo = before;
    for (const [key, t] of this.delivered) if (t < before) this.delivered.delete(key);
  }
}
