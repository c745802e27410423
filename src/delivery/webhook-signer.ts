/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the secret's bytes, base64, sent as
 * `webhook-signature: v1,<base64>`. The secret is kept in Key Vault in the spec's form `whsec_<base64>`
 * (the bytes are the base64-decoded part), so a receiver verifies with any Standard Webhooks library.
 * Several secrets separated by spaces sign with each (key rotation: the receiver accepts any one).
 *
 * The spec (standard-webhooks/spec/standard-webhooks.md, "Signature scheme" and "Symmetric keys") uses `.`
 * as the separator of the signed content, so a `webhook-id` must not contain one, and asks for keys of 24
 * to 64 bytes; the relay accepts 24 to 128 and refuses shorter ones. The CloudEvents id (the version key)
 * holds a `.` (the fractional seconds), so the `webhook-id` is derived from it: `msg_` and the first 24
 * bytes of its SHA-256, base64url. It is the same for every attempt of one event, so receivers can drop
 * repeats with it as the spec intends.
 */
import crypto from 'node:crypto';

export class SigningSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningSecretError';
  }
}

const PREFIX = 'whsec_';
/** The spec's minimum key size ("Symmetric keys": between 24 bytes and 64 bytes). */
export const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 128;

/** The Standard Webhooks message id of one event: stable, without `.`. */
export function webhookMessageId(eventId: string): string {
  return `msg_${crypto.createHash('sha256').update(eventId, 'utf8').digest().subarray(0, 24).toString('base64url')}`;
}

/**
 * The key bytes of one `whsec_<base64>` (or bare base64) secret. Anything else is refused, never
 * "repaired": characters outside base64 would otherwise be dropped and leave a short or empty key.
 */
export function signingKey(secret: string): Buffer {
  const text = secret.trim().startsWith(PREFIX) ? secret.trim().slice(PREFIX.length) : secret.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new SigningSecretError('the signing secret is not in the form whsec_<base64>');
  const key = Buffer.from(text, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES)
    throw new SigningSecretError(
      `the signing secret must hold ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes (whsec_<base64>; Standard Webhooks asks for at least 24, 32 is usual): store a new one: whsec_ and 32 random bytes in base64 (openssl rand -base64 32)`,
    );
  return key;
}

/** The keys of a secret value: one `whsec_<base64>`, or several separated by spaces (rotation). */
export function signingKeys(secrets: string): Buffer[] {
  const keys = secrets.split(/\s+/).filter(Boolean).map(signingKey);
  if (keys.length === 0) throw new SigningSecretError('the signing secret is empty');
  return keys;
}

/** The `webhook-signature` value: `v1,<base64>` for each secret, space-separated. */
export function signature(secrets: string, id: string, timestamp: number, body: string): string {
  if (id.includes('.'))
    throw new SigningSecretError(
      'a webhook-id must not contain "." (it separates the signed parts): use webhookMessageId()',
    );
  const keys = signingKeys(secrets);
  const content = `${id}.${timestamp}.${body}`;
  return keys
    .map((key) => `v1,${crypto.createHmac('sha256', key).update(content, 'utf8').digest('base64')}`)
    .join(' ');
}

/** The Standard Webhooks headers of one request; without a secret, id and timestamp only. */
export function webhookHeaders(
  id: string,
  timestamp: number,
  body: string,
  secrets?: string,
): Record<string, string> {
  const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
  if (secrets !== undefined) headers['webhook-signature'] = signature(secrets, id, timestamp, body);
  return headers;
}

/** A new secret in the spec's form (for docs and tests): 32 random bytes. */
export function newSigningSecret(): string {
  return `${PREFIX}${crypto.randomBytes(32).toString('base64')}`;
}
