/**
 * The events of versions about to be delivered, by the sync or by the completeness sweep's repair alike
 * (docs/two-way.md): each version's update-able fields are recorded first (a sender can base an update
 * only on a version it received, whichever way it arrived), and versions the relay's own inbound updates
 * produced are marked as echoes, so a destination that drops its own sender's echoes drops them however
 * late they are delivered.
 */
import type { IncidentVersion } from '../defender/incident';
import type { IncidentEvent } from '../delivery/envelope';
import { withEcho } from '../delivery/echo';
import type { VersionLedger } from '../two-way/version-ledger';

export async function outgoingEvents(
  ledger: VersionLedger | undefined,
  tenantId: string,
  versions: IncidentVersion[],
  toEvent: (version: IncidentVersion) => IncidentEvent,
): Promise<IncidentEvent[]> {
  if (!ledger) return versions.map(toEvent);
  await ledger.recordSnapshots(tenantId, versions);
  const echoes = await ledger.echoesOf(tenantId, versions);
  return versions.map((v) => withEcho(toEvent(v), echoes.get(v.versionKey)));
}
