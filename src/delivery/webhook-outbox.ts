/**
 * The webhook outbox: a `Destination` the sync delivers to like any other. For each event it puts one job
 * per matching webhook destination on the outbox queue and returns; a queue-triggered function
 * (src/functions/webhook-delivery.ts → webhook-delivery.ts) sends them. So the sync's checkpoint moves
 * once the jobs are stored, and a slow or dead webhook never holds up the sync, the storage queue or the
 * other webhooks.
 *
 * A job is base64 JSON like the incidents queue's messages. A job over the 64 KiB message limit carries a
 * claim check instead of the event: the event is stored once, whole, under `webhook-outbox/` in the
 * claim-check container, and every job of that event refers to it.
 */
import { isDroppedEcho } from './echo';
import type { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import type { WebhookDestinationConfig } from '../config/webhook-destinations';
import { SEVERITY_RANK, type IncidentHeader } from '../defender/incident';
import type { IncidentEvent } from './envelope';
import { forEachLimit, type Destination } from './destination';
import {
  blobNameFor,
  encodeMessage,
  QUEUE_MESSAGE_LIMIT,
  storeClaimCheck,
  type ClaimCheck,
} from './storage-queue';
import { onceReady } from '../storage/once-ready';

/** One pending delivery of one event to one webhook destination. */
export interface WebhookJob {
  kind: 'webhook-delivery';
  v: 1;
  destination: string;
  /** 1 for the first attempt; the attempt this message is for. */
  attempt: number;
  /** The event's id (the version key); every attempt's `webhook-id` is `webhookMessageId(eventId)`. */
  eventId: string;
  tenantId: string;
  queuedAt: string;
  event?: IncidentEvent;
  claimCheck?: ClaimCheck;
  /** From the previous attempt, on a retry. */
  lastStatus?: number | null;
  lastReason?: string;
  /** The delay (visibility timeout) this retry waited, in seconds. */
  delaySeconds?: number;
  /** Set on a job replayed from the poison queue: the time of the replay (the event's `relayreplay`). */
  relayreplay?: string;
}

export const CLAIM_CHECK_PREFIX = 'webhook-outbox/';

/** Whether a destination's filters let this incident version through (all given filters must match). */
export function matchesFilters(destination: WebhookDestinationConfig, header: IncidentHeader): boolean {
  if (destination.minSeverity && SEVERITY_RANK[header.severity] < SEVERITY_RANK[destination.minSeverity])
    return false;
  if (destination.statuses?.length && !(destination.statuses as string[]).includes(header.status))
    return false;
  if (destination.tenants?.length && !destination.tenants.includes(header.tenantId.toLowerCase()))
    return false;
  if (destination.detectionSources?.length) {
    const wanted = new Set(destination.detectionSources.map((s) => s.toLowerCase()));
    if (!header.detectionSources.some((s) => wanted.has(s.toLowerCase()))) return false;
  }
  return true;
}

export function encodeJob(job: WebhookJob): string {
  return encodeMessage(JSON.stringify(job));
}

export class WebhookOutboxDestination implements Destination {
  readonly name = 'webhooks';
  constructor(
    private readonly queue: QueueClient,
    private readonly container: ContainerClient,
    private readonly destinations: WebhookDestinationConfig[],
    private readonly concurrency = 16,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() =>
    Promise.all([this.queue.createIfNotExists(), this.container.createIfNotExists()]),
  );

  /** The jobs of one event, one per matching destination (none when no filter matches). */
  jobsFor(event: IncidentEvent): WebhookJob[] {
    const queuedAt = new Date(this.now()).toISOString();
    return this.destinations
      .filter((d) => matchesFilters(d, event.data.header) && !isDroppedEcho(d.dropEchoesOf, event))
      .map((d) => ({
        kind: 'webhook-delivery',
        v: 1,
        destination: d.name,
        attempt: 1,
        eventId: event.id,
        tenantId: event.data.header.tenantId,
        queuedAt,
        event,
      }));
  }

  async deliver(events: IncidentEvent[]): Promise<void> {
    const work = events
      .map((event) => ({ event, jobs: this.jobsFor(event) }))
      .filter((w) => w.jobs.length > 0);
    if (work.length === 0) return;
    await this.ensure();
    await forEachLimit(work, this.concurrency, async ({ event, jobs }) => {
      let claimCheck: ClaimCheck | undefined;
      for (const job of jobs) {
        let message = encodeJob(job);
        if (message.length > QUEUE_MESSAGE_LIMIT) {
          claimCheck ??= await storeClaimCheck(
            this.container,
            `${CLAIM_CHECK_PREFIX}${blobNameFor(event)}`,
            JSON.stringify(event),
          );
          message = encodeJob({ ...job, event: undefined, claimCheck });
        }
        await this.queue.sendMessage(message);
      }
    });
  }
}
