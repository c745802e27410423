/**
 * A whole world for integration tests: the simulator (Entra ID, managed identity, Key Vault, Defender
 * APIs) with one tenant, an app registration whose secret lives in Key Vault, the system-assigned identity
 * allowed to read it, and the suite's Azurite; plus the relay built from settings alone, as in Azure.
 * Every world uses its own queue, table and container names, so tests never see each other's data.
 */
import crypto from 'node:crypto';
import type { QueueClient } from '@azure/storage-queue';
import {
  startSimulator,
  type Simulator,
  type SimulatorOptions,
  type AppRegistration,
} from '../../tools/simulator';
import { loadConfig, type RelayConfig } from '../../src/config/settings';
import { createRelay, type Relay, type RelayOptions } from '../../src/relay';
import type { IncidentEvent } from '../../src/delivery/envelope';
import { identityEnv, simulatorAppSettings } from '../../tools/simulator/app-settings';
import { takeAllMessages } from '../../tools/queue-messages';
import { expectValidIncidentEvent } from './schema';

export interface World {
  sim: Simulator;
  tenantId: string;
  app: AppRegistration;
  env: Record<string, string>;
  config: RelayConfig;
  relay: Relay;
  names: { queue: string; table: string; container: string };
  /** Receives and deletes every message on the incidents queue, decoded. */
  drainQueue(): Promise<IncidentEvent[]>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  api?: 'graph' | 'legacy';
  /**
   * The simulator to use. One per test file is the rule: @azure/identity keeps managed-identity tokens in
   * a process-wide cache, so a second simulator in one process would be handed the first one's tokens.
   */
  sim?: Simulator;
  simulator?: SimulatorOptions;
  env?: Record<string, string>;
  /** Options of createRelay, e.g. the Key Vault cache's clock (`movableClock`). */
  relayOptions?: RelayOptions;
}

/** A clock that a test moves forward (past SECRET_REFRESH_MIN_SECONDS) without waiting. */
export function movableClock(): { now: () => number; advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}

export function storageConnectionString(): string {
  const cs = process.env.TEST_AZURITE_CONNECTION_STRING;
  if (!cs) throw new Error('TEST_AZURITE_CONNECTION_STRING is not set: run the suite with `npm test`.');
  return cs;
}

export function uniqueSuffix(): string {
  return crypto.randomBytes(4).toString('hex');
}

/** Takes every message off an incidents queue; each must match the envelope's JSON Schema. */
export async function drainQueue(queue: QueueClient): Promise<IncidentEvent[]> {
  const events = await takeAllMessages<IncidentEvent>(queue);
  for (const event of events) expectValidIncidentEvent(event);
  return events;
}

/**
 * A new tenant with its own app registration, secret and storage names, on a given or a new simulator.
 * `stop` stops the simulator only when the world started it.
 */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const owned = !options.sim;
  const sim = options.sim ?? (await startSimulator(options.simulator));
  const tenantId = sim.addTenant();
  const app = sim.registerApp({ homeTenantId: tenantId });
  sim.grantPermissions(app.clientId, tenantId, 'graph', ['SecurityIncident.Read.All']);
  sim.grantPermissions(app.clientId, tenantId, 'legacy', ['Incident.Read.All']);
  const suffix = uniqueSuffix();
  const secretName = `defender-client-secret-${suffix}`;
  sim.keyVault.setSecret(secretName, app.secret ?? '');
  sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
  // The App Service managed-identity endpoint, as the Functions host sets it.
  Object.assign(process.env, identityEnv(sim));

  const names = { queue: `incidents-${suffix}`, table: `state${suffix}`, container: `payloads-${suffix}` };
  const env = {
    ...simulatorAppSettings(sim, app, storageConnectionString(), {
      INCIDENTS_QUEUE_NAME: names.queue,
      STATE_TABLE_NAME: names.table,
      CLAIM_CHECK_CONTAINER_NAME: names.container,
      TENANTS_TABLE_NAME: `tenants${suffix}`,
      SYNC_JOBS_QUEUE_NAME: `jobs-${suffix}`,
      LEASES_CONTAINER_NAME: `leases-${suffix}`,
      DEFENDER_MAX_RETRIES: '2',
    }),
    DEFENDER_CLIENT_SECRET_NAME: secretName,
    DEFENDER_API: options.api ?? 'graph',
    ...options.env,
  };
  const config = loadConfig(env);
  const relay = createRelay(config, options.relayOptions);
  const queue = relay.storage.queues.getQueueClient(names.queue);
  return {
    sim,
    tenantId,
    app,
    env,
    config,
    relay,
    names,
    drainQueue: () => drainQueue(queue),
    stop: async () => {
      if (owned) await sim.stop();
    },
  };
}
