#!/usr/bin/env node
/**
 * `defender-relay`: the relay's use cases outside the Functions host, reading the same settings from the
 * environment (or a local.settings.json "Values" block with --settings).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, startupWarnings } from '../config/settings';
import { createRelay } from '../relay';
import { readLocalSettings } from './local-settings';
import { runSync } from './sync-command';
import { runSweep } from './sweep-command';
import { runCheck } from './check-command';
import { runStatus } from './status-command';
import { runWebhookCommand } from './webhook-command';
import { runTenantsCommand, TENANTS_USAGE } from './tenants-command';
import { runBench } from './bench-command';
import { MIGRATE_USAGE, runMigrateCommand } from './migrate-command';

const USAGE = `Usage: defender-relay <command> [options]

Commands:
  sync [--since <ISO time>] [--tenant <id>]...   sync incidents now (a backfill with --since)
  sweep [--tenant <id>]... [--hours <n>]        completeness sweep now: check and repair delivery
  status                                        per-tenant checkpoint, lag and last error
  webhook test <name>                           send a signed test event to one webhook destination
${TENANTS_USAGE}
${MIGRATE_USAGE}
  check                                         check Key Vault, tokens, destinations and tenant lag
  bench [--quick] [--scale <f>] [--only <names>] the benchmark (a checkout; see BENCHMARKS.md)
  help                                          show this help

Options:
  --json                 print one JSON summary object on stdout
  --settings <file>      read app settings from a local.settings.json file (its "Values")

Settings come from the environment, as in the Function App (see the README's settings table).
Exit status: 0 when every tenant synced, 1 when any tenant failed, 2 on a usage or configuration error.`;

export async function main(argv: string[]): Promise<number> {
  // The benchmark has options of its own and needs no settings: it runs in a process of its own.
  if (argv[0] === 'bench') return runBench(argv.slice(1));
  const { values, positionals } = parseArgs({
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
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command] = positionals;
  if (!command || command === 'help' || values.help) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const env = values.settings ? { ...readLocalSettings(values.settings), ...process.env } : process.env;
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  for (const warning of startupWarnings(config)) console.error(`warning: ${warning}`);
  switch (command) {
    case 'sync':
      return runSync(createRelay(config), { json: values.json, since: values.since, tenants: values.tenant });
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
    case 'check':
      return runCheck(createRelay(config), { json: values.json });
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
