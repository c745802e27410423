/**
 * Inbound incident updates from ticketing and SOAR systems. Each sender (INBOUND_SENDERS) is a named
 * entity with its own Standard Webhooks secret (from Key Vault) and the tenants it may act in: a message
 * is verified with its sender's secret only, and may touch only that sender's tenants. Stale timestamps
 * and repeated message ids are refused, then the update is applied to Defender with the application
 * context, the two-way way (src/two-way: merges followed, conflicts against a base version, comments
 * exactly once, echoes recorded; docs/two-way.md). The sender's name is kept with the message id, in the
 * retry queue and in the log. An update whose application fails is put on the retry queue (a
 * queue-triggered function applies it later; after the host's attempts it lands in `<queue>-poison`): it
 * is kept, never dropped; a refusal found on the retry is recorded (`refused-<kind>`) and logged.
 *
 * Message ids are recorded in a table (INBOUND_TABLE_NAME) before the update is applied; a record left
 * `received` by a crash is taken over by a later delivery of the same id after two minutes.
 */
import crypto from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import type { SecretSource } from '../auth/key-vault-secrets';
import type { InboundSender } from '../config/settings';
import { DEFAULT_SENDER } from '../config/inbound-senders';
import { signingKeys, SigningSecretError } from '../delivery/webhook-signer';
import type { ApiFlavour } from '../defender/incident';
import {
  checkIncidentUpdate,
  incidentUpdateFields,
  type DefenderActions,
  type IncidentUpdate,
} from '../defender/actions';
import { verifyWebhook, type WebhookHeaders } from './signature';
import { TwoWayApply, type TwoWayOutcome } from '../two-way/two-way-apply';
import type { VersionLedger } from '../two-way/version-ledger';
import { redact } from '../http/redact';

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
      /** The incident version the update is based on: its last-update time or the event id (docs/two-way.md). */
      baseVersion: z.string().trim().min(1).max(300).optional(),
      ...incidentUpdateFields,
    })
    .strict()
    .superRefine((u, ctx) => checkIncidentUpdate(u as IncidentUpdate, ctx, [], api));
}

export const inboundUpdateSchema = inboundUpdateSchemaFor();

export type InboundUpdate = z.output<ReturnType<typeof inboundUpdateSchemaFor>>;

export interface RetryMessage {
  webhookId: string;
  /** The sender's name (absent in messages queued before senders existed: the default sender). */
  sender?: string;
  tenantId: string;
  incidentId: string;
  update: IncidentUpdate;
  source?: string;
  baseVersion?: string;
  firstError: string;
}

export const retryMessageSchema = z.object({
  webhookId: z.string().min(1),
  sender: z.string().optional(),
  tenantId: z.string().min(1),
  incidentId: z.string().regex(/^\d{1,19}$/),
  update: z.record(z.string(), z.unknown()),
  source: z.string().optional(),
  baseVersion: z.string().optional(),
  firstError: z.string().optional(),
});

export type Verdict =
  | { kind: 'ok'; sender: InboundSender }
  | { kind: 'unknown-sender' }
  | { kind: 'bad-signature'; sender: InboundSender }
  | { kind: 'stale'; sender: InboundSender };

/** A sender's secret in Key Vault is not a Standard Webhooks secret: nothing is verified with it. */
export class InboundSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InboundSecretError';
  }
}

export type ReceiveOutcome = { kind: 'duplicate' } | TwoWayOutcome | { kind: 'queued'; error: string };

export interface InboundOptions {
  secrets: SecretSource;
  senders: InboundSender[];
  table: TableClient;
  retryQueue: QueueClient;
  replayWindowMs: number;
  api: ApiFlavour;
  /** Actions with the application context. */
  actions: DefenderActions;
  /** Snapshots and echoes of incident versions (two-way sync). */
  ledger: VersionLedger;
  now?: () => number;
}

const PARTITION = 'msg';
const TAKEOVER_MS = 120_000;

export class InboundUpdates {
  private tableReady?: Promise<void>;
  private queueReady?: Promise<void>;
  private readonly twoWay: TwoWayApply;

  constructor(private readonly options: InboundOptions) {
    this.twoWay = new TwoWayApply(options.actions, options.ledger, options.api);
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** The sender a route names (no name: `default`). */
  sender(name: string | undefined): InboundSender | undefined {
    const wanted = (name ?? DEFAULT_SENDER).toLowerCase();
    return this.options.senders.find((s) => s.name.toLowerCase() === wanted);
  }

  /**
   * Checks the signature with the sender's secret, and the timestamp (call before parsing the body). A
   * signature that does not match is checked once more against the secret read again (rotation); Key
   * Vault is asked at most once per SECRET_REFRESH_MIN_SECONDS however many bad messages come.
   */
  async verify(senderName: string | undefined, headers: WebhookHeaders, body: Buffer): Promise<Verdict> {
    const sender = this.sender(senderName);
    if (!sender) return { kind: 'unknown-sender' };
    const check = (keys: Buffer[]) =>
      verifyWebhook(keys, headers, body, { windowMs: this.options.replayWindowMs, now: this.now() });
    const secret = await this.options.secrets.get(sender.secret);
    let result = check(this.keys(sender, secret));
    if (!result.ok && result.reason === 'signature') {
      const fresh = await this.options.secrets.refresh(sender.secret);
      if (fresh !== secret) result = check(this.keys(sender, fresh));
    }
    if (result.ok) return { kind: 'ok', sender };
    return { kind: result.reason === 'stale' ? 'stale' : 'bad-signature', sender };
  }

  /**
   * Reads and checks one sender's secret (start-up and deep health). `missing`: Key Vault has no such
   * secret (inbound webhooks not set up); any other failure is a misconfiguration.
   */
  async checkSecret(sender: InboundSender): Promise<{ ok: boolean; missing?: boolean; detail: string }> {
    try {
      this.keys(sender, await this.options.secrets.get(sender.secret));
      return {
        ok: true,
        detail: `Inbound sender "${sender.name}": its signing secret is readable and valid.`,
      };
    } catch (error) {
      const missing = (error as { code?: string })?.code === 'secret_not_found';
      return { ok: false, missing, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Where an update acts: the body's tenant or the sender's default, and whether the sender may act there. */
  tenantFor(sender: InboundSender, input: InboundUpdate): { tenantId: string; allowed: boolean } {
    const tenantId = (input.tenantId ?? sender.defaultTenant).toLowerCase();
    return { tenantId, allowed: sender.tenants.includes(tenantId) };
  }

  private keys(sender: InboundSender, secret: string): Buffer[] {
    try {
      return signingKeys(secret);
    } catch (error) {
      if (!(error instanceof SigningSecretError)) throw error;
      throw new InboundSecretError(
        `Inbound sender "${sender.name}": Key Vault secret '${sender.secret}' is refused (${error.message}); no message is accepted until it holds whsec_<base64> of at least 24 random bytes.`,
      );
    }
  }

  /** Records the message id, applies the update, or queues it for retry when applying fails. */
  async accept(
    webhookId: string,
    sender: InboundSender,
    input: InboundUpdate & { tenantId: string },
    log: (m: string) => void,
  ): Promise<ReceiveOutcome> {
    const tenantId = input.tenantId;
    if (!(await this.claim(webhookId, sender.name, tenantId, input.incidentId))) return { kind: 'duplicate' };
    const { tenantId: _t, incidentId, source, baseVersion, ...update } = input;
    void _t;
    try {
      const outcome = await this.twoWay.apply({
        sender,
        webhookId,
        tenantId,
        incidentId,
        update,
        baseVersion,
      });
      await this.mark(
        webhookId,
        sender.name,
        outcome.kind === 'applied' ? 'applied' : `refused-${outcome.kind}`,
      );
      return outcome;
    } catch (error) {
      const reason = redact(error instanceof Error ? error.message : 'unknown error');
      const message: RetryMessage = {
        webhookId,
        sender: sender.name,
        tenantId,
        incidentId,
        update,
        source,
        baseVersion,
        firstError: reason,
      };
      await this.enqueue(message);
      await this.mark(webhookId, sender.name, 'queued', reason);
      log(
        `Inbound update ${webhookId} from sender "${sender.name}" for incident ${incidentId} in tenant ${tenantId} was queued for retry: ${reason}`,
      );
      return { kind: 'queued', error: reason };
    }
  }

  /**
   * Applies a queued update again (the retry queue trigger); throws when it still fails. A refusal found
   * now (a conflict, a merge to refuse) is recorded and logged: the sender's call was answered already.
   */
  async retry(message: RetryMessage): Promise<TwoWayOutcome> {
    const senderName = message.sender ?? DEFAULT_SENDER;
    const sender = this.sender(senderName);
    if (!sender) throw new Error(`inbound retry: sender "${senderName}" is no longer in INBOUND_SENDERS`);
    const outcome = await this.twoWay.apply({
      sender,
      webhookId: message.webhookId,
      tenantId: message.tenantId,
      incidentId: message.incidentId,
      update: message.update,
      baseVersion: message.baseVersion,
    });
    const status = outcome.kind === 'applied' ? 'applied' : `refused-${outcome.kind}`;
    await this.mark(message.webhookId, senderName, status).catch(() => undefined);
    return outcome;
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

  /** Message ids are per sender (the default sender keeps the keys of before senders existed). */
  private rowKey(webhookId: string, sender: string): string {
    const key = sender === DEFAULT_SENDER ? webhookId : `${sender}\n${webhookId}`;
    return crypto.createHash('sha256').update(key).digest('hex');
  }

  /** True when this delivery owns the message id (first time, or taking over a stuck record). */
  private async claim(
    webhookId: string,
    sender: string,
    tenantId: string,
    incidentId: string,
  ): Promise<boolean> {
    await this.ensureTable();
    const entity = {
      partitionKey: PARTITION,
      rowKey: this.rowKey(webhookId, sender),
      webhookId: webhookId.slice(0, 256),
      sender,
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

  private async mark(webhookId: string, sender: string, status: string, error?: string): Promise<void> {
    await this.options.table.updateEntity(
      {
        partitionKey: PARTITION,
        rowKey: this.rowKey(webhookId, sender),
        status,
        updatedAt: new Date(this.now()).toISOString(),
        ...(error ? { error: error.slice(0, 1000) } : {}),
      },
      'Merge',
    );
  }
}
