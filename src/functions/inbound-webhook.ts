/**
 * `POST /api/webhooks/incident-updates`: an incident update from a ticketing or SOAR system, verified by
 * its Standard Webhooks signature, applied with the application context. `inboundRetryOptions` is the
 * queue trigger that applies the updates that failed the first time (INBOUND_RETRY_QUEUE_NAME).
 */
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import { z } from 'zod';
import type { Relay } from '../relay';
import { HttpProblem, httpFunction, jsonResponse, parseJson, readBody, validate } from '../http';
import { inboundUpdateSchemaFor, retryMessageSchema, type RetryMessage } from '../inbound/inbound-updates';
import type { IncidentUpdate } from '../defender/actions';
import { toProblem } from './problems';

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

export function inboundWebhookHandler(relay: InboundRelay) {
  return httpFunction({ methods: ['POST'] }, async (request, context) => {
    const raw = await readBody(request, INBOUND_MAX_BODY_BYTES);
    const h = (name: string) => request.headers.get(name) ?? undefined;
    const headers = validate(
      headerSchema,
      {
        'webhook-id': h('webhook-id'),
        'webhook-timestamp': h('webhook-timestamp'),
        'webhook-signature': h('webhook-signature'),
      },
      { prefix: 'header.', status: 400 },
    );
    let verdict: 'ok' | 'bad-signature' | 'stale';
    try {
      verdict = await relay.inbound.verify(
        {
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
        },
        raw,
      );
    } catch (error) {
      throw toProblem(error);
    }
    if (verdict === 'bad-signature') {
      context.warn(`inbound webhook ${headers['webhook-id']}: signature does not match (rejected)`);
      throw new HttpProblem(
        401,
        'The webhook-signature does not match: sign "<webhook-id>.<webhook-timestamp>.<body>" with HMAC-SHA256 and the shared secret (Standard Webhooks).',
        {
          code: 'invalid-signature',
          errors: [{ field: 'header.webhook-signature', message: 'does not match' }],
        },
      );
    }
    if (verdict === 'stale') {
      context.warn(
        `inbound webhook ${headers['webhook-id']}: timestamp outside the replay window (rejected)`,
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
    const body = validate(
      inboundUpdateSchemaFor(relay.config.api),
      parseJson(raw, request.headers.get('content-type')),
    );
    const tenantId = (body.tenantId ?? relay.config.homeTenantId).toLowerCase();
    const known = await relay.tenants.enabledTenantIds().catch(() => relay.config.tenants);
    if (!known.includes(tenantId)) {
      throw new HttpProblem(
        422,
        `Tenant ${tenantId} is not an enabled tenant of this relay (DEFENDER_TENANTS or onboarded by consent).`,
        {
          code: 'validation-error',
          errors: [{ field: 'tenantId', message: 'is not a tenant of this relay' }],
        },
      );
    }
    const outcome = await relay.inbound.accept(headers['webhook-id'], { ...body, tenantId }, (m) =>
      context.warn(m),
    );
    switch (outcome.kind) {
      case 'duplicate':
        throw new HttpProblem(
          409,
          `Message ${headers['webhook-id']} was received before; it is not applied again.`,
          {
            code: 'duplicate-message',
            errors: [{ field: 'header.webhook-id', message: 'was already received' }],
          },
        );
      case 'applied':
        context.log(
          `inbound webhook ${headers['webhook-id']}${body.source ? ` (${body.source})` : ''}: incident ${body.incidentId} in tenant ${tenantId} updated`,
        );
        return jsonResponse(200, { status: 'applied', incident: outcome.result.incident });
      default:
        return jsonResponse(202, {
          status: 'queued',
          detail: 'Defender did not accept the update now; it is kept and retried from the retry queue.',
        });
    }
  });
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
