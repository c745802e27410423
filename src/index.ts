/**
 * Composition root of the Functions app: settings are validated once (a bad setting fails start with a
 * message naming it), SDK clients and use cases are built once, handlers are wired, and only then are the
 * functions registered with the host.
 */
import { app } from '@azure/functions';
import { loadConfig } from './config/settings';
import { createRelay } from './relay';
import { syncSchedulerHandler } from './functions/sync-scheduler';
import { syncWorkerOptions } from './functions/sync-worker';
import { syncHttpHandler } from './functions/sync-http';
import { consentCallbackHandler, consentStartHandler } from './functions/consent';
import { webhookDeliveryOptions } from './functions/webhook-delivery';

const config = loadConfig(process.env);
const relay = createRelay(config);

// Fan-out: the timer only schedules one job per tenant; the worker syncs one tenant per job.
app.timer('syncScheduler', { schedule: config.sync.schedule, handler: syncSchedulerHandler(relay) });
app.storageQueue('syncWorker', syncWorkerOptions(relay));
// Every method reaches the handler, so a wrong one gets 405 problem JSON rather than the host's 404.
app.http('syncNow', {
  route: 'sync',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: syncHttpHandler(relay),
});
app.storageQueue('webhookDelivery', webhookDeliveryOptions(relay));
// Admin-consent onboarding: anonymous, a customer's administrator follows the link in a browser.
app.http('consentStart', {
  route: 'consent',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: consentStartHandler(relay),
});
app.http('consentCallback', {
  route: 'consent/callback',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: consentCallbackHandler(relay),
});
