/**
 * The sweep's use cases as the relay builds them (src/relay.ts): one tenant under the sweep's own lease
 * (blob `sweep-<tenant>` beside the sync's leases: two sweeps never work one tenant at once, and a sweep
 * never blocks the sync while it reads), many tenants a few at a time, the fan-out queue, the figures.
 */
import type { RelayConfig } from '../config/settings';
import type { StorageClients } from '../storage/clients';
import type { Destination } from '../delivery/destination';
import { forEachLimit } from '../delivery/destination';
import type { IncidentReader } from '../defender/incident-reader';
import type { StateStore } from '../sync/state-store';
import { TenantBusyError, type TenantLeases } from '../sync/tenant-lease';
import { SyncJobQueue } from '../sync/sync-jobs';
import type { Logger } from '../telemetry';
import type { VersionLedger } from '../two-way/version-ledger';
import { SweepStateStore } from './sweep-state';
import { TenantSweep, type SweepOptions, type SweepResult } from './tenant-sweep';
import type { SweepJob } from './sweep-jobs';
import { reportSweepMetrics } from './sweep-metrics';

export interface SweepUseCases {
  sweepState: SweepStateStore;
  /** The sweep's fan-out queue: one job per tenant, worked by the sweepWorker function. */
  sweepJobs: SyncJobQueue<SweepJob>;
  /** One tenant's sweep under the sweep's lease (outcome `busy` when another sweep holds it). */
  sweepTenant(tenantId: string, options?: SweepOptions): Promise<SweepResult>;
  /** Sweeps `tenants`, or every enabled tenant. */
  sweepAll(options?: SweepOptions & { tenants?: string[] }): Promise<SweepResult[]>;
}

export interface SweepBuildDeps {
  config: RelayConfig;
  storage: StorageClients;
  state: StateStore;
  destinations: Destination[];
  leases: TenantLeases;
  readerFor(tenantId: string): Promise<IncidentReader>;
  enabledTenantIds(): Promise<string[]>;
  /** Two-way sync's records: repairs are recorded and echo-marked as the sync's deliveries are. */
  ledger?: VersionLedger;
  log?: Logger;
}

export function sweepUseCases(deps: SweepBuildDeps): SweepUseCases {
  const { config } = deps;
  const sweepState = new SweepStateStore(deps.storage.table(config.names.stateTable));
  const sweep = new TenantSweep({
    readerFor: deps.readerFor,
    state: deps.state,
    destinations: deps.destinations,
    leases: deps.leases,
    sweepState,
    ledger: deps.ledger,
    settings: {
      windowMs: config.sweep.windowMs,
      overlapMs: config.sync.overlapMs,
      maxApiCallsPerRun: config.sweep.maxApiCallsPerRun,
      maxRunMs: config.sync.maxRunMs,
    },
    log: deps.log,
  });
  const sweepTenant = async (tenantId: string, options: SweepOptions = {}): Promise<SweepResult> => {
    try {
      return await deps.leases.withLease(`sweep-${tenantId}`, () => sweep.run(tenantId, options));
    } catch (error) {
      if (!(error instanceof TenantBusyError)) throw error;
      return busyResult(tenantId);
    }
  };
  return {
    sweepState,
    sweepJobs: new SyncJobQueue<SweepJob>(deps.storage.queues.getQueueClient(config.sweep.jobsQueue)),
    sweepTenant,
    sweepAll: async (options = {}) => {
      const tenantIds = options.tenants ?? (await deps.enabledTenantIds());
      const results: SweepResult[] = [];
      await forEachLimit(tenantIds, config.sync.tenantConcurrency, async (tenantId) => {
        const result = await sweepTenant(tenantId, options).catch((e: Error) => failedResult(tenantId, e));
        const log = options.log ?? deps.log;
        if (log) reportSweepMetrics(log, result);
        results.push(result);
      });
      return results;
    },
  };
}

function busyResult(tenantId: string): SweepResult {
  return {
    ...failedResult(tenantId, new Error(`Tenant ${tenantId} is being swept by another run right now.`)),
    outcome: 'busy',
  };
}

function failedResult(tenantId: string, error: Error): SweepResult {
  const zero = { checked: 0, missing: 0, repaired: 0 };
  return {
    tenantId,
    api: 'graph',
    outcome: 'failed',
    ...zero,
    window: zero,
    repairs: [],
    apiCalls: 0,
    durationMs: 0,
    error: error.message,
  };
}
