/**
 * Drains the webhook outbox in this process: what the queue-triggered webhookDelivery function does in
 * the Function App, for the CLI (`defender-relay webhooks drain`, `sync --deliver-webhooks`) where no
 * Functions host runs. Each visible job is handed to the same `WebhookDelivery.process` (send, retry with
 * backoff, poison) and then deleted, exactly as the trigger completes a message. A retry is re-enqueued
 * invisible for its backoff, so it is counted as `retrying` and left for the Function App or a later
 * drain; a storage failure leaves the job on the queue (it becomes visible again) and is rethrown.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { WebhookDelivery } from './webhook-delivery';
import { forEachLimit } from './destination';

export interface DrainSummary {
  outboxQueue: string;
  delivered: number;
  retrying: number;
  poisoned: number;
  /** Per webhook destination. */
  destinations: Record<string, { delivered: number; retrying: number; poisoned: number }>;
}

export interface DrainOptions {
  /** Jobs sent at once (default 8). */
  concurrency?: number;
  /** How long a received job stays invisible to other consumers while it is sent (default 5 minutes). */
  visibilityTimeoutSeconds?: number;
  onProgress?: (summary: DrainSummary) => void;
}

export async function drainOutbox(
  queue: QueueClient,
  delivery: Pick<WebhookDelivery, 'process'>,
  options: DrainOptions = {},
): Promise<DrainSummary> {
  const summary: DrainSummary = {
    outboxQueue: queue.name,
    delivered: 0,
    retrying: 0,
    poisoned: 0,
    destinations: {},
  };
  if (!(await queue.exists())) return summary;
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: options.visibilityTimeoutSeconds ?? 300,
    });
    if (receivedMessageItems.length === 0) return summary;
    await forEachLimit(receivedMessageItems, options.concurrency ?? 8, async (message) => {
      const result = await delivery.process(message.messageText);
      const name = 'destination' in result ? result.destination : '(malformed)';
      const counts = (summary.destinations[name] ??= { delivered: 0, retrying: 0, poisoned: 0 });
      const kind =
        result.outcome === 'delivered' ? 'delivered' : result.outcome === 'retry' ? 'retrying' : 'poisoned';
      counts[kind] += 1;
      summary[kind] += 1;
      await queue.deleteMessage(message.messageId, message.popReceipt);
    });
    options.onProgress?.(summary);
  }
}

/** About how many jobs wait on the outbox (visible or not yet): the queue's approximate count. */
export async function outboxWaiting(queue: QueueClient): Promise<number> {
  if (!(await queue.exists())) return 0;
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
}
