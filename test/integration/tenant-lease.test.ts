/**
 * A tenant lease lost while its run lives (src/sync/tenant-lease.ts): the lease is broken from outside, as
 * storage does when it expires during a stalled process and another run takes it. The holder is told, and
 * its sync stops before delivering anything more, so two runs never deliver one tenant at once; the next
 * run delivers every version exactly once. Azurite's real blob leases, the simulator's Graph.
 */
import crypto from 'node:crypto';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { BlobTenantLeases, LeaseLostError, TenantBusyError } from '../../src/sync/tenant-lease';
import { syncTenantLeased } from '../../src/sync/sync-tenants';
import { currentVersionKeys } from '../helpers/version-keys';
import { startWorld, type World } from '../helpers/world';

let sim: Simulator;
let world: World;
let leases: BlobTenantLeases;
const container = () => world.relay.storage.blobs.getContainerClient(world.config.sync.leasesContainer);

beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  // Renewed every 200 ms (15 s is the shortest lease Blob storage grants), so a lost lease is seen at once.
  leases = new BlobTenantLeases(container(), { leaseSeconds: 15, renewEveryMs: 200 });
});
afterAll(async () => {
  await world.stop();
  await sim.stop();
});

/** Breaks the tenant's lease now, as its expiry would; then another run can take it. */
async function breakLease(tenantId: string): Promise<void> {
  await container().getBlockBlobClient(tenantId).getBlobLeaseClient().breakLease(0);
}

async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a renewal storage refuses aborts the holder’s signal with the reason; another run can take the tenant', async () => {
  const tenantId = crypto.randomUUID();
  const reason = await leases.withLease(tenantId, async (signal) => {
    expect(signal.aborted).toBe(false);
    await breakLease(tenantId);
    await until(() => signal.aborted);
    // While the first holder still runs, the tenant is free: that is why it must stop.
    await expect(leases.withLease(tenantId, async () => 'second')).resolves.toBe('second');
    return signal.reason as unknown;
  });
  expect(reason).toBeInstanceOf(LeaseLostError);
  expect((reason as LeaseLostError).message).toContain('storage refused its renewal with 409');
  // A lease that is held is still refused to a second run.
  await leases.withLease(tenantId, async () => {
    await expect(leases.withLease(tenantId, async () => 'x')).rejects.toBeInstanceOf(TenantBusyError);
  });
});

test('a sync whose lease is lost mid-run stops before delivering; the next run delivers each version once', async () => {
  sim.incidents.seed(world.tenantId, 30);
  // The first page answers after 1.5 s; the lease is broken while the run waits for it.
  sim.faults.inject({ target: 'graph', tenantId: world.tenantId, delayMs: 1500, count: 1 });
  const running = syncTenantLeased(world.relay.tenantSync, leases, world.tenantId);
  await new Promise((r) => setTimeout(r, 300));
  await breakLease(world.tenantId);
  const stopped = await running;
  expect(stopped).toMatchObject({ outcome: 'failed', delivered: 0, errorCode: 'lease_lost' });
  expect(stopped.error).toMatch(/lease on tenant .* was lost .* stopped before delivering more/);
  expect(await world.drainQueue()).toEqual([]);

  const next = await syncTenantLeased(world.relay.tenantSync, leases, world.tenantId);
  expect(next.outcome).toBe('complete');
  const events = await world.drainQueue();
  expect(events.map((e) => e.id).sort()).toEqual(currentVersionKeys(world));
});
