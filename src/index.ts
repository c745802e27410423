/**
 * Composition root of the Functions app: settings are validated once (a bad setting fails start with a
 * message naming it, which the worker reports to the host: see functions/config-failure.ts), SDK clients
 * and use cases are built once, handlers are wired, and only then are the functions registered with the host.
 */
import { app } from '@azure/functions';
import { startupWarnings } from './config/settings';
import { loadFunctionsConfig } from './functions/config-failure';
import { createRelay, type Relay } from './relay';
import { syncSchedulerHandler } from './functions/sync-scheduler';
import { syncWorkerOptions } from './functions/sync-worker';
import { sweepSchedulerHandler } from './functions/sweep-scheduler';
import { sweepWorkerOptions } from './functions/sweep-worker';
import { ALL_METHODS, HTTP_FUNCTIONS } from './functions/http-functions';
import { inboundRetryOptions } from './functions/inbound-webhook';
import { webhookDeliveryOptions } from './functions/webhook-delivery';
import { startWarnings } from './defender/legacy-retirement';

const config = loadFunctionsConfig(process.env);
for (const warning of startupWarnings(config)) console.warn(`Defender Relay: ${warning}`);
const relay = createRelay(config);
// Inbound senders' secrets are checked once at start, where there is a managed identity to read them
// with: a secret that is not a valid Standard Webhooks secret is named in the host log. Every message for
// that sender is refused (503) until it is fixed, and `check` / deep health report it as failing.
if (process.env.IDENTITY_ENDPOINT) void checkInboundSecrets(relay);
// Tenants the settings still put on the legacy API (retired 2027-02-01); the scheduler warns of the registry's.
for (const warning of startWarnings(config)) console.warn(warning);

// Fan-out: the timer only schedules one job per tenant; the worker syncs one tenant per job.
app.timer('syncScheduler', { schedule: config.sync.schedule, handler: syncSchedulerHandler(relay) });
app.storageQueue('syncWorker', syncWorkerOptions(relay));
// The completeness sweep (docs/completeness.md): the same fan-out on its own schedule and queue.
app.timer('sweepScheduler', { schedule: config.sweep.schedule, handler: sweepSchedulerHandler(relay) });
app.storageQueue('sweepWorker', sweepWorkerOptions(relay));
app.storageQueue('webhookDelivery', webhookDeliveryOptions(relay));
// Inbound updates whose first application failed are retried from their queue (then -poison).
app.storageQueue('inboundRetry', inboundRetryOptions(relay));
// Every HTTP function (sync, consent, user actions, inbound webhooks, health) is in one list, which the
// property-based test also uses. Every method reaches the handler, so a wrong one gets 405 problem JSON
// rather than the host's 404.
for (const f of HTTP_FUNCTIONS) {
  app.http(f.name, {
    route: f.route,
    methods: [...ALL_METHODS],
    authLevel: f.authLevel,
    handler: f.handler(relay),
  });
}

async function checkInboundSecrets(r: Relay): Promise<void> {
  for (const sender of r.config.inbound.senders) {
    const result = await r.inbound.checkSecret(sender).catch(() => undefined);
    if (result && !result.ok && !result.missing) console.error(`Defender Relay: ${result.detail}`);
  }
}
