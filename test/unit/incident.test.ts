import { readIncident, MalformedIncidentError } from '../../src/defender/incident';
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
      determination: 'notAvailable',
      lastUpdate: '2020-09-06T14:46:57.29Z',
      detectionSources: ['MCAS'],
      api: 'legacy',
    });
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
