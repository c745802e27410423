/**
 * Queue trigger on WEBHOOK_OUTBOX_QUEUE_NAME: delivers one webhook job. Thin: the work (send, retry with
 * backoff, poison) is in src/delivery/webhook-delivery.ts. A retry is a new message with a visibility
 * timeout, so this returns normally for every outcome of the webhook; it throws only when storage itself
 * fails, and then the host retries the message (and moves it to `<queue>-poison` after maxDequeueCount).
 */
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import type { Relay } from '../relay';

export function webhookDeliveryHandler(relay: Pick<Relay, 'webhooks'>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    await relay.webhooks.process(message, (line) => context.log(line));
  };
}

export function webhookDeliveryOptions(
  relay: Pick<Relay, 'webhooks' | 'config'>,
): StorageQueueFunctionOptions {
  return {
    queueName: relay.config.webhooks.outboxQueue,
    connection: 'AzureWebJobsStorage',
    handler: webhookDeliveryHandler(relay),
  };
}
