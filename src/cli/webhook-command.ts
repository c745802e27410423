/**
 * `defender-relay webhook test <name>`: sends one signed test event (the sample incident under a fresh
 * `test-…` id, in the destination's format) straight to one webhook destination, through the same
 * formatting, signing and safe sender as the queue-triggered delivery, and prints what came back. No
 * queue is involved and nothing is retried. The URL and the secrets are never printed.
 */
import type { Relay } from '../relay';
import { testWebhookId } from '../delivery/webhook-delivery';
import { sampleIncidentEvent } from '../delivery/webhook-sample';

export interface WebhookCommandOptions {
  json: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

const MAX_BODY_SHOWN = 2000;

export async function runWebhookCommand(
  relay: Pick<Relay, 'webhooks' | 'config'>,
  args: string[],
  options: WebhookCommandOptions,
): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const [sub, name, ...rest] = args;
  if (sub !== 'test' || !name || rest.length > 0) {
    err.write('Usage: defender-relay webhook test <name>\n');
    return 2;
  }
  const destination = relay.webhooks.destination(name);
  if (!destination) {
    const known = relay.webhooks.destinations.map((d) => `"${d.name}"`).join(', ');
    err.write(
      `No webhook destination named "${name}" in WEBHOOKS${known ? ` (configured: ${known})` : ' (none configured)'}.\n`,
    );
    return 2;
  }
  const sample = sampleIncidentEvent(relay.config.endpoints.portalUrl);
  const id = testWebhookId();
  const event = {
    ...sample,
    id,
    type: 'com.microsoft.defender.incident.test',
    data: { ...sample.data, header: { ...sample.data.header, title: `[Test] ${sample.data.header.title}` } },
  };
  const result = await relay.webhooks.attempt(destination, event, id);
  const body = result.response?.body ?? '';
  const summary = {
    destination: destination.name,
    format: destination.format,
    signed: destination.signingSecret !== undefined,
    webhookId: id,
    ok: result.ok,
    status: result.status,
    reason: result.reason,
    retryable: result.ok ? undefined : result.retryable,
    retryAfterSeconds: result.retryAfterSeconds,
    durationMs: result.durationMs,
    contentType: result.response?.headers['content-type'],
    body: body.length > MAX_BODY_SHOWN ? `${body.slice(0, MAX_BODY_SHOWN)}…` : body,
    bodyTruncated: (result.response?.truncated ?? false) || body.length > MAX_BODY_SHOWN,
  };
  if (options.json) out.write(`${JSON.stringify(summary)}\n`);
  else {
    out.write(
      `Webhook ${summary.destination} (${summary.format}, ${summary.signed ? 'signed' : 'unsigned'}): ` +
        `${result.ok ? 'delivered' : 'FAILED'}, ${result.reason} in ${result.durationMs} ms\n` +
        `  webhook-id: ${id}\n` +
        (result.ok || !result.retryable ? '' : '  (the queue-triggered delivery would retry this)\n') +
        (summary.contentType ? `  content-type: ${String(summary.contentType)}\n` : '') +
        (summary.body ? `  response body:\n${summary.body.replace(/^/gm, '    ')}\n` : ''),
    );
  }
  return result.ok ? 0 : 1;
}
