/**
 * The base version of an inbound update: the incident version the sender's change was made on. It is the
 * incident's last-update time, or the CloudEvents `id` of the event the sender received (the version key,
 * `<tenant>/<incident>/<last-update>`), whose tenant and incident must be the update's own.
 */
import { toTicks } from '../defender/timestamp';

export type BaseVersion = { ok: true; ticks: bigint } | { ok: false; message: string };

export function parseBaseVersion(text: string, tenantId: string, incidentId: string): BaseVersion {
  const parts = text.trim().split('/');
  let time = parts[0] ?? '';
  if (parts.length === 3) {
    const [tenant, incident, stamp] = parts as [string, string, string];
    if (tenant.toLowerCase() !== tenantId.toLowerCase() || incident !== incidentId)
      return { ok: false, message: "names another incident (the event id's tenant or incident differs)" };
    time = stamp;
  } else if (parts.length !== 1) {
    return {
      ok: false,
      message: 'is neither a last-update time nor an event id (<tenant>/<incident>/<time>)',
    };
  }
  try {
    return { ok: true, ticks: toTicks(time) };
  } catch {
    return {
      ok: false,
      message: 'is neither a last-update time nor an event id (<tenant>/<incident>/<time>)',
    };
  }
}
