/**
 * `npm run simulator`: the simulated Microsoft cloud on its own, with N customer tenants, a local webhook
 * receiver that prints what it gets, and the relay's own settings to reach it, until Ctrl-C.
 *
 * Options:
 *   --tenants N               customer tenants (default 1), each consented, with --incidents N incidents (25)
 *   --env                     print only `export NAME='value'` lines of the relay's settings on stdout (for
 *                             `source`; everything else goes to stderr), e.g.
 *                             npm run -s simulator -- --env --azurite > sim.env &  then  source sim.env
 *   --local-settings <file>   write the relay's settings as a local.settings.json
 *   --azurite                 start Azurite too (free loopback ports) with the queues and containers infra/
 *                             creates, and use it as AzureWebJobsStorage;
 *                             without it: UseDevelopmentStorage=true (run Azurite as the README says)
 *   --latency MS, --cloud public|gcc|gcchigh|dod, --seed N, --updates SECONDS (a random incident update
 *   every SECONDS), --json (one JSON object: the settings, the tenants, the app's secret)
 */
import fs from 'node:fs';
import { startSimulator, type SimulatorCloud } from './index';
import { ensureSimulatorTls } from './tls.cjs';
import { startWebhookReceiver } from './webhook-receiver';
import { createRelayStorage, setUpLocalRelay, shellExports } from './local-relay';
import { startAzurite, type AzuriteHandle } from '../azurite';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

function count(name: string, fallback: number): number {
  const value = arg(name) ?? String(fallback);
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number`);
  return Number(value);
}

async function main(): Promise<void> {
  const cloud = (arg('cloud') ?? 'public') as SimulatorCloud;
  if (!['public', 'gcc', 'gcchigh', 'dod'].includes(cloud))
    throw new Error(`--cloud must be public, gcc, gcchigh or dod`);
  const tenants = count('tenants', 1);
  if (tenants < 1) throw new Error('--tenants must be at least 1');
  const seed = arg('seed');
  const info = flag('env') ? (s: string) => console.error(s) : (s: string) => console.log(s);
  const sim = await startSimulator({
    cloud,
    latencyMs: Number(arg('latency') ?? 0),
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
  });
  const azurite: AzuriteHandle | undefined = flag('azurite') ? await startAzurite() : undefined;
  if (azurite) await createRelayStorage(azurite.connectionString);
  const receiver = await startWebhookReceiver({
    onRequest: (r) => {
      let summary: string;
      try {
        const body = JSON.parse(r.body) as {
          type?: string;
          subject?: string;
          data?: { header?: { title?: string } };
        };
        summary = ` ${body.type ?? ''} ${body.subject ?? ''} ${body.data?.header?.title ?? ''}`;
      } catch {
        summary = ` ${r.body.length} bytes`;
      }
      info(
        `webhook ${r.path}: ${r.headers['webhook-id'] ?? ''}${summary} (signature ${r.signatureValid ? 'valid' : 'INVALID'})`,
      );
    },
  });
  const local = setUpLocalRelay(sim, {
    tenants,
    incidents: count('incidents', 25),
    storage: azurite?.connectionString ?? 'UseDevelopmentStorage=true',
    webhookUrl: receiver.url('/local'),
  });
  receiver.verifyWith(local.webhookSigningSecret);
  const file = arg('local-settings');
  if (file)
    fs.writeFileSync(file, `${JSON.stringify({ IsEncrypted: false, Values: local.settings }, null, 2)}\n`);

  // A shell that sources the exports runs `npx defender-relay` as `npm run` would: trusting the
  // simulator's CA and resolving *.localhost (Key Vault) to loopback.
  const processEnv = {
    NODE_EXTRA_CA_CERTS: ensureSimulatorTls().caPath,
    NODE_OPTIONS: `--require ${require.resolve('./loopback-dns.cjs')}`,
  };
  if (flag('json')) {
    console.log(
      JSON.stringify(
        {
          settings: local.settings,
          processEnv,
          customers: local.customers,
          clientSecret: local.clientSecret,
        },
        null,
        2,
      ),
    );
  } else if (flag('env')) {
    console.log(`${shellExports({ ...local.settings, ...processEnv })}\n# simulator ready (Ctrl-C to stop)`);
  } else {
    info('Defender Relay simulator is running (Ctrl-C to stop).\n');
    info(`  Entra authority host   ${sim.urls.authorityHost}`);
    info(`  Graph                  ${sim.urls.graphBaseUrl}/v1.0/security/incidents`);
    info(`  Legacy Defender API    ${sim.urls.legacyBaseUrl}/api/incidents`);
    info(`  Key Vault              ${sim.urls.keyVaultUrl()}`);
    info(`  Managed identity       ${sim.urls.identityEndpoint}`);
    info(`  Webhook receiver       ${receiver.url('/local')}   (prints every request below)`);
    info(
      `  Storage                ${azurite ? `Azurite on 127.0.0.1:${azurite.ports.queue} (queues)` : 'UseDevelopmentStorage=true (start Azurite yourself)'}`,
    );
    info(`  Home tenant            ${sim.homeTenantId}`);
    for (const t of local.customers)
      info(`  Customer tenant        ${t}   (${sim.incidents.ids(t).length} incidents)`);
    info(`\nThe relay's settings${file ? ` (also written to ${file})` : ''}:\n`);
    info(shellExports({ ...local.settings, ...processEnv }));
    info(
      '\nThen e.g.: npx defender-relay check; npx defender-relay sync --deliver-webhooks; npx defender-relay status',
    );
  }

  const every = Number(arg('updates') ?? 0);
  const timer =
    every > 0
      ? setInterval(() => {
          const tenantId = local.customers[Math.floor(Math.random() * local.customers.length)]!;
          const ids = sim.incidents.ids(tenantId);
          const id = ids[Math.floor(Math.random() * ids.length)];
          if (id === undefined || Math.random() < 0.3) sim.incidents.create(tenantId);
          else sim.incidents.update(tenantId, id, { status: Math.random() < 0.5 ? 'inProgress' : 'active' });
        }, every * 1000)
      : undefined;

  const stop = (): void => {
    if (timer) clearInterval(timer);
    void Promise.all([sim.stop(), receiver.stop(), azurite?.stop()]).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
