/**
 * Takes every message off a storage queue and decodes it as an Azure Functions queue trigger does (base64,
 * then JSON). The tests, the demo and the benchmark read the relay's queues with it.
 */
import type { QueueClient } from '@azure/storage-queue';

export async function takeAllMessages<T = unknown>(queue: QueueClient): Promise<T[]> {
  const out: T[] = [];
  if (!(await queue.exists())) return out;
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: 60,
    });
    if (receivedMessageItems.length === 0) return out;
    for (const m of receivedMessageItems) {
      out.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as T);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}
