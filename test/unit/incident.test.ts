import { readIncident, MalformedIncidentError } from '../../src/defender/incident';
import { GRAPH_CLASSIFICATIONS, GRAPH_DETERMINATIONS } from '../../src/defender/vocabulary';
import { toIncidentEvent } from '../../src/delivery/envelope';
import { readFixture } from '../helpers/fixtures';
import { expectValidIncidentEvent } from '../helpers/schema';

const TENANT = 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c';
const PORTAL = 'https://security.microsoft.com';

describe("reading Microsoft's documented responses", () => {
  test('Graph list incidents with $expand=alerts', () => {
    const [raw] = readFixture('graph-list-incidents-expand-alerts.json').value;
    const v = readIncident(raw!, 'graph', TENANT, PORTAL);
    expect(v.header).toMatchObject({
      tenantId: TENANT,
      incidentId: '2972395',
      severity: 'medium',
      status: 'active',
      assignedTo: 'KaiC@contoso.onmicrosoft.com',
      classification: 'truePositive',
      determination: 'multiStagedAttack',
      lastUpdate: '2021-09-30T09:35:45.1133333Z',
      alertCount: 1,
      detectionSources: ['antivirus'],
      api: 'graph',
    });
    // The page example uses `tags`; real responses use `customTags`: both are read.
    expect(v.header.tags).toEqual(['Demo']);
    expect(v.header.portalUrl).toBe(raw!.incidentWebUrl);
    expect(v.versionKey).toBe(`${TENANT}/2972395/2021-09-30T09:35:45.1133333Z`);
    // Nothing is dropped: the original, alerts and evidence included, is kept as it came.
    expect(v.raw).toBe(raw);
    expectValidIncidentEvent(JSON.parse(JSON.stringify(toIncidentEvent(v))));
  });

  test('Graph enums in PascalCase (the other documented example) read the same', () => {
    const [raw] = readFixture('graph-list-incidents-expand-alerts.json').value;
    const pascal = {
      ...raw,
      status: 'Active',
      severity: 'Medium',
      classification: 'TruePositive',
      customTags: ['X'],
    };
    const v = readIncident(pascal, 'graph', TENANT, PORTAL);
    expect(v.header.status).toBe('active');
    expect(v.header.severity).toBe('medium');
    expect(v.header.classification).toBe('truePositive');
    expect(v.header.tags).toEqual(['X', 'Demo']);
  });

  test('legacy list incidents, with its seven-digit and trimmed timestamps', () => {
    const incidents = readFixture('legacy-list-incidents.json').value;
    const [first, second] = incidents.map((raw) => readIncident(raw, 'legacy', TENANT, PORTAL));
    expect(first!.header).toMatchObject({
      incidentId: '924565',
      title: 'Ransomware activity',
      severity: 'medium',
      status: 'active',
      classification: 'unknown',
      // One vocabulary in the header: Graph's names for the legacy API's NotAvailable and MCAS.
      determination: 'unknown',
      lastUpdate: '2020-09-06T14:46:57.29Z',
      detectionSources: ['cloudAppSecurity'],
      api: 'legacy',
    });
    // The original keeps the legacy spelling.
    expect(first!.raw).toMatchObject({ determination: 'NotAvailable' });
    expect((first!.raw.alerts as { detectionSource: string }[])[0]!.detectionSource).toBe('MCAS');
    expect(first!.versionKey).toBe(`${TENANT}/924565/2020-09-06T14:46:57.2900000Z`);
    expect(first!.header.portalUrl).toBe(`${PORTAL}/incidents/924565?tid=${TENANT}`);
    // mdatpDeviceId (not the documented DeviceId) survives untouched in the original.
    const alerts = second!.raw.alerts as { devices: { mdatpDeviceId: string }[] }[];
    expect(alerts[0]!.devices[0]!.mdatpDeviceId).toBe('24c222b0b60fe148eeece49ac83910cc6a7ef491');
    for (const v of [first!, second!])
      expectValidIncidentEvent(JSON.parse(JSON.stringify(toIncidentEvent(v))));
  });

  test('an incident without an id or a last-update time is refused by name', () => {
    expect(() =>
      readIncident({ lastUpdateDateTime: '2021-01-01T00:00:00Z' }, 'graph', TENANT, PORTAL),
    ).toThrow(MalformedIncidentError);
    expect(() => readIncident({ incidentId: 5 }, 'legacy', TENANT, PORTAL)).toThrow(
      /without a last-update time/,
    );
    expect(() => readIncident({ incidentId: 5, lastUpdateTime: 'soon' }, 'legacy', TENANT, PORTAL)).toThrow(
      /not an ISO/,
    );
  });
});

/**
 * The header mapping (docs/envelope.md), enum by enum: every documented legacy value and every Graph value
 * (the typed model's; graph-model.test.ts checks the lists against it) lands on Graph's name.
 */
describe('the header speaks Graph for both APIs', () => {
  const header = (api: 'graph' | 'legacy', fields: Record<string, unknown>) =>
    readIncident(
      api === 'graph'
        ? { id: '1', lastUpdateDateTime: '2026-01-01T00:00:00Z', ...fields }
        : { incidentId: 1, lastUpdateTime: '2026-01-01T00:00:00Z', ...fields },
      api,
      TENANT,
      PORTAL,
    ).header;

  const legacy: Record<string, [string, string][]> = {
    status: [
      ['Active', 'active'],
      ['InProgress', 'inProgress'],
      ['Resolved', 'resolved'],
      ['Redirected', 'redirected'],
    ],
    severity: [
      ['UnSpecified', 'unknown'],
      ['Informational', 'informational'],
      ['Low', 'low'],
      ['Medium', 'medium'],
      ['High', 'high'],
    ],
    classification: [
      ['Unknown', 'unknown'],
      ['FalsePositive', 'falsePositive'],
      ['TruePositive', 'truePositive'],
      ['InformationalExpectedActivity', 'informationalExpectedActivity'],
      ['Informational, expected activity', 'informationalExpectedActivity'],
    ],
    determination: [
      ['NotAvailable', 'unknown'],
      ['Apt', 'apt'],
      ['Malware', 'malware'],
      ['SecurityPersonnel', 'securityPersonnel'],
      ['SecurityTesting', 'securityTesting'],
      ['UnwantedSoftware', 'unwantedSoftware'],
      ['Other', 'other'],
      ['MultiStagedAttack', 'multiStagedAttack'],
      ['MaliciousUserActivity', 'maliciousUserActivity'],
      ['CompromisedAccount', 'compromisedAccount'],
      ['CompromisedUser', 'compromisedAccount'],
      ['Phishing', 'phishing'],
      ['LineOfBusinessApplication', 'lineOfBusinessApplication'],
      ['ConfirmedActivity', 'confirmedActivity'],
      ['ConfirmedUserActivity', 'confirmedActivity'],
      ['Clean', 'notMalicious'],
      ['NoEnoughDataToValidate', 'notEnoughDataToValidate'],
      ['InsufficientData', 'notEnoughDataToValidate'],
    ],
  };
  test.each(Object.entries(legacy).flatMap(([field, pairs]) => pairs.map(([from, to]) => [field, from, to])))(
    'legacy %s %j → %j',
    (field, from, to) => {
      expect(header('legacy', { [field]: from })[field as 'status']).toBe(to);
    },
  );

  const graph: Record<string, string[]> = {
    status: ['active', 'resolved', 'inProgress', 'redirected', 'awaitingAction'],
    severity: ['unknown', 'informational', 'low', 'medium', 'high'],
    classification: [...GRAPH_CLASSIFICATIONS],
    determination: [...GRAPH_DETERMINATIONS],
  };
  test.each(Object.entries(graph).flatMap(([field, values]) => values.map((v) => [field, v])))(
    'graph %s %j stays, in either casing',
    (field, value) => {
      expect(header('graph', { [field]: value })[field as 'status']).toBe(value);
      const pascal = value.charAt(0).toUpperCase() + value.slice(1);
      expect(header('graph', { [field]: pascal })[field as 'status']).toBe(value);
    },
  );

  test('detection sources: legacy product codes become Graph DetectionSource names', () => {
    const alerts = (sources: string[]) => sources.map((detectionSource) => ({ detectionSource }));
    expect(
      header('legacy', {
        alerts: alerts([
          'MCAS',
          'WindowsDefenderAv',
          'WindowsDefenderAtp',
          'WindowsDefenderSmartScreen',
          'CustomerTI',
          'OfficeATP',
          'AutomatedInvestigation',
          'ThreatExperts',
          'CustomDetection',
          'AzureATP',
        ]),
      }).detectionSources,
    ).toEqual([
      'cloudAppSecurity',
      'antivirus',
      'microsoftDefenderForEndpoint',
      'smartScreen',
      'customTi',
      'microsoftDefenderForOffice365',
      'automatedInvestigation',
      'microsoftThreatExperts',
      'customDetection',
      'microsoftDefenderForIdentity',
    ]);
    expect(header('graph', { alerts: alerts(['cloudAppSecurity', 'antivirus']) }).detectionSources).toEqual([
      'cloudAppSecurity',
      'antivirus',
    ]);
  });

  test('a value neither API documents keeps its name, first letter lower-cased', () => {
    expect(header('legacy', { determination: 'SomethingNew' }).determination).toBe('somethingNew');
    expect(header('graph', { status: 'unknownFutureValue' }).status).toBe('unknown');
  });
});
