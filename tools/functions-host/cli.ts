/**
 * `npm run worker`: the app on the real Azure Functions Node.js worker (../shared/functions-worker), driven
 * by the test host over gRPC as the Functions host drives it, against Azurite and the simulated Microsoft
 * cloud on this machine. No Azure account and no Core Tools.
 *
 *   npm run worker                  one round and exit: index, timer → jobs queue → worker → incidents
 *                                   queue, health and deep health, then the same app with bad settings
 *   npm run worker -- --serve       keep running: the app's HTTP functions on http://127.0.0.1:7071/api/…,
 *        [--port 7071]              the queue triggers polled, the timer fired every --timer-seconds (60)
 *        [--timer-seconds 60]
 *
 * Exit status: 0 when everything behaved, 1 when something did not, 2 when the worker is not there.
 */
import http from 'node:http';
import { startAzurite, type AzuriteHandle } from '../azurite';
import { startSimulator, type Simulator } from '../simulator';
import { identityEnv, setUpDemoTenant, simulatorAppSettings } from '../simulator/app-settings';
import { takeAllMessages } from '../queue-messages';
import type { IncidentEvent } from '../../src/delivery/envelope';
import { FunctionsTestHost } from './host';
import { drainQueue, processQueueBatch, queueOptions } from './queue-listener';
import { stageApp, type StagedApp } from './stage';
import { findWorker, timeSpanMs } from './worker-location';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`▶ ${s}`)}`);

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive whole number`);
  return value;
}

async function main(args: string[]): Promise<number> {
  const worker = findWorker();
  if (!worker) {
    console.error(
      'The Azure Functions Node.js worker is not at ../shared/functions-worker (see docs/functions-worker.md).',
    );
    return 2;
  }
  const serve = args.includes('--serve');
  const port = option(args, '--port', 7071);
  const timerSeconds = option(args, '--timer-seconds', 60);
  let azurite: AzuriteHandle | undefined;
  let sim: Simulator | undefined;
  let app: StagedApp | undefined;
  const hosts: FunctionsTestHost[] = [];
  try {
    step(
      `Staging the app (package.json, host.json, dist/ bundled as npm run build does) for worker ${worker.version}`,
    );
    app = await stageApp();
    console.log(`  ${app.dir}`);

    step('Starting Azurite and the simulated Microsoft cloud; a tenant with 12 incidents');
    azurite = await startAzurite();
    sim = await startSimulator({ seed: 42 });
    const { app: registration } = setUpDemoTenant(sim, {
      displayName: 'Defender Relay (worker)',
      incidents: 12,
    });
    const settings: Record<string, string> = {
      ...simulatorAppSettings(sim, registration, azurite.connectionString),
      ...identityEnv(sim),
    };

    step(
      'Starting the worker: StartStream, WorkerInitRequest, FunctionsMetadataRequest, FunctionLoadRequest',
    );
    const host = await FunctionsTestHost.start({ appDir: app.dir, hostJson: app.hostJson, settings });
    hosts.push(host);
    for (const f of host.functions.values()) {
      const t = f.trigger;
      const what =
        t.type === 'httpTrigger'
          ? `${String(t.authLevel).padEnd(9)} /api/${String(t.route)}`
          : t.type === 'queueTrigger'
            ? `queue ${String(t.queueName)}`
            : `schedule ${String(t.schedule)}`;
      console.log(`  ${f.name.padEnd(24)} ${t.type.padEnd(13)} ${what}`);
    }

    if (serve) return await serveForever(host, port, timerSeconds);

    step('One scheduled round: timer → sync jobs queue → syncWorker → incidents queue');
    const tick = await host.fireTimer('syncScheduler');
    const jobs = await drainQueue(host, 'syncWorker');
    for (const inv of [tick, ...jobs.map((j) => j.invocation!)]) {
      for (const l of inv.logs)
        if (l.logCategory === 'User' && !l.message.startsWith('RelayMetric ')) console.log(`  ${l.message}`);
    }
    const { QueueServiceClient } = await import('@azure/storage-queue');
    const events = await takeAllMessages<IncidentEvent>(
      QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('defender-incidents'),
    );
    console.log(`  ${events.length} incident events on the incidents queue`);

    step('HTTP through the host: health, and deep health without and with the function key');
    const health = await host.http({ method: 'GET', path: '/api/health' });
    const noKey = await host.http({ method: 'GET', path: '/api/health/deep' });
    const deep = await host.http({
      method: 'GET',
      path: `/api/health/deep?code=${host.functionKey('healthDeep')}`,
    });
    console.log(`  GET /api/health → ${health.status} ${health.body}`);
    console.log(`  GET /api/health/deep (no key) → ${noKey.status} (the host, the worker is not called)`);
    console.log(
      `  GET /api/health/deep?code=… → ${deep.status} ${(JSON.parse(deep.body) as { status: string }).status}`,
    );

    step('The same app with a bad SYNC_SCHEDULE and no DEFENDER_CLIENT_ID');
    const { DEFENDER_CLIENT_ID: _dropped, ...rest } = settings;
    const bad = await FunctionsTestHost.start({
      appDir: app.dir,
      hostJson: app.hostJson,
      settings: { ...rest, SYNC_SCHEDULE: 'every five minutes' },
    });
    hosts.push(bad);
    console.log(
      (bad.logs.find((l) => l.source === 'host' && l.level === 'Error')?.message ?? '(no host error)')
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    const badHealth = await bad.http({ method: 'GET', path: '/api/health' });
    console.log(`  ${bad.functions.size} functions; GET /api/health → ${badHealth.status}`);

    const ok =
      host.functions.size === 12 &&
      tick.status === 'Success' &&
      jobs.every((j) => j.outcome === 'completed') &&
      events.length === 12 &&
      health.status === 200 &&
      noKey.status === 401 &&
      deep.status === 200 &&
      /DEFENDER_CLIENT_ID[\s\S]*SYNC_SCHEDULE/.test(bad.indexingError ?? '') &&
      badHealth.status !== 200;
    console.log(
      `\n${bold(ok ? '✔ The app runs on the real worker: indexed, scheduled, synced, served; a bad setting reaches the host.' : '✘ Something did not behave; see above.')}`,
    );
    return ok ? 0 : 1;
  } finally {
    for (const h of hosts) await h.stop();
    await sim?.stop();
    await azurite?.stop();
    app?.remove();
  }
}

/** The HTTP front end on 127.0.0.1, the queue listeners and the timer, until Ctrl-C. */
async function serveForever(host: FunctionsTestHost, port: number, timerSeconds: number): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      host
        .http({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body: Buffer.concat(chunks) })
        .then((answer) => {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
          console.log(`  ${req.method} ${req.url?.replace(/code=[^&]+/, 'code=…')} → ${answer.status}`);
        })
        .catch((error: unknown) => {
          res.writeHead(500);
          res.end();
          console.error(`  ${req.method} ${req.url}: ${String(error)}`);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  step(`Serving on http://127.0.0.1:${port}/api/… (Ctrl-C stops everything)`);
  console.log(`  function key for every function-level route: ?code=${host.keys.host[0]}`);

  const queueFunctions = [...host.functions.values()].filter((f) => f.trigger.type === 'queueTrigger');
  const pollMs = timeSpanMs(host.hostJson.extensions?.queues?.maxPollingInterval, 2000);
  let busy = false;
  const poll = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const f of queueFunctions) {
        for (const m of await processQueueBatch(host, f.name)) {
          console.log(`  ${f.name}: message ${m.id} (dequeue ${m.dequeueCount}) ${m.outcome}`);
        }
      }
    })()
      .catch((error: unknown) => console.error(`  queue poll: ${String(error)}`))
      .finally(() => (busy = false));
  }, pollMs);
  const fire = () =>
    void host.fireTimer('syncScheduler').then((r) => console.log(`  syncScheduler: ${r.status}`));
  fire();
  const timer = setInterval(fire, timerSeconds * 1000);
  console.log(
    `  queues polled every ${pollMs} ms (batch ${queueOptions(host).batchSize}); timer every ${timerSeconds} s`,
  );

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(poll);
  clearInterval(timer);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`npm run worker failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
