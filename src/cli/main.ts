#!/usr/bin/env node
/**
 * `defender-relay`: the relay's use cases outside the Functions host, reading the same settings from the
 * environment (or a local.settings.json "Values" block with --settings).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, startupWarnings } from '../config/settings';
// The CLI's relay: storage and Key Vault as the person running it (src/cli/cli-relay.ts).
import { createCliRelay as createRelay } from './cli-relay';
import { applyLocalSettings, readLocalSettings, SettingsFileError } from './local-settings';
import { describeStorageFailure, isStorageFailure } from '../storage/storage-errors';
import { runSync } from './sync-command';
import { runSweep } from './sweep-command';
import { runCheck } from './check-command';
import { runStatus } from './status-command';
import { runWebhookCommand } from './webhook-command';
import { runWebhooksCommand, WEBHOOKS_USAGE } from './webhooks-command';
import { runTenantsCommand, TENANTS_USAGE } from './tenants-command';
import { runBench } from './bench-command';
import { MIGRATE_USAGE, runMigrateCommand } from './migrate-command';
import { REPLAY_USAGE, runReplay } from './replay-command';

const USAGE = `Usage: defender-relay <command> [options]

Commands:
  sync [--since <ISO time>] [--tenant <id>]...   sync incidents now (a backfill with --since)
       [--deliver-webhooks]                      then send the webhook jobs it queued from here
  sweep [--tenant <id>]... [--hours <n>]        completeness sweep now: check and repair delivery
  status                                        per-tenant checkpoint, lag and last error
  webhook test <name>                           send a signed test event to one webhook destination
${WEBHOOKS_USAGE}
${TENANTS_USAGE}
${MIGRATE_USAGE}
${REPLAY_USAGE}
  check                                         check Key Vault, tokens, destinations and tenant lag
  bench [--quick] [--scale <f>] [--only <names>] the benchmark (a checkout; see BENCHMARKS.md)
  help                                          show this help

Options:
  --json                 print one JSON summary object on stdout
  --settings <file>      read app settings from a local.settings.json file (its "Values")

Settings come from the environment, as in the Function App (see the README's settings table).
Exit status: 0 when every tenant synced, 1 when any tenant failed, 2 on a usage or configuration error.`;

const COMMANDS = new Set([
  'sync',
  'sweep',
  'status',
  'webhook',
  'webhooks',
  'tenants',
  'migrate',
  'check',
  'replay',
]);

/** A usage error: the reason and the usage on stderr, exit status 2. */
function usageError(reason: string): number {
  console.error(`${reason}\n\n${USAGE}`);
  return 2;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      since: { type: 'string' },
      tenant: { type: 'string', multiple: true },
      settings: { type: 'string' },
      name: { type: 'string' },
      hours: { type: 'string' },
      all: { type: 'boolean', default: false },
      'deliver-webhooks': { type: 'boolean', default: false },
      until: { type: 'string' },
      incident: { type: 'string', multiple: true },
      poison: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

export async function main(argv: string[]): Promise<number> {
  // The benchmark has options of its own and needs no settings: it runs in a process of its own.
  if (argv[0] === 'bench') return runBench(argv.slice(1));
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // node:util parseArgs: an unknown option, a missing option value, …
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      return usageError((error as Error).message);
    throw error;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (command === 'help' || values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!command) return usageError('Which command?');
  if (!COMMANDS.has(command)) return usageError(`Unknown command "${command}".`);
  let config;
  try {
    if (values.settings) applyLocalSettings(readLocalSettings(values.settings), process.env);
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SettingsFileError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  for (const warning of startupWarnings(config)) console.error(`warning: ${warning}`);
  switch (command) {
    case 'sync':
      return runSync(createRelay(config), {
        json: values.json,
        since: values.since,
        tenants: values.tenant,
        deliverWebhooks: values['deliver-webhooks'],
      });
    case 'sweep':
      return runSweep(createRelay(config), {
        json: values.json,
        tenants: values.tenant,
        hours: values.hours,
      });
    case 'status':
      return runStatus(createRelay(config), { json: values.json });
    case 'webhook':
      return runWebhookCommand(createRelay(config), positionals.slice(1), { json: values.json });
    case 'webhooks':
      return runWebhooksCommand(createRelay(config), positionals.slice(1), { json: values.json });
    case 'tenants':
      return runTenantsCommand(createRelay(config), positionals.slice(1), {
        json: values.json,
        all: values.all,
        name: values.name,
      });
    case 'migrate':
      return runMigrateCommand(createRelay(config), positionals.slice(1), {
        json: values.json,
        tenants: values.tenant,
        hours: values.hours,
      });
    case 'replay':
      if (positionals.length > 1) return usageError('replay takes options only.');
      return runReplay(createRelay(config), {
        json: values.json,
        since: values.since,
        until: values.until,
        tenants: values.tenant,
        incidents: values.incident,
        poison: values.poison,
        name: values.name,
        deliverWebhooks: values['deliver-webhooks'],
      });
    case 'check':
      return runCheck(createRelay(config), { json: values.json });
    default:
      return usageError(`Unknown command "${command}".`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // A storage failure in words (which store, what to check), not `connect ECONNREFUSED`.
      if (isStorageFailure(error)) console.error(describeStorageFailure(error));
      else console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
