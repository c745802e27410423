/**
 * Reading request bodies for the Graph and legacy incident operations and advanced hunting: the JSON
 * object, enum values (case-insensitive), the enums both APIs share, and who is acting.
 */
import {
  determinationToLegacy,
  LEGACY_RENAMED_DETERMINATIONS,
  ODataError,
  type Classification,
  type IncidentStatus,
} from './incidents';
import { isRecord, type JwtClaims } from './util';
import {
  GRAPH_CLASSIFICATIONS,
  GRAPH_DETERMINATIONS,
  GRAPH_PAIRS,
  GRAPH_UPDATE_STATUSES as VOCABULARY_GRAPH_UPDATE_STATUSES,
  LEGACY_PAIRS,
  LEGACY_UPDATE_STATUSES as VOCABULARY_LEGACY_UPDATE_STATUSES,
} from './update-vocabulary';

/**
 * What each service accepts in an incident update, in its own spelling: the simulator's own transcription
 * of Microsoft's pages (./update-vocabulary), never the relay's lists.
 */
export const GRAPH_UPDATE_STATUSES: IncidentStatus[] = [...VOCABULARY_GRAPH_UPDATE_STATUSES];
export const CLASSIFICATIONS: Classification[] = [...GRAPH_CLASSIFICATIONS];
export const DETERMINATIONS: string[] = [...GRAPH_DETERMINATIONS];
export const LEGACY_UPDATE_STATUSES: string[] = [...VOCABULARY_LEGACY_UPDATE_STATUSES];
export const LEGACY_BY_CLASSIFICATION: Record<string, readonly string[]> = LEGACY_PAIRS;

/** The stored (Graph) value of a legacy determination. */
export function determinationFromLegacy(legacy: string): string {
  const hit = LEGACY_RENAMED_DETERMINATIONS.find(([l]) => l.toLowerCase() === legacy.toLowerCase());
  return hit ? hit[1] : legacy.charAt(0).toLowerCase() + legacy.slice(1);
}
export { determinationToLegacy };

/** Graph's determinations per classification (`unknown` with every one). */
export function graphDeterminationsFor(classification: Classification): string[] {
  return [...GRAPH_PAIRS[classification]];
}

export function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    throw new ODataError('The request body is not valid JSON.');
  }
  if (!isRecord(parsed)) throw new ODataError('The request body must be a JSON object.');
  return parsed;
}

export function enumValue<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  const hit = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (!hit)
    throw new ODataError(`Invalid value '${String(value)}' for ${name}. Allowed: ${allowed.join(', ')}.`);
  return hit;
}

/** Who made a change: the user of a delegated token, else the app. */
export function actor(claims: JwtClaims): string {
  return typeof claims.upn === 'string'
    ? claims.upn
    : String(claims.app_displayname ?? claims.appid ?? 'API-App');
}
