/**
 * Standard Webhooks verification (https://www.standardwebhooks.com): the sender signs
 * `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256 and a shared secret (`whsec_<base64>`),
 * and sends `webhook-signature: v1,<base64>` (several, space-separated, during a secret rotation).
 * Comparisons are constant-time; the timestamp must be within the replay window either way. The keys come
 * from `signingKeys` (src/delivery/webhook-signer.ts), which refuses a secret that is not whsec_<base64>
 * of at least 24 bytes: a message is never checked against an empty or shortened key.
 */
import crypto from 'node:crypto';

export interface WebhookHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

export type VerifyResult = { ok: true; timestampMs: number } | { ok: false; reason: 'signature' | 'stale' };

function mac(key: Buffer, headers: WebhookHeaders, body: Buffer): Buffer {
  return crypto.createHmac('sha256', key).update(`${headers.id}.${headers.timestamp}.`).update(body).digest();
}

/** Checks a message against every key (a secret being rotated holds two). */
export function verifyWebhook(
  keys: Buffer[],
  headers: WebhookHeaders,
  body: Buffer,
  options: { windowMs: number; now?: number },
): VerifyResult {
  if (keys.length === 0) return { ok: false, reason: 'signature' };
  const expected = keys.map((key) => mac(key, headers, body));
  const matches = headers.signature
    .split(/\s+/)
    .filter((s) => s.startsWith('v1,'))
    .some((s) => {
      const given = Buffer.from(s.slice(3), 'base64');
      return expected.some((e) => given.length === e.length && crypto.timingSafeEqual(given, e));
    });
  if (!matches) return { ok: false, reason: 'signature' };
  const timestampMs = Number(headers.timestamp) * 1000;
  const now = options.now ?? Date.now();
  if (!Number.isFinite(timestampMs) || Math.abs(now - timestampMs) > options.windowMs) {
    return { ok: false, reason: 'stale' };
  }
  return { ok: true, timestampMs };
}
