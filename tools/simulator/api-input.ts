/**
 * Reading request bodies for the Graph and legacy incident operations and advanced hunting: the JSON
 * object, enum values (case-insensitive), the enums both APIs share, and who is acting.
 */
import { ODataError, type Classification } from './incidents';
import { isRecord, type JwtClaims } from './util';

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
  'confirmedUserActivity',
  'lineOfBusinessApplication',
];

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
