/**
 * What each simulated service accepts in an incident update, transcribed here from Microsoft's pages and
 * not imported from the relay, so that a mistake in the relay's own lists (src/defender/vocabulary.ts)
 * meets a service that refuses it instead of one that agrees.
 *
 * Graph: "Update incident" (security-incident-update) and the typed v1.0 model
 * (`microsoftgraph.SecurityNamespace`: AlertClassification, AlertDetermination): status `active`,
 * `resolved`, `redirected`; `unknownFutureValue` never. The page does not pair determinations with
 * classifications; the service is taken to pair them as the legacy page documents for the same
 * incidents, plus `apt` and `securityPersonnel` as true positives (the alertDetermination table).
 * Legacy: "Update incidents API" (api-update-incidents): status `Active`, `Resolved`, `InProgress`,
 * `Redirected`; the determinations per classification below (`Apt`, `SecurityPersonnel` no longer
 * accepted since August 2022).
 */
export const GRAPH_UPDATE_STATUSES = ['active', 'resolved', 'redirected'] as const;
export const GRAPH_CLASSIFICATIONS = [
  'unknown',
  'falsePositive',
  'truePositive',
  'informationalExpectedActivity',
] as const;
export const GRAPH_DETERMINATIONS = [
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
] as const;
export const GRAPH_PAIRS: Record<(typeof GRAPH_CLASSIFICATIONS)[number], readonly string[]> = {
  truePositive: [
    'apt',
    'malware',
    'securityPersonnel',
    'unwantedSoftware',
    'other',
    'multiStagedAttack',
    'compromisedAccount',
    'phishing',
    'maliciousUserActivity',
    'unknown',
  ],
  informationalExpectedActivity: [
    'securityTesting',
    'lineOfBusinessApplication',
    'confirmedActivity',
    'other',
    'unknown',
  ],
  falsePositive: ['notMalicious', 'notEnoughDataToValidate', 'other', 'unknown'],
  unknown: ['unknown'],
};

export const LEGACY_UPDATE_STATUSES = ['Active', 'Resolved', 'InProgress', 'Redirected'] as const;
export const LEGACY_PAIRS: Record<string, readonly string[]> = {
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
