/**
 * The incident model shared by both APIs: a small normalized header read from either the Graph security
 * API or the legacy Defender XDR API, and the original incident kept whole. The header speaks Graph's
 * vocabulary for both APIs (./vocabulary; the table is in docs/envelope.md): enums are read
 * case-insensitively (Microsoft's own Graph examples disagree on casing) and every documented legacy
 * spelling maps to Graph's name (`NotAvailable` → `unknown`, `Clean` → `notMalicious`, `MCAS` →
 * `cloudAppSecurity`, ...). A value neither list knows keeps its own name, first letter lower-cased.
 */
import { canonicalTimestamp } from './timestamp';
import {
  CLASSIFICATION_ALIASES,
  DETERMINATION_ALIASES,
  graphDetectionSource,
  SEVERITY_ALIASES,
  STATUS_ALIASES,
} from './vocabulary';

export type ApiFlavour = 'graph' | 'legacy';
export type Severity = 'unknown' | 'informational' | 'low' | 'medium' | 'high';
export type Status = 'active' | 'inProgress' | 'resolved' | 'redirected' | 'awaitingAction' | 'unknown';

export interface IncidentHeader {
  tenantId: string;
  incidentId: string;
  title: string;
  severity: Severity;
  status: Status;
  assignedTo: string | null;
  classification: string | null;
  determination: string | null;
  /** Exactly as the API sent it (up to seven fractional digits). */
  lastUpdate: string;
  createdAt: string | null;
  redirectIncidentId: string | null;
  alertCount: number;
  tags: string[];
  detectionSources: string[];
  portalUrl: string;
  api: ApiFlavour;
}

export interface IncidentVersion {
  header: IncidentHeader;
  /** The incident exactly as the API returned it, alerts included. */
  raw: Record<string, unknown>;
  /** (tenant, incident id, canonical last-update time): the unit of delivery. */
  versionKey: string;
}

export class MalformedIncidentError extends Error {}

export const SEVERITY_RANK: Record<Severity, number> = {
  unknown: 0,
  informational: 1,
  low: 2,
  medium: 3,
  high: 4,
};

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function camel(v: unknown): string | null {
  const s = str(v);
  return s ? s.charAt(0).toLowerCase() + s.slice(1) : null;
}

/** Graph's name of an enum value of either API; null stays null. */
function graphName(v: unknown, aliases: Map<string, string>): string | null {
  const s = str(v);
  return s === null ? null : (aliases.get(s.trim().toLowerCase()) ?? camel(s));
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function versionKey(tenantId: string, incidentId: string, lastUpdate: string): string {
  return `${tenantId.toLowerCase()}/${incidentId}/${canonicalTimestamp(lastUpdate)}`;
}

/**
 * Reads one incident of either API. `tenantId` is the tenant the relay asked (the API's own tenantId
 * field, where present, must agree). Throws MalformedIncidentError when the id or last-update time is
 * missing: without them there is no version to deliver.
 */
export function readIncident(
  raw: Record<string, unknown>,
  api: ApiFlavour,
  tenantId: string,
  portalUrl: string,
): IncidentVersion {
  const id = api === 'graph' ? raw.id : raw.incidentId;
  const incidentId = typeof id === 'number' ? String(id) : str(id);
  const lastUpdate = str(api === 'graph' ? raw.lastUpdateDateTime : raw.lastUpdateTime);
  if (!incidentId)
    throw new MalformedIncidentError(`incident without ${api === 'graph' ? 'id' : 'incidentId'}`);
  if (!lastUpdate) throw new MalformedIncidentError(`incident ${incidentId} without a last-update time`);
  let key: string;
  try {
    key = versionKey(tenantId, incidentId, lastUpdate);
  } catch (e) {
    throw new MalformedIncidentError(`incident ${incidentId}: ${(e as Error).message}`);
  }
  const alerts = Array.isArray(raw.alerts) ? (raw.alerts as Record<string, unknown>[]) : [];
  const redirect = raw.redirectIncidentId;
  const tags =
    api === 'graph'
      ? [...new Set([...stringArray(raw.customTags), ...stringArray(raw.tags)])]
      : stringArray(raw.tags);
  const header: IncidentHeader = {
    tenantId: tenantId.toLowerCase(),
    incidentId,
    title: str(api === 'graph' ? raw.displayName : raw.incidentName) ?? `Incident ${incidentId}`,
    severity: SEVERITY_ALIASES.get(String(raw.severity ?? '').toLowerCase()) ?? 'unknown',
    status: STATUS_ALIASES.get(String(raw.status ?? '').toLowerCase()) ?? 'unknown',
    assignedTo: str(raw.assignedTo),
    classification: graphName(raw.classification, CLASSIFICATION_ALIASES),
    determination: graphName(raw.determination, DETERMINATION_ALIASES),
    lastUpdate,
    createdAt: str(api === 'graph' ? raw.createdDateTime : raw.createdTime),
    redirectIncidentId:
      redirect === null || redirect === undefined || redirect === '' ? null : String(redirect),
    alertCount: alerts.length,
    tags,
    detectionSources: [
      ...new Set(
        alerts
          .map((a) => str(a.detectionSource))
          .filter((s): s is string => s !== null)
          .map(graphDetectionSource),
      ),
    ],
    portalUrl:
      (api === 'graph' ? str(raw.incidentWebUrl) : str(raw.incidentUri)) ??
      `${portalUrl}/incidents/${encodeURIComponent(incidentId)}?tid=${encodeURIComponent(tenantId)}`,
    api,
  };
  return { header, raw, versionKey: key };
}
