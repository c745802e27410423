/**
 * An MSSP round: one multi-tenant app registration, 200 customer tenants, run through the fan-out as the
 * Functions host runs it (the timer schedules one job per tenant; workers take the jobs, several at once).
 * One tenant has no Defender permission (403), one is throttled past the run's budget. Every version of
 * every healthy tenant arrives exactly once, and the two others are reported by name.
 */
import crypto from 'node:crypto';
import { InvocationContext, type Timer } from '@azure/functions';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv, simulatorAppSettings } from '../../tools/simulator/app-settings';
import { loadConfig } from '../../src/config/settings';
import { createRelay, type Relay } from '../../src/relay';
import { syncSchedulerHandler } from '../../src/functions/sync-scheduler';
import { syncWorkerHandler } from '../../src/functions/sync-worker';
import { forEachLimit } from '../../src/delivery/destination';
import { canonicalTimestamp } from '../../src/defender/timestamp';
import { tenantStatuses } from '../../src/sync/tenant-status';
import { takeAllMessages } from '../../tools/queue-messages';
import { drainQueue, storageConnectionString, uniqueSuffix } from '../helpers/world';

const TENANTS = 200;
const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 7 });
});
afterAll(async () => {
  await sim.stop();
});

test('200 tenants: every healthy tenant exactly once; the forbidden and the throttled one named', async () => {
  const home = sim.addTenant({ displayName: 'Fabrikam MSSP' });
  const app = sim.registerApp({ homeTenantId: home, multiTenant: true });
  const customers = Array.from({ length: TENANTS }, (_, i) =>
    sim.addTenant({ displayName: `Customer ${i}` }),
  );
  const [forbidden, throttled] = customers;
  for (const t of customers) {
    // The forbidden tenant consented, but without the incident permission.
    sim.grantPermissions(
      app.clientId,
      t,
      'graph',
      t === forbidden ? ['ThreatHunting.Read.All'] : ['SecurityIncident.Read.All'],
    );
    sim.incidents.seed(t, 1 + (crypto.randomInt(4) as number), { alertsPerIncident: 1 });
  }
  sim.faults.inject({
    target: 'graph',
    tenantId: throttled,
    status: 429,
    retryAfterSeconds: 900,
    count: Infinity,
  });
  const suffix = uniqueSuffix();
  const secretName = `mssp-secret-${suffix}`;
  sim.keyVault.setSecret(secretName, app.secret ?? '');
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  Object.assign(process.env, identityEnv(sim));
  const config = loadConfig(
    simulatorAppSettings(sim, app, storageConnectionString(), {
      DEFENDER_TENANTS: customers.join(','),
      DEFENDER_CLIENT_SECRET_NAME: secretName,
      INCIDENTS_QUEUE_NAME: `mssp-incidents-${suffix}`,
      STATE_TABLE_NAME: `mssp${suffix}`,
      TENANTS_TABLE_NAME: `msspt${suffix}`,
      SYNC_JOBS_QUEUE_NAME: `mssp-jobs-${suffix}`,
      LEASES_CONTAINER_NAME: `mssp-leases-${suffix}`,
      CLAIM_CHECK_CONTAINER_NAME: `mssp-payloads-${suffix}`,
      // The throttled tenant is asked to wait 900 s, past any run's budget; the budget itself is wide, so a
      // slow (shared, loaded) CI machine cannot cut a healthy tenant's run short.
      SYNC_MAX_RUN_SECONDS: '120',
      DEFENDER_MAX_RETRIES: '1',
    }),
  );
  const relay: Relay = createRelay(config);
  const logs: string[] = [];
  const context = () =>
    new InvocationContext({ functionName: 'syncWorker', logHandler: (_l, ...a) => logs.push(a.join(' ')) });

  // The timer schedules; the jobs are taken off the queue and handed to workers, eight at a time.
  await syncSchedulerHandler(relay)(timer, context());
  const jobsQueue = relay.storage.queues.getQueueClient(config.sync.jobsQueue);
  const jobs = await takeAllMessages(jobsQueue);
  expect(jobs).toHaveLength(TENANTS);
  await forEachLimit(jobs, 8, (job) => syncWorkerHandler(relay)(job, context()));

  // Exactly once for every healthy tenant.
  const events = await drainQueue(relay.storage.queues.getQueueClient(config.names.incidentsQueue));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const expected = customers
    .filter((t) => t !== forbidden && t !== throttled)
    .flatMap((t) =>
      sim.incidents
        .ids(t)
        .map((id) => `${t}/${id}/${canonicalTimestamp(sim.incidents.get(t, id).lastUpdateDateTime)}`),
    )
    .sort();
  // The two others, by name: in the per-tenant status (what `defender-relay status` shows) and in the
  // telemetry the dashboard and alerts read.
  const statuses = await tenantStatuses(relay.tenants, relay.state);
  // A healthy tenant short of versions is named with its last outcome, so a failure says why.
  const got = new Set(events.map((e) => e.id));
  const short = [...new Set(expected.filter((id) => !got.has(id)).map((id) => id.split('/')[0]!))].map(
    (t) => {
      const s = statuses.find((x) => x.tenantId === t);
      return { tenantId: t, lastOutcome: s?.lastOutcome, lastError: s?.lastError };
    },
  );
  expect(short).toEqual([]);
  expect(events.map((e) => e.id).sort()).toEqual(expected);

  expect(statuses).toHaveLength(TENANTS);
  const byId = new Map(statuses.map((t) => [t.tenantId, t]));
  expect(byId.get(forbidden!)?.lastError).toMatch(/SecurityIncident\.Read\.All/);
  expect(byId.get(throttled!)?.lastOutcome).toBe('budget');
  const failedLines = logs.filter((l) => l.includes('"name":"relay.sync.failed"'));
  expect(failedLines).toHaveLength(1);
  expect(failedLines[0]).toContain(forbidden);
  const budgetLines = logs.filter(
    (l) => l.includes('"name":"relay.sync.completed"') && l.includes('"outcome":"budget"'),
  );
  expect(budgetLines).toHaveLength(1);
  expect(budgetLines[0]).toContain(throttled);
  expect(statuses.filter((t) => t.lastError && t.tenantId !== forbidden && t.tenantId !== throttled)).toEqual(
    [],
  );
  sim.faults.clear();
  // 200 tenants through the real SDKs: a hang guard for a loaded 2-core machine, not a timing.
}, 240_000);
