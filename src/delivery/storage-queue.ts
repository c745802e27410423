/**
 * The storage-queue destination. Each event is one message, base64-encoded as the Azure Functions queue
 * trigger expects by default. A queue message holds at most 64 KiB; an event too large for that is stored
 * whole as a blob and the message carries the envelope's header with a reference to it (claim check,
 * CloudEvents `dataref`): nothing is truncated. Blob names are derived from the version key, so a
 * redelivery overwrites the same blob.
 *
 * A message is sent at least once. When the connection drops after the service received a message but
 * before it answered, the service may have stored it: the send is tried again, and the event may then be
 * on the queue twice, with the same `id`. The storage SDK would resend it silently, so this destination
 * does its own retries (its queue client has the SDK's turned off, see `createStorageClients`) and counts
 * every resend after such a failure as a possible repeat.
 */
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import type { IncidentEvent } from './envelope';
import { forEachLimit, type DeliveryReport, type Destination } from './destination';
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

/** Tries of one send, and the backoff between them (ms). */
const SEND_TRIES = 4;
const SEND_BACKOFF_MS = 250;

export class StorageQueueDestination implements Destination {
  readonly name = 'queue';
  constructor(
    private readonly queue: QueueClient,
    private readonly container: ContainerClient,
    private readonly concurrency = 16,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() =>
    Promise.all([this.queue.createIfNotExists(), this.container.createIfNotExists()]),
  );

  async deliver(events: IncidentEvent[]): Promise<DeliveryReport> {
    const report: DeliveryReport = { possibleRepeats: 0 };
    if (events.length === 0) return report;
    await this.ensure();
    await forEachLimit(events, this.concurrency, (event) => this.send(event, report));
    return report;
  }

  private async send(event: IncidentEvent, report: DeliveryReport): Promise<void> {
    const text = JSON.stringify(event);
    const encoded = encodeMessage(text);
    if (encoded.length <= QUEUE_MESSAGE_LIMIT) {
      await this.sendMessage(encoded, report);
      await failpoint('queue-sent');
      return;
    }
    const claimCheck = await storeClaimCheck(this.container, blobNameFor(event), text);
    const reference = {
      ...event,
      dataref: claimCheck.url,
      data: { header: event.data.header, claimCheck },
    };
    await this.sendMessage(encodeMessage(JSON.stringify(reference)), report);
  }

  /** One message, tried again on a dropped connection, a timeout or a 5xx. */
  private async sendMessage(encoded: string, report: DeliveryReport): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.queue.sendMessage(encoded);
        return;
      } catch (error) {
        if (!isRetriable(error) || attempt >= SEND_TRIES) throw error;
        // The request went out and no answer came back (or a 5xx): the message may be stored already.
        report.possibleRepeats++;
        await this.sleep(SEND_BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  }
}

/** A network failure, a timeout, 408, 429 or 5xx: worth sending again. */
function isRetriable(error: unknown): boolean {
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number') return status === 408 || status === 429 || status >= 500;
  return true;
}
