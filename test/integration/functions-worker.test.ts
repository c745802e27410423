/**
 * The app on the real Azure Functions Node.js worker (../shared/functions-worker, 3.9.1), driven over gRPC
 * by the project's test host (tools/functions-host/) as the Functions host drives it: the metadata the
 * worker indexes, one scheduled round through the queues, HTTP calls with the host's key check, a poison
 * message, the placeholder (Flex Consumption) start, and a bad setting reaching the host.
 *
 * Without the worker folder (a user's own clone) the tests say so and are skipped; under CI=true its
 * absence fails.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import {
  drainQueue,
  findWorker,
  FunctionsTestHost,
  stageApp,
  stagePlaceholder,
  triggerQueues,
  type HostLogLine,
  type HostOptions,
  type StagedApp,
} from '../../tools/functions-host';
import { startWorld, uniqueSuffix, type World } from '../helpers/world';
import { createDestinations } from '../helpers/actions-world';
import { ALL_METHODS, HTTP_FUNCTIONS } from '../../src/functions/http-functions';
import { syncWorkerOptions } from '../../src/functions/sync-worker';
import { sweepWorkerOptions } from '../../src/functions/sweep-worker';
import { webhookDeliveryOptions } from '../../src/functions/webhook-delivery';
import { inboundRetryOptions } from '../../src/functions/inbound-webhook';

const worker = findWorker();
const missing =
  'The Azure Functions Node.js worker is not at ../shared/functions-worker: the tests that run the app on it ' +
  'are skipped (see docs/functions-worker.md).';

if (!worker) {
  if (process.env.CI === 'true') {
    test('the Functions worker is there (CI)', () => {
      throw new Error(`${missing} Under CI=true this is a failure.`);
    });
  } else {
    console.warn(missing);
  }
}

const describeOnWorker = worker ? describe : describe.skip;

/** Every line the host and the worker log is searched for leaked credentials (test/helpers/log-secrecy.ts). */
const capture = (line: HostLogLine) => globalThis.__RELAY_CAPTURE_OUTPUT__?.(line.message);

describeOnWorker('the app on the real Functions worker', () => {
  let sim: Simulator;
  let world: World;
  let app: StagedApp;
  let host: FunctionsTestHost;
  const hosts: FunctionsTestHost[] = [];

  async function startHost(options: Partial<HostOptions> = {}): Promise<FunctionsTestHost> {
    const h = await FunctionsTestHost.start({
      appDir: app.dir,
      hostJson: app.hostJson,
      // The app settings, and the managed-identity endpoint the Functions host sets in Azure.
      settings: { ...world.env, ...identityEnv(sim) },
      onLog: capture,
      ...options,
    });
    hosts.push(h);
    return h;
  }

  beforeAll(async () => {
    // host.json as deployed, but a failed queue message is visible again at once (instead of after 30 s),
    // so the retries up to maxDequeueCount happen within the test.
    app = await stageApp({ hostJson: { extensions: { queues: { visibilityTimeout: '00:00:00' } } } });
    sim = await startSimulator();
    world = await startWorld({ sim });
    await createDestinations(world);
    host = await startHost();
  }, 180_000);

  afterAll(async () => {
    for (const h of hosts) await h.stop();
    await world?.stop();
    await sim?.stop();
    app?.remove();
  });

  test('the worker indexes every function the app registers, with its trigger, queue, route and key level', () => {
    expect(host.indexingError).toBeUndefined();
    expect(host.usedDefaultMetadataIndexing).toBe(false);
    expect(host.functionErrors.size).toBe(0);
    const indexed = Object.fromEntries(
      [...host.functions.values()].map((f) => [
        f.name,
        { loadError: f.loadError, bindings: f.bindings.map(({ name: _n, properties: _p, ...b }) => b) },
      ]),
    );
    const queue = (o: { queueName: string; connection?: string }) => [
      { type: 'queueTrigger', direction: 'in', queueName: o.queueName, connection: o.connection },
    ];
    const expected: Record<string, { loadError: undefined; bindings: unknown[] }> = {
      syncScheduler: {
        loadError: undefined,
        bindings: [{ type: 'timerTrigger', direction: 'in', schedule: world.config.sync.schedule }],
      },
      syncWorker: { loadError: undefined, bindings: queue(syncWorkerOptions(world.relay)) },
      sweepScheduler: {
        loadError: undefined,
        bindings: [{ type: 'timerTrigger', direction: 'in', schedule: world.config.sweep.schedule }],
      },
      sweepWorker: { loadError: undefined, bindings: queue(sweepWorkerOptions(world.relay)) },
      webhookDelivery: { loadError: undefined, bindings: queue(webhookDeliveryOptions(world.relay)) },
      inboundRetry: { loadError: undefined, bindings: queue(inboundRetryOptions(world.relay)) },
    };
    for (const f of HTTP_FUNCTIONS) {
      expected[f.name] = {
        loadError: undefined,
        bindings: [
          {
            type: 'httpTrigger',
            direction: 'in',
            authLevel: f.authLevel,
            methods: [...ALL_METHODS],
            route: f.route,
          },
          { type: 'http', direction: 'out' },
        ],
      };
    }
    expect(indexed).toEqual(expected);
    // HTTP answers go back through the `$return` binding.
    for (const f of HTTP_FUNCTIONS) {
      expect(host.functions.get(f.name)!.bindings.find((b) => b.direction === 'out')?.name).toBe('$return');
    }
    expect(host.functions.size).toBe(14);
  });

  test('one scheduled round: timer → sync jobs queue → worker → incidents queue, every version once', async () => {
    const seeded = sim.incidents.seed(world.tenantId, 3);
    const tick = await host.fireTimer('syncScheduler');
    expect(tick).toMatchObject({ status: 'Success' });
    expect(tick.logs.map((l) => l.message)).toContain(
      `Scheduled a sync of 1 tenant(s) on queue ${world.config.sync.jobsQueue}.`,
    );
    const jobs = await drainQueue(host, 'syncWorker');
    expect(jobs.map((j) => j.outcome)).toEqual(['completed']);
    expect(jobs[0]!.invocation!.logs.map((l) => l.message).join('\n')).toContain('complete, 3 delivered');
    const first = await world.drainQueue();
    expect(first.map((e) => e.subject).sort()).toEqual(seeded.map((i) => String(i.id)).sort());

    // One incident changes; the next round delivers that version alone, and nothing twice.
    sim.incidents.update(world.tenantId, seeded[0]!.id, { status: 'inProgress' });
    expect(await host.fireTimer('syncScheduler')).toMatchObject({ status: 'Success' });
    expect((await drainQueue(host, 'syncWorker')).map((j) => j.outcome)).toEqual(['completed']);
    const second = await world.drainQueue();
    expect(second.map((e) => e.subject)).toEqual([String(seeded[0]!.id)]);
    const ids = [...first, ...second].map((e) => e.id);
    expect(new Set(ids).size).toBe(4);
    const { queue } = triggerQueues(host, 'syncWorker');
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
  });

  describe('HTTP, through the host front end', () => {
    test('GET /api/health answers 200 alive; HEAD too', async () => {
      const res = await host.http({ method: 'GET', path: '/api/health' });
      expect(res).toMatchObject({ status: 200, invoked: true });
      expect(JSON.parse(res.body)).toEqual({ status: 'alive' });
      expect((await host.http({ method: 'HEAD', path: '/api/health' })).status).toBe(200);
    });

    test('deep health needs the function key: the host answers 401 without it and never calls the worker', async () => {
      const before = host.logs.filter((l) => l.message.startsWith("Executing 'Functions.healthDeep'")).length;
      const noKey = await host.http({ method: 'GET', path: '/api/health/deep' });
      expect(noKey).toMatchObject({ status: 401, invoked: false });
      const wrongKey = await host.http({ method: 'GET', path: '/api/health/deep?code=not-the-key' });
      expect(wrongKey).toMatchObject({ status: 401, invoked: false });
      expect(host.logs.filter((l) => l.message.startsWith("Executing 'Functions.healthDeep'")).length).toBe(
        before,
      );

      const withKey = await host.http({
        method: 'GET',
        path: `/api/health/deep?code=${encodeURIComponent(host.functionKey('healthDeep'))}`,
      });
      expect(withKey).toMatchObject({ status: 200, invoked: true });
      const report = JSON.parse(withKey.body) as { status: string; checks: { name: string; ok: boolean }[] };
      expect(report.checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: `token:application:${world.tenantId}`, ok: true }),
        ]),
      );
      // The same call with the key in the header, as the host also accepts it.
      const header = await host.http({
        method: 'GET',
        path: '/api/health/deep',
        headers: { 'x-functions-key': host.keys.master },
      });
      expect(header.status).toBe(200);
    });

    test('a malformed request gets problem JSON naming the field, never a 500', async () => {
      const res = await host.http({
        method: 'POST',
        path: '/api/sync',
        headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey('syncNow') },
        body: JSON.stringify({ tenantId: 'contoso', since: 'last week' }),
      });
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toBe('application/problem+json');
      const problem = JSON.parse(res.body) as { errors: { field: string }[] };
      expect(problem.errors.map((e) => e.field).sort()).toEqual(['since', 'tenantId']);
      const notJson = await host.http({
        method: 'POST',
        path: '/api/sync',
        headers: { 'content-type': 'application/json', 'x-functions-key': host.functionKey('syncNow') },
        body: '{"tenantId":',
      });
      expect(notJson.status).toBe(400);
      expect(notJson.headers['content-type']).toBe('application/problem+json');
    });

    test('a wrong method reaches the app and gets 405 with Allow; an unknown route is the host 404', async () => {
      const res = await host.http({ method: 'DELETE', path: '/api/health' });
      expect(res).toMatchObject({ status: 405, invoked: true });
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(await host.http({ method: 'GET', path: '/api/nothing-here' })).toMatchObject({
        status: 404,
        invoked: false,
      });
    });

    test('a route parameter reaches the handler (PATCH /api/incidents/{id} without a token: 401 problem)', async () => {
      const res = await host.http({
        method: 'PATCH',
        path: '/api/incidents/42',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'resolved' }),
      });
      expect(res).toMatchObject({ status: 401, invoked: true });
      expect(res.headers['content-type']).toBe('application/problem+json');
    });
  });

  test('a message that keeps failing is retried up to host.json maxDequeueCount, then moved to -poison', async () => {
    const { queue, poison } = triggerQueues(host, 'syncWorker');
    const text = Buffer.from(JSON.stringify({ tenantId: 'nope' })).toString('base64');
    await queue.createIfNotExists();
    await queue.sendMessage(text);
    const processed = await drainQueue(host, 'syncWorker');
    const max = app.hostJson.extensions!.queues!.maxDequeueCount!;
    expect(max).toBe(5);
    expect(processed.map((p) => [p.dequeueCount, p.outcome])).toEqual([
      ...Array.from({ length: max - 1 }, (_, i) => [i + 1, 'retried']),
      [max, 'poisoned'],
    ]);
    for (const p of processed) expect(p.invocation?.error).toMatch(/not a sync job: .*tenantId/);
    const { receivedMessageItems } = await poison.receiveMessages({ numberOfMessages: 32 });
    expect(receivedMessageItems.map((m) => m.messageText)).toEqual([text]);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    await poison.delete();
  });

  test('placeholder start (Flex Consumption): the worker gets the app and its settings only at FunctionEnvironmentReloadRequest', async () => {
    const site = stagePlaceholder();
    try {
      const specialized = await startHost({ placeholder: { siteDir: site.dir } });
      const messages = specialized.logs.map((l) => l.message);
      const reload = messages.findIndex((m) =>
        /^Reloading environment variables\. Found \d+ variables/.test(m),
      );
      const loaded = messages.findIndex((m) => m === 'Loaded entry point file "dist/index.js"');
      expect(reload).toBeGreaterThanOrEqual(0);
      expect(loaded).toBeGreaterThan(reload);
      expect(specialized.indexingError).toBeUndefined();
      expect([...specialized.functions.keys()].sort()).toEqual([...host.functions.keys()].sort());
      const res = await specialized.http({ method: 'GET', path: '/api/health' });
      expect(res.status).toBe(200);
      await specialized.stop();
    } finally {
      site.remove();
    }
  });

  test('a bad setting reaches the host: metadata fails with the ConfigError naming each setting, and /api/health is not 200', async () => {
    const { DEFENDER_CLIENT_ID: _missing, ...rest } = world.env;
    const badSchedule = `every five minutes ${uniqueSuffix()}`;
    const bad = await startHost({ settings: { ...rest, ...identityEnv(sim), SYNC_SCHEDULE: badSchedule } });
    expect(bad.usedDefaultMetadataIndexing).toBe(false);
    expect(bad.indexingError).toContain('Defender Relay cannot start: 2 app settings are wrong.');
    expect(bad.indexingError).toContain('DEFENDER_CLIENT_ID: is required but not set');
    expect(bad.indexingError).toContain('SYNC_SCHEDULE: has 4 fields, not the six of NCRONTAB');
    expect(bad.indexingError).not.toContain(badSchedule);
    const hostError = bad.logs.find((l) => l.source === 'host' && l.level === 'Error');
    expect(hostError?.message).toMatch(/^Worker failed to index functions: .*Defender Relay cannot start/s);
    expect(hostError?.message).toContain('DEFENDER_CLIENT_ID');
    expect(hostError?.message).toContain('SYNC_SCHEDULE');
    // The host runs none of the app's functions: nothing polls the queues, and health is no 200.
    expect(bad.functions.size).toBe(0);
    const health = await bad.http({ method: 'GET', path: '/api/health' });
    expect(health.status).not.toBe(200);
    expect(health.status).toBe(404);
    await bad.stop();
  });

  test('the worker ends by itself on WorkerTerminate (exit code 0, not killed)', async () => {
    const other = await startHost();
    await other.stop();
    expect(other.exit).toEqual({ code: 0, signal: null });
  });
});
