/**
 * The queue trigger's listener, as the Storage Queues extension's QueueListener and QueueProcessor do it
 * (Azure/azure-sdk-for-net, sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues/src/Listeners/
 * QueueListener.cs, src/QueueProcessor.cs), driven one batch at a time by the test instead of a poll loop:
 *
 * - up to `batchSize` messages are fetched (host.json; the fetch itself hides them for 10 minutes);
 * - a message already dequeued more than `maxDequeueCount` times goes to the poison queue unprocessed;
 * - the message is decoded per `messageEncoding` and the function invoked (triggers.ts shapes it);
 * - success deletes the message; a failure before `maxDequeueCount` dequeues makes it visible again after
 *   host.json's `visibilityTimeout`; at `maxDequeueCount` it is copied to `<queue>-poison` (created if
 *   needed) and deleted from the queue.
 */
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import type { FunctionsTestHost, InvocationResult } from './host';
import { timeSpanMs } from './worker-location';
import { decodeQueueMessage, queueInvocation } from './triggers';

export const POISON_SUFFIX = '-poison';

export interface ProcessedMessage {
  id: string;
  dequeueCount: number;
  outcome: 'completed' | 'retried' | 'poisoned';
  invocation?: InvocationResult;
}

export function queueOptions(host: FunctionsTestHost) {
  const q = host.hostJson.extensions?.queues ?? {};
  return {
    // QueuesOptions defaults: 5 dequeues, no delay between retries, batches of 16, base64.
    maxDequeueCount: q.maxDequeueCount ?? 5,
    visibilityTimeoutSeconds: Math.round(timeSpanMs(q.visibilityTimeout, 0) / 1000),
    batchSize: q.batchSize ?? 16,
    messageEncoding: q.messageEncoding ?? 'base64',
  };
}

/** The queue a queue-triggered function listens on (through its `connection` app setting), and its poison queue. */
export function triggerQueues(
  host: FunctionsTestHost,
  functionName: string,
): { queue: QueueClient; poison: QueueClient } {
  const f = host.functions.get(functionName);
  if (!f || f.trigger.type !== 'queueTrigger')
    throw new Error(`${functionName} is not a loaded queue-triggered function`);
  const connection = String(f.trigger.connection || 'AzureWebJobsStorage');
  const connectionString = host.settings[connection];
  if (!connectionString)
    throw new Error(`the app setting ${connection} (the trigger's connection) is not set`);
  const service = QueueServiceClient.fromConnectionString(connectionString);
  const name = String(f.trigger.queueName);
  return { queue: service.getQueueClient(name), poison: service.getQueueClient(`${name}${POISON_SUFFIX}`) };
}

/** One fetch of the listener: every message of the batch is processed to its outcome. */
export async function processQueueBatch(
  host: FunctionsTestHost,
  functionName: string,
): Promise<ProcessedMessage[]> {
  const f = host.functions.get(functionName)!;
  const { queue, poison: poisonQueue } = triggerQueues(host, functionName);
  const poison = async (m: { messageText: string; messageId: string; popReceipt: string }) => {
    // CopyMessageToPoisonQueueAsync: the same text (so the same encoding) on `<queue>-poison`, then delete.
    await poisonQueue.createIfNotExists();
    await poisonQueue.sendMessage(m.messageText);
    await queue.deleteMessage(m.messageId, m.popReceipt);
  };
  const options = queueOptions(host);
  if (!(await queue.exists())) return [];
  const { receivedMessageItems } = await queue.receiveMessages({
    numberOfMessages: Math.min(32, options.batchSize),
    visibilityTimeout: 600,
  });
  const out: ProcessedMessage[] = [];
  for (const message of receivedMessageItems) {
    const base = { id: message.messageId, dequeueCount: message.dequeueCount };
    if (message.dequeueCount > options.maxDequeueCount) {
      await poison(message);
      out.push({ ...base, outcome: 'poisoned' });
      continue;
    }
    const decoded = decodeQueueMessage(message.messageText, options.messageEncoding);
    const invocation =
      decoded === undefined
        ? undefined
        : await host.invoke(functionName, ...argsOf(queueInvocation(f, message, decoded)));
    if (invocation?.status === 'Success') {
      await queue.deleteMessage(message.messageId, message.popReceipt);
      out.push({ ...base, outcome: 'completed', invocation });
    } else if (message.dequeueCount >= options.maxDequeueCount || decoded === undefined) {
      await poison(message);
      out.push({ ...base, outcome: 'poisoned', invocation });
    } else {
      await queue.updateMessage(
        message.messageId,
        message.popReceipt,
        undefined,
        options.visibilityTimeoutSeconds,
      );
      out.push({ ...base, outcome: 'retried', invocation });
    }
  }
  return out;
}

/** Fetches batches until the queue shows no message (failed ones come back after `visibilityTimeout`). */
export async function drainQueue(
  host: FunctionsTestHost,
  functionName: string,
  options: { maxBatches?: number } = {},
): Promise<ProcessedMessage[]> {
  const all: ProcessedMessage[] = [];
  for (let i = 0; i < (options.maxBatches ?? 50); i++) {
    const batch = await processQueueBatch(host, functionName);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
  return all;
}

function argsOf(x: ReturnType<typeof queueInvocation>): [typeof x.inputData, typeof x.triggerMetadata] {
  return [x.inputData, x.triggerMetadata];
}
