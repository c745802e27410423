/**
 * A local webhook receiver: a real HTTPS server on 127.0.0.1 (the simulator's certificate) that keeps
 * every request it gets, verifies its Standard Webhooks signature when given the signing secret, and
 * answers 200 (or the status a test scripts for a path). `npm run simulator` starts one and prints each
 * request; the tests use it as a webhook destination. The relay reaches it only with
 * WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true (loopback is refused otherwise, as in Azure).
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import { ensureSimulatorTls } from './tls.cjs';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Whether `webhook-signature` matches the signing secret (undefined: no secret given). */
  signatureValid?: boolean;
  receivedAt: string;
}

export interface WebhookReceiver {
  readonly requests: ReceivedWebhook[];
  /** The URL of a path on the receiver (store it in the destination's URL secret). */
  url(path: string): string;
  /** The status the receiver answers on a path from now on (default 200). */
  answer(path: string, status: number): void;
  /** Verifies the signature of every later request with this secret. */
  verifyWith(signingSecret: string): void;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(
  options: { signingSecret?: string; onRequest?: (r: ReceivedWebhook) => void } = {},
): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  let secret = options.signingSecret;
  const answers = new Map<string, number>();
  const tls = ensureSimulatorTls();
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = req.headers as Record<string, string>;
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0]!;
      const received: ReceivedWebhook = {
        path,
        headers,
        body,
        receivedAt: new Date().toISOString(),
        signatureValid: secret ? verify(secret, headers, body) : undefined,
      };
      requests.push(received);
      options.onRequest?.(received);
      res.writeHead(answers.get(path) ?? 200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    requests,
    url: (path) => `https://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
    answer: (path, status) => void answers.set(path, status),
    verifyWith: (signingSecret) => {
      secret = signingSecret;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Standard Webhooks (github.com/standard-webhooks/standard-webhooks, spec): the key is the base64 after
 * `whsec_`; one of the space-separated `v1,<base64>` signatures must be the HMAC-SHA256 of
 * `<webhook-id>.<webhook-timestamp>.<body>`. The receiver's own transcription, not the relay's signer.
 */
function verify(secret: string, headers: Record<string, string>, body: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  if (!id || !timestamp) return false;
  const key = Buffer.from(secret.trim().replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest();
  return (headers['webhook-signature'] ?? '').split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
}
