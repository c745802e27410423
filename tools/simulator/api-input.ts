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

/**
 * What each service accepts in an incident update, in its own spelling.
 *
 * Graph ("security-incident-update", values as the typed v1.0 model `security.AlertClassification` /
 * `security.AlertDetermination` / `security.IncidentStatus` has them; `unknownFutureValue` refused):
 * status `active`, `resolved`, `redirected` (the update page lists no `inProgress`).
 */
export const GRAPH_UPDATE_STATUSES: IncidentStatus[] = ['active', 'resolved', 'redirected'];
export const CLASSIFICATIONS: Classification[] = [
  'unknown',
  'falsePositive',
  'truePositive',
  'informationalExpectedActivity',
];
export const DETERMINATIONS = [
  'unknown',
  'apt',
  'malware',
  'securityPersonnel',
  'securityTesting',
  'unwantedSoftware',
  'other',
  'multiStagedAttack',
  'compromisedAccount',
  'phishing',
  'maliciousUserActivity',
  'notMalicious',
  'notEnoughDataToValidate',
  'confirmedActivity',
  'lineOfBusinessApplication',
];

/** Legacy ("Update incidents API", api-update-incidents): its lists, and its determinations per classification. */
export const LEGACY_UPDATE_STATUSES = ['Active', 'Resolved', 'InProgress', 'Redirected'];
export const LEGACY_BY_CLASSIFICATION: Record<string, string[]> = {
  TruePositive: [
    'MultiStagedAttack',
    'MaliciousUserActivity',
    'CompromisedAccount',
    'Malware',
    'Phishing',
    'UnwantedSoftware',
    'Other',
  ],
  InformationalExpectedActivity: [
    'SecurityTesting',
    'LineOfBusinessApplication',
    'ConfirmedActivity',
    'Other',
  ],
  FalsePositive: ['Clean', 'NoEnoughDataToValidate', 'Other'],
};

/** The stored (Graph) value of a legacy determination. */
export function determinationFromLegacy(legacy: string): string {
  const hit = LEGACY_RENAMED_DETERMINATIONS.find(([l]) => l.toLowerCase() === legacy.toLowerCase());
  return hit ? hit[1] : legacy.charAt(0).toLowerCase() + legacy.slice(1);
}
export { determinationToLegacy };

/**
 * Graph's determinations per classification: the same service, so the legacy page's pairs in Graph's
 * names, plus `apt` and `securityPersonnel` (true positives in Graph's alertDetermination table, still
 * in Graph's enum); `unknown` goes with every classification.
 */
export function graphDeterminationsFor(classification: Classification): string[] {
  if (classification === 'unknown') return ['unknown'];
  const legacy =
    LEGACY_BY_CLASSIFICATION[classification.charAt(0).toUpperCase() + classification.slice(1)] ?? [];
  return [
    ...legacy.map(determinationFromLegacy),
    ...(classification === 'truePositive' ? ['apt', 'securityPersonnel'] : []),
    'unknown',
  ];
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
