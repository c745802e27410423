/**
 * Per-tenant leases on blobs (`<container>/<tenant id>`): a timer run, a retry and an on-demand sync
 * never work one tenant at once, across every instance of the app. A lease is taken for 60 s and renewed
 * while the work runs; a process that dies simply lets it expire.
 *
 * A lease can also be lost while its holder lives: storage refuses the renewal (the lease was broken, or
 * expired while the process stalled), or renewals fail until the lease may have expired. Then another run
 * may take the tenant, so the work is told through its AbortSignal (the reason a LeaseLostError) and stops
 * before it delivers anything more: two runs never deliver one tenant at once.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { onceReady } from '../storage/once-ready';

export class TenantBusyError extends Error {
  constructor(readonly tenantId: string) {
    super(`Tenant ${tenantId} is being synced by another run right now.`);
    this.name = 'TenantBusyError';
  }
}

export class LeaseLostError extends Error {
  readonly code = 'lease_lost';

  constructor(
    readonly tenantId: string,
    why: string,
  ) {
    super(
      `The lease on tenant ${tenantId} was lost (${why}): the run stopped before delivering more, as another run may hold the tenant now; the next run continues from the checkpoint.`,
    );
    this.name = 'LeaseLostError';
  }
}

export interface TenantLeases {
  /**
   * Runs `work` holding the tenant's lease; throws TenantBusyError when another run holds it. `signal`
   * aborts (reason: LeaseLostError) when the lease is lost while `work` runs.
   */
  withLease<T>(tenantId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export interface LeaseTimings {
  /** 15 to 60: what Blob storage allows for a lease that expires. */
  leaseSeconds: number;
  renewEveryMs: number;
}

/** Renewed every 15 s: three renewals in a row may fail before the lease is given up, 15 s before it can expire. */
const DEFAULT_TIMINGS: LeaseTimings = { leaseSeconds: 60, renewEveryMs: 15_000 };
/** A lease whose next renewal would come this close to its expiry is given up. */
const SAFETY_MS = 5_000;
/** A renewal answered 409 or 412: the lease is not ours any more (broken, expired and taken, or gone). */
const LOST_STATUSES = new Set([409, 412]);

export class BlobTenantLeases implements TenantLeases {
  constructor(
    private readonly container: ContainerClient,
    private readonly timings: LeaseTimings = DEFAULT_TIMINGS,
  ) {}

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() => this.container.createIfNotExists());

  async withLease<T>(tenantId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    await this.ensure();
    const blob = this.container.getBlockBlobClient(tenantId);
    const lease = blob.getBlobLeaseClient();
    for (let attempt = 0; ; attempt++) {
      try {
        await lease.acquireLease(this.timings.leaseSeconds);
        break;
      } catch (error) {
        const e = error as { statusCode?: number };
        // The tenant's lease blob is made on first use.
        if (e.statusCode === 404 && attempt === 0) {
          await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch(() => undefined);
          continue;
        }
        if (e.statusCode === 409) throw new TenantBusyError(tenantId);
        throw error;
      }
    }
    const held = new AbortController();
    const stopRenewing = this.keepRenewed(tenantId, () => lease.renewLease(), held);
    try {
      return await work(held.signal);
    } finally {
      stopRenewing();
      await lease.releaseLease().catch(() => undefined);
    }
  }

  /** Renews the lease until stopped; aborts `held` when it is lost or may expire before the next try. */
  private keepRenewed(tenantId: string, renew: () => Promise<unknown>, held: AbortController): () => void {
    let renewedAt = Date.now();
    let renewing = false;
    const giveUp = (why: string) => held.abort(new LeaseLostError(tenantId, why));
    const timer = setInterval(() => {
      if (held.signal.aborted) return;
      if (renewing) {
        // A renewal still without an answer (the SDK retrying): the lease may expire before it ends.
        if (mustGiveUp(Date.now() - renewedAt, this.timings))
          giveUp(
            `not renewed for ${Math.round((Date.now() - renewedAt) / 1000)} s: storage has not answered`,
          );
        return;
      }
      renewing = true;
      renew()
        .then(() => {
          renewedAt = Date.now();
        })
        .catch((error: { statusCode?: number; message?: string }) => {
          if (LOST_STATUSES.has(error?.statusCode ?? 0))
            giveUp(`storage refused its renewal with ${error.statusCode}`);
          else if (mustGiveUp(Date.now() - renewedAt, this.timings))
            giveUp(
              `not renewed for ${Math.round((Date.now() - renewedAt) / 1000)} s: ${error?.message ?? 'storage error'}`,
            );
        })
        .finally(() => {
          renewing = false;
        });
    }, this.timings.renewEveryMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/**
 * Whether a lease last renewed `sinceRenewedMs` ago is given up now: the next renewal would come within
 * SAFETY_MS of its expiry. (A renewal storage refuses, 409 or 412, gives it up at once: it is not ours.)
 */
export function mustGiveUp(sinceRenewedMs: number, { leaseSeconds, renewEveryMs }: LeaseTimings): boolean {
  return sinceRenewedMs + renewEveryMs >= leaseSeconds * 1000 - SAFETY_MS;
}
