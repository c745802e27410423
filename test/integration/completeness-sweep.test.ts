/**
 * The completeness sweep against the simulator and Azurite, on both APIs: versions withheld from list calls
 * until the sync's overlap window had passed them (the simulator's `withhold`, harsher than the service's
 * late visibility) are found and repaired exactly once each, on every destination; a healthy tenant's
 * sweep finds nothing; a sweep stopped by its budget resumes; the sync and the sweep at once deliver
 * nothing twice.
 */
import crypto from 'node:crypto';
import { InvocationContext, type Timer } from '@azure/functions';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { takeAllMessages } from '../../tools/queue-messages';
import { identityEnv } from '../../tools/simulator/app-settings';
import { startWorld, uniqueSuffix, type World } from '../helpers/world';
import { runCli } from '../helpers/cli';
import { runStatus } from '../../src/cli/status-command';
import { runHealthChecks } from '../../src/health/checks';
import { sweepSchedulerHandler } from '../../src/functions/sweep-scheduler';
import { sweepWorkerHandler } from '../../src/functions/sweep-worker';
import type { IncidentEvent } from '../../src/delivery/envelope';
import type { WebhookJob } from '../../src/delivery/webhook-outbox';
import { VersionLedger } from '../../src/two-way/version-ledger';
import { readIncident } from '../../src/defender/incident';
import { toTicks } from '../../src/defender/timestamp';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

function canonical(t: string): string {
  const [whole, frac = ''] = t.replace('Z', '').split('.');
  return `${whole}.${frac.padEnd(7, '0')}Z`;
}

/** A world with a webhook destination besides the queue, and its own sweep queue. */
async function sweepWorld(api: 'graph' | 'legacy', env: Record<string, string> = {}): Promise<World> {
  const suffix = uniqueSuffix();
  const webhooks = [
    {
      name: 'siem',
      format: 'cloudevents',
      urlSecret: `webhook-siem-url-${suffix}`,
      signingSecret: `webhook-siem-signing-${suffix}`,
    },
  ];
  return startWorld({
    api,
    sim,
    env: {
      WEBHOOKS: JSON.stringify(webhooks),
      WEBHOOK_OUTBOX_QUEUE_NAME: `outbox-${suffix}`,
      SWEEP_JOBS_QUEUE_NAME: `sweeps-${suffix}`,
      ...env,
    },
  });
}

async function outboxEvents(world: World): Promise<IncidentEvent[]> {
  const jobs = await takeAllMessages<WebhookJob>(
    world.relay.storage.queues.getQueueClient(world.config.webhooks.outboxQueue),
  );
  return jobs.map((j) => j.event as IncidentEvent);
}

/**
 * Updates `n` incidents last updated over an hour ago, stamped a second after their last update (long
 * before the sync's overlap window), and withholds the new versions from list calls: late visibility
 * beyond the overlap. Returns the hidden versions' keys.
 */
function hideLateUpdates(world: World, n: number): string[] {
  const t = world.tenantId;
  const cutoff = Date.now() - 60 * 60_000;
  const old = sim.incidents
    .ids(t)
    .map((id) => sim.incidents.get(t, id))
    .filter((i) => Date.parse(i.lastUpdateDateTime) < cutoff)
    .slice(0, n);
  expect(old).toHaveLength(n);
  return old.map((i) => {
    const stamp = new Date(Date.parse(i.lastUpdateDateTime) + 1000).toISOString();
    const updated = sim.incidents.update(t, i.id, { displayName: `${i.displayName} (late)` }, { stamp });
    sim.incidents.withhold(t, i.id);
    return `${t}/${updated.id}/${canonical(updated.lastUpdateDateTime)}`;
  });
}

function release(world: World, keys: string[]): void {
  for (const key of keys) sim.incidents.release(world.tenantId, key.split('/')[1]!);
}

function expectEachOnce(events: IncidentEvent[]): void {
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

describe.each(['graph', 'legacy'] as const)('on the %s API', (api) => {
  test('versions hidden from the sync past its overlap are found and repaired by the sweep, once each, on every destination', async () => {
    const world = await sweepWorld(api);
    sim.incidents.seed(world.tenantId, 30);
    expect((await world.relay.syncAll()).incidentsDelivered).toBe(30);
    const synced = await world.drainQueue();
    expect(await outboxEvents(world)).toHaveLength(30);

    const hidden = hideLateUpdates(world, 3);
    expect((await world.relay.syncAll()).incidentsDelivered).toBe(0);
    release(world, hidden);
    // Visible now, but stamped long before the sync's window: the sync cannot see them again.
    expect((await world.relay.syncAll()).incidentsDelivered).toBe(0);

    const logs: string[] = [];
    const [sweep] = await world.relay.sweepAll({ log: (l) => logs.push(l) });
    expect(sweep).toMatchObject({ outcome: 'complete', missing: 3, repaired: 3 });
    expect(sweep!.repairs.map((r) => r.versionKey).sort()).toEqual([...hidden].sort());
    for (const key of hidden) {
      const line = logs.find((l) => l.includes(`repaired ${key}`));
      expect(line).toContain('late-visible');
      expect(line).toContain('the version before it');
    }
    const queued = await world.drainQueue();
    const webhooked = await outboxEvents(world);
    for (const events of [queued, webhooked]) {
      expect(events.map((e) => e.id).sort()).toEqual([...hidden].sort());
      for (const e of events)
        expect(e).toMatchObject({ relayrepair: 'sweep', relayrepairreason: 'late-visible' });
    }

    // Repaired once: neither the next sweep nor the sync delivers them again.
    const [again] = await world.relay.sweepAll();
    expect(again).toMatchObject({ outcome: 'complete', missing: 0, repaired: 0 });
    expect(again!.checked).toBe(sweep!.checked);
    await world.relay.syncAll({ since: new Date(Date.now() - 24 * 3_600_000).toISOString() });
    expect(await world.drainQueue()).toEqual([]);
    expect(await outboxEvents(world)).toEqual([]);
    expectEachOnce([...synced, ...queued]);
    const state = await world.relay.sweepState.get(world.tenantId);
    expect(state).toMatchObject({ totalMissing: 3, totalRepaired: 3, provenThrough: again!.until });
  });

  test("a healthy tenant's sweep checks every version in its window and finds nothing", async () => {
    const world = await sweepWorld(api);
    sim.incidents.seed(world.tenantId, 40);
    await world.relay.syncAll();
    await world.drainQueue();
    await outboxEvents(world);
    const [sweep] = await world.relay.sweepAll();
    const until = Date.parse(sweep!.until!);
    const inWindow = sim.incidents
      .ids(world.tenantId)
      .map((id) => sim.incidents.get(world.tenantId, id))
      .filter((i) => Date.parse(i.lastUpdateDateTime) < until);
    expect(inWindow.length).toBeGreaterThan(0);
    expect(sweep).toMatchObject({ outcome: 'complete', missing: 0, repaired: 0, checked: inWindow.length });
    expect(sweep!.provenThrough).toBe(sweep!.until);
    // The window ends before the sync's overlap.
    const checkpoint = (await world.relay.state.getTenant(world.tenantId))!.cursor!;
    expect(Date.parse(checkpoint) - until).toBe(world.config.sync.overlapMs);
    expect(await world.drainQueue()).toEqual([]);
    expect(await outboxEvents(world)).toEqual([]);
  });

  test('a sweep stopped by its own call budget resumes where it stopped, and proves completeness only at the end', async () => {
    const world = await sweepWorld(api, { SWEEP_MAX_API_CALLS_PER_RUN: '1' });
    sim.incidents.seed(world.tenantId, 260, { spreadHours: 20 });
    await world.relay.syncAll();
    await world.drainQueue();
    await outboxEvents(world);
    const hidden = hideLateUpdates(world, 2);
    release(world, hidden);

    const runs = [];
    for (let i = 0; i < 20; i++) {
      const [run] = await world.relay.sweepAll();
      runs.push(run!);
      if (run!.outcome !== 'budget') break;
      expect(run!.provenThrough).toBeUndefined();
      expect(run!.apiCalls).toBeLessThanOrEqual(1);
    }
    const last = runs.at(-1)!;
    expect(runs.length).toBeGreaterThan(2);
    expect(last.outcome).toBe('complete');
    expect(last.provenThrough).toBe(last.until);
    // Every run went on from the one before: the same window, each version checked about once in all.
    expect(new Set(runs.map((r) => r.until)).size).toBe(1);
    const until = Date.parse(last.until!);
    const inWindow = sim.incidents
      .ids(world.tenantId)
      .filter((id) => Date.parse(sim.incidents.get(world.tenantId, id).lastUpdateDateTime) < until).length;
    expect(last.window.checked).toBeGreaterThanOrEqual(inWindow);
    expect(last.window.checked).toBeLessThan(inWindow + 10);
    expect(runs.reduce((n, r) => n + r.repaired, 0)).toBe(2);
    const queued = await world.drainQueue();
    expect(queued.map((e) => e.id).sort()).toEqual([...hidden].sort());
    expect((await outboxEvents(world)).map((e) => e.id).sort()).toEqual([...hidden].sort());
  });

  test('the sync and the sweep on one tenant at once deliver nothing twice', async () => {
    const world = await sweepWorld(api);
    sim.incidents.seed(world.tenantId, 60);
    await world.relay.syncAll();
    const before = await world.drainQueue();
    const beforeHooks = await outboxEvents(world);
    const hidden = hideLateUpdates(world, 4);
    release(world, hidden);
    // A backfill reads the hidden versions too: both want to deliver them, at the same time.
    const since = new Date(Date.now() - 24 * 3_600_000).toISOString();
    const [sync, [sweep]] = await Promise.all([world.relay.syncAll({ since }), world.relay.sweepAll()]);
    expect(sync.errors).toEqual([]);
    expect(sweep!.outcome).toBe('complete');
    expect(sync.incidentsDelivered + sweep!.repaired).toBe(4);
    // And once more each, one after the other: nothing left to deliver.
    const [later] = await world.relay.sweepAll();
    expect(later!.missing).toBe(0);
    await world.relay.syncAll({ since });
    const queued = await world.drainQueue();
    const hooks = await outboxEvents(world);
    expect(queued.map((e) => e.id).sort()).toEqual([...hidden].sort());
    expect(hooks.map((e) => e.id).sort()).toEqual([...hidden].sort());
    expectEachOnce([...before, ...queued]);
    expectEachOnce([...beforeHooks, ...hooks]);
  });
});

describe('defender-relay sweep', () => {
  const cliEnv = (world: World) => ({ ...world.env, ...identityEnv(sim) });

  test('--json reports each tenant with what was missing and repaired, and exits 1 when anything was', async () => {
    const world = await sweepWorld('graph');
    sim.incidents.seed(world.tenantId, 20);
    await world.relay.syncAll();
    const hidden = hideLateUpdates(world, 2);
    release(world, hidden);
    const { code, stdout } = await runCli(['sweep', '--json', '--tenant', world.tenantId], cliEnv(world));
    expect(code).toBe(1);
    const out = JSON.parse(stdout.trim());
    expect(out).toMatchObject({ tenants: 1, missing: 2, repaired: 2, failed: 0 });
    expect(out.perTenant[0]).toMatchObject({ tenantId: world.tenantId, outcome: 'complete', missing: 2 });
    expect(out.perTenant[0].repairs.map((r: { versionKey: string }) => r.versionKey).sort()).toEqual(
      [...hidden].sort(),
    );
    expect(out.perTenant[0].provenThrough).toBe(out.perTenant[0].until);

    // Nothing missing now: exit 0, one line per tenant.
    const human = await runCli(['sweep', '--tenant', world.tenantId], cliEnv(world));
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${world.tenantId}  complete: `);
    expect(human.stdout).toContain('0 missing, 0 repaired');
    expect(human.stdout).toContain('1 tenant(s) swept; 0 version(s) were missing.');
  });

  test('--hours that is not a whole number of hours exits 2 and says why', async () => {
    const world = await sweepWorld('graph');
    const { code, stderr } = await runCli(['sweep', '--hours', 'lots'], cliEnv(world));
    expect(code).toBe(2);
    expect(stderr).toContain('--hours: "lots" is not a whole number of hours from 1 to 168');
  });
});

test("a repaired version the relay's own inbound update produced is its sender's echo: marked, recorded, not sent back", async () => {
  const suffix = uniqueSuffix();
  const world = await startWorld({
    api: 'graph',
    sim,
    env: {
      INBOUND_TABLE_NAME: `inbound${suffix}`,
      INBOUND_SENDERS: JSON.stringify([
        { name: 'ticketing', secret: `ticketing-${suffix}`, tenants: [crypto.randomUUID()] },
      ]),
      WEBHOOKS: JSON.stringify([
        {
          name: 'ticket-hook',
          urlSecret: `ticket-url-${suffix}`,
          signingSecret: `ticket-signing-${suffix}`,
          dropEchoesOf: ['ticketing'],
        },
        { name: 'siem', urlSecret: `siem-url-${suffix}`, signingSecret: `siem-signing-${suffix}` },
      ]),
      WEBHOOK_OUTBOX_QUEUE_NAME: `outbox-${suffix}`,
      SWEEP_JOBS_QUEUE_NAME: `sweeps-${suffix}`,
    },
  });
  const outbox = world.relay.storage.queues.getQueueClient(world.config.webhooks.outboxQueue);
  sim.incidents.seed(world.tenantId, 10);
  await world.relay.syncAll();
  await world.drainQueue();
  await takeAllMessages<WebhookJob>(outbox);

  const [hidden] = hideLateUpdates(world, 1);
  expect((await world.relay.syncAll()).incidentsDelivered).toBe(0);
  release(world, [hidden!]);
  // The version is the one an inbound update of `ticketing` produced: recorded from Defender's answer, as
  // the inbound path records it (src/two-way/two-way-apply.ts).
  const [, incidentId] = hidden!.split('/');
  const version = readIncident(
    sim.incidents.get(world.tenantId, incidentId!) as unknown as Record<string, unknown>,
    'graph',
    world.tenantId,
    world.config.endpoints.portalUrl,
  );
  expect(version.versionKey).toBe(hidden);
  const ledger = new VersionLedger(world.relay.storage.table(world.config.inbound.table));
  await ledger.recordEcho(version, { sender: 'ticketing', webhookId: 'msg_late' });

  const [sweep] = await world.relay.sweepAll();
  expect(sweep).toMatchObject({ missing: 1, repaired: 1 });
  const [queued] = await world.drainQueue();
  expect(queued).toMatchObject({
    id: hidden,
    relayrepair: 'sweep',
    relayechosender: 'ticketing',
    relayechoid: 'msg_late',
  });
  const jobs = await takeAllMessages<WebhookJob>(outbox);
  expect(jobs.map((j) => [j.destination, j.eventId])).toEqual([['siem', hidden]]);
  // Its fields are recorded, so a sender can base an update on the repaired version.
  const ticks = toTicks(version.header.lastUpdate);
  expect(await ledger.snapshot(world.tenantId, incidentId!, ticks)).toBeDefined();
});

test('status, the deep health check and the metric show per tenant what was proven, checked, missing and repaired', async () => {
  const world = await sweepWorld('graph');
  sim.incidents.seed(world.tenantId, 20);
  await world.relay.syncAll();
  const hidden = hideLateUpdates(world, 1);
  release(world, hidden);
  const logs: string[] = [];
  const [sweep] = await world.relay.sweepAll({ log: (l) => logs.push(l) });
  const metric = logs
    .filter((l) => l.startsWith('RelayMetric '))
    .map((l) => JSON.parse(l.slice(12)))
    .find((m) => m.name === 'relay.sweep.completed');
  expect(metric).toMatchObject({
    tenantId: world.tenantId,
    outcome: 'complete',
    checked: sweep!.checked,
    missing: 1,
    repaired: 1,
    provenThrough: sweep!.until,
  });
  expect(typeof metric.lagSeconds).toBe('number');

  let text = '';
  await runStatus(world.relay, { json: true, out: { write: (t: string) => (text += t) } as never });
  const row = JSON.parse(text).completeness.find((r: { tenantId: string }) => r.tenantId === world.tenantId);
  expect(row).toMatchObject({
    provenThrough: sweep!.until,
    checked: sweep!.checked,
    missing: 1,
    repaired: 1,
  });
  expect(row.totalMissing).toBe(1);
  let human = '';
  await runStatus(world.relay, { json: false, out: { write: (t: string) => (human += t) } as never });
  expect(human).toContain('PROVEN THROUGH');
  expect(human).toContain(sweep!.until!);

  const health = await runHealthChecks(world.relay);
  const check = health.checks.find((c) => c.name === `completeness:${world.tenantId}`)!;
  expect(check.ok).toBe(false);
  expect(check.required).toBe(false);
  expect(check.detail).toContain('found 1 version(s) undelivered and repaired 1');
  expect(check.completeness).toMatchObject({ missing: 1, provenThrough: sweep!.until });

  // A clean sweep after it: healthy again.
  await world.relay.sweepAll();
  const after = await runHealthChecks(world.relay);
  const ok = after.checks.find((c) => c.name === `completeness:${world.tenantId}`)!;
  expect(ok.ok).toBe(true);
  expect(ok.detail).toContain('completeness proven through');
});

test('the sweep timer puts one job per enabled tenant on its queue; the worker sweeps each; a malformed job throws', async () => {
  const world = await sweepWorld('graph');
  sim.incidents.seed(world.tenantId, 10);
  await world.relay.syncAll();
  const logs: string[] = [];
  const context = () =>
    new InvocationContext({ functionName: 'sweep', logHandler: (_l, ...args) => logs.push(args.join(' ')) });
  await sweepSchedulerHandler(world.relay)({ isPastDue: false } as Timer, context());
  const queue = world.relay.storage.queues.getQueueClient(world.config.sweep.jobsQueue);
  const jobs = await takeAllMessages<Record<string, unknown>>(queue);
  expect(jobs).toEqual([
    expect.objectContaining({ kind: 'sweep', tenantId: world.tenantId, reason: 'schedule' }),
  ]);
  await sweepWorkerHandler(world.relay)(jobs[0], context());
  expect(logs.some((l) => l.includes(`Tenant ${world.tenantId} completeness sweep complete:`))).toBe(true);
  expect((await world.relay.sweepState.get(world.tenantId))?.provenThrough).toBeDefined();
  await expect(
    sweepWorkerHandler(world.relay)({ kind: 'sweep', tenantId: 'nope' }, context()),
  ).rejects.toThrow(/not a sweep job: .*tenantId is not a tenant id/);
});
