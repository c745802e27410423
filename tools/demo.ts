/**
 * `npm run demo`: incidents flowing end to end on this machine, with no Azure account and no Core Tools.
 * Starts Azurite (in memory) and the simulated Microsoft cloud, seeds a tenant with incidents, configures
 * the relay through settings alone (as local.settings.json would), runs the same sync the timer runs,
 * changes two incidents and syncs again (only those two versions travel), shows a message from the queue,
 * and stops everything it started.
 */
import { QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteHandle } from './azurite';
import { startSimulator, type Simulator } from './simulator';
import { identityEnv, simulatorAppSettings } from './simulator/app-settings';
import { loadConfig } from '../src/config/settings';
import { createRelay } from '../src/relay';
import type { SyncSummary } from '../src/sync/sync-tenants';
import type { IncidentEvent } from '../src/delivery/envelope';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`▶ ${s}`)}`);

function printSummary(summary: SyncSummary): void {
  for (const r of summary.results) {
    console.log(
      `  tenant ${r.tenantId}: ${r.fetched} incident version(s) read, ${r.delivered} delivered to the queue, ` +
        `${r.suppressed} already delivered and skipped, ${r.apiCalls} Defender API call(s); outcome ${r.outcome}`,
    );
    if (r.checkpoint) console.log(`  checkpoint now ${r.checkpoint}`);
    if (r.error) console.log(`  error: ${r.error}`);
  }
}

async function peekAll(queue: QueueClient): Promise<IncidentEvent[]> {
  const events: IncidentEvent[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: 30,
    });
    if (receivedMessageItems.length === 0) return events;
    for (const m of receivedMessageItems) {
      events.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as IncidentEvent);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
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
    const tenantId = sim.homeTenantId;
    const app = sim.registerApp({ homeTenantId: tenantId, displayName: 'Defender Relay (demo)' });
    sim.grantPermissions(app.clientId, tenantId, 'graph', ['SecurityIncident.Read.All']);
    sim.keyVault.setSecret('defender-client-secret', app.secret ?? '');
    sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
    sim.incidents.seed(tenantId, 12);
    console.log(`  tenant ${tenantId}, app ${app.clientId}, 12 incidents updated in the last hours`);

    step('Configuring the relay through app settings alone (Graph API, managed identity → Key Vault → MSAL)');
    Object.assign(process.env, identityEnv(sim));
    const config = loadConfig(simulatorAppSettings(sim, app, azurite.connectionString));
    const relay = createRelay(config);
    console.log(
      `  API ${config.api}, queue "${config.names.incidentsQueue}", schedule "${config.sync.schedule}"`,
    );

    step('Sync #1: the same use case the timer function runs');
    printSummary(await relay.syncAll());

    step('Two incidents change in Defender: one is resolved, one escalates to high severity');
    const [a, b] = sim.incidents.ids(tenantId);
    sim.incidents.update(tenantId, a!, {
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
    });
    sim.incidents.update(tenantId, b!, { severity: 'high', assignedTo: 'soc-tier2@contoso.com' });

    step('Sync #2: only the two new versions travel; everything else is suppressed as already delivered');
    printSummary(await relay.syncAll());

    step('What landed on the queue');
    const events = await peekAll(relay.storage.queues.getQueueClient(config.names.incidentsQueue));
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
