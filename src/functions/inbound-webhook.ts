/**
 * `POST /api/webhooks/incident-updates/{sender?}`: an incident update from a ticketing or SOAR system,
 * verified by its sender's Standard Webhooks signature, bounded to the sender's tenants, applied with the
 * application context. `inboundRetryOptions` is the
 * queue trigger that applies the updates that failed the first time (INBOUND_RETRY_QUEUE_NAME).
 */
import type { HttpRequest, InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import { z } from 'zod';
import type { Relay } from '../relay';
import { HttpProblem, httpFunction, jsonResponse, parseJson, readBody, validate } from '../http';
import {
  inboundUpdateSchemaFor,
  retryMessageSchema,
  type InboundUpdate,
  type RetryMessage,
  type Verdict,
} from '../inbound/inbound-updates';
import type { InboundSender } from '../config/settings';
import { ACTIONS_API } from '../defender/legacy-retirement';
import type { IncidentUpdate } from '../defender/actions';

/** Inbound bodies are small; a ticket's full history does not belong in an update. */
export const INBOUND_MAX_BODY_BYTES = 32 * 1024;

const headerSchema = z.object({
  'webhook-id': z
    .string({ message: 'is required' })
    .regex(/^[\x21-\x7e]{1,256}$/, { message: 'must be 1-256 printable characters' })
    // Standard Webhooks signs "<id>.<timestamp>.<body>": an id holding the separator is ambiguous.
    .refine((id) => !id.includes('.'), { message: 'must not contain "." (the signed content\'s separator)' }),
  'webhook-timestamp': z
    .string({ message: 'is required' })
    .regex(/^\d{1,12}$/, { message: 'must be Unix seconds' }),
  'webhook-signature': z
    .string({ message: 'is required' })
    .max(4096)
    .regex(/(^|\s)v1,[A-Za-z0-9+/=]+/, { message: 'must hold a "v1,<base64>" signature' }),
});

type InboundRelay = Pick<Relay, 'inbound' | 'config' | 'tenants'>;
type Headers = z.output<typeof headerSchema>;

/**
 * `POST /api/webhooks/incident-updates/{sender?}`: the route names the sender (INBOUND_SENDERS; none:
 * `default`), whose secret verifies the message and whose tenants bound what it may change.
 */
export function inboundWebhookHandler(relay: InboundRelay) {
  return httpFunction({ methods: ['POST'] }, async (request, context) => {
    const raw = await readBody(request, INBOUND_MAX_BODY_BYTES);
    const headers = readHeaders(request);
    const sender = await verifiedSender(relay, request.params.sender, headers, raw, context);
    // Checked against the vocabulary of the API the update goes to (Graph, whatever the tenant's sync reads).
    const body = validate(
      inboundUpdateSchemaFor(ACTIONS_API),
      parseJson(raw, request.headers.get('content-type')),
    );
    const tenantId = await allowedTenant(relay, sender, body);
    const outcome = await relay.inbound.accept(headers['webhook-id'], sender, { ...body, tenantId }, (m) =>
      context.warn(m),
    );
    if (outcome.kind === 'duplicate') {
      throw new HttpProblem(
        409,
        `Message ${headers['webhook-id']} was received before; it is not applied again.`,
        {
          code: 'duplicate-message',
          errors: [{ field: 'header.webhook-id', message: 'was already received' }],
        },
      );
    }
    if (outcome.kind === 'applied') {
      context.log(
        `inbound webhook ${headers['webhook-id']} from sender "${sender.name}"${body.source ? ` (${body.source})` : ''}: incident ${body.incidentId} in tenant ${tenantId} updated`,
      );
      return jsonResponse(200, { status: 'applied', incident: outcome.result.incident });
    }
    return jsonResponse(202, {
      status: 'queued',
      detail: 'Defender did not accept the update now; it is kept and retried from the retry queue.',
    });
  });
}

function readHeaders(request: HttpRequest): Headers {
  const h = (name: string) => request.headers.get(name) ?? undefined;
  return validate(
    headerSchema,
    {
      'webhook-id': h('webhook-id'),
      'webhook-timestamp': h('webhook-timestamp'),
      'webhook-signature': h('webhook-signature'),
    },
    { prefix: 'header.', status: 400 },
  );
}

/** The sender whose secret signed the message; any other answer is a problem. */
async function verifiedSender(
  relay: InboundRelay,
  senderName: string | undefined,
  headers: Headers,
  raw: Buffer,
  context: InvocationContext,
): Promise<InboundSender> {
  let verdict: Verdict;
  try {
    verdict = await relay.inbound.verify(
      senderName,
      {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
      },
      raw,
    );
  } catch (error) {
    // Key Vault or the sender's secret: the operator's business (the log), never the caller's.
    throw new HttpProblem(
      503,
      'The relay cannot verify webhooks right now. Try again later; its operator finds the cause in its log.',
      {
        code: 'verification-unavailable',
        headers: { 'retry-after': '60' },
        logDetail: error instanceof Error ? error.message : String(error),
      },
    );
  }
  switch (verdict.kind) {
    case 'ok':
      return verdict.sender;
    case 'unknown-sender':
      throw new HttpProblem(
        404,
        "No inbound sender has this name: call /api/webhooks/incident-updates/<sender name> with the name the relay's operator gave you.",
        { code: 'sender-unknown', logDetail: 'inbound webhook for a sender that is not in INBOUND_SENDERS' },
      );
    case 'bad-signature':
      context.warn(
        `inbound webhook ${headers['webhook-id']} for sender "${verdict.sender.name}": signature does not match (rejected)`,
      );
      throw new HttpProblem(
        401,
        'The webhook-signature does not match: sign "<webhook-id>.<webhook-timestamp>.<body>" with HMAC-SHA256 and the shared secret (Standard Webhooks).',
        {
          code: 'invalid-signature',
          errors: [{ field: 'header.webhook-signature', message: 'does not match' }],
        },
      );
    default:
      context.warn(
        `inbound webhook ${headers['webhook-id']} for sender "${verdict.sender.name}": timestamp outside the replay window (rejected)`,
      );
      throw new HttpProblem(
        401,
        `The webhook-timestamp is more than ${Math.round(relay.config.inbound.replayWindowMs / 1000)} seconds from the relay's clock: send it when the message is sent (and check the sender's clock).`,
        {
          code: 'stale-timestamp',
          errors: [{ field: 'header.webhook-timestamp', message: 'is outside the replay window' }],
        },
      );
  }
}

/** The tenant the update acts in: one of the sender's tenants, and an enabled tenant of the relay. */
async function allowedTenant(
  relay: InboundRelay,
  sender: InboundSender,
  body: InboundUpdate,
): Promise<string> {
  const { tenantId, allowed } = relay.inbound.tenantFor(sender, body);
  if (!allowed) {
    throw new HttpProblem(
      403,
      `This sender may not act in tenant ${tenantId}: ask the relay's operator to add it to the sender's tenants.`,
      {
        code: 'tenant-not-allowed',
        errors: [{ field: 'tenantId', message: 'is not a tenant of this sender' }],
      },
    );
  }
  const known = await relay.tenants.enabledTenantIds().catch(() => relay.config.tenants);
  if (!known.includes(tenantId)) {
    throw new HttpProblem(
      422,
      `Tenant ${tenantId} is not an enabled tenant of this relay (DEFENDER_TENANTS or onboarded by consent).`,
      { code: 'validation-error', errors: [{ field: 'tenantId', message: 'is not a tenant of this relay' }] },
    );
  }
  return tenantId;
}

export function inboundRetryHandler(relay: Pick<Relay, 'inbound'>) {
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    let parsed: RetryMessage;
    try {
      const value = typeof message === 'string' ? (JSON.parse(message) as unknown) : message;
      parsed = retryMessageSchema.parse(value) as RetryMessage;
    } catch {
      // Thrown, so the host keeps it (poison queue after its attempts): nothing is dropped.
      throw new Error(`inbound retry: message is not a retry message (${text.length} chars)`);
    }
    const result = await relay.inbound.retry({ ...parsed, update: parsed.update as IncidentUpdate });
    context.log(
      `inbound retry: ${parsed.webhookId} applied to incident ${result.incident.incidentId} in tenant ${parsed.tenantId} (attempt ${String(context.triggerMetadata?.dequeueCount ?? '?')})`,
    );
  };
}

export function inboundRetryOptions(relay: Relay): StorageQueueFunctionOptions {
  return {
    queueName: relay.config.inbound.retryQueue,
    connection: 'AzureWebJobsStorage',
    handler: inboundRetryHandler(relay),
  };
}
