/**
 * Exactly one delivery per incident version per destination, against the simulator's real paging,
 * eventual consistency, equal timestamps and mid-run updates, on both APIs.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { startWorld, type World } from '../helpers/world';
import { expectValidIncidentEvent } from '../helpers/schema';
import type { IncidentEvent } from '../../src/delivery/envelope';

/** The simulator's clock can be moved forward; the relay keeps real time. */
let clockOffsetMs = 0;
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ clock: () => Date.now() + clockOffsetMs });
});
afterAll(async () => {
  await sim.stop();
});

/** Now, by the simulator's clock. */
function simNow(): number {
  return Date.now() + clockOffsetMs;
}

function ids(events: IncidentEvent[]): string[] {
  return events.map((e) => e.id).sort();
}

function expectNoRepeats(events: IncidentEvent[]): void {
  expect(new Set(ids(events)).size).toBe(events.length);
}

/** The newest stamp of each incident the tenant has, as version keys. */
function latestVersionKeys(world: World): string[] {
  return world.sim.incidents
    .ids(world.tenantId)
    .map((id) => world.sim.incidents.get(world.tenantId, id))
    .map((i) => `${world.tenantId}/${i.id}/${canonical(i.lastUpdateDateTime)}`)
    .sort();
}

function canonical(t: string): string {
  const [whole, frac = ''] = t.replace('Z', '').split('.');
  return `${whole}.${frac.padEnd(7, '0')}Z`;
}

describe.each(['graph', 'legacy'] as const)('on the %s API', (api) => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld({ api, sim });
  });

  test('an update that becomes visible after a later-stamped one is still delivered, once', async () => {
    const base = simNow() - 60_000;
    const early = new Date(base).toISOString();
    const late = new Date(base + 30_000).toISOString();
    const hidden = sim.incidents.create(
      world.tenantId,
      { displayName: 'late arrival' },
      { stamp: early, visibleAfterMs: 120_000 },
    );
    sim.incidents.create(world.tenantId, { displayName: 'on time' }, { stamp: late });

    const first = await world.relay.syncAll();
    expect(first.incidentsDelivered).toBe(1);
    const state = await world.relay.state.getTenant(world.tenantId);
    // The checkpoint is past the hidden update's stamp ...
    expect(state!.cursor! > canonical(hidden.lastUpdateDateTime)).toBe(true);

    clockOffsetMs += 180_000; // ... which now becomes visible
    const second = await world.relay.syncAll();
    expect(second.incidentsDelivered).toBe(1);
    expect(second.incidentsSuppressed).toBe(1);

    const events = await world.drainQueue();
    expect(events.map((e) => e.data.header.title).sort()).toEqual(['late arrival', 'on time']);
    expectNoRepeats(events);
  });

  test('incidents sharing one last-update time across a page boundary are each delivered once', async () => {
    const base = Date.now() - 10 * 60_000;
    // 45 distinct earlier stamps, then 70 incidents sharing one stamp: a Graph page of 50 (and a legacy
    // page of 100) ends inside the block of equal times.
    for (let i = 0; i < 45; i++)
      sim.incidents.create(world.tenantId, {}, { stamp: new Date(base + i * 1000).toISOString() });
    const shared = new Date(base + 60_000).toISOString().replace('Z', '1234Z');
    for (let i = 0; i < 70; i++) sim.incidents.create(world.tenantId, {}, { stamp: shared, alerts: 1 });
    sim.incidents.create(world.tenantId, {}, { stamp: new Date(base + 61_000).toISOString() });

    const run = await world.relay.syncAll();
    expect(run.errors).toEqual([]);
    const events = await world.drainQueue();
    expect(events).toHaveLength(116);
    expectNoRepeats(events);
    expect(ids(events)).toEqual(latestVersionKeys(world));
  });

  test('an incident updated while the run is paging loses nothing and repeats nothing', async () => {
    const base = Date.now() - 30 * 60_000;
    for (let i = 0; i < 260; i++)
      sim.incidents.create(world.tenantId, {}, { stamp: new Date(base + i * 1000).toISOString() });
    const [firstId, secondId] = sim.incidents.ids(world.tenantId);
    let updated = false;
    const run = await world.relay.syncAll({
      onProgress: () => {
        if (updated) return;
        updated = true;
        // After the first page: two incidents already read change (and move to the end of Graph's order).
        sim.incidents.update(world.tenantId, firstId!, { status: 'inProgress' });
        sim.incidents.update(world.tenantId, secondId!, { severity: 'high' });
      },
    });
    expect(run.errors).toEqual([]);
    const afterFirst = await world.drainQueue();
    // Whatever this run saw of the two updates, the next run completes the picture.
    await world.relay.syncAll();
    const all = [...afterFirst, ...(await world.drainQueue())];
    expectNoRepeats(all);
    const delivered = new Set(ids(all));
    for (const key of latestVersionKeys(world)) expect(delivered.has(key)).toBe(true);
    // Every event is a real version. Graph reads oldest first, so both original versions had been read
    // before they changed; the legacy order is not by time, so an original may have been superseded
    // before the run reached it (the API then shows only the newer version, which is what counts).
    const history = new Set(
      sim.incidents
        .history(world.tenantId)
        .map((h) => `${world.tenantId}/${h.incidentId}/${canonical(h.lastUpdate)}`),
    );
    for (const key of delivered) expect(history.has(key)).toBe(true);
    if (api === 'graph') expect(all).toHaveLength(262);
    else expect(all.length).toBeGreaterThanOrEqual(260);
  });

  test('a merged incident is delivered as redirected, pointing at the one it went into', async () => {
    const a = sim.incidents.create(world.tenantId, { displayName: 'phish A' });
    const b = sim.incidents.create(world.tenantId, { displayName: 'phish B' });
    await world.relay.syncAll();
    await world.drainQueue();
    sim.incidents.merge(world.tenantId, a.id, b.id);
    await world.relay.syncAll();
    const events = await world.drainQueue();
    const redirected = events.find((e) => e.subject === String(a.id));
    expect(redirected?.data.header).toMatchObject({ status: 'redirected', redirectIncidentId: String(b.id) });
    // The incident it went into got a new version too (with the moved alerts).
    expect(events.find((e) => e.subject === String(b.id))?.data.header.alertCount).toBe(
      a.alerts.length + b.alerts.length,
    );
    for (const e of events) expectValidIncidentEvent(e);
  });

  test('a backlog larger than one run’s call budget is worked off across runs, each version once', async () => {
    const small = await startWorld({ api, sim, env: { SYNC_MAX_API_CALLS_PER_RUN: '2' } });
    const base = Date.now() - 60 * 60_000;
    for (let i = 0; i < 430; i++)
      sim.incidents.create(small.tenantId, {}, { stamp: new Date(base + i * 1000).toISOString(), alerts: 1 });
    const outcomes: string[] = [];
    for (let run = 0; run < 12; run++) {
      const summary = await small.relay.syncAll();
      outcomes.push(summary.results[0]!.outcome);
      if (summary.results[0]!.outcome === 'complete') break;
    }
    expect(outcomes[0]).toBe('budget');
    expect(outcomes.at(-1)).toBe('complete');
    const events = await small.drainQueue();
    expectNoRepeats(events);
    expect(ids(events)).toEqual(latestVersionKeys(small));
  });
});

test('Graph: paging costs one call per 49 new incidents (one incident of each page is read again)', async () => {
  const world = await startWorld({ api: 'graph', sim });
  const base = Date.now() - 60 * 60_000;
  for (let i = 0; i < 148; i++)
    sim.incidents.create(world.tenantId, {}, { stamp: new Date(base + i * 1000).toISOString(), alerts: 1 });
  const run = await world.relay.syncAll();
  expect(run.incidentsDelivered).toBe(148);
  // 50 + 49 + 49 = 148: three calls.
  expect(run.apiCalls).toBe(3);
});

test('legacy: $skip paging with pages of 100 reads every incident once, in the API’s own order', async () => {
  const world = await startWorld({ api: 'legacy', sim });
  sim.incidents.seed(world.tenantId, 250, { alertsPerIncident: 1 });
  const run = await world.relay.syncAll();
  expect(run.incidentsDelivered).toBe(250);
  expect(run.incidentsSuppressed).toBe(0);
  expect(run.apiCalls).toBe(3);
  const events = await world.drainQueue();
  expect(ids(events)).toEqual(latestVersionKeys(world));
});

test('the delivered record stays bounded: versions older than the sweep’s window are pruned', async () => {
  // The completeness sweep checks against the record, so it is kept for the sweep's window (2 hours here).
  const world = await startWorld({ api: 'graph', sim, env: { SWEEP_WINDOW_HOURS: '2' } });
  const base = simNow() - 5 * 3600_000;
  // Five hours of updates, one a minute: after the run, only the last ~180 minutes can still be checked
  // (the 2-hour sweep window plus an hour's margin); older records are gone.
  for (let i = 0; i < 300; i++)
    sim.incidents.create(world.tenantId, {}, { stamp: new Date(base + i * 60_000).toISOString(), alerts: 1 });
  const run = await world.relay.syncAll();
  expect(run.incidentsDelivered).toBe(300);
  const kept = await world.relay.state.deliveredSince(world.tenantId, 0n);
  expect(kept.size).toBeGreaterThan(0);
  // Records are kept a page at a time (one row per page): the page that straddles the horizon stays whole.
  expect(kept.size).toBeGreaterThanOrEqual(178);
  expect(kept.size).toBeLessThanOrEqual(182 + 50);
  // The versions still recorded are the newest ones, so the next run still suppresses its overlap.
  const next = await world.relay.syncAll();
  expect(next.incidentsDelivered).toBe(0);
  expect(next.incidentsSuppressed).toBeGreaterThan(0);
});
