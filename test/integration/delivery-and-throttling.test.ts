/**
 * The storage-queue destination with a claim check for large incidents, and the Defender client's
 * handling of throttling (429 + Retry-After), server errors and client errors, against the simulator.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { startWorld, type World } from '../helpers/world';
import { expectValidIncidentEvent } from '../helpers/schema';
import type { IncidentEvent } from '../../src/delivery/envelope';

let sim: Simulator;
let world: World;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});
beforeEach(async () => {
  world = await startWorld({ sim });
});

test('a 300 KiB incident (many alerts) arrives whole through a claim check; nothing is truncated', async () => {
  const big = sim.incidents.create(world.tenantId, { displayName: 'Worm outbreak' }, { alerts: 220 });
  const small = sim.incidents.create(world.tenantId, { displayName: 'One phish' }, { alerts: 1 });
  await world.relay.syncAll();
  const events = await world.drainQueue();
  expect(events).toHaveLength(2);

  const inline = events.find((e) => e.subject === String(small.id))!;
  expect(inline.dataref).toBeUndefined();
  expect(inline.data.incident).toBeDefined();

  const reference = events.find((e) => e.subject === String(big.id)) as IncidentEvent & {
    dataref: string;
    data: { claimCheck: { container: string; blobName: string; contentLength: number } };
  };
  expectValidIncidentEvent(reference);
  expect(reference.data.incident).toBeUndefined();
  expect(reference.data.header.alertCount).toBe(220);
  // The message itself fits a queue message.
  expect(Buffer.byteLength(Buffer.from(JSON.stringify(reference)).toString('base64'))).toBeLessThanOrEqual(
    64 * 1024,
  );

  const { claimCheck } = reference.data;
  expect(claimCheck.contentLength).toBeGreaterThan(300 * 1024);
  const blob = world.relay.storage.blobs
    .getContainerClient(claimCheck.container)
    .getBlobClient(claimCheck.blobName);
  expect(blob.url).toBe(reference.dataref);
  const whole = JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as IncidentEvent;
  expectValidIncidentEvent(whole);
  expect(whole.id).toBe(reference.id);
  const incident = whole.data.incident as { alerts: { id: string }[]; id: string };
  expect(incident.id).toBe(String(big.id));
  expect(incident.alerts).toHaveLength(220);
  // Every alert, as the API sent it: the same ids as the simulator holds, in order.
  const alertIds = (incident.alerts as { id: string }[]).map((a) => a.id);
  expect(alertIds).toEqual(sim.incidents.get(world.tenantId, big.id).alerts.map((a) => a.id));
});

test('429 with Retry-After is waited out and retried; the run completes', async () => {
  sim.incidents.seed(world.tenantId, 3);
  sim.faults.inject({
    target: 'graph',
    tenantId: world.tenantId,
    status: 429,
    retryAfterSeconds: 1,
    count: 2,
  });
  const run = await world.relay.syncAll();
  expect(run.errors).toEqual([]);
  expect(run.incidentsDelivered).toBe(3);
  const statuses = sim.counters.snapshot().byStatus['graph.list'] ?? {};
  expect(statuses['429']).toBeGreaterThanOrEqual(2);
  expect(run.apiCalls).toBe(3);
});

test('Entra ID answering 503 temporarily_unavailable (AADSTS90033) stops the run cleanly; it is not a failure', async () => {
  // MSAL refuses the same token request for 60 s after a 5xx (its client-side throttle); a run with less
  // time than that left stops as `budget`, and the next run continues from the checkpoint.
  const short = await startWorld({ sim, env: { SYNC_MAX_RUN_SECONDS: '20' } });
  sim.incidents.seed(short.tenantId, 3);
  sim.faults.inject({ target: 'token', tenantId: short.tenantId, status: 503, count: 1 });
  const run = await short.relay.syncAll();
  expect(run.errors).toEqual([]);
  expect(run.incomplete).toEqual([
    expect.objectContaining({
      tenantId: short.tenantId,
      outcome: 'budget',
      reason: expect.stringMatching(/Entra ID is temporarily unavailable.*AADSTS90033/),
    }),
  ]);
  expect(sim.counters.snapshot().byStatus.token?.['503']).toBe(1);
});

test('a 503 is retried with backoff; a 400 is not retried and fails the tenant with the API’s message', async () => {
  sim.incidents.seed(world.tenantId, 2);
  sim.faults.inject({ target: 'graph', tenantId: world.tenantId, status: 503, count: 1 });
  const ok = await world.relay.syncAll();
  expect(ok.errors).toEqual([]);
  expect(ok.apiCalls).toBe(2);

  sim.incidents.create(world.tenantId);
  sim.faults.inject({
    target: 'graph',
    tenantId: world.tenantId,
    status: 400,
    count: 5,
    body: { error: { code: 'BadRequest', message: 'Invalid filter clause' } },
  });
  const failed = await world.relay.syncAll();
  expect(failed.apiCalls).toBe(1);
  expect(failed.errors).toEqual([
    expect.objectContaining({
      tenantId: world.tenantId,
      error: expect.stringContaining('Invalid filter clause'),
    }),
  ]);
  sim.faults.clear();
});

test('a malformed response body is retried as a transient fault', async () => {
  sim.incidents.seed(world.tenantId, 2);
  sim.faults.inject({ target: 'graph', tenantId: world.tenantId, malformedBody: true, count: 1 });
  const run = await world.relay.syncAll();
  expect(run.errors).toEqual([]);
  expect(run.incidentsDelivered).toBe(2);
});

test('a tenant throttled beyond the run’s time budget stops cleanly and continues next time', async () => {
  const w = await startWorld({ sim, env: { SYNC_MAX_RUN_SECONDS: '10' } });
  sim.incidents.seed(w.tenantId, 4);
  sim.faults.inject({ target: 'graph', tenantId: w.tenantId, status: 429, retryAfterSeconds: 600, count: 1 });
  const stopped = await w.relay.syncAll();
  expect(stopped.errors).toEqual([]);
  expect(stopped.incomplete).toEqual([
    expect.objectContaining({
      tenantId: w.tenantId,
      outcome: 'budget',
      reason: expect.stringMatching(/throttl|429|wait/i),
    }),
  ]);
  const next = await w.relay.syncAll();
  expect(next.results[0]!.outcome).toBe('complete');
  expect(await w.drainQueue()).toHaveLength(4);
});

test('the legacy API’s per-tenant limit is kept by the relay itself: past it, the run stops cleanly', async () => {
  // Three legacy pages, but at most 2 calls a minute and a 30 s run: the third call would have to wait
  // about a minute, so the run stops with its budget and resumes where it stopped next time.
  const w = await startWorld({
    sim,
    api: 'legacy',
    env: { LEGACY_CALLS_PER_MINUTE: '2', SYNC_MAX_RUN_SECONDS: '30' },
  });
  sim.incidents.seed(w.tenantId, 250, { alertsPerIncident: 1 });
  const run = await w.relay.syncAll();
  expect(run.apiCalls).toBe(2);
  expect(run.incomplete).toEqual([
    expect.objectContaining({
      tenantId: w.tenantId,
      outcome: 'budget',
      reason: expect.stringMatching(/rate limit/),
    }),
  ]);
  // The simulator never had to say 429: the relay held back.
  expect(sim.counters.snapshot().byStatus['legacy.list']?.['429'] ?? 0).toBe(0);
  expect(await w.drainQueue()).toHaveLength(200);
});
