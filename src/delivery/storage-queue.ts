/**
 * The storage-queue destination. Each event is one message, base64-encoded as the Azure Functions queue
 * trigger expects by default. A queue message holds at most 64 KiB; an event too large for that is stored
 * whole as a blob and the message carries the envelope's header with a reference to it (claim check,
 * CloudEvents `dataref`): nothing is truncated. Blob names are derived from the version key, so a
 * redelivery overwrites the same blob.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import type { IncidentEvent } from './envelope';
import { forEachLimit, type Destination } from './destination';
import { failpoint } from '../sync/failpoints';
import { onceReady } from '../storage/once-ready';

/** The service's limit on a message (the base64 text), in bytes. */
export const QUEUE_MESSAGE_LIMIT = 64 * 1024;

export interface ClaimCheck {
  container: string;
  blobName: string;
  url: string;
  contentLength: number;
}

export function encodeMessage(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function blobNameFor(event: IncidentEvent): string {
  return `${event.id.split('/').map(encodeURIComponent).join('/')}.json`;
}

/** Stores the whole event text as a blob (overwriting the same name on a redelivery). */
export async function storeClaimCheck(
  container: ContainerClient,
  blobName: string,
  text: string,
): Promise<ClaimCheck> {
  const blob = container.getBlockBlobClient(blobName);
  const body = Buffer.from(text, 'utf8');
  await blob.upload(body, body.length, {
    blobHTTPHeaders: { blobContentType: 'application/cloudevents+json' },
  });
  return { container: container.containerName, blobName, url: blob.url, contentLength: body.length };
}

/** Reads back the event a claim check refers to (from the container the reader was configured with). */
export async function readClaimCheck(
  container: ContainerClient,
  claimCheck: ClaimCheck,
): Promise<IncidentEvent> {
  const buffer = await container.getBlockBlobClient(claimCheck.blobName).downloadToBuffer();
  return JSON.parse(buffer.toString('utf8')) as IncidentEvent;
}

export class StorageQueueDestination implements Destination {
  readonly name = 'queue';
  constructor(
    private readonly queue: QueueClient,
    private readonly container: ContainerClient,
    private readonly concurrency = 16,
  ) {}

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() =>
    Promise.all([this.queue.createIfNotExists(), this.container.createIfNotExists()]),
  );

  async deliver(events: IncidentEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.ensure();
    await forEachLimit(events, this.concurrency, (event) => this.send(event));
  }

  private async send(event: IncidentEvent): Promise<void> {
    const text = JSON.stringify(event);
    const encoded = encodeMessage(text);
    if (encoded.length <= QUEUE_MESSAGE_LIMIT) {
      await this.queue.sendMessage(encoded);
      await failpoint('queue-sent');
      return;
    }
    const claimCheck = await storeClaimCheck(this.container, blobNameFor(event), text);
    const reference = {
      ...event,
      dataref: claimCheck.url,
      data: { header: event.data.header, claimCheck },
    };
    await this.queue.sendMessage(encodeMessage(JSON.stringify(reference)));
  }
}
