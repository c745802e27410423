/**
 * `POST /api/webhooks/incident-updates/{sender?}`: an incident update from a ticketing or SOAR system,
 * verified by its sender's Standard Webhooks signature, bounded to the sender's tenants, applied with the
 * application context, the two-way way (field ownership, conflicts against a base version, merges
 * followed, comments exactly once: docs/two-way.md). `inboundRetryOptions` is the queue trigger that applies the updates that failed the first time (INBOUND_RETRY_QUEUE_NAME).
 */
import type { InvocationContext, StorageQueueFunctionOptions } from '@azure/functions';
import type { Relay } from '../relay';
import { HttpProblem, httpFunction, parseJson, readBody, validate } from '../http';
import {
  inboundUpdateSchemaFor,
  retryMessageSchema,
  type InboundUpdate,
  type ReceiveOutcome,
  type RetryMessage,
} from '../inbound/inbound-updates';
import type { InboundSender } from '../config/settings';
import { ACTIONS_API } from '../defender/legacy-retirement';
import type { IncidentUpdate } from '../defender/actions';
import type { TwoWayOutcome } from '../two-way/two-way-apply';
import { unownedFields } from '../two-way/ownership';
import { parseBaseVersion } from '../two-way/base-version';
import { readHeaders, verifiedSender } from './inbound-verify';
import { answer } from './inbound-answers';

/** Inbound bodies are small; a ticket's full history does not belong in an update. */
export const INBOUND_MAX_BODY_BYTES = 32 * 1024;

type InboundRelay = Pick<Relay, 'inbound' | 'config' | 'tenants'>;

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
    checkTwoWay(sender, body, tenantId);
    const outcome = await relay.inbound.accept(headers['webhook-id'], sender, { ...body, tenantId }, (m) =>
      context.warn(m),
    );
    context.log(
      `inbound webhook ${headers['webhook-id']} from sender "${sender.name}"${body.source ? ` (${body.source})` : ''}: incident ${body.incidentId} in tenant ${tenantId}: ${describe(outcome)}`,
    );
    return answer(headers['webhook-id'], outcome);
  });
}

function describe(outcome: ReceiveOutcome | TwoWayOutcome): string {
  if (outcome.kind === 'applied')
    return outcome.mergedFrom ? `updated (merged into ${outcome.result.incident.incidentId})` : 'updated';
  if (outcome.kind === 'merged') return `refused (merged into ${outcome.into})`;
  return outcome.kind === 'queued' ? 'queued for retry' : `refused (${outcome.kind})`;
}

/** Field ownership (403 naming each field) and a well-formed base version (422), before anything is read. */
function checkTwoWay(sender: InboundSender, body: InboundUpdate, tenantId: string): void {
  const unowned = unownedFields(body, sender.fields);
  if (unowned.length > 0) {
    throw new HttpProblem(
      403,
      `This sender may not set ${unowned.map((e) => e.field).join(', ')}: ask the relay's operator to grant the field${unowned.length > 1 ? 's' : ''} in the sender's "fields".`,
      { code: 'field-not-owned', errors: unowned },
    );
  }
  if (body.baseVersion === undefined) return;
  const base = parseBaseVersion(body.baseVersion, tenantId, body.incidentId);
  if (!base.ok)
    throw new HttpProblem(422, `baseVersion ${base.message}.`, {
      code: 'validation-error',
      errors: [{ field: 'baseVersion', message: base.message }],
    });
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
    const outcome = await relay.inbound.retry({ ...parsed, update: parsed.update as IncidentUpdate });
    const line = `inbound retry: ${parsed.webhookId} for incident ${parsed.incidentId} in tenant ${parsed.tenantId}: ${describe(outcome)} (attempt ${String(context.triggerMetadata?.dequeueCount ?? '?')})`;
    if (outcome.kind === 'applied') context.log(line);
    // The sender's call was answered (202) already: a refusal now is the operator's to see.
    else context.warn(line);
  };
}

export function inboundRetryOptions(relay: Relay): StorageQueueFunctionOptions {
  return {
    queueName: relay.config.inbound.retryQueue,
    connection: 'AzureWebJobsStorage',
    handler: inboundRetryHandler(relay),
  };
}
