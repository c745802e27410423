/**
 * `npm run demo`: incidents flowing end to end on this machine, with no Azure account and no Core Tools.
 * Starts Azurite (in memory) and the simulated Microsoft cloud, seeds a tenant with incidents, configures
 * the relay through settings alone (as local.settings.json would), runs the Functions' own handlers as the
 * host would (the timer schedules, the queue-triggered worker syncs), changes two incidents and runs again
 * (only those two versions travel), shows a message from the queue, and stops everything it started.
 */
import { InvocationContext, type Timer } from '@azure/functions';
import { startAzurite, type AzuriteHandle } from './azurite';
import { startSimulator, type Simulator } from './simulator';
import { identityEnv, setUpDemoTenant, simulatorAppSettings } from './simulator/app-settings';
import { takeAllMessages } from './queue-messages';
import { loadConfig } from '../src/config/settings';
import { createRelay } from '../src/relay';
import type { Relay } from '../src/relay';
import { syncSchedulerHandler } from '../src/functions/sync-scheduler';
import { syncWorkerHandler } from '../src/functions/sync-worker';
import type { IncidentEvent } from '../src/delivery/envelope';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`▶ ${s}`)}`);

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

/**
 * One scheduled round as the Functions host runs it: the timer function puts one job per tenant on the
 * jobs queue, and the queue-triggered worker function is handed each job. The handlers' own log lines
 * (not the RelayMetric telemetry) are shown.
 */
async function scheduledRound(relay: Relay): Promise<void> {
  const context = (functionName: string) =>
    new InvocationContext({
      functionName,
      logHandler: (_level, ...args) => {
        const line = args.join(' ');
        if (!line.startsWith('RelayMetric ')) console.log(`  [${functionName}] ${line}`);
      },
    });
  await syncSchedulerHandler(relay)(timer, context('syncScheduler'));
  const jobs = relay.storage.queues.getQueueClient(relay.config.sync.jobsQueue);
  for (const job of await takeAllMessages(jobs)) await syncWorkerHandler(relay)(job, context('syncWorker'));
}

async function main(): Promise<number> {
  let azurite: AzuriteHandle | undefined;
  let sim: Simulator | undefined;
  try {
    step('Starting Azurite (storage emulator, in memory) and the simulated Microsoft cloud');
    azurite = await startAzurite();
    sim = await startSimulator({ seed: 42 });
    console.log(
      `  Azurite queues on 127.0.0.1:${azurite.ports.queue}, simulator at ${sim.urls.authorityHost}`,
    );

    step('Setting up a tenant: app registration, its secret in Key Vault, incidents in Defender');
    const { tenantId, app } = setUpDemoTenant(sim, { displayName: 'Defender Relay (demo)', incidents: 12 });
    console.log(`  tenant ${tenantId}, app ${app.clientId}, 12 incidents updated in the last hours`);

    step('Configuring the relay through app settings alone (Graph API, managed identity → Key Vault → MSAL)');
    Object.assign(process.env, identityEnv(sim));
    const config = loadConfig(simulatorAppSettings(sim, app, azurite.connectionString));
    const relay = createRelay(config);
    console.log(
      `  API ${config.api}, queue "${config.names.incidentsQueue}", schedule "${config.sync.schedule}"`,
    );

    step('Round #1: the timer function schedules the tenant, the queue-triggered worker syncs it');
    await scheduledRound(relay);

    step('Two incidents change in Defender: one is resolved, one escalates to high severity');
    const [a, b] = sim.incidents.ids(tenantId);
    sim.incidents.update(tenantId, a!, {
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
    });
    sim.incidents.update(tenantId, b!, { severity: 'high', assignedTo: 'soc-tier2@contoso.com' });

    step('Round #2: only the two new versions travel; everything else is suppressed as already delivered');
    await scheduledRound(relay);

    step('What landed on the queue');
    const events = await takeAllMessages<IncidentEvent>(
      relay.storage.queues.getQueueClient(config.names.incidentsQueue),
    );
    for (const e of events) {
      const h = e.data.header;
      console.log(
        `  ${h.severity.padEnd(13)} ${h.status.padEnd(10)} #${h.incidentId.padEnd(8)} ${h.title.slice(0, 70)}`,
      );
    }
    const sample = events[events.length - 1];
    if (sample) {
      console.log(`\n  ${events.length} CloudEvents messages. The last one, with its incident shortened:`);
      const shown = {
        ...sample,
        data: { header: sample.data.header, incident: '{ …the full incident with its alerts… }' },
      };
      console.log(
        JSON.stringify(shown, null, 2)
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n'),
      );
    }
    const ok = events.length === 14;
    console.log(
      `\n${bold(ok ? '✔ Demo complete: 12 incidents, then exactly the 2 updates, each delivered once.' : '✘ Unexpected message count')}`,
    );
    return ok ? 0 : 1;
  } finally {
    await sim?.stop();
    await azurite?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`Demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
