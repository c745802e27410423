/**
 * The delivery use case with recording queues and a scripted sender: a retry is re-enqueued with the
 * backoff (or Retry-After) as its real visibility timeout, and a poisoned job never expires.
 */
import type { BlobServiceClient } from '@azure/storage-blob';
import { WebhookDelivery, type JobQueue } from '../../src/delivery/webhook-delivery';
import type { WebhookJob } from '../../src/delivery/webhook-outbox';
import type { WebhookResponse } from '../../src/delivery/webhook-http';
import { sampleIncidentEvent } from '../../src/delivery/webhook-sample';
import { newSigningSecret } from '../../src/delivery/webhook-signer';

class RecordingQueue implements JobQueue {
  sent: {
    job: Record<string, unknown>;
    options?: { visibilityTimeout?: number; messageTimeToLive?: number };
  }[] = [];
  async sendMessage(text: string, options?: { visibilityTimeout?: number; messageTimeToLive?: number }) {
    this.sent.push({ job: JSON.parse(Buffer.from(text, 'base64').toString('utf8')), options });
  }
  async createIfNotExists() {}
}

function delivery(answers: Partial<WebhookResponse>[], maxAttempts = 8) {
  const outbox = new RecordingQueue();
  const poison = new RecordingQueue();
  const secrets = new Map([
    ['hook-url', 'https://hooks.example.com/in'],
    ['hook-signing', newSigningSecret()],
  ]);
  const d = new WebhookDelivery({
    destinations: [
      { name: 'hook', format: 'cloudevents', urlSecret: 'hook-url', signingSecret: 'hook-signing' },
    ],
    secrets: { get: async (n) => secrets.get(n)!, refresh: async (n) => secrets.get(n)! },
    outbox,
    poison,
    blobs: {} as BlobServiceClient,
    claimCheckContainer: 'payloads',
    settings: { maxAttempts, timeoutMs: 1000, retryBaseSeconds: 60, allowPrivateAddresses: false },
    random: () => 0.5,
    send: async () => ({ status: 200, headers: {}, body: '', truncated: false, ...answers.shift() }),
  });
  return { d, outbox, poison };
}

const event = sampleIncidentEvent();
const job = (attempt = 1): WebhookJob => ({
  kind: 'webhook-delivery',
  v: 1,
  destination: 'hook',
  attempt,
  eventId: event.id,
  tenantId: event.data.header.tenantId,
  queuedAt: '2026-11-03T10:00:00.000Z',
  event,
});

test('a 503 is re-enqueued with the backoff as its visibility timeout', async () => {
  const { d, outbox } = delivery([{ status: 503 }]);
  await expect(d.process(job(3))).resolves.toMatchObject({ outcome: 'retry', delaySeconds: 240 });
  expect(outbox.sent).toHaveLength(1);
  expect(outbox.sent[0]!.options).toEqual({ visibilityTimeout: 240 });
  expect(outbox.sent[0]!.job).toMatchObject({ attempt: 4, lastStatus: 503, delaySeconds: 240 });
});

test("a 429's Retry-After becomes the visibility timeout", async () => {
  const { d, outbox } = delivery([{ status: 429, headers: { 'retry-after': '42' } }]);
  await d.process(job());
  expect(outbox.sent[0]!.options).toEqual({ visibilityTimeout: 42 });
});

test('the last attempt goes to the poison queue, kept until someone looks at it', async () => {
  const { d, outbox, poison } = delivery([{ status: 502 }], 2);
  const logs: string[] = [];
  await expect(d.process(job(2), (l) => logs.push(l))).resolves.toMatchObject({
    outcome: 'poisoned',
    status: 502,
  });
  expect(outbox.sent).toHaveLength(0);
  expect(poison.sent[0]!.options).toEqual({ messageTimeToLive: -1 });
  expect(poison.sent[0]!.job).toMatchObject({ lastStatus: 502, reason: 'HTTP 502 after 2 attempts' });
  expect(logs.some((l) => l.includes('"name":"relay.delivery.poisoned"'))).toBe(true);
});

test('a job for a destination no longer configured is poisoned with that reason', async () => {
  const { d, poison } = delivery([]);
  await d.process({ ...job(), destination: 'gone' });
  expect(poison.sent[0]!.job).toMatchObject({
    reason: 'destination "gone" is not in WEBHOOKS any more',
    lastStatus: null,
  });
});
