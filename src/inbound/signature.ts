/**
 * Standard Webhooks verification (https://www.standardwebhooks.com): the sender signs
 * `${webhook-id}.${webhook-timestamp}.${body}` with HMAC-SHA256 and a shared secret (`whsec_<base64>`),
 * and sends `webhook-signature: v1,<base64>` (several, space-separated, during a secret rotation).
 * Comparisons are constant-time; the timestamp must be within the replay window either way.
 */
import crypto from 'node:crypto';

export interface WebhookHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

export type VerifyResult = { ok: true; timestampMs: number } | { ok: false; reason: 'signature' | 'stale' };

export function secretKey(secret: string): Buffer {
  const s = secret.trim();
  return Buffer.from(s.startsWith('whsec_') ? s.slice('whsec_'.length) : s, 'base64');
}

export function sign(secret: string, id: string, timestamp: string, body: Buffer | string): string {
  const mac = crypto.createHmac('sha256', secretKey(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}

export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: Buffer,
  options: { windowMs: number; now?: number },
): VerifyResult {
  const expected = Buffer.from(sign(secret, headers.id, headers.timestamp, body).slice(3), 'base64');
  const matches = headers.signature
    .split(/\s+/)
    .filter((s) => s.startsWith('v1,'))
    .some((s) => {
      const given = Buffer.from(s.slice(3), 'base64');
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
  if (!matches) return { ok: false, reason: 'signature' };
  const timestampMs = Number(headers.timestamp) * 1000;
  const now = options.now ?? Date.now();
  if (!Number.isFinite(timestampMs) || Math.abs(now - timestampMs) > options.windowMs) {
    return { ok: false, reason: 'stale' };
  }
  return { ok: true, timestampMs };
}
