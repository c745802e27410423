/**
 * What the relay sends for an incident update on each API, and what it refuses before sending: the
 * classification + determination pairs each API documents (Graph "security-incident-update" with the
 * typed model's names; legacy "Update incidents API"), the statuses each update page lists, and the
 * hunting answer in both casings.
 */
import {
  incidentUpdateSchemaFor,
  readHuntingResult,
  toGraphUpdate,
  toLegacyUpdate,
  updateIssues,
  type IncidentUpdate,
} from '../../src/defender/actions';
import {
  GRAPH_CLASSIFICATIONS,
  GRAPH_DETERMINATIONS,
  LEGACY_PAIRS,
  type Classification,
  type Determination,
} from '../../src/defender/vocabulary';

/** api-update-incidents, in Graph's names (Clean = notMalicious, NoEnoughDataToValidate = notEnoughDataToValidate). */
const LEGACY_DOCUMENTED: Partial<Record<Classification, Determination[]>> = {
  truePositive: [
    'multiStagedAttack',
    'maliciousUserActivity',
    'compromisedAccount',
    'malware',
    'phishing',
    'unwantedSoftware',
    'other',
  ],
  informationalExpectedActivity: [
    'securityTesting',
    'lineOfBusinessApplication',
    'confirmedActivity',
    'other',
  ],
  falsePositive: ['notMalicious', 'notEnoughDataToValidate', 'other'],
};
/** Graph: the same pairs plus apt and securityPersonnel as true positives; unknown with any. */
const GRAPH_DOCUMENTED: Record<Classification, Determination[]> = {
  truePositive: [...LEGACY_DOCUMENTED.truePositive!, 'apt', 'securityPersonnel', 'unknown'],
  informationalExpectedActivity: [...LEGACY_DOCUMENTED.informationalExpectedActivity!, 'unknown'],
  falsePositive: [...LEGACY_DOCUMENTED.falsePositive!, 'unknown'],
  unknown: ['unknown'],
};

const matrix = GRAPH_CLASSIFICATIONS.flatMap((c) => GRAPH_DETERMINATIONS.map((d) => [c, d] as const));

describe.each(['graph', 'legacy'] as const)('classification + determination on %s', (api) => {
  const documented = api === 'graph' ? GRAPH_DOCUMENTED : LEGACY_DOCUMENTED;
  test.each(matrix)('%s + %s', (classification, determination) => {
    const ok = documented[classification]?.includes(determination) ?? false;
    const issues = updateIssues({ classification, determination }, api);
    if (ok) {
      expect(issues).toEqual([]);
      return;
    }
    expect(issues.length).toBeGreaterThan(0);
    const issue = issues.find((i) => i.field === 'determination') ?? issues[0]!;
    // The 422 names the allowed values.
    const allowed = documented[classification] ?? Object.values(documented).flat();
    for (const d of allowed.filter((x) => x !== 'unknown')) expect(issue.message).toContain(d);
    // And the schema turns it into a field error (a 422 problem in the HTTP functions).
    const parsed = incidentUpdateSchemaFor(api).safeParse({ classification, determination });
    expect(parsed.success).toBe(false);
  });
});

test('what each API is sent: Graph names on Graph, the legacy page’s names on legacy', () => {
  const u: IncidentUpdate = {
    status: 'resolved',
    classification: 'falsePositive',
    determination: 'notMalicious',
    tags: ['t'],
    comment: 'c',
  };
  expect(toGraphUpdate(u)).toEqual({
    status: 'resolved',
    classification: 'falsePositive',
    determination: 'notMalicious',
    customTags: ['t'],
  });
  expect(toLegacyUpdate(u)).toEqual({
    status: 'Resolved',
    classification: 'FalsePositive',
    determination: 'Clean',
    tags: ['t'],
    comment: 'c',
  });
  expect(
    toLegacyUpdate({ classification: 'falsePositive', determination: 'notEnoughDataToValidate' }),
  ).toMatchObject({ determination: 'NoEnoughDataToValidate' });
  expect(toLegacyUpdate({ status: 'inProgress' })).toEqual({ status: 'InProgress' });
  // Every legacy pair's name comes out of its Graph name.
  for (const [c, ds] of Object.entries(LEGACY_DOCUMENTED))
    for (const d of ds)
      expect(
        LEGACY_PAIRS[
          toLegacyUpdate({ classification: c as Classification }).classification as 'TruePositive'
        ],
      ).toContain(toLegacyUpdate({ determination: d }).determination);
});

test('statuses: inProgress is legacy only; redirected and awaitingAction are Defender’s own', () => {
  expect(updateIssues({ status: 'inProgress' }, 'legacy')).toEqual([]);
  expect(updateIssues({ status: 'inProgress' }, 'graph')).toEqual([
    expect.objectContaining({ field: 'status', message: expect.stringMatching(/active, resolved/) }),
  ]);
  for (const api of ['graph', 'legacy'] as const) {
    expect(updateIssues({ status: 'active' }, api)).toEqual([]);
    expect(updateIssues({ status: 'resolved' }, api)).toEqual([]);
    for (const status of ['redirected', 'Redirected', 'awaitingAction', 'unknownFutureValue', 'closed']) {
      const r = incidentUpdateSchemaFor(api).safeParse({ status });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(['status']);
      expect(r.error!.issues[0]!.message).toMatch(/must be one of active, inProgress, resolved/);
    }
  }
  expect(
    incidentUpdateSchemaFor('graph').safeParse({ status: 'redirected' }).error!.issues[0]!.message,
  ).toMatch(/merges/);
});

test('input spellings: Graph names in any casing and the legacy update’s own names; page-only spellings refused', () => {
  const parse = (determination: string) =>
    incidentUpdateSchemaFor('graph').safeParse({ classification: 'falsePositive', determination });
  expect(parse('Clean').data?.determination).toBe('notMalicious');
  expect(parse('NoEnoughDataToValidate').data?.determination).toBe('notEnoughDataToValidate');
  expect(parse('NOTMALICIOUS').data?.determination).toBe('notMalicious');
  for (const pageOnly of ['confirmedUserActivity', 'compromisedUser', 'insufficientData', 'clean2']) {
    const r = incidentUpdateSchemaFor('graph').safeParse({
      classification: 'truePositive',
      determination: pageOnly,
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toContain('confirmedActivity');
  }
  // legacy: unknown classification and NotAvailable are returned by the API, never accepted by its update.
  expect(updateIssues({ classification: 'unknown' }, 'legacy')).toEqual([
    expect.objectContaining({ field: 'classification' }),
  ]);
  expect(updateIssues({ classification: 'truePositive', determination: 'unknown' }, 'legacy')).toEqual([
    expect.objectContaining({ field: 'determination', message: expect.stringMatching(/NotAvailable/) }),
  ]);
  expect(updateIssues({ classification: 'truePositive', determination: 'apt' }, 'legacy')).toEqual([
    expect.objectContaining({ field: 'determination', message: expect.stringMatching(/August 2022/) }),
  ]);
  // A determination needs its classification in the same update.
  expect(updateIssues({ determination: 'malware' }, 'graph')).toEqual([
    expect.objectContaining({
      field: 'determination',
      message: expect.stringMatching(/needs its classification/),
    }),
  ]);
});

test('hunting answers are read in both casings, without the System. prefix', () => {
  const expected = {
    schema: [
      { name: 'Timestamp', type: 'DateTime' },
      { name: 'FileName', type: 'String' },
    ],
    results: [{ Timestamp: '2024-03-26T09:39:50.7688641Z', FileName: 'cmd.exe' }],
    rowCount: 1,
  };
  const rows = expected.results;
  // runHuntingQuery, example 1 (name/type) and the response section (Name/Type).
  expect(
    readHuntingResult({
      schema: [
        { name: 'Timestamp', type: 'DateTime' },
        { name: 'FileName', type: 'String' },
      ],
      results: rows,
    }),
  ).toEqual(expected);
  expect(
    readHuntingResult({
      schema: [
        { Name: 'Timestamp', Type: 'DateTime' },
        { Name: 'FileName', Type: 'String' },
      ],
      results: rows,
    }),
  ).toEqual(expected);
  // api-advanced-hunting: Schema / Results with Name / Type; an older System. prefix is dropped.
  expect(
    readHuntingResult({
      Stats: {},
      Schema: [
        { Name: 'Timestamp', Type: 'System.DateTime' },
        { Name: 'FileName', Type: 'System.String' },
      ],
      Results: rows,
    }),
  ).toEqual(expected);
});
