import type { Relay } from '../relay';
import { describeOutbox, outboxReport } from './webhooks-command';
import type { SyncProgress } from '../sync/tenant-sync';
import { summaryJson } from '../sync/sync-tenants';
import { canonicalTimestamp, InvalidTimestampError } from '../defender/timestamp';

export interface SyncCommandOptions {
  json: boolean;
  since?: string;
  tenants?: string[];
  /** Send the webhook jobs the sync queued from this process afterwards (`--deliver-webhooks`). */
  deliverWebhooks?: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** `defender-relay sync`: one run over the tenants, a live progress line on a terminal, a summary at the end. */
export async function runSync(relay: Relay, options: SyncCommandOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  if (options.since !== undefined) {
    try {
      canonicalTimestamp(options.since);
    } catch (e) {
      if (e instanceof InvalidTimestampError) {
        err.write(`--since: ${e.message} (use e.g. 2026-11-01T00:00:00Z)\n`);
        return 2;
      }
      throw e;
    }
  }
  const tty = Boolean(err.isTTY) && !options.json;
  const onProgress = tty
    ? (p: SyncProgress) =>
        err.write(
          `\r\x1b[K${p.tenantId}: ${p.fetched} read, ${p.delivered} delivered, ${p.suppressed} repeats skipped, ${p.apiCalls} calls${p.latest ? `, up to ${p.latest}` : ''}`,
        )
    : undefined;
  const summary = await relay.syncAll({ since: options.since, tenants: options.tenants, onProgress });
  if (tty) err.write('\r\x1b[K');
  // Webhooks get jobs on the outbox, not requests: said as queued, unless sent from here.
  const webhooks =
    relay.config.webhooks.destinations.length > 0
      ? await outboxReport(relay, options.deliverWebhooks ?? false)
      : undefined;
  if (options.json) {
    const resend = resendHint(options, summary.incidentsSuppressed);
    out.write(
      `${JSON.stringify({ ...summaryJson(summary), ...(webhooks ? { webhooks } : {}), ...(resend ? { resend } : {}) })}\n`,
    );
  } else {
    for (const r of summary.results) {
      out.write(
        `${r.tenantId}  ${r.outcome.padEnd(8)} read ${r.fetched}, delivered ${r.delivered}, repeats skipped ${r.suppressed}, ${r.apiCalls} API calls` +
          `${r.checkpoint ? `, checkpoint ${r.checkpoint}` : ''}${r.error ? `\n    ${r.error}` : ''}\n`,
      );
    }
    out.write(
      `${summary.tenants} tenant(s), ${summary.incidentsDelivered} incident version(s) delivered in ${summary.durationMs} ms; ${summary.errors.length} failed.\n`,
    );
    if (webhooks) out.write(`${describeOutbox(webhooks)}\n`);
    const hint = resendHint(options, summary.incidentsSuppressed);
    if (hint) out.write(`${hint}\n`);
  }
  return summary.errors.length > 0 || (webhooks?.poisoned ?? 0) > 0 ? 1 : 0;
}

/** A backfill suppresses what was delivered before: it says so, and how to send those versions again. */
function resendHint(options: SyncCommandOptions, suppressed: number): string | undefined {
  if (options.since === undefined || suppressed === 0) return undefined;
  const tenants = (options.tenants ?? []).map((t) => ` --tenant ${t}`).join('');
  return `The backfill suppressed ${suppressed} version(s) delivered before (each destination had them already). To re-send them, marked as replays: defender-relay replay --since ${options.since}${tenants}`;
}
