/**
 * Replay: re-sends chosen incident versions to every destination (the incidents queue and the webhook
 * outbox), marked as replays, outside the delivered record: the checkpoint, the record of delivered
 * versions and the sync are untouched. Each replayed event keeps its CloudEvents `id` (the version key),
 * so a receiver that de-duplicates on it can tell a replay from news, and carries the extension attribute
 * `relayreplay` (the time of the replay) saying it is one.
 *
 * Where the versions come from: the API, re-read with the tenant's own reader over the chosen window (by
 * last-update time, optionally only some incidents). So a replay re-sends the versions that are current in
 * Defender now; a superseded version (an incident updated again since) cannot be re-read and is not
 * re-sent: its newer version is (docs/replay.md).
 */
import type { Relay } from '../relay';
import { toIncidentEvent } from '../delivery/envelope';
import { asReplay } from '../delivery/replay-mark';
import { compareTimestamps } from '../defender/timestamp';
import { outgoingEvents } from './outgoing-events';

export interface ReplaySelection {
  tenants: string[];
  /** Canonical timestamps: versions updated at or after `since`, and before `until` when given. */
  since: string;
  until?: string;
  /** Only these incident ids (all when absent). */
  incidents?: string[];
}

export interface ReplayResult {
  tenantId: string;
  read: number;
  replayed: number;
  error?: string;
}

export async function replayVersions(
  relay: Pick<Relay, 'readers' | 'destinations' | 'tenants' | 'ledger'>,
  selection: ReplaySelection,
  now: () => Date = () => new Date(),
): Promise<ReplayResult[]> {
  const at = now().toISOString();
  const wanted = selection.incidents ? new Set(selection.incidents) : undefined;
  const results: ReplayResult[] = [];
  for (const tenantId of selection.tenants) {
    const result: ReplayResult = { tenantId, read: 0, replayed: 0 };
    results.push(result);
    try {
      const reader = relay.readers[await relay.tenants.apiOf(tenantId)];
      for await (const step of reader.read(tenantId, { from: selection.since })) {
        result.read += step.incidents.length;
        const chosen = step.incidents
          .filter((v) => !wanted || wanted.has(v.header.incidentId))
          .filter((v) => !selection.until || compareTimestamps(v.header.lastUpdate, selection.until) < 0);
        // Built as the sync builds them: the relay's own echoes stay marked (and dropped where configured).
        const events = await outgoingEvents(relay.ledger, tenantId, chosen, (v) =>
          asReplay(toIncidentEvent(v), at),
        );
        for (const destination of relay.destinations) await destination.deliver(events);
        result.replayed += events.length;
        if (step.position === null) break;
      }
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
    }
  }
  return results;
}
