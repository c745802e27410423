/**
 * Delivers one outbox job (webhook-outbox.ts) to its webhook: reads the URL and signing secret from Key
 * Vault (cached), formats the event for the destination, signs it (Standard Webhooks) and sends it with
 * the safe sender (webhook-http.ts). Then, by outcome:
 * - 2xx: delivered; `relay.delivery` metric.
 * - retryable (timeout, network, 408, 429, 5xx, Key Vault unavailable): the job goes back on the outbox
 *   queue with attempt + 1, invisible for the backoff or the receiver's Retry-After (webhook-retry.ts);
 * - final (other 4xx, a redirect, a blocked address, an unknown destination), or the last of
 *   WEBHOOK_MAX_ATTEMPTS attempts failed: the job goes to the poison queue with `lastStatus` and `reason`;
 *   `relay.delivery.poisoned` metric.
 * The queue trigger's message is then done (the handler returns normally), so the Functions host's own
 * retry and poison handling only covers failures of storage itself. Each job is one request, so a dead
 * webhook costs one timeout per attempt and never holds up other jobs.
 * Nothing here logs a URL, a secret or a signature; reasons are short and have any URL removed.
 */
import crypto from 'node:crypto';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { WebhookDestinationConfig, WebhookSettings } from '../config/webhook-destinations';
import type { SecretSource } from '../auth/key-vault-secrets';
import { emitMetric, type Logger } from '../telemetry';
import type { IncidentEvent } from './envelope';
import { formatPayload } from './webhook-formats';
import { webhookHeaders, webhookMessageId } from './webhook-signer';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  sendWebhook,
  WebhookBlockedError,
  WebhookNetworkError,
  type WebhookRequest,
  type WebhookResponse,
} from './webhook-http';
import { backoffSeconds, isRetryableStatus, parseRetryAfter } from './webhook-retry';
import { CLAIM_CHECK_PREFIX, encodeJob, type WebhookJob } from './webhook-outbox';
import { blobNameFor, QUEUE_MESSAGE_LIMIT, readClaimCheck, storeClaimCheck } from './storage-queue';
import { onceReady } from '../storage/once-ready';
import { asReplay } from './replay-mark';

/** The part of a QueueClient the delivery uses. */
export interface JobQueue {
  sendMessage(
    text: string,
    options?: { visibilityTimeout?: number; messageTimeToLive?: number },
  ): Promise<unknown>;
  createIfNotExists(): Promise<unknown>;
}

export interface WebhookDeliveryDeps {
  destinations: WebhookDestinationConfig[];
  secrets: SecretSource;
  outbox: JobQueue;
  poison: JobQueue;
  blobs: BlobServiceClient;
  /** The container new claim checks go to (CLAIM_CHECK_CONTAINER_NAME). */
  claimCheckContainer: string;
  settings: Pick<WebhookSettings, 'maxAttempts' | 'timeoutMs' | 'retryBaseSeconds' | 'allowPrivateAddresses'>;
  maxResponseBytes?: number;
  now?: () => number;
  random?: () => number;
  /**
   * The visibility timeout a retry is re-enqueued with, from the delay it should wait (default: the delay
   * itself). Tests pass `() => 0` and read the planned delay off the job's `delaySeconds`.
   */
  visibilityTimeout?: (delaySeconds: number) => number;
  send?: (request: WebhookRequest) => Promise<WebhookResponse>;
}

/** The result of one request to a webhook. */
export interface AttemptResult {
  ok: boolean;
  retryable: boolean;
  /** HTTP status, or null when there was no response. */
  status: number | null;
  reason: string;
  retryAfterSeconds?: number;
  response?: WebhookResponse;
  durationMs: number;
}

export type DeliveryOutcome =
  | { outcome: 'delivered'; destination: string; attempt: number; status: number }
  | {
      outcome: 'retry';
      destination: string;
      attempt: number;
      status: number | null;
      reason: string;
      delaySeconds: number;
    }
  | { outcome: 'poisoned'; destination: string; attempt: number; status: number | null; reason: string };

/** What goes to the poison queue. */
export interface PoisonedJob extends WebhookJob {
  lastStatus: number | null;
  reason: string;
  poisonedAt: string;
}

function clean(reason: string): string {
  return reason.replace(/https?:\/\/\S+/gi, '<url>').slice(0, 300);
}

export class MalformedJobError extends Error {}

/** Reads a queue message as the Functions host hands it over (parsed JSON, a JSON string or base64). */
export function parseJob(message: unknown): WebhookJob {
  let value = message;
  if (Buffer.isBuffer(value)) value = value.toString('utf8');
  if (typeof value === 'string') {
    const text = value.trim();
    const json = text.startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8');
    try {
      value = JSON.parse(json);
    } catch {
      throw new MalformedJobError('the message is not JSON');
    }
  }
  const job = value as Partial<WebhookJob> | null;
  if (
    !job ||
    typeof job !== 'object' ||
    job.kind !== 'webhook-delivery' ||
    typeof job.destination !== 'string' ||
    typeof job.eventId !== 'string' ||
    typeof job.attempt !== 'number' ||
    (!job.event && !job.claimCheck)
  )
    throw new MalformedJobError('the message is not a webhook delivery job');
  return job as WebhookJob;
}

/** Answers after which the URL and signing key are read from Key Vault again (they may have been rotated). */
const STALE_CREDENTIAL_STATUSES = new Set([401, 403, 404, 410]);

export class WebhookDelivery {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly send: (request: WebhookRequest) => Promise<WebhookResponse>;
  private readonly byName: Map<string, WebhookDestinationConfig>;
  constructor(private readonly deps: WebhookDeliveryDeps) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.send = deps.send ?? sendWebhook;
    this.byName = new Map(deps.destinations.map((d) => [d.name, d]));
  }

  get destinations(): WebhookDestinationConfig[] {
    return [...this.byName.values()];
  }

  destination(name: string): WebhookDestinationConfig | undefined {
    return this.byName.get(name);
  }

  /** Creates what it writes to on first use (once per process). */
  private readonly ensure = onceReady(() =>
    Promise.all([this.deps.outbox.createIfNotExists(), this.deps.poison.createIfNotExists()]),
  );

  /**
   * One signed request of `event` to a destination; never throws for the webhook's or the network's faults.
   * An answer that says the URL or the key is wrong (401, 403, 404, 410) may mean they were rotated in Key
   * Vault while this instance had them cached: they are read again once, and sent to again if they changed.
   */
  async attempt(
    destination: WebhookDestinationConfig,
    event: IncidentEvent,
    webhookId = webhookMessageId(event.id),
  ): Promise<AttemptResult> {
    const first = await this.attemptWith(destination, event, webhookId, (name) =>
      this.deps.secrets.get(name),
    );
    if (first.result.status === null || !STALE_CREDENTIAL_STATUSES.has(first.result.status))
      return first.result;
    const second = await this.attemptWith(
      destination,
      event,
      webhookId,
      (name) => this.deps.secrets.refresh(name),
      first.credentials,
    );
    return second.unchanged ? first.result : second.result;
  }

  private async attemptWith(
    destination: WebhookDestinationConfig,
    event: IncidentEvent,
    webhookId: string,
    read: (secretName: string) => Promise<string>,
    unlessSameAs?: string,
  ): Promise<{ result: AttemptResult; credentials?: string; unchanged?: boolean }> {
    const started = this.now();
    const done = (r: Omit<AttemptResult, 'durationMs'>): AttemptResult => ({
      ...r,
      reason: clean(r.reason),
      durationMs: this.now() - started,
    });
    let url: string;
    let signing: string | undefined;
    try {
      url = await read(destination.urlSecret);
      signing = destination.signingSecret ? await read(destination.signingSecret) : undefined;
    } catch (error) {
      const reason = `Key Vault: ${error instanceof Error ? error.message : String(error)}`;
      return { result: done({ ok: false, retryable: true, status: null, reason }) };
    }
    // Compared only, never logged or returned: the pair identifies what was sent with.
    const credentials = `${url}\n${signing ?? ''}`;
    if (unlessSameAs !== undefined && credentials === unlessSameAs)
      return {
        result: done({ ok: false, retryable: false, status: null, reason: 'unchanged' }),
        unchanged: true,
      };
    return { result: await this.sendSigned(destination, event, webhookId, url, signing, done), credentials };
  }

  private async sendSigned(
    destination: WebhookDestinationConfig,
    event: IncidentEvent,
    webhookId: string,
    url: string,
    signing: string | undefined,
    done: (r: Omit<AttemptResult, 'durationMs'>) => AttemptResult,
  ): Promise<AttemptResult> {
    const payload = formatPayload(destination.format, event);
    let headers: Record<string, string>;
    try {
      headers = webhookHeaders(webhookId, Math.floor(this.now() / 1000), payload.body, signing);
    } catch (error) {
      // A malformed signing secret can be fixed in Key Vault: retried.
      return done({
        ok: false,
        retryable: true,
        status: null,
        reason: `secret ${destination.signingSecret}: ${(error as Error).message}`,
      });
    }
    let response: WebhookResponse;
    try {
      response = await this.send({
        url,
        body: payload.body,
        headers: {
          ...headers,
          'content-type': payload.contentType,
          'user-agent': 'defender-relay',
        },
        timeoutMs: this.deps.settings.timeoutMs,
        allowPrivateAddresses: this.deps.settings.allowPrivateAddresses,
        maxResponseBytes: this.deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      });
    } catch (error) {
      if (error instanceof WebhookBlockedError)
        return done({ ok: false, retryable: false, status: null, reason: error.message });
      if (error instanceof WebhookNetworkError)
        return done({ ok: false, retryable: true, status: null, reason: error.message });
      return done({
        ok: false,
        retryable: true,
        status: null,
        reason: `request failed (${(error as Error).name})`,
      });
    }
    const status = response.status;
    if (status >= 200 && status < 300)
      return done({ ok: true, retryable: false, status, reason: `HTTP ${status}`, response });
    if (status >= 300 && status < 400)
      return done({
        ok: false,
        retryable: false,
        status,
        reason: `HTTP ${status}: redirects are not followed`,
        response,
      });
    return done({
      ok: false,
      retryable: isRetryableStatus(status),
      status,
      reason: `HTTP ${status}`,
      retryAfterSeconds:
        status === 429 || status === 503
          ? parseRetryAfter(response.headers['retry-after'], this.now())
          : undefined,
      response,
    });
  }

  /** Handles one job from the outbox queue, re-enqueueing or poisoning it as needed. */
  async process(
    message: unknown,
    log: Logger = () => {},
  ): Promise<DeliveryOutcome | { outcome: 'malformed'; reason: string }> {
    let job: WebhookJob;
    try {
      job = parseJob(message);
    } catch (error) {
      if (!(error instanceof MalformedJobError)) throw error;
      await this.ensure();
      await this.deps.poison.sendMessage(
        Buffer.from(
          JSON.stringify({ reason: error.message, poisonedAt: new Date(this.now()).toISOString() }),
        ).toString('base64'),
        { messageTimeToLive: -1 },
      );
      log(`Webhook delivery: a malformed outbox message was moved to the poison queue (${error.message}).`);
      return { outcome: 'malformed', reason: error.message };
    }

    const destination = this.byName.get(job.destination);
    if (!destination)
      return this.poison(job, null, `destination "${job.destination}" is not in WEBHOOKS any more`, log);

    let event: IncidentEvent;
    try {
      event =
        job.event ??
        (await readClaimCheck(
          this.deps.blobs.getContainerClient(job.claimCheck!.container),
          job.claimCheck!,
        ));
    } catch (error) {
      const code = (error as { statusCode?: number }).statusCode;
      if (code === 404) return this.poison(job, null, 'the claim-check blob of the event is gone', log);
      throw error;
    }

    if (job.relayreplay) event = asReplay(event, job.relayreplay);
    const result = await this.attempt(destination, event, webhookMessageId(job.eventId));
    if (result.ok) {
      log(
        `Webhook ${destination.name}: delivered ${job.eventId} (HTTP ${result.status}, attempt ${job.attempt}).`,
      );
      emitMetric(log, 'relay.delivery', { tenantId: job.tenantId, destination: destination.name, count: 1 });
      return {
        outcome: 'delivered',
        destination: destination.name,
        attempt: job.attempt,
        status: result.status!,
      };
    }
    if (!result.retryable) return this.poison(job, result.status, result.reason, log);
    if (job.attempt >= this.deps.settings.maxAttempts)
      return this.poison(job, result.status, `${result.reason} after ${job.attempt} attempts`, log);

    const delaySeconds =
      result.retryAfterSeconds ??
      backoffSeconds(job.attempt, this.deps.settings.retryBaseSeconds, this.random);
    const next: WebhookJob = {
      ...job,
      attempt: job.attempt + 1,
      lastStatus: result.status,
      lastReason: result.reason,
      delaySeconds,
    };
    await this.ensure();
    await this.deps.outbox.sendMessage(await this.encodeFitting(next, event), {
      visibilityTimeout: Math.max(0, Math.round((this.deps.visibilityTimeout ?? ((s) => s))(delaySeconds))),
    });
    log(
      `Webhook ${destination.name}: attempt ${job.attempt} of ${this.deps.settings.maxAttempts} for ${job.eventId} failed (${result.reason}); retrying in ${delaySeconds} s.`,
    );
    return {
      outcome: 'retry',
      destination: destination.name,
      attempt: job.attempt,
      status: result.status,
      reason: result.reason,
      delaySeconds,
    };
  }

  private async poison(
    job: WebhookJob,
    lastStatus: number | null,
    reason: string,
    log: Logger,
  ): Promise<DeliveryOutcome> {
    const poisoned: PoisonedJob = {
      ...job,
      lastStatus,
      reason: clean(reason),
      poisonedAt: new Date(this.now()).toISOString(),
    };
    await this.ensure();
    await this.deps.poison.sendMessage(await this.encodeFitting(poisoned, job.event), {
      messageTimeToLive: -1,
    });
    log(
      `Webhook ${job.destination}: gave up on ${job.eventId} after attempt ${job.attempt} (${poisoned.reason}); moved to the poison queue.`,
    );
    emitMetric(log, 'relay.delivery.poisoned', {
      tenantId: job.tenantId,
      destination: job.destination,
      reason: poisoned.reason,
      lastStatus: lastStatus ?? undefined,
      attempts: job.attempt,
    });
    return {
      outcome: 'poisoned',
      destination: job.destination,
      attempt: job.attempt,
      status: lastStatus,
      reason: poisoned.reason,
    };
  }

  /** Encodes a job; if it outgrew the message limit, its event moves to a claim check first. */
  private async encodeFitting(job: WebhookJob, event: IncidentEvent | undefined): Promise<string> {
    const message = encodeJob(job);
    if (message.length <= QUEUE_MESSAGE_LIMIT || !job.event || !event) return message;
    const container = this.deps.blobs.getContainerClient(this.deps.claimCheckContainer);
    await container.createIfNotExists();
    const claimCheck = await storeClaimCheck(
      container,
      `${CLAIM_CHECK_PREFIX}${blobNameFor(event)}`,
      JSON.stringify(event),
    );
    return encodeJob({ ...job, event: undefined, claimCheck });
  }
}

/** A test event for `defender-relay webhook test`: the sample incident under a fresh id. */
export function testWebhookId(): string {
  return `test-${crypto.randomUUID()}`;
}
