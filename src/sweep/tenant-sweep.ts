/**
 * The completeness sweep of one tenant (docs/completeness.md): it reads every incident whose last update
 * lies in the sweep window, [now − SWEEP_WINDOW_HOURS, checkpoint − overlap), with the sync's own
 * order-free reader (a window with an explicit end), and checks each current version against the delivered
 * record. What is missing is repaired (sweep-repair.ts) and logged with why it was missed. A complete sweep
 * proves completeness up to the window's end; a sweep stopped by its own call budget (SWEEP_MAX_API_CALLS_
 * PER_RUN; the per-tenant rate limiters are the sync's) stores its position and the next one resumes it.
 *
 * The window starts no earlier than the tenant's first sync (nothing before it was owed), or, for a
 * tenant synced before the sweep existed (its older records were pruned sooner), than the end of its
 * first sweep's window.
 */
import type { IncidentReader, ReadStep } from '../defender/incident-reader';
import type { ApiFlavour, IncidentVersion } from '../defender/incident';
import { BudgetExhaustedError } from '../defender/errors';
import { newBudget, type RunBudget } from '../defender/http';
import { msToTicks, ticksToIso, toTicks } from '../defender/timestamp';
import type { TenantState } from '../sync/state-store';
import { TenantBusyError } from '../sync/tenant-lease';
import type { Logger } from '../telemetry';
import type { SweepFigures, SweepState, SweepStateStore, SweepTraversal } from './sweep-state';
import {
  explainMiss,
  latestDeliveredByIncident,
  repairMissed,
  type Missed,
  type RepairDeps,
} from './sweep-repair';

export interface SweepSettings {
  windowMs: number;
  overlapMs: number;
  maxApiCallsPerRun: number;
  maxRunMs: number;
}

export interface TenantSweepDeps extends RepairDeps {
  readerFor(tenantId: string): Promise<IncidentReader>;
  sweepState: SweepStateStore;
  settings: SweepSettings;
  now?: () => number;
  log?: Logger;
}

export interface SweepOptions {
  /** Check this many hours back instead of SWEEP_WINDOW_HOURS (a new sweep; a stored one is not resumed). */
  hours?: number;
  budget?: RunBudget;
  onProgress?: (p: SweepProgress) => void;
  log?: Logger;
}

export interface SweepProgress extends SweepFigures {
  tenantId: string;
  apiCalls: number;
  /** Checked up to here so far. */
  through?: string;
}

export interface SweepResult extends SweepFigures {
  tenantId: string;
  api: ApiFlavour;
  /** `skipped`: the tenant has no checkpoint yet (nothing delivered to check); `busy`: a repair waited in vain for the sync. */
  outcome: 'complete' | 'budget' | 'failed' | 'busy' | 'skipped';
  from?: string;
  until?: string;
  /** The window's figures across resumed runs (this run's are `checked`, `missing`, `repaired`). */
  window: SweepFigures;
  /** Completeness is proven up to here (after a complete sweep: `until`). */
  provenThrough?: string;
  /** Seconds between now and `provenThrough`: the sweep's own lag. */
  lagSeconds?: number;
  /** The versions this run repaired, with why they were missed (at most 100 listed). */
  repairs: { versionKey: string; reason: string }[];
  apiCalls: number;
  durationMs: number;
  error?: string;
}

interface SweepWindow {
  from: string;
  until: string;
  position?: string;
  /** The figures of the runs before this one, when resuming. */
  pending: SweepFigures;
  floor?: string;
}

export class TenantSweep {
  private readonly now: () => number;

  constructor(private readonly deps: TenantSweepDeps) {
    this.now = deps.now ?? Date.now;
  }

  async run(tenantId: string, options: SweepOptions = {}): Promise<SweepResult> {
    const started = this.now();
    const { settings, state, sweepState } = this.deps;
    const log = options.log ?? this.deps.log;
    const budget = options.budget ?? newBudget(settings.maxApiCallsPerRun, settings.maxRunMs, started);
    const callsBefore = budget.callsMade;
    const reader = await this.deps.readerFor(tenantId);
    const [tenant, saved] = await Promise.all([state.getTenant(tenantId), sweepState.get(tenantId)]);
    const result = emptyResult(tenantId, reader.api, saved);
    const window = tenant?.cursor ? this.windowOf(tenant, saved, options, reader.api, started) : undefined;
    if (!window) {
      result.outcome = 'skipped';
      result.error = 'the tenant has not been synced yet: nothing was delivered to check';
      return this.finish(result, started, budget.callsMade - callsBefore);
    }
    Object.assign(result, { from: window.from, until: window.until });
    result.window = { ...window.pending };
    const run = new SweepRun({ ...this.deps, log }, tenantId, tenant as TenantState, reader, result);
    let traversal: SweepTraversal | null;
    try {
      traversal = await run.readAll(window, budget, () =>
        options.onProgress?.({
          tenantId,
          checked: result.checked,
          missing: result.missing,
          repaired: result.repaired,
          apiCalls: budget.callsMade - callsBefore,
          through: run.through,
        }),
      );
    } catch (error) {
      describeFailure(result, error);
      traversal = run.lastPosition;
    }
    const complete = result.outcome === 'complete';
    await sweepState.record(tenantId, {
      outcome: result.outcome,
      error: result.error,
      missing: result.missing,
      repaired: result.repaired,
      floor: window.floor,
      proven: complete ? { from: window.from, through: window.until, figures: result.window } : undefined,
      traversal: complete ? null : traversal,
      pending: complete ? null : result.window,
    });
    if (complete) result.provenThrough = window.until;
    return this.finish(result, started, budget.callsMade - callsBefore);
  }

  /** The window to check: a stopped sweep's (resumed), or [now − window, checkpoint − overlap). */
  private windowOf(
    tenant: TenantState,
    saved: SweepState | undefined,
    options: SweepOptions,
    api: ApiFlavour,
    now: number,
  ): SweepWindow {
    const t = saved?.traversal;
    if (t && t.api === api && options.hours === undefined)
      return { from: t.from, until: t.until, position: t.position, pending: saved?.pending ?? zero() };
    const until = toTicks(tenant.cursor as string) - msToTicks(this.deps.settings.overlapMs);
    const windowMs = options.hours !== undefined ? options.hours * 3_600_000 : this.deps.settings.windowMs;
    // A tenant synced before the sweep existed: its records are complete only from now on.
    const floorIso = tenant.deliveredFrom ?? saved?.floor ?? ticksToIso(until);
    let from = msToTicks(now - windowMs);
    const floor = toTicks(floorIso);
    if (from < floor) from = floor;
    if (from > until) from = until;
    return {
      from: ticksToIso(from),
      until: ticksToIso(until),
      pending: zero(),
      floor: tenant.deliveredFrom ? undefined : floorIso,
    };
  }

  private finish(result: SweepResult, started: number, apiCalls: number): SweepResult {
    result.apiCalls = apiCalls;
    if (result.provenThrough)
      result.lagSeconds = Math.max(
        0,
        Math.round((this.now() - Number(toTicks(result.provenThrough) / 10_000n)) / 1000),
      );
    result.durationMs = this.now() - started;
    return result;
  }
}

function zero(): SweepFigures {
  return { checked: 0, missing: 0, repaired: 0 };
}

function emptyResult(tenantId: string, api: ApiFlavour, saved: SweepState | undefined): SweepResult {
  return {
    tenantId,
    api,
    outcome: 'complete',
    ...zero(),
    window: zero(),
    provenThrough: saved?.provenThrough,
    repairs: [],
    apiCalls: 0,
    durationMs: 0,
  };
}

function describeFailure(result: SweepResult, error: unknown): void {
  result.outcome =
    error instanceof BudgetExhaustedError ? 'budget' : error instanceof TenantBusyError ? 'busy' : 'failed';
  result.error = error instanceof Error ? error.message : String(error);
}

/** One sweep's traversal: read, check against the delivered record, repair what is missing. */
class SweepRun {
  /** The traversal's position before the page being handled: where a stopped sweep resumes. */
  lastPosition: SweepTraversal | null = null;
  through: string | undefined;
  private delivered = new Set<string>();
  private latest = new Map<string, string>();

  constructor(
    private readonly deps: TenantSweepDeps & { log?: Logger },
    private readonly tenantId: string,
    private readonly tenant: TenantState,
    private readonly reader: IncidentReader,
    private readonly result: SweepResult,
  ) {}

  async readAll(w: SweepWindow, budget: RunBudget, progress: () => void): Promise<SweepTraversal | null> {
    this.delivered = await this.deps.state.deliveredSince(this.tenantId, toTicks(w.from));
    this.latest = latestDeliveredByIncident(this.delivered);
    const at = (position: string): SweepTraversal => ({
      from: w.from,
      until: w.until,
      position,
      api: this.reader.api,
    });
    if (w.position) this.lastPosition = at(w.position);
    const steps = this.reader.read(this.tenantId, {
      from: w.from,
      until: w.until,
      position: w.position,
      budget,
      log: this.deps.log,
    });
    for await (const step of steps) {
      await this.check(step);
      this.lastPosition = step.position ? at(step.position) : null;
      if (step.checkpoint) this.through = step.checkpoint;
      progress();
    }
    return null;
  }

  private async check(step: ReadStep): Promise<void> {
    const missed: Missed[] = [];
    for (const version of step.incidents) {
      this.count('checked', 1);
      if (this.delivered.has(version.versionKey)) continue;
      missed.push({ version, ...this.explain(version) });
    }
    if (missed.length === 0) return;
    this.count('missing', missed.length);
    const repaired = await repairMissed(this.deps, this.tenantId, missed);
    for (const m of repaired) {
      this.delivered.add(m.version.versionKey);
      this.deps.log?.(`tenant ${this.tenantId}: repaired ${m.version.versionKey} (${m.reason}): ${m.detail}`);
      if (this.result.repairs.length < 100)
        this.result.repairs.push({ versionKey: m.version.versionKey, reason: m.reason });
    }
    for (const m of missed)
      if (!repaired.includes(m))
        this.deps.log?.(
          `tenant ${this.tenantId}: ${m.version.versionKey} was delivered by the sync meanwhile`,
        );
    this.count('repaired', repaired.length);
  }

  private explain(version: IncidentVersion): Pick<Missed, 'reason' | 'detail'> {
    const incident = version.versionKey.slice(0, version.versionKey.lastIndexOf('/'));
    const windowStart = ticksToIso(
      toTicks(this.tenant.cursor as string) - msToTicks(this.deps.settings.overlapMs),
    );
    return explainMiss(version, this.latest.get(incident), windowStart);
  }

  private count(figure: keyof SweepFigures, n: number): void {
    this.result[figure] += n;
    this.result.window[figure] += n;
  }
}
