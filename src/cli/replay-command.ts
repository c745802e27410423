/**
 * `defender-relay replay`: re-sends chosen incident versions (src/sync/replay.ts), or the webhook poison
 * queue (`--poison`, src/delivery/webhook-poison-replay.ts), marked as replays with the same CloudEvents
 * `id`. Webhook jobs go to the outbox like a sync's; `--deliver-webhooks` sends them from here.
 */
import type { Relay } from '../relay';
import { canonicalTimestamp, InvalidTimestampError } from '../defender/timestamp';
import { replayVersions } from '../sync/replay';
import { replayPoison } from '../delivery/webhook-poison-replay';
import { describeOutbox, outboxReport } from './webhooks-command';

export const REPLAY_USAGE = `  replay --since <ISO time> [--until <ISO time>] [--tenant <id>]... [--incident <id>]...
                                                re-send the versions current in Defender, marked as replays
  replay --poison [--name <webhook>]            put the webhook poison queue back on the outbox, marked as replays
         [--deliver-webhooks]                   then send the webhook jobs from here`;

export interface ReplayCommandOptions {
  json: boolean;
  since?: string;
  until?: string;
  tenants?: string[];
  incidents?: string[];
  poison?: boolean;
  name?: string;
  deliverWebhooks?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

type ReplayRelay = Pick<
  Relay,
  'readers' | 'destinations' | 'tenants' | 'config' | 'storage' | 'webhooks' | 'ledger'
>;

function time(
  value: string | undefined,
  option: string,
  err: NodeJS.WritableStream,
): string | null | undefined {
  if (value === undefined) return undefined;
  try {
    return canonicalTimestamp(value);
  } catch (e) {
    if (!(e instanceof InvalidTimestampError)) throw e;
    err.write(`${option}: ${e.message} (use e.g. 2026-11-01T00:00:00Z)\n\nUsage:\n${REPLAY_USAGE}\n`);
    return null;
  }
}

export async function runReplay(relay: ReplayRelay, options: ReplayCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const webhooksOn = relay.config.webhooks.destinations.length > 0;
  if (options.poison) {
    if (!webhooksOn) {
      err.write(
        'No webhook destinations are configured (WEBHOOKS is empty): there is no poison queue to replay.\n',
      );
      return 2;
    }
    const queue = (name: string) => relay.storage.queues.getQueueClient(name);
    const poison = await replayPoison(
      queue(relay.config.webhooks.poisonQueue),
      queue(relay.config.webhooks.outboxQueue),
      {
        destination: options.name,
      },
    );
    const webhooks = await outboxReport(relay, options.deliverWebhooks ?? false);
    if (options.json) out.write(`${JSON.stringify({ poison, webhooks })}\n`);
    else
      out.write(
        `Poison queue ${poison.poisonQueue}: ${poison.requeued} delivery job(s) put back on the outbox as replays` +
          `${poison.leftAlone ? `, ${poison.leftAlone} left (no job, or another webhook)` : ''}.\n${describeOutbox(webhooks)}\n`,
      );
    return webhooks.poisoned > 0 ? 1 : 0;
  }
  const since = time(options.since, '--since', err);
  const until = time(options.until, '--until', err);
  if (since === null || until === null) return 2;
  if (!since) {
    err.write(`replay needs --since (or --poison).\n\nUsage:\n${REPLAY_USAGE}\n`);
    return 2;
  }
  const tenants = options.tenants?.length
    ? options.tenants.map((t) => t.toLowerCase())
    : await relay.tenants.enabledTenantIds();
  const results = await replayVersions(relay, { tenants, since, until, incidents: options.incidents });
  const webhooks = webhooksOn ? await outboxReport(relay, options.deliverWebhooks ?? false) : undefined;
  const failed = results.filter((r) => r.error);
  if (options.json)
    out.write(
      `${JSON.stringify({ since, until: until ?? null, tenants: results, ...(webhooks ? { webhooks } : {}) })}\n`,
    );
  else {
    for (const r of results)
      out.write(
        `${r.tenantId}  read ${r.read}, replayed ${r.replayed}${r.error ? `\n    ${r.error}` : ''}\n`,
      );
    out.write(
      `${results.reduce((n, r) => n + r.replayed, 0)} version(s) re-sent as replays (relayreplay) to every destination; ${failed.length} tenant(s) failed.\n` +
        (webhooks ? `${describeOutbox(webhooks)}\n` : ''),
    );
  }
  return failed.length > 0 || (webhooks?.poisoned ?? 0) > 0 ? 1 : 0;
}
