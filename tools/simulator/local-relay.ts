/**
 * What `npm run simulator` sets up for a relay run by hand: a multi-tenant app registration, N customer
 * tenants that consented to it (Graph and legacy permissions, seeded incidents), the app's secret, the
 * consent-state key and a webhook destination's URL and signing secret in Key Vault, and the relay's own
 * app settings pointing at all of it (the names of the README's settings table), so every
 * `defender-relay` command works against it as docs/ describe.
 */
import crypto from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { SETTINGS_DOC } from '../../src/config/settings-doc';
import type { Simulator } from './index';
import { identityEnv, simulatorAppSettings } from './app-settings';

export interface LocalRelay {
  customers: string[];
  clientSecret: string;
  /** The relay's app settings (IDENTITY_ENDPOINT / IDENTITY_HEADER included: the host sets them in Azure). */
  settings: Record<string, string>;
  webhookSigningSecret: string;
}

export function setUpLocalRelay(
  sim: Simulator,
  options: { tenants: number; incidents: number; storage: string; webhookUrl: string },
): LocalRelay {
  const app = sim.registerApp({
    homeTenantId: sim.homeTenantId,
    multiTenant: true,
    displayName: 'Defender Relay',
  });
  const customers: string[] = [];
  for (let i = 1; i <= options.tenants; i++) {
    const name = options.tenants === 1 ? 'Contoso' : `Customer ${i}`;
    const slug = options.tenants === 1 ? 'contoso' : `customer${i}`;
    customers.push(
      sim.addTenant({ displayName: `${name} (simulated customer)`, domain: `${slug}.onmicrosoft.com` }),
    );
  }
  for (const t of [sim.homeTenantId, ...customers]) {
    sim.grantPermissions(app.clientId, t, 'graph', [
      'SecurityIncident.ReadWrite.All',
      'ThreatHunting.Read.All',
    ]);
    sim.grantPermissions(app.clientId, t, 'legacy', ['Incident.ReadWrite.All', 'AdvancedHunting.Read.All']);
  }
  for (const t of customers) sim.incidents.seed(t, options.incidents);
  const webhookSigningSecret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  sim.keyVault.setSecret('defender-client-secret', app.secret ?? '');
  sim.keyVault.setSecret('consent-state-key', crypto.randomBytes(32).toString('base64url'));
  sim.keyVault.setSecret('webhook-local-url', options.webhookUrl);
  sim.keyVault.setSecret('webhook-local-signing', webhookSigningSecret);
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  const settings = {
    ...simulatorAppSettings(sim, app, options.storage, {
      DEFENDER_TENANTS: customers.join(','),
      CONSENT_REDIRECT_URI: 'http://localhost:7071/api/consent/callback',
      WEBHOOKS: JSON.stringify([
        {
          name: 'local',
          format: 'cloudevents',
          urlSecret: 'webhook-local-url',
          signingSecret: 'webhook-local-signing',
        },
      ]),
      // The receiver is on loopback, which the relay refuses unless told otherwise (local use only).
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    }),
    ...identityEnv(sim),
  };
  return { customers, clientSecret: app.secret ?? '', settings, webhookSigningSecret };
}

/** `export NAME='value'` lines a POSIX shell can `source`. */
export function shellExports(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
}

/**
 * What infra/ creates in the storage account (infra/main.bicep: the relay's queues with their -poison
 * queues, the containers; tables are created on first use), for an Azurite started with the simulator.
 */
export async function createRelayStorage(connectionString: string): Promise<void> {
  const queues = QueueServiceClient.fromConnectionString(connectionString);
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  const names = [
    'INCIDENTS_QUEUE_NAME',
    'SYNC_JOBS_QUEUE_NAME',
    'WEBHOOK_OUTBOX_QUEUE_NAME',
    'INBOUND_RETRY_QUEUE_NAME',
  ] as const;
  for (const setting of names) {
    const queue = SETTINGS_DOC[setting].default!;
    await queues.getQueueClient(queue).createIfNotExists();
    await queues.getQueueClient(`${queue}-poison`).createIfNotExists();
  }
  for (const setting of ['CLAIM_CHECK_CONTAINER_NAME', 'LEASES_CONTAINER_NAME'] as const)
    await blobs.getContainerClient(SETTINGS_DOC[setting].default!).createIfNotExists();
}
