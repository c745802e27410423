/**
 * The safe HTTP sender of webhook deliveries:
 * - HTTPS only; the URL may carry no user name or password;
 * - the host is resolved here and every address it resolves to is checked (webhook-address.ts); the
 *   connection then goes to the checked address (the socket's lookup returns it), so DNS cannot change
 *   between check and connect; TLS still verifies the certificate against the host name;
 * - redirects are never followed (a 3xx is a failed delivery);
 * - at most `maxResponseBytes` of the response body are read; the request has one overall timeout.
 * Errors never carry the URL (webhook URLs are credentials): only the destination name goes in messages.
 */
import dns from 'node:dns';
import https from 'node:https';
import net from 'node:net';
import { blockedReason } from './webhook-address';

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowPrivateAddresses: boolean;
  maxResponseBytes?: number;
  /** Resolves a host name to its addresses (default: the system resolver, `dns.lookup`). */
  lookup?: (hostname: string) => Promise<{ address: string; family: number }[]>;
}

export interface WebhookResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first `maxResponseBytes` of the body, as text. */
  body: string;
  truncated: boolean;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024;

/** The URL or its target is not allowed: never retried. */
export class WebhookBlockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookBlockedError';
  }
}

/** The request failed on the network (DNS, connect, TLS, reset) or timed out: retried. */
export class WebhookNetworkError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'WebhookNetworkError';
  }
}

function systemLookup(hostname: string): Promise<{ address: string; family: number }[]> {
  return new Promise((resolve, reject) => {
    // dns.lookup is looked up at call time (the test shim resolves *.localhost to loopback).
    dns.lookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });
}

/** Parses a webhook URL; throws WebhookBlockedError (without echoing the URL) when it is not allowed. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new WebhookBlockedError('the URL secret does not hold an absolute URL');
  }
  if (url.protocol !== 'https:') throw new WebhookBlockedError('the URL is not https:// (HTTPS only)');
  if (url.username || url.password)
    throw new WebhookBlockedError('the URL may not carry a user name or password');
  return url;
}

/** Resolves the URL's host and checks every address; returns the one to connect to. */
export async function resolveAllowed(
  url: URL,
  allowPrivate: boolean,
  lookup = systemLookup,
): Promise<{ address: string; family: number }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: { address: string; family: number }[];
  if (net.isIP(host)) addresses = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      addresses = await lookup(host);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'error';
      throw new WebhookNetworkError(`the host name did not resolve (${code})`);
    }
  }
  if (addresses.length === 0) throw new WebhookNetworkError('the host name did not resolve (no address)');
  for (const { address } of addresses) {
    const reason = blockedReason(address, allowPrivate);
    if (reason) throw new WebhookBlockedError(`blocked: ${reason}`);
  }
  return addresses[0]!;
}

export async function sendWebhook(request: WebhookRequest): Promise<WebhookResponse> {
  const url = parseWebhookUrl(request.url);
  const maxBytes = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const deadline = Date.now() + request.timeoutMs;
  const target = await resolveAllowed(url, request.allowPrivateAddresses, request.lookup ?? systemLookup);
  const remaining = Math.max(1, deadline - Date.now());
  const body = Buffer.from(request.body, 'utf8');

  return new Promise<WebhookResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: WebhookResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value!);
    };
    const req = https.request(
      {
        protocol: 'https:',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 443,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(body.length), host: url.host },
        agent: false,
        // Connect to the address that was checked, whatever DNS says now.
        lookup: ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
          if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
          else callback(null, target.address, target.family);
        }) as unknown as typeof dns.lookup,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          const room = maxBytes - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size = maxBytes;
            truncated = true;
            // Enough read: stop the download.
            finish(undefined, response(true));
            res.destroy();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        const response = (cut: boolean): WebhookResponse => ({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          truncated: cut,
        });
        res.on('end', () => finish(undefined, response(false)));
        res.on('error', (error) =>
          finish(new WebhookNetworkError(`reading the response failed (${describe(error)})`)),
        );
      },
    );
    const timer = setTimeout(() => {
      finish(new WebhookNetworkError(`no response within ${Math.round(request.timeoutMs / 1000)} s`, true));
      req.destroy();
    }, remaining);
    req.on('error', (error) => finish(new WebhookNetworkError(`the request failed (${describe(error)})`)));
    req.end(body);
  });
}

/** An error's code or a short message, without any URL. */
function describe(error: Error): string {
  const code = (error as { code?: string }).code;
  return code ?? error.message.replace(/https?:\/\/\S+/g, '<url>').slice(0, 120);
}
