/**
 * A world for the user-context, inbound-webhook and health tests: the app may write incidents and run
 * hunting queries on both APIs, the inbound webhook secret is in Key Vault, inbound names are unique, and
 * HTTP requests are built and answered with a `LogCapture` watching every line.
 */
import crypto from 'node:crypto';
import { HttpRequest, type HttpHandler } from '@azure/functions';
import type { Simulator } from '../../tools/simulator';
import { startWorld, uniqueSuffix, type World } from './world';
import type { LogCapture } from './log-capture';
import type { RelayOptions } from '../../src/relay';

export interface ActionsWorld extends World {
  webhookSecret: string;
  /** A user token for this app, as Entra ID would issue it to a portal. */
  userToken(opts?: {
    oid?: string;
    upn?: string;
    lifetimeSeconds?: number;
    audience?: string;
    scp?: string;
    tenantId?: string;
    version?: '1.0' | '2.0';
  }): string;
}

export async function startActionsWorld(
  sim: Simulator,
  logs: LogCapture,
  env: Record<string, string> = {},
  relayOptions?: RelayOptions,
): Promise<ActionsWorld> {
  const suffix = uniqueSuffix();
  const secretName = `inbound-webhook-secret-${suffix}`;
  const webhookSecret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  sim.keyVault.setSecret(secretName, webhookSecret);
  const world = await startWorld({
    sim,
    env: {
      INBOUND_WEBHOOK_SECRET_NAME: secretName,
      INBOUND_TABLE_NAME: `inbound${suffix}`,
      INBOUND_RETRY_QUEUE_NAME: `inbound-retry-${suffix}`,
      ...env,
    },
    relayOptions,
  });
  sim.grantPermissions(world.app.clientId, world.tenantId, 'graph', [
    'SecurityIncident.ReadWrite.All',
    'ThreatHunting.Read.All',
  ]);
  sim.grantPermissions(world.app.clientId, world.tenantId, 'legacy', [
    'Incident.ReadWrite.All',
    'AdvancedHunting.Read.All',
  ]);
  logs.secret(world.app.secret);
  logs.secret(webhookSecret);
  logs.secret(webhookSecret.slice('whsec_'.length));
  return {
    ...world,
    webhookSecret,
    userToken: (o = {}) =>
      logs.secret(
        sim.issueToken({
          tenantId: o.tenantId ?? world.tenantId,
          audience: o.audience ?? `api://${world.app.clientId}`,
          scp: o.scp ?? 'Defender.Act',
          oid: o.oid ?? crypto.randomUUID(),
          upn: o.upn ?? 'analyst@contoso.example',
          lifetimeSeconds: o.lifetimeSeconds,
          version: o.version,
        }),
      ),
  };
}

/** Creates the incidents queue and claim-check container, so deep health finds its destinations. */
export async function createDestinations(world: Pick<ActionsWorld, 'relay' | 'config'>): Promise<void> {
  await world.relay.storage.queues.getQueueClient(world.config.names.incidentsQueue).createIfNotExists();
  await world.relay.storage.blobs
    .getContainerClient(world.config.names.claimCheckContainer)
    .createIfNotExists();
}

export interface CallInput {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: string | object;
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: Record<string, unknown>;
}

/** Calls a handler as the host would, records the response body in `logs`. */
export async function call(
  handler: HttpHandler,
  input: CallInput,
  logs: LogCapture,
  name = 'fn',
): Promise<CallResult> {
  const body =
    input.body === undefined
      ? undefined
      : typeof input.body === 'string'
        ? input.body
        : JSON.stringify(input.body);
  const request = new HttpRequest({
    method: input.method ?? 'POST',
    url: `https://relay.example${input.path}`,
    headers: {
      ...(body !== undefined && typeof input.body === 'object' ? { 'content-type': 'application/json' } : {}),
      ...input.headers,
    },
    query: input.query,
    params: input.params,
    body: body === undefined ? undefined : { string: body },
  });
  const res = await handler(request, logs.context(name));
  const init = res as {
    status?: number;
    headers?: Record<string, string>;
    body?: unknown;
    jsonBody?: unknown;
  };
  const text =
    init.jsonBody !== undefined
      ? JSON.stringify(init.jsonBody)
      : typeof init.body === 'string'
        ? init.body
        : '';
  logs.response(text);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON */
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = String(v);
  return { status: init.status ?? 200, headers, text, json };
}
