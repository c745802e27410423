/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the secret's bytes, base64, sent as
 * `webhook-signature: v1,<base64>`. The secret is kept in Key Vault in the spec's form `whsec_<base64>`
 * (the bytes are the base64-decoded part), so a receiver verifies with any Standard Webhooks library.
 * Several secrets separated by spaces sign with each (key rotation: the receiver accepts any one).
 */
import crypto from 'node:crypto';

export class SigningSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningSecretError';
  }
}

const PREFIX = 'whsec_';

/** Standard Webhooks secrets hold 24 to 64 random bytes; more is accepted, less is refused. */
export const MIN_SIGNING_KEY_BYTES = 24;
const MAX_SIGNING_KEY_BYTES = 128;

/**
 * The key bytes of one `whsec_<base64>` (or bare base64) secret. Anything else is refused, never
 * "repaired": characters outside base64 would otherwise be dropped and leave a short or empty key.
 */
export function signingKey(secret: string): Buffer {
  const text = secret.trim().startsWith(PREFIX) ? secret.trim().slice(PREFIX.length) : secret.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new SigningSecretError('the signing secret is not in the form whsec_<base64>');
  const key = Buffer.from(text, 'base64');
  if (key.length < MIN_SIGNING_KEY_BYTES || key.length > MAX_SIGNING_KEY_BYTES)
    throw new SigningSecretError(
      `the signing secret must hold ${MIN_SIGNING_KEY_BYTES} to ${MAX_SIGNING_KEY_BYTES} bytes (whsec_<base64>; 32 bytes is usual)`,
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
