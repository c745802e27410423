/**
 * The sync on the Functions engine: the timer schedules one job per tenant, the worker syncs one tenant
 * per job under a per-tenant blob lease, `POST /api/sync` schedules on demand, `status` shows the result.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { startWorld, type World } from '../helpers/world';
import { syncHttpHandler } from '../../src/functions/sync-http';
import { syncWorkerHandler } from '../../src/functions/sync-worker';
import { newSyncJob } from '../../src/sync/sync-jobs';
import { runStatus } from '../../src/cli/status-command';

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

function bodyOf(response: { body?: unknown }): unknown {
  return JSON.parse(String(response.body));
}

function context(): InvocationContext {
  return new InvocationContext({ functionName: 'test', logHandler: () => undefined });
}

async function jobsOnQueue(w: World): Promise<number> {
  const queue = w.relay.storage.queues.getQueueClient(w.config.sync.jobsQueue);
  if (!(await queue.exists())) return 0;
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}

async function waitFor(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!predicate()) throw new Error('condition not reached');
}

test('a tenant is never worked by two runs at once: the second finds it busy', async () => {
  sim.incidents.seed(world.tenantId, 3);
  // The first run's first Defender call is slow, so it holds the lease while the second arrives.
  sim.faults.inject({ target: 'graph', tenantId: world.tenantId, delayMs: 1500, count: 1 });
  const first = world.relay.syncTenant(world.tenantId);
  await waitFor(() => (sim.counters.snapshot().byTenant[world.tenantId]?.['graph.list'] ?? 0) >= 1);
  const second = await world.relay.syncTenant(world.tenantId);
  expect(second.outcome).toBe('busy');
  expect((await first).outcome).toBe('complete');
  expect(await world.drainQueue()).toHaveLength(3);
  // With the lease released, the next run works normally.
  expect((await world.relay.syncTenant(world.tenantId)).outcome).toBe('complete');
});

test('a backfill job that finds its tenant busy is put back on the queue, not dropped', async () => {
  sim.incidents.seed(world.tenantId, 2);
  sim.faults.inject({ target: 'graph', tenantId: world.tenantId, delayMs: 1500, count: 1 });
  const running = world.relay.syncTenant(world.tenantId);
  await waitFor(() => (sim.counters.snapshot().byTenant[world.tenantId]?.['graph.list'] ?? 0) >= 1);
  await world.relay.syncJobs.enqueue([]); // makes the queue
  const backfill = newSyncJob(world.tenantId, 'backfill', new Date(Date.now() - 86_400_000).toISOString());
  await syncWorkerHandler(world.relay)(backfill, context());
  expect(await jobsOnQueue(world)).toBe(1);
  // A scheduled job in the same situation simply ends: the running sync covers it.
  await syncWorkerHandler(world.relay)(newSyncJob(world.tenantId, 'schedule'), context());
  expect(await jobsOnQueue(world)).toBe(1);
  await running;
});

test('a malformed job fails loudly (the host then moves it to the poison queue)', async () => {
  await expect(syncWorkerHandler(world.relay)({ tenantId: 'nope' }, context())).rejects.toThrow(
    /not a sync job: .*tenantId/,
  );
});

describe('POST /api/sync', () => {
  function post(body?: unknown, method = 'POST'): HttpRequest {
    return new HttpRequest({
      method,
      url: 'https://relay.example/api/sync',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : { string: JSON.stringify(body) },
    });
  }

  test('schedules every enabled tenant, or one, or a backfill, and says what it scheduled', async () => {
    const handler = syncHttpHandler(world.relay);
    const all = await handler(post(), context());
    expect(all.status).toBe(202);
    expect(bodyOf(all)).toMatchObject({
      scheduled: [{ tenantId: world.tenantId, reason: 'on-demand', since: null }],
      queue: world.config.sync.jobsQueue,
    });
    const since = '2026-11-01T00:00:00Z';
    const one = await handler(post({ tenantId: world.tenantId.toUpperCase(), since }), context());
    expect(one.status).toBe(202);
    expect(bodyOf(one)).toMatchObject({
      scheduled: [{ tenantId: world.tenantId, reason: 'backfill', since }],
    });
    expect(await jobsOnQueue(world)).toBe(2);
  });

  test('bad input gets problem JSON naming the field; a wrong method gets 405', async () => {
    const handler = syncHttpHandler(world.relay);
    const bad = await handler(post({ tenantId: 'contoso', since: 'last week' }), context());
    expect(bad.status).toBe(422);
    expect(bad.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    const fields = (bodyOf(bad) as { errors: { field: string }[] }).errors.map((e) => e.field).sort();
    expect(fields).toEqual(['since', 'tenantId']);

    const unknown = await handler(post({ tenantId: '00000000-0000-0000-0000-000000000001' }), context());
    expect(unknown.status).toBe(404);

    const extra = await handler(post({ tenant: world.tenantId }), context());
    expect(extra.status).toBe(422);

    const get = await handler(post(undefined, 'GET'), context());
    expect(get.status).toBe(405);
    expect(get.headers).toMatchObject({ allow: 'POST' });
    expect(await jobsOnQueue(world)).toBe(0);
  });
});

test('status shows each tenant with its checkpoint, lag and last error', async () => {
  sim.incidents.seed(world.tenantId, 2);
  await world.relay.syncAll();
  let text = '';
  const out = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  await runStatus(world.relay, { json: true, out });
  const { tenants } = JSON.parse(text) as { tenants: Record<string, unknown>[] };
  expect(tenants).toEqual([
    expect.objectContaining({
      tenantId: world.tenantId,
      status: 'enabled',
      lastOutcome: 'complete',
      lastError: null,
    }),
  ]);
  expect(typeof tenants[0]!.checkpoint).toBe('string');
  expect(tenants[0]!.lagSeconds).toEqual(expect.any(Number));
  text = '';
  await runStatus(world.relay, { json: false, out });
  expect(text).toMatch(/^TENANT\s+NAME\s+STATUS\s+CHECKPOINT\s+LAG\s+LAST RUN\s+LAST ERROR/);
  expect(text).toContain(world.tenantId);
});
