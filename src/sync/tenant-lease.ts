/**
 * Per-tenant leases on blobs (`<container>/<tenant id>`): a timer run, a retry and an on-demand sync
 * never work one tenant at once, across every instance of the app. A lease is taken for 60 s and renewed
 * while the work runs; a process that dies simply lets it expire.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { onceReady } from '../storage/once-ready';

const LEASE_SECONDS = 60;
const RENEW_EVERY_MS = 20_000;

export class TenantBusyError extends Error {
  constructor(readonly tenantId: string) {
    super(`Tenant ${tenantId} is being synced by another run right now.`);
    this.name = 'TenantBusyError';
  }
}

export interface TenantLeases {
  /** Runs `work` holding the tenant's lease; throws TenantBusyError when another run holds it. */
  withLease<T>(tenantId: string, work: () => Promise<T>): Promise<T>;
}

export class BlobTenantLeases implements TenantLeases {
  constructor(private readonly container: ContainerClient) {}

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() => this.container.createIfNotExists());

  async withLease<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    await this.ensure();
    const blob = this.container.getBlockBlobClient(tenantId);
    const lease = blob.getBlobLeaseClient();
    for (let attempt = 0; ; attempt++) {
      try {
        await lease.acquireLease(LEASE_SECONDS);
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
    const renew = setInterval(() => void lease.renewLease().catch(() => undefined), RENEW_EVERY_MS);
    renew.unref();
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await lease.releaseLease().catch(() => undefined);
    }
  }
}
