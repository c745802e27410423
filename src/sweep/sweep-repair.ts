/**
 * Repair: versions the sweep found undelivered go to every destination, marked (`relayrepair`), then are
 * recorded in the sync's delivered record, so the sync suppresses them and a later sweep finds them
 * delivered. The sweep reads under a lease of its own (it never blocks the sync while it pages); only the
 * repair itself takes the tenant's sync lease for a moment, and checks the delivered record again under
 * it: a sync that delivered the version meanwhile wins, and no sync can deliver it while the repair does.
 * So a version repaired is delivered exactly once, whatever the sync does at the same time.
 */
import type { IncidentVersion } from '../defender/incident';
import { toTicks } from '../defender/timestamp';
import type { Destination } from '../delivery/destination';
import { toRepairedEvent } from '../delivery/envelope';
import type { StateStore } from '../sync/state-store';
import { TenantBusyError, type TenantLeases } from '../sync/tenant-lease';
import { outgoingEvents } from '../sync/outgoing-events';
import type { VersionLedger } from '../two-way/version-ledger';

export interface Missed {
  version: IncidentVersion;
  /** Machine-readable cause (the event's `relayrepairreason`). */
  reason: string;
  /** The log line's explanation. */
  detail: string;
}

export interface RepairDeps {
  state: StateStore;
  destinations: Destination[];
  /** The sync's per-tenant leases. */
  leases: TenantLeases;
  /** How long a repair waits for a running sync to release the tenant (default 30 s). */
  leaseWaitMs?: number;
  /** Two-way sync: repaired versions are recorded and echo-marked as the sync's are (docs/two-way.md). */
  ledger?: VersionLedger;
}

/** Delivers and records what is still undelivered; returns those versions. Throws TenantBusyError past the wait. */
export async function repairMissed(deps: RepairDeps, tenantId: string, missed: Missed[]): Promise<Missed[]> {
  if (missed.length === 0) return [];
  return withLeaseWaiting(deps.leases, tenantId, deps.leaseWaitMs ?? 30_000, async (signal) => {
    const oldest = missed.reduce((m, x) => {
      const t = toTicks(x.version.header.lastUpdate);
      return t < m ? t : m;
    }, toTicks(missed[0]!.version.header.lastUpdate));
    const delivered = await deps.state.deliveredSince(tenantId, oldest);
    const still = missed.filter((m) => !delivered.has(m.version.versionKey));
    if (still.length === 0) return still;
    // A lost lease: a sync may hold the tenant now and deliver these itself.
    signal.throwIfAborted();
    const reasons = new Map(still.map((m) => [m.version.versionKey, m.reason]));
    const events = await outgoingEvents(
      deps.ledger,
      tenantId,
      still.map((m) => m.version),
      (v) => toRepairedEvent(v, reasons.get(v.versionKey)!),
    );
    for (const destination of deps.destinations) await destination.deliver(events);
    await deps.state.recordDelivered(
      tenantId,
      still.map((m) => m.version),
    );
    return still;
  });
}

async function withLeaseWaiting<T>(
  leases: TenantLeases,
  tenantId: string,
  waitMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await leases.withLease(tenantId, work);
    } catch (error) {
      if (!(error instanceof TenantBusyError) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Why a version was missed, as far as the delivered record tells. */
export function explainMiss(
  version: IncidentVersion,
  lastDelivered: string | undefined,
  syncWindowStart: string,
): Pick<Missed, 'reason' | 'detail'> {
  const before = lastDelivered
    ? `the version before it (${lastDelivered}) was delivered`
    : 'no earlier version of it is in the record';
  return {
    reason: 'late-visible',
    detail:
      `stamped ${version.header.lastUpdate}, before the sync's window (now from ${syncWindowStart}), and never delivered; ${before}: ` +
      'most likely it became visible in the API only after the overlap window had passed its stamp',
  };
}

/** Per incident, the latest version time in a set of delivered version keys. */
export function latestDeliveredByIncident(keys: Iterable<string>): Map<string, string> {
  const latest = new Map<string, { ticks: bigint; time: string }>();
  for (const key of keys) {
    const at = key.lastIndexOf('/');
    const incident = key.slice(0, at);
    const time = key.slice(at + 1);
    const ticks = toTicks(time);
    const known = latest.get(incident);
    if (!known || ticks > known.ticks) latest.set(incident, { ticks, time });
  }
  return new Map([...latest].map(([k, v]) => [k, v.time]));
}
