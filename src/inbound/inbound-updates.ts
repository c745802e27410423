/**
 * Inbound incident updates from ticketing and SOAR systems: verified by a Standard Webhooks signature
 * (secret from Key Vault), stale timestamps and repeated message ids refused, then applied to Defender
 * with the application context. An update whose application fails is put on the retry queue (a
 * queue-triggered function applies it later; after the host's attempts it lands in `<queue>-poison`):
 * it is kept, never dropped.
 *
 * Message ids are recorded in a table (INBOUND_TABLE_NAME) before the update is applied; a record left
 * `received` by a crash is taken over by a later delivery of the same id after two minutes.
 */
import crypto from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import type { SecretSource } from '../auth/key-vault-secrets';
import type { ApiFlavour } from '../defender/incident';
import {
  checkIncidentUpdate,
  incidentUpdateFields,
  type DefenderActions,
  type IncidentUpdate,
  type UpdateResult,
} from '../defender/actions';
import { verifyWebhook, type WebhookHeaders } from './signature';

/** The body an inbound webhook carries. */
export function inboundUpdateSchemaFor(api?: ApiFlavour) {
  return z
    .object({
      /** Defender tenant of the incident; default: the home tenant. */
      tenantId: z
        .string()
        .trim()
        .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
          message: 'is not a GUID',
        })
        .optional(),
      incidentId: z
        .union([z.string().trim(), z.number().int().nonnegative()])
        .transform(String)
        .pipe(z.string().regex(/^\d{1,19}$/, { message: 'is not a Defender incident id (digits)' })),
      /** Free text naming the sender's record, e.g. "ServiceNow INC0012345" (kept in the log). */
      source: z.string().trim().max(200).optional(),
      ...incidentUpdateFields,
    })
    .strict()
    .superRefine((u, ctx) => checkIncidentUpdate(u as IncidentUpdate, ctx, [], api));
}

export const inboundUpdateSchema = inboundUpdateSchemaFor();

export type InboundUpdate = z.output<ReturnType<typeof inboundUpdateSchemaFor>>;

export interface RetryMessage {
  webhookId: string;
  tenantId: string;
  incidentId: string;
  update: IncidentUpdate;
  source?: string;
  firstError: string;
}

export const retryMessageSchema = z.object({
  webhookId: z.string().min(1),
  tenantId: z.string().min(1),
  incidentId: z.string().regex(/^\d{1,19}$/),
  update: z.record(z.string(), z.unknown()),
  source: z.string().optional(),
  firstError: z.string().optional(),
});

export type ReceiveOutcome =
  | { kind: 'bad-signature' }
  | { kind: 'stale' }
  | { kind: 'duplicate' }
  | { kind: 'applied'; result: UpdateResult }
  | { kind: 'queued'; error: string };

export interface InboundOptions {
  secrets: SecretSource;
  secretName: string;
  table: TableClient;
  retryQueue: QueueClient;
  replayWindowMs: number;
  homeTenantId: string;
  api: ApiFlavour;
  /** Actions with the application context. */
  actions: DefenderActions;
  now?: () => number;
}

const PARTITION = 'msg';
const TAKEOVER_MS = 120_000;

export class InboundUpdates {
  private tableReady?: Promise<void>;
  private queueReady?: Promise<void>;

  constructor(private readonly options: InboundOptions) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Checks the signature and the timestamp (call before parsing the body). */
  async verify(headers: WebhookHeaders, body: Buffer): Promise<'ok' | 'bad-signature' | 'stale'> {
    const secret = await this.options.secrets.get(this.options.secretName);
    let result = verifyWebhook(secret, headers, body, {
      windowMs: this.options.replayWindowMs,
      now: this.now(),
    });
    if (!result.ok && result.reason === 'signature') {
      // The secret may have been rotated in Key Vault since it was cached.
      const fresh = await this.options.secrets.refresh(this.options.secretName);
      if (fresh !== secret) {
        result = verifyWebhook(fresh, headers, body, {
          windowMs: this.options.replayWindowMs,
          now: this.now(),
        });
      }
    }
    if (result.ok) return 'ok';
    return result.reason === 'stale' ? 'stale' : 'bad-signature';
  }

  /** Records the message id, applies the update, or queues it for retry when applying fails. */
  async accept(webhookId: string, input: InboundUpdate, log: (m: string) => void): Promise<ReceiveOutcome> {
    const tenantId = (input.tenantId ?? this.options.homeTenantId).toLowerCase();
    if (!(await this.claim(webhookId, tenantId, input.incidentId))) return { kind: 'duplicate' };
    const { tenantId: _t, incidentId, source, ...update } = input;
    void _t;
    try {
      const result = await this.options.actions.updateIncident(
        tenantId,
        this.options.api,
        incidentId,
        update,
      );
      await this.mark(webhookId, 'applied');
      return { kind: 'applied', result };
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unknown error';
      const message: RetryMessage = { webhookId, tenantId, incidentId, update, source, firstError: reason };
      await this.enqueue(message);
      await this.mark(webhookId, 'queued', reason);
      log(
        `Inbound update ${webhookId} for incident ${incidentId} in tenant ${tenantId} was queued for retry: ${reason}`,
      );
      return { kind: 'queued', error: reason };
    }
  }

  /** Applies a queued update again (the retry queue trigger); throws when it still fails. */
  async retry(message: RetryMessage): Promise<UpdateResult> {
    const result = await this.options.actions.updateIncident(
      message.tenantId,
      this.options.api,
      message.incidentId,
      message.update,
    );
    await this.mark(message.webhookId, 'applied').catch(() => undefined);
    return result;
  }

  async enqueue(message: RetryMessage): Promise<void> {
    this.queueReady ??= this.options.retryQueue
      .createIfNotExists()
      .then(() => undefined)
      .catch((e: unknown) => {
        this.queueReady = undefined;
        throw e;
      });
    await this.queueReady;
    await this.options.retryQueue.sendMessage(
      Buffer.from(JSON.stringify(message), 'utf8').toString('base64'),
    );
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.options.table.createTable().catch((error: { statusCode?: number }) => {
      this.tableReady = undefined;
      if (error?.statusCode !== 409) throw error;
    });
    return this.tableReady;
  }

  private rowKey(webhookId: string): string {
    return crypto.createHash('sha256').update(webhookId).digest('hex');
  }

  /** True when this delivery owns the message id (first time, or taking over a stuck record). */
  private async claim(webhookId: string, tenantId: string, incidentId: string): Promise<boolean> {
    await this.ensureTable();
    const entity = {
      partitionKey: PARTITION,
      rowKey: this.rowKey(webhookId),
      webhookId: webhookId.slice(0, 256),
      tenantId,
      incidentId,
      status: 'received',
      receivedAt: new Date(this.now()).toISOString(),
    };
    try {
      await this.options.table.createEntity(entity);
      return true;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    }
    const existing = await this.options.table.getEntity<{ status?: string; receivedAt?: string }>(
      PARTITION,
      entity.rowKey,
    );
    const age = this.now() - Date.parse(existing.receivedAt ?? '');
    if (existing.status !== 'received' || !(age > TAKEOVER_MS)) return false;
    try {
      await this.options.table.updateEntity(entity, 'Replace', { etag: existing.etag });
      return true;
    } catch {
      return false;
    }
  }

  private async mark(webhookId: string, status: string, error?: string): Promise<void> {
    await this.options.table.updateEntity(
      {
        partitionKey: PARTITION,
        rowKey: this.rowKey(webhookId),
        status,
        updatedAt: new Date(this.now()).toISOString(),
        ...(error ? { error: error.slice(0, 1000) } : {}),
      },
      'Merge',
    );
  }
}
