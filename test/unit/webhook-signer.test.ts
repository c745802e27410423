/** Signatures verify with the independent `standardwebhooks` library, not with the project's own signer. */
import { Webhook } from 'standardwebhooks';
import {
  newSigningSecret,
  signingKey,
  webhookHeaders,
  webhookMessageId,
} from '../../src/delivery/webhook-signer';

const body = JSON.stringify({ hello: 'world', é: '✓' });

test('a signed request verifies with standardwebhooks', () => {
  const secret = newSigningSecret();
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders(
    webhookMessageId('tenant/123/2026-11-03T09:41:57.0733333Z'),
    now,
    body,
    secret,
  );
  expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
});

test('a changed body, id or timestamp does not verify', () => {
  const secret = newSigningSecret();
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders('id-1', now, body, secret);
  const wh = new Webhook(secret);
  expect(() => wh.verify(body.replace('world', 'World'), headers)).toThrow();
  expect(() => wh.verify(body, { ...headers, 'webhook-id': 'id-2' })).toThrow();
  expect(() => wh.verify(body, { ...headers, 'webhook-timestamp': String(now + 1) })).toThrow();
  expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
});

test('rotation: two secrets sign twice, and a receiver holding either one verifies', () => {
  const oldSecret = newSigningSecret();
  const newSecret = newSigningSecret();
  const now = Math.floor(Date.now() / 1000);
  const headers = webhookHeaders('id-1', now, body, `${newSecret} ${oldSecret}`);
  expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
  expect(() => new Webhook(oldSecret).verify(body, headers)).not.toThrow();
  expect(() => new Webhook(newSecret).verify(body, headers)).not.toThrow();
});

test('without a signing secret: id and timestamp only', () => {
  expect(webhookHeaders('id-1', 1700000000, body)).toEqual({
    'webhook-id': 'id-1',
    'webhook-timestamp': '1700000000',
  });
});

test('a secret that is not whsec_<base64> of 24+ bytes is refused, without echoing it', () => {
  expect(() => signingKey('hunter2-not-base64!')).toThrow(/whsec_<base64>/);
  expect(() => signingKey('whsec_c2hvcnQ=')).toThrow(/24 to 128 bytes/);
  // 16 bytes: enough for HMAC, not for Standard Webhooks.
  expect(() => signingKey(`whsec_${Buffer.alloc(16, 1).toString('base64')}`)).toThrow(/24 to 128 bytes/);
  try {
    signingKey('hunter2-not-base64!');
  } catch (e) {
    expect((e as Error).message).not.toContain('hunter2');
  }
});

// Standard Webhooks "Symmetric keys": at least 24 bytes. 23 is refused, 24 accepted.
test('a signing secret under 24 bytes is refused; 24 bytes is enough', () => {
  const of = (n: number) => `whsec_${Buffer.alloc(n, 7).toString('base64')}`;
  expect(() => signingKey(of(16))).toThrow(/24 to 128 bytes/);
  expect(() => signingKey(of(23))).toThrow(/24 to 128 bytes/);
  expect(signingKey(of(24))).toHaveLength(24);
  expect(() => webhookHeaders('msg_1', 1700000000, body, of(20))).toThrow(/24 to 128 bytes/);
});

// The spec signs "<id>.<timestamp>.<body>": an id with a "." is refused, and the relay's ids have none.
test('webhook-id: derived from the version key, stable, without "."', () => {
  const versionKey = 'f1e2d3c4-0000-4000-8000-000000000001/924565/2020-09-06T14:46:57.2900000Z';
  const id = webhookMessageId(versionKey);
  expect(id).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
  expect(id).not.toContain('.');
  expect(webhookMessageId(versionKey)).toBe(id);
  expect(webhookMessageId(versionKey.replace('924565', '924566'))).not.toBe(id);
  expect(() => webhookHeaders(versionKey, 1700000000, body, newSigningSecret())).toThrow(
    /must not contain "."/,
  );
  const headers = webhookHeaders(id, 1700000000, body, newSigningSecret());
  expect(headers['webhook-id']).toBe(id);
});
