/**
 * Composition root of the Functions app: settings are validated once (a bad setting fails start with a
 * message naming it), SDK clients and use cases are built once, handlers are wired, and only then are the
 * functions registered with the host.
 */
import { app } from '@azure/functions';
import { loadConfig } from './config/settings';
import { createRelay } from './relay';
import { syncTimerHandler } from './functions/sync-timer';

const config = loadConfig(process.env);
const relay = createRelay(config);

app.timer('syncTimer', { schedule: config.sync.schedule, handler: syncTimerHandler(relay) });
