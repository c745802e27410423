/**
 * The CloudEvents 1.0 envelope of one incident version (schemas/incident-event.schema.json, docs/envelope.md).
 * `id` is the version key, so a consumer can drop repeats with it; `data.incident` is the incident exactly
 * as the API returned it, alerts included: nothing from the source is dropped.
 */
import type { IncidentHeader, IncidentVersion } from '../defender/incident';

export const EVENT_TYPE_UPDATED = 'com.microsoft.defender.incident.updated';
export const EVENT_DATA_SCHEMA = 'https://defender-relay.dev/schemas/incident-event/v1';

export interface IncidentEventData {
  header: IncidentHeader;
  incident: Record<string, unknown>;
}

export interface IncidentEvent {
  specversion: '1.0';
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  /** Only on a claim-check reference: the blob holding the whole event. */
  dataref?: string;
  /** Extension (docs/two-way.md): the version is an echo of this inbound sender's own update. */
  relayechosender?: string;
  /** Extension: the inbound message id (webhook-id) whose update produced this version. */
  relayechoid?: string;
  /** Extension: a merged (`redirected`) incident's version names the incident it was merged into. */
  relaymergedinto?: string;
  /**
   * Extension attribute, only on a version the completeness sweep found undelivered and delivered late
   * (src/sweep/): `sweep`. Same `id` as a delivery by the sync would have had.
   */
  relayrepair?: 'sweep';
  /** Extension attribute beside `relayrepair`: why the version was missed, when the relay can tell. */
  relayrepairreason?: string;
  data: IncidentEventData;
}

export function eventSource(tenantId: string, api: 'graph' | 'legacy'): string {
  return `/tenants/${tenantId.toLowerCase()}/defender/${api}`;
}

export function toIncidentEvent(version: IncidentVersion): IncidentEvent {
  const { header } = version;
  return {
    specversion: '1.0',
    id: version.versionKey,
    type: EVENT_TYPE_UPDATED,
    source: eventSource(header.tenantId, header.api),
    subject: header.incidentId,
    time: header.lastUpdate,
    datacontenttype: 'application/json',
    dataschema: EVENT_DATA_SCHEMA,
    ...(header.status === 'redirected' && header.redirectIncidentId
      ? { relaymergedinto: header.redirectIncidentId }
      : {}),
    data: { header, incident: version.raw },
  };
}

/** The event of a version the completeness sweep repairs: the same event, marked with why it was missed. */
export function toRepairedEvent(version: IncidentVersion, reason: string): IncidentEvent {
  return { ...toIncidentEvent(version), relayrepair: 'sweep', relayrepairreason: reason };
}
