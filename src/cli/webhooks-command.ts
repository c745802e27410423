/**
 * `defender-relay webhooks drain` (and `webhooks test <name>`, the same as `webhook test`): sends the
 * jobs waiting on the webhook outbox from this process (src/delivery/webhook-drain.ts), for a relay run
 * from the CLI without a Functions host. The Function App's webhookDelivery function does the same by
 * itself. `outboxReport` is what `sync` says about the outbox afterwards: queued, not delivered, unless
 * it was asked to deliver them (`--deliver-webhooks`).
 */
import type { Relay } from '../relay';
import { drainOutbox, outboxWaiting, type DrainSummary } from '../delivery/webhook-drain';
import { runWebhookCommand, type WebhookCommandOptions } from './webhook-command';

export const WEBHOOKS_USAGE = `  webhooks drain [--json]                       send the webhook jobs waiting on the outbox queue from here`;

type WebhooksRelay = Pick<Relay, 'webhooks' | 'config' | 'storage'>;

export async function runWebhooksCommand(
  relay: WebhooksRelay,
  args: string[],
  options: WebhookCommandOptions,
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const [sub, ...rest] = args;
  if (sub === 'test') return runWebhookCommand(relay, args, options);
  if (sub !== 'drain' || rest.length > 0) {
    err.write(
      `Usage:\n${WEBHOOKS_USAGE}\n  webhook test <name>                           send a signed test event\n`,
    );
    return 2;
  }
  if (relay.config.webhooks.destinations.length === 0) {
    err.write('No webhook destinations are configured (WEBHOOKS is empty): there is nothing to drain.\n');
    return 2;
  }
  const report = await outboxReport(relay, true);
  if (options.json) out.write(`${JSON.stringify(report)}\n`);
  else out.write(`${describeOutbox(report)}\n`);
  return report.poisoned > 0 ? 1 : 0;
}

export interface OutboxReport extends Partial<DrainSummary> {
  outboxQueue: string;
  /** Jobs left on the outbox (approximate): not delivered yet. */
  queued: number;
  poisoned: number;
}

/** Drains the outbox when `deliver`, then counts what is left on it. */
export async function outboxReport(relay: WebhooksRelay, deliver: boolean): Promise<OutboxReport> {
  const queue = relay.storage.queues.getQueueClient(relay.config.webhooks.outboxQueue);
  const drained = deliver ? await drainOutbox(queue, relay.webhooks) : undefined;
  return {
    ...drained,
    outboxQueue: queue.name,
    poisoned: drained?.poisoned ?? 0,
    queued: await outboxWaiting(queue),
  };
}

export function describeOutbox(r: OutboxReport): string {
  const lines: string[] = [];
  if (r.delivered !== undefined) {
    lines.push(
      `Webhooks: ${r.delivered} delivered, ${r.retrying ?? 0} to be retried, ${r.poisoned} moved to the poison queue ${r.outboxQueue}-poison.`,
    );
    for (const [name, c] of Object.entries(r.destinations ?? {}))
      lines.push(`  ${name}: ${c.delivered} delivered, ${c.retrying} to be retried, ${c.poisoned} poisoned`);
  }
  if (r.queued > 0)
    lines.push(
      `Webhooks: about ${r.queued} job(s) queued on ${r.outboxQueue}, not delivered yet: the Function App's webhookDelivery function sends them` +
        `${r.delivered === undefined ? '; to send them from here, run `defender-relay webhooks drain` (or `sync --deliver-webhooks`).' : ' (retries wait for their backoff).'}`,
    );
  else if (r.delivered === undefined) lines.push(`Webhooks: no job waiting on ${r.outboxQueue}.`);
  return lines.join('\n');
}
