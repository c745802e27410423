/**
 * The first vertical slice, end to end with the real SDKs, as the Functions host runs it: the timer puts a
 * job for the tenant on the jobs queue; the worker, given that message, asks the managed-identity endpoint
 * for a Key Vault token, reads the client secret from Key Vault, gets a Defender token from Entra ID through
 * MSAL, lists the incidents updated since the checkpoint, and puts each version on the Azurite queue as a
 * CloudEvents message; then it stores the checkpoint in Table storage.
 */
import { InvocationContext, type Timer } from '@azure/functions';
import { syncSchedulerHandler } from '../../src/functions/sync-scheduler';
import { syncWorkerHandler } from '../../src/functions/sync-worker';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { startWorld, type World } from '../helpers/world';
import { takeAllMessages } from '../../tools/queue-messages';
import { expectValidIncidentEvent } from '../helpers/schema';

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

/** The jobs the timer scheduled, decoded as the queue trigger decodes them. */
function drainJobs(world: World): Promise<unknown[]> {
  return takeAllMessages(world.relay.storage.queues.getQueueClient(world.config.sync.jobsQueue));
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.stop();
});

describe.each(['graph', 'legacy'] as const)('first slice on the %s API', (api) => {
  let world: World;
  beforeEach(async () => {
    world = await startWorld({ api, sim });
  });

  test('an incident created in the simulator arrives on the queue as a CloudEvents message', async () => {
    const created = world.sim.incidents.create(world.tenantId, {
      displayName: 'Ransomware on FIN-LAPTOP-7',
      severity: 'high',
    });
    const logs: string[] = [];
    const context = new InvocationContext({
      functionName: 'syncScheduler',
      logHandler: (_level, ...args) => logs.push(args.join(' ')),
    });

    await syncSchedulerHandler(world.relay)(timer, context);
    const jobs = await drainJobs(world);
    expect(jobs).toEqual([expect.objectContaining({ tenantId: world.tenantId, reason: 'schedule' })]);
    await syncWorkerHandler(world.relay)(jobs[0], context);

    const events = await world.drainQueue();
    expect(events).toHaveLength(1);
    const [event] = events;
    expectValidIncidentEvent(event);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'com.microsoft.defender.incident.updated',
      source: `/tenants/${world.tenantId}/defender/${api}`,
      subject: String(created.id),
      time: created.lastUpdateDateTime,
    });
    expect(event!.data.header).toMatchObject({
      tenantId: world.tenantId,
      incidentId: String(created.id),
      title: 'Ransomware on FIN-LAPTOP-7',
      severity: 'high',
      api,
      alertCount: created.alerts.length,
    });
    // The original incident, with every alert, is in the message as the API sent it.
    const incident = event!.data.incident as Record<string, unknown>;
    expect(incident[api === 'graph' ? 'id' : 'incidentId']).toEqual(
      api === 'graph' ? String(created.id) : created.id,
    );
    expect((incident.alerts as unknown[]).length).toBe(created.alerts.length);

    // The whole credential chain ran against the simulator: MI token, one Key Vault read, an Entra token.
    const counters = world.sim.counters.snapshot();
    expect(counters.tokenRequests.some((t) => t.tenantId === 'msi')).toBe(true);
    expect(
      counters.keyVaultReads[
        world.config.credential.kind === 'secret' ? world.config.credential.secretName : ''
      ],
    ).toBe(1);
    expect(counters.tokenRequests).toContainEqual(
      expect.objectContaining({
        clientId: world.app.clientId,
        tenantId: world.tenantId,
        resource: world.sim.resources[api],
      }),
    );
    expect(counters.byKind[`${api}.list`]).toBe(1);

    // The checkpoint is stored, and the run reported itself in the telemetry contract.
    const state = await world.relay.state.getTenant(world.tenantId);
    expect(state?.cursor).toBeDefined();
    expect(
      logs.some((l) => l.startsWith('RelayMetric ') && l.includes('"name":"relay.sync.completed"')),
    ).toBe(true);
  });

  test('the next run delivers only what changed since', async () => {
    world.sim.incidents.seed(world.tenantId, 5);
    await world.relay.syncAll();
    expect(await world.drainQueue()).toHaveLength(5);

    const again = await world.relay.syncAll();
    expect(again.incidentsDelivered).toBe(0);
    expect(await world.drainQueue()).toHaveLength(0);

    const [first] = world.sim.incidents.ids(world.tenantId);
    const updated = world.sim.incidents.update(world.tenantId, first!, {
      status: 'resolved',
      classification: 'falsePositive',
    });
    const third = await world.relay.syncAll();
    expect(third.incidentsDelivered).toBe(1);
    const events = await world.drainQueue();
    expect(events.map((e) => e.data.header.status)).toEqual(['resolved']);
    expect(events[0]!.time).toBe(updated.lastUpdateDateTime);
    for (const e of events) expectValidIncidentEvent(e);
  });
});
