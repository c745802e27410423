/**
 * The pieces of the move to Graph that need no server (issue 16): the per-tenant API in DEFENDER_TENANTS,
 * one version key for one version whichever API printed its time, what `migrate check` counts as equal,
 * the permissions it asks for, the retirement warnings and the retired API's answer, and the start log.
 */
import { ConfigError, loadConfig } from '../../src/config/settings';
import { readIncident } from '../../src/defender/incident';
import { compareReads } from '../../src/migration/compare';
import { permissionChecks, tokenRoles } from '../../src/migration/permissions';
import {
  isRetiredAnswer,
  legacyDaysLeft,
  legacyWarning,
  startWarnings,
} from '../../src/defender/legacy-retirement';
import { describeHttpError } from '../../src/defender/http';

import { EXAMPLE_VALUES } from '../../tools/settings-doc';

// The README's example settings (a home tenant of zeros, a client id, Azurite) with a real vault URL.
const base: Record<string, string> = {
  ...(EXAMPLE_VALUES as Record<string, string>),
  KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
};
const TENANT = base.DEFENDER_TENANT_ID!;
const OTHER = '22222222-2222-3333-4444-555555555555';
const PORTAL = 'https://security.microsoft.com';

describe('the API per tenant in DEFENDER_TENANTS', () => {
  test('<id>:legacy and <id>:graph set a tenant API; the others use DEFENDER_API', () => {
    const config = loadConfig({
      ...base,
      DEFENDER_API: 'graph',
      DEFENDER_TENANTS: `${TENANT}:LEGACY, ${OTHER}`,
    });
    expect(config.tenants).toEqual([TENANT, OTHER]);
    expect(config.tenantApis).toEqual({ [TENANT]: 'legacy' });
    expect(startWarnings(config, Date.parse('2026-12-01T12:00:00Z'))).toEqual([
      expect.stringContaining(`Tenant ${TENANT} still reads the legacy Defender XDR API`),
    ]);
  });

  test('an unknown API after the id is refused by name', () => {
    expect(() => loadConfig({ ...base, DEFENDER_TENANTS: `${TENANT}:beta` })).toThrow(ConfigError);
    try {
      loadConfig({ ...base, DEFENDER_TENANTS: `${TENANT}:beta` });
    } catch (error) {
      expect((error as ConfigError).message).toContain(
        'DEFENDER_TENANTS: is not a tenant id (a GUID), optionally followed by :graph or :legacy',
      );
    }
  });
});

describe('one version, one key, whichever API read it', () => {
  // The same instant as each API prints it: Graph with seven digits, the legacy API with trailing zeros
  // trimmed (../shared/fixtures), or with an offset instead of Z.
  test.each([
    ['2020-09-06T14:46:57.2900000Z', '2020-09-06T14:46:57.29Z'],
    ['2020-09-06T14:46:57.0733333Z', '2020-09-06T14:46:57.0733333Z'],
    ['2020-09-06T14:46:57.0000000Z', '2020-09-06T14:46:57Z'],
    ['2020-09-06T14:46:57.5Z', '2020-09-06T16:46:57.500+02:00'],
  ])('%s (Graph) and %s (legacy)', (graphTime, legacyTime) => {
    const g = readIncident({ id: '924565', lastUpdateDateTime: graphTime }, 'graph', TENANT, PORTAL);
    const l = readIncident(
      { incidentId: 924565, lastUpdateTime: legacyTime },
      'legacy',
      TENANT.toUpperCase(),
      PORTAL,
    );
    expect(l.versionKey).toBe(g.versionKey);
  });

  test('times a tick apart are two versions (nothing is rounded away)', () => {
    const g = readIncident(
      { id: '1', lastUpdateDateTime: '2020-09-06T14:46:57.0733333Z' },
      'graph',
      TENANT,
      PORTAL,
    );
    const l = readIncident(
      { incidentId: 1, lastUpdateTime: '2020-09-06T14:46:57.0733334Z' },
      'legacy',
      TENANT,
      PORTAL,
    );
    expect(l.versionKey).not.toBe(g.versionKey);
  });
});

describe('what migrate check compares', () => {
  const graph = readIncident(
    {
      id: '7',
      lastUpdateDateTime: '2026-11-30T10:00:00.29Z',
      severity: 'high',
      status: 'inProgress',
      classification: 'unknown',
      determination: 'unknown',
      assignedTo: 'Analyst@Contoso.com',
      customTags: ['b', 'a'],
      alerts: [{}, {}],
    },
    'graph',
    TENANT,
    PORTAL,
  );
  const legacyRaw = {
    incidentId: 7,
    lastUpdateTime: '2026-11-30T10:00:00.2900000Z',
    severity: 'High',
    status: 'InProgress',
    classification: 'Unknown',
    determination: 'NotAvailable',
    assignedTo: 'analyst@contoso.com',
    tags: ['a', 'b'],
    alerts: [{}, {}],
  };

  test("each API's spelling of one value is equal after normalization", () => {
    const legacy = readIncident(legacyRaw, 'legacy', TENANT, PORTAL);
    const c = compareReads(new Map([['7', graph]]), new Map([['7', legacy]]));
    expect(c).toMatchObject({ onlyGraph: [], onlyLegacy: [], timeDifferences: [], fieldDifferences: [] });
  });

  test('a different value, a different time and a missing incident are each reported', () => {
    const other = readIncident({ ...legacyRaw, severity: 'Low', alerts: [{}] }, 'legacy', TENANT, PORTAL);
    const later = readIncident(
      { ...legacyRaw, incidentId: 8, lastUpdateTime: '2026-11-30T10:00:01Z' },
      'legacy',
      TENANT,
      PORTAL,
    );
    const graph8 = readIncident(
      { id: '8', lastUpdateDateTime: '2026-11-30T10:00:00Z' },
      'graph',
      TENANT,
      PORTAL,
    );
    const lonely = readIncident({ ...legacyRaw, incidentId: 9 }, 'legacy', TENANT, PORTAL);
    const c = compareReads(
      new Map([
        ['7', graph],
        ['8', graph8],
      ]),
      new Map([
        ['7', other],
        ['8', later],
        ['9', lonely],
      ]),
    );
    expect(c.onlyLegacy).toEqual(['9']);
    expect(c.timeDifferences).toEqual([
      { incidentId: '8', graph: '2026-11-30T10:00:00Z', legacy: '2026-11-30T10:00:01Z' },
    ]);
    expect(c.fieldDifferences).toEqual([
      { incidentId: '7', field: 'severity', graph: 'high', legacy: 'low' },
      { incidentId: '7', field: 'alertCount', graph: '2', legacy: '1' },
    ]);
  });
});

describe('the Graph permissions the relay needs', () => {
  test('read always; write and hunting where the legacy grant shows they are used', () => {
    expect(permissionChecks(['SecurityIncident.Read.All'], ['Incident.Read.All'])).toEqual([
      expect.objectContaining({ need: 'incident read', granted: true }),
    ]);
    const checks = permissionChecks(
      ['SecurityIncident.Read.All'],
      ['Incident.ReadWrite.All', 'AdvancedHunting.Read.All'],
    );
    expect(checks.map((c) => [c.permission, c.granted])).toEqual([
      ['SecurityIncident.Read.All', true],
      ['SecurityIncident.ReadWrite.All', false],
      ['ThreatHunting.Read.All', false],
    ]);
    expect(permissionChecks(['SecurityIncident.ReadWrite.All'], undefined)[0]!.granted).toBe(true);
  });

  test("a token's roles come from its payload; anything else has none", () => {
    const payload = Buffer.from(JSON.stringify({ roles: ['SecurityIncident.Read.All'] })).toString(
      'base64url',
    );
    expect(tokenRoles(`e30.${payload}.sig`)).toEqual(['SecurityIncident.Read.All']);
    expect(tokenRoles('not a token')).toEqual([]);
  });
});

describe('the retirement date', () => {
  test('the warning says the days left and the commands to run', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(legacyDaysLeft(now)).toBe(62);
    expect(legacyWarning(TENANT, now)).toBe(
      `Tenant ${TENANT} still reads the legacy Defender XDR API: Microsoft retires it on 2027-02-01, in 62 days. ` +
        `Run: defender-relay migrate check --tenant ${TENANT}, then defender-relay tenants set-api ${TENANT} graph (docs/migration.md).`,
    );
    expect(legacyWarning(TENANT, Date.parse('2027-02-02T00:00:00Z'))).toContain(
      'Microsoft retired it on 2027-02-01',
    );
  });

  test('410, or 404 with a retirement message, is the API being gone; a plain 404 is not', () => {
    expect(isRetiredAnswer(410, undefined)).toBe(true);
    expect(isRetiredAnswer(404, 'This API has been retired. Use Microsoft Graph.')).toBe(true);
    expect(isRetiredAnswer(404, 'Incident 5 was not found')).toBe(false);
    const req = { tenantId: TENANT, api: 'legacy' as const, method: 'GET' as const, url: 'https://x' };
    const error = describeHttpError(
      req,
      410,
      JSON.stringify({ error: { code: 'Gone', message: 'Retired.' } }),
    );
    expect(error).toMatchObject({ code: 'legacy_api_retired', transient: false });
    expect(error.message).toContain(`defender-relay tenants set-api ${TENANT} graph`);
    // On Graph a 410 is just a 410.
    expect(describeHttpError({ ...req, api: 'graph' }, 410, '').code).not.toBe('legacy_api_retired');
  });
});

test('the start log warns of each tenant the settings keep on the legacy API', () => {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const saved = process.env;
  process.env = { ...base, DEFENDER_API: 'legacy' };
  try {
    jest.isolateModules(() => {
      require('../../src/index');
    });
    const lines = warn.mock.calls.map((c) => String(c[0]));
    expect(lines).toContainEqual(
      expect.stringContaining(`Tenant ${TENANT} still reads the legacy Defender XDR API`),
    );
    expect(lines.join('\n')).toContain(`defender-relay tenants set-api ${TENANT} graph`);
  } finally {
    process.env = saved;
    warn.mockRestore();
  }
});
