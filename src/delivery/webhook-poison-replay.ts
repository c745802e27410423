/**
 * `defender-relay replay --poison`: puts the webhook deliveries the outbox gave up on back on the outbox,
 * as first attempts, marked as replays (the event keeps its `id`, so its `webhook-id` is the same as
 * before; it gains `relayreplay`). Fix the cause first (the receiver, its URL or key in Key Vault): a job
 * that fails again goes back to the poison queue with the new reason. A poison message that holds no job
 * (a malformed outbox message) is left where it is and counted.
 */
import type { QueueClient } from '@azure/storage-queue';
import { encodeJob } from './webhook-outbox';
import { parseJob } from './webhook-delivery';

export interface PoisonReplaySummary {
  poisonQueue: string;
  requeued: number;
  /** Poison messages that hold no delivery job, left on the poison queue. */
  leftAlone: number;
  destinations: Record<string, number>;
}

export async function replayPoison(
  poison: QueueClient,
  outbox: QueueClient,
  options: { destination?: string; now?: () => Date } = {},
): Promise<PoisonReplaySummary> {
  const at = (options.now ?? (() => new Date()))().toISOString();
  const summary: PoisonReplaySummary = {
    poisonQueue: poison.name,
    requeued: 0,
    leftAlone: 0,
    destinations: {},
  };
  if (!(await poison.exists())) return summary;
  await outbox.createIfNotExists();
  const seen = new Set<string>();
  for (;;) {
    // Messages left alone stay invisible for the rest of this run, so each is looked at once.
    const { receivedMessageItems } = await poison.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: 300,
    });
    const fresh = receivedMessageItems.filter((m) => !seen.has(m.messageId));
    if (fresh.length === 0) return summary;
    for (const message of fresh) {
      seen.add(message.messageId);
      let job;
      try {
        job = parseJob(message.messageText);
      } catch {
        summary.leftAlone += 1;
        continue;
      }
      if (options.destination && job.destination !== options.destination) {
        summary.leftAlone += 1;
        continue;
      }
      const {
        lastStatus: _s,
        lastReason: _r,
        delaySeconds: _d,
        ...rest
      } = job as typeof job & { reason?: string; poisonedAt?: string };
      const {
        reason: _reason,
        poisonedAt: _at,
        ...clean
      } = rest as typeof rest & { reason?: string; poisonedAt?: string };
      await outbox.sendMessage(encodeJob({ ...clean, attempt: 1, queuedAt: at, relayreplay: at }));
      await poison.deleteMessage(message.messageId, message.popReceipt);
      summary.requeued += 1;
      summary.destinations[job.destination] = (summary.destinations[job.destination] ?? 0) + 1;
    }
  }
}
