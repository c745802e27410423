/**
 * Microsoft's incident vocabulary on both APIs, value by value, with where each list comes from.
 *
 * Graph (the relay's own vocabulary, and the event header's): the typed model of Microsoft Graph v1.0
 * (npm `@microsoft/microsoft-graph-types`, `microsoftgraph.SecurityNamespace`: `AlertClassification`,
 * `AlertDetermination`, `IncidentStatus`, `AlertSeverity`, `DetectionSource`; generated from the service's
 * CSDL, so it wins where Microsoft's pages disagree with it: "resources/security-incident" and
 * "security-incident-update" name `compromisedUser`, `confirmedUserActivity`, `clean`, `insufficientData`,
 * which the model, the "resources/security-alert" value table and the service call `compromisedAccount`,
 * `confirmedActivity`, `notMalicious`, `notEnoughDataToValidate`). test/unit/graph-model.test.ts compares
 * these lists with the typed model.
 *
 * Legacy: "Update incidents API" (learn.microsoft.com/defender-xdr/api-update-incidents): status `Active`,
 * `Resolved`, `InProgress`, `Redirected`; classification `TruePositive`, `InformationalExpectedActivity`,
 * `FalsePositive`; the determinations per classification (below); `Apt` and `SecurityPersonnel` no longer
 * accepted since August 2022. "List incidents API" (api-list-incidents) and "incidents resource type"
 * (api-incident) for what the API returns: severity `UnSpecified`, `Informational`, `Low`, `Medium`,
 * `High`; classification `Unknown`; determination `NotAvailable` and the older names `CompromisedUser`,
 * `ConfirmedUserActivity`, `InsufficientData` (api-incident's spelling of the same values).
 */

export type ApiName = 'graph' | 'legacy';

// ---------------------------------------------------------------------------------------------------
// Graph (typed model; `unknownFutureValue` is the evolvable-enum sentinel: "Don't use").

export const GRAPH_CLASSIFICATIONS = [
  'unknown',
  'falsePositive',
  'truePositive',
  'informationalExpectedActivity',
] as const;
export type Classification = (typeof GRAPH_CLASSIFICATIONS)[number];

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
export type Determination = (typeof GRAPH_DETERMINATIONS)[number];

/** incidentStatus: `awaitingAction` only with `Prefer: include-unknown-enum-members`. */
export const GRAPH_INCIDENT_STATUSES = [
  'active',
  'resolved',
  'inProgress',
  'redirected',
  'awaitingAction',
] as const;
/** "security-incident-update": the status values an update may carry. */
export const GRAPH_UPDATE_STATUSES = ['active', 'resolved', 'redirected'] as const;
export const GRAPH_SEVERITIES = ['unknown', 'informational', 'low', 'medium', 'high'] as const;

/**
 * Which determinations go with which classification. Graph's update page lists the values without the
 * pairing; the pairing is the one the legacy update page documents for the same service (in Graph's
 * names), plus `apt` and `securityPersonnel`, which Graph still accepts and its alertDetermination table
 * describes as true positives. `unknown` (no determination) goes with every classification.
 */
export const GRAPH_PAIRS: Record<Classification, readonly Determination[]> = {
  truePositive: [
    'multiStagedAttack',
    'maliciousUserActivity',
    'compromisedAccount',
    'malware',
    'phishing',
    'unwantedSoftware',
    'apt',
    'securityPersonnel',
    'other',
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

// ---------------------------------------------------------------------------------------------------
// Legacy ("Update incidents API" for what it accepts).

export const LEGACY_UPDATE_STATUSES = ['Active', 'Resolved', 'InProgress', 'Redirected'] as const;
export const LEGACY_UPDATE_CLASSIFICATIONS = [
  'TruePositive',
  'InformationalExpectedActivity',
  'FalsePositive',
] as const;
export const LEGACY_PAIRS: Record<(typeof LEGACY_UPDATE_CLASSIFICATIONS)[number], readonly string[]> = {
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
/** Every determination the legacy update accepts. */
export const LEGACY_UPDATE_DETERMINATIONS = [...new Set(Object.values(LEGACY_PAIRS).flat())];
/** What the legacy API returns beyond what it accepts. */
export const LEGACY_SEVERITIES = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'] as const;

/** Graph determination → the legacy update's name (undefined: the legacy API has none). */
const LEGACY_DETERMINATION_OF: Partial<Record<Determination, string>> = {
  multiStagedAttack: 'MultiStagedAttack',
  maliciousUserActivity: 'MaliciousUserActivity',
  compromisedAccount: 'CompromisedAccount',
  malware: 'Malware',
  phishing: 'Phishing',
  unwantedSoftware: 'UnwantedSoftware',
  other: 'Other',
  securityTesting: 'SecurityTesting',
  lineOfBusinessApplication: 'LineOfBusinessApplication',
  confirmedActivity: 'ConfirmedActivity',
  notMalicious: 'Clean',
  notEnoughDataToValidate: 'NoEnoughDataToValidate',
};

export function legacyDetermination(d: Determination): string | undefined {
  return LEGACY_DETERMINATION_OF[d];
}

/** The legacy API's name of a Graph value: PascalCase, with the exceptions the pages document. */
export function toLegacyName(kind: 'status' | 'classification' | 'severity', value: string): string {
  if (kind === 'severity' && value === 'unknown') return 'UnSpecified';
  return value.charAt(0).toUpperCase() + value.slice(1);
}

// ---------------------------------------------------------------------------------------------------
// Reading: any documented spelling of either API → Graph's name (case-insensitive).

const lowerMap = <T extends string>(entries: [string, T][]): Map<string, T> =>
  new Map(entries.map(([k, v]) => [k.toLowerCase(), v]));

export const CLASSIFICATION_ALIASES = lowerMap<Classification>([
  ...GRAPH_CLASSIFICATIONS.map((c): [string, Classification] => [c, c]),
  // api-incident's display spelling.
  ['Informational, expected activity', 'informationalExpectedActivity'],
]);

export const DETERMINATION_ALIASES = lowerMap<Determination>([
  ...GRAPH_DETERMINATIONS.map((d): [string, Determination] => [d, d]),
  // Legacy names (api-update-incidents, api-list-incidents, api-incident).
  ['NotAvailable', 'unknown'],
  ['Clean', 'notMalicious'],
  ['NoEnoughDataToValidate', 'notEnoughDataToValidate'],
  ['InsufficientData', 'notEnoughDataToValidate'],
  ['CompromisedUser', 'compromisedAccount'],
  ['ConfirmedUserActivity', 'confirmedActivity'],
]);

export const STATUS_ALIASES = lowerMap<(typeof GRAPH_INCIDENT_STATUSES)[number]>(
  GRAPH_INCIDENT_STATUSES.map((s) => [s, s]),
);

export const SEVERITY_ALIASES = lowerMap<(typeof GRAPH_SEVERITIES)[number]>([
  ...GRAPH_SEVERITIES.map((s): [string, (typeof GRAPH_SEVERITIES)[number]] => [s, s]),
  ['UnSpecified', 'unknown'],
]);

/**
 * Alert detection sources: Graph's `DetectionSource` names. The legacy API returns product codes:
 * api-list-incidents' example has `MCAS` (Defender for Cloud Apps) and `WindowsDefenderAv`; the others
 * are the `detectionSource` codes of the Defender for Endpoint alert resource type, which the legacy
 * incidents API shares. `AzureATP` (Defender for Identity) is not on those pages. An unknown code stays as
 * sent, first letter lower-cased.
 */
export const DETECTION_SOURCE_ALIASES = lowerMap<string>([
  ['MCAS', 'cloudAppSecurity'],
  ['WindowsDefenderAv', 'antivirus'],
  ['WindowsDefenderAtp', 'microsoftDefenderForEndpoint'],
  ['WindowsDefenderSmartScreen', 'smartScreen'],
  ['CustomerTI', 'customTi'],
  ['OfficeATP', 'microsoftDefenderForOffice365'],
  ['AutomatedInvestigation', 'automatedInvestigation'],
  ['ThreatExperts', 'microsoftThreatExperts'],
  ['CustomDetection', 'customDetection'],
  ['AzureATP', 'microsoftDefenderForIdentity'],
]);

export function graphDetectionSource(value: string): string {
  return DETECTION_SOURCE_ALIASES.get(value.toLowerCase()) ?? value.charAt(0).toLowerCase() + value.slice(1);
}
