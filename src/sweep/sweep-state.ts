/**
 * The completeness sweep's own row per tenant (RowKey `sweep` in the sync's state table, beside the
 * checkpoint row): the time up to which completeness is proven, the last sweep's figures, running totals,
 * and a traversal stopped by its budget (to resume). The delivered record itself is the sync's
 * (src/sync/state-store.ts): the sweep reads it and records its repairs in it.
 */
import type { TableClient, TableEntityResult } from '@azure/data-tables';
import type { ApiFlavour } from '../defender/incident';
import { onceReady } from '../storage/once-ready';

const SWEEP_ROW = 'sweep';

/** A sweep's traversal in progress: its window and the reader's position. */
export interface SweepTraversal {
  from: string;
  until: string;
  position: string;
  api: ApiFlavour;
}

export interface SweepFigures {
  /** Versions checked against the delivered record (the whole window, across resumed runs). */
  checked: number;
  /** Versions found undelivered. */
  missing: number;
  /** Of those, delivered to every destination and recorded. */
  repaired: number;
}

export interface SweepState {
  tenantId: string;
  /** Every current version updated in [provenFrom, provenThrough) was found delivered (or repaired). */
  provenFrom?: string;
  provenThrough?: string;
  /** Where the sweep of a tenant without `deliveredFrom` (synced before the sweep existed) starts. */
  floor?: string;
  lastSweepAt?: string;
  lastOutcome?: string;
  lastError?: string;
  /** The figures of the last complete sweep. */
  last?: SweepFigures;
  /** Since the sweep first ran for the tenant. */
  totalMissing: number;
  totalRepaired: number;
  /** A sweep stopped by its budget: where the next one resumes, and its figures so far. */
  traversal?: SweepTraversal;
  pending?: SweepFigures;
}

export interface SweepRecord {
  outcome: string;
  error?: string;
  /** Complete: completeness is now proven over this window; the figures become `last`. */
  proven?: { from: string; through: string; figures: SweepFigures };
  /** Stopped by its budget: where to resume and the figures so far (null: nothing to resume). */
  traversal?: SweepTraversal | null;
  pending?: SweepFigures | null;
  /** Found missing / repaired by this run (added to the totals). */
  missing: number;
  repaired: number;
  floor?: string;
}

export class SweepStateStore {
  constructor(private readonly table: TableClient) {}

  private readonly ensure = onceReady(() => this.table.createTable());

  async get(tenantId: string): Promise<SweepState | undefined> {
    await this.ensure();
    try {
      return toSweepState(await this.table.getEntity<Record<string, unknown>>(tenantId, SWEEP_ROW));
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async list(): Promise<SweepState[]> {
    await this.ensure();
    const out: SweepState[] = [];
    const rows = this.table.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `RowKey eq '${SWEEP_ROW}'` },
    });
    for await (const e of rows) out.push(toSweepState(e));
    return out;
  }

  /** Stores a run's outcome; totals are added to what is stored (one tenant is swept by one run at once). */
  async record(tenantId: string, run: SweepRecord): Promise<void> {
    await this.ensure();
    const before = await this.get(tenantId);
    const row: { partitionKey: string; rowKey: string } & Record<string, string | number> = {
      partitionKey: tenantId,
      rowKey: SWEEP_ROW,
      lastSweepAt: new Date().toISOString(),
      lastOutcome: run.outcome,
      lastError: run.error ?? '',
      totalMissing: (before?.totalMissing ?? 0) + run.missing,
      totalRepaired: (before?.totalRepaired ?? 0) + run.repaired,
    };
    if (run.floor) row.floor = run.floor;
    if (run.proven) {
      row.provenFrom = run.proven.from;
      row.provenThrough = run.proven.through;
      Object.assign(row, figureProps('last', run.proven.figures));
    }
    if (run.traversal !== undefined) {
      row.traversal = run.traversal ? JSON.stringify(run.traversal) : '';
    }
    if (run.pending !== undefined) row.pending = run.pending ? JSON.stringify(run.pending) : '';
    await this.table.upsertEntity(row, 'Merge');
  }
}

function figureProps(prefix: string, f: SweepFigures): Record<string, number> {
  return {
    [`${prefix}Checked`]: f.checked,
    [`${prefix}Missing`]: f.missing,
    [`${prefix}Repaired`]: f.repaired,
  };
}

function toSweepState(e: TableEntityResult<Record<string, unknown>>): SweepState {
  const s = (k: string) => (typeof e[k] === 'string' && e[k] !== '' ? (e[k] as string) : undefined);
  const n = (k: string) => (typeof e[k] === 'number' ? (e[k] as number) : 0);
  return {
    tenantId: e.partitionKey ?? '',
    provenFrom: s('provenFrom'),
    provenThrough: s('provenThrough'),
    floor: s('floor'),
    lastSweepAt: s('lastSweepAt'),
    lastOutcome: s('lastOutcome'),
    lastError: s('lastError'),
    last:
      typeof e.lastChecked === 'number'
        ? { checked: n('lastChecked'), missing: n('lastMissing'), repaired: n('lastRepaired') }
        : undefined,
    totalMissing: n('totalMissing'),
    totalRepaired: n('totalRepaired'),
    traversal: parse<SweepTraversal>(s('traversal')),
    pending: parse<SweepFigures>(s('pending')),
  };
}

function parse<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
