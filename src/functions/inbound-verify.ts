/**
 * The inbound webhook's Standard Webhooks headers, and the sender whose secret signed the message: any
 * other answer is a problem (404 unknown sender, 401 bad signature or stale timestamp, 503 when the secret
 * cannot be read).
 */
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { Relay } from '../relay';
import { HttpProblem, validate } from '../http';
import type { Verdict } from '../inbound/inbound-updates';
import type { InboundSender } from '../config/settings';

export const headerSchema = z.object({
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

type VerifyRelay = Pick<Relay, 'inbound' | 'config'>;
export type Headers = z.output<typeof headerSchema>;

export function readHeaders(request: HttpRequest): Headers {
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
export async function verifiedSender(
  relay: VerifyRelay,
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
