/**
 * The simulator's Graph incidents and alerts, and the relay's Graph vocabulary, against Microsoft's typed
 * Graph v1.0 model (npm `@microsoft/microsoft-graph-types`, namespace `SecurityNamespace`): property names
 * and enum values are read from the package's declarations with the TypeScript compiler, not copied.
 */
import fs from 'node:fs';
import ts from 'typescript';
import { graphIncident, IncidentStore, legacyIncident } from '../../tools/simulator/incidents';
import { Rng } from '../../tools/simulator/util';
import {
  GRAPH_CLASSIFICATIONS,
  GRAPH_DETERMINATIONS,
  GRAPH_INCIDENT_STATUSES,
  GRAPH_PAIRS,
  GRAPH_SEVERITIES,
  GRAPH_UPDATE_STATUSES,
  LEGACY_SEVERITIES,
  LEGACY_UPDATE_CLASSIFICATIONS,
  LEGACY_UPDATE_DETERMINATIONS,
} from '../../src/defender/vocabulary';

interface Model {
  enums: Map<string, string[]>;
  interfaces: Map<string, { base?: string; props: string[] }>;
}

function readModel(): Model {
  const file = require.resolve('@microsoft/microsoft-graph-types/microsoft-graph.d.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const model: Model = { enums: new Map(), interfaces: new Map() };
  const entityProps: string[] = [];
  const visit = (node: ts.Node, inSecurity: boolean): void => {
    if (ts.isModuleDeclaration(node)) {
      const security = node.name.getText(source) === 'SecurityNamespace';
      node.body?.forEachChild((c) => visit(c, security));
      return;
    }
    if (ts.isModuleBlock(node)) return node.forEachChild((c) => visit(c, inSecurity));
    if (!inSecurity && ts.isInterfaceDeclaration(node) && node.name.text === 'Entity')
      for (const m of node.members) if (m.name) entityProps.push(m.name.getText(source));
    if (!inSecurity) return;
    if (ts.isTypeAliasDeclaration(node) && ts.isUnionTypeNode(node.type)) {
      model.enums.set(
        node.name.text,
        node.type.types.map((t) => t.getText(source).replace(/^"|"$/g, '')),
      );
    }
    if (ts.isInterfaceDeclaration(node)) {
      const base = node.heritageClauses?.[0]?.types[0]?.expression.getText(source);
      model.interfaces.set(node.name.text, {
        base,
        props: node.members.flatMap((m) => (m.name ? [m.name.getText(source)] : [])),
      });
    }
  };
  source.forEachChild((n) => visit(n, false));
  model.interfaces.set('microsoftgraph.Entity', { props: entityProps });
  return model;
}

const model = readModel();

/** Every property of a security interface, its bases' included (`id` from microsoft.graph.entity). */
function props(name: string): Set<string> {
  const out = new Set<string>();
  for (let i = model.interfaces.get(name); i; i = i.base ? model.interfaces.get(i.base) : undefined)
    for (const p of i.props) out.add(p);
  return out;
}

function enumOf(name: string): string[] {
  const values = model.enums.get(name);
  if (!values) throw new Error(`no enum ${name} in the typed model`);
  return values;
}

/**
 * Incident properties the Graph v1.0 service serves and the PowerShell v1.0 module
 * (`New-MgSecurityIncident -PriorityScore <int>`) documents, newer than the typed model of this version.
 */
const INCIDENT_EXTRAS = ['priorityScore'];

function simulated() {
  const store = new IncidentStore(
    new Rng(7),
    () => Date.parse('2026-11-03T09:00:00Z'),
    () => 'contoso.com',
  );
  const tenant = '00000000-0000-4000-8000-000000000001';
  store.seed(tenant, 60, { alertsPerIncident: [1, 4] });
  const incidents = store.visible(tenant).map((v) => graphIncident(v, tenant, true));
  return { incidents, alerts: incidents.flatMap((i) => i.alerts as Record<string, unknown>[]) };
}

const isData = (k: string) => !k.startsWith('@odata.');

describe('the simulated Graph incident is a security.Incident', () => {
  const { incidents } = simulated();
  const incidentProps = props('Incident');

  test('every property is in the typed model (and nothing is missing that it documents)', () => {
    expect(incidentProps.size).toBeGreaterThan(15);
    expect(incidentProps).toContain('id');
    for (const incident of incidents) {
      for (const k of Object.keys(incident).filter(isData))
        expect([k, incidentProps.has(k) || INCIDENT_EXTRAS.includes(k)]).toEqual([k, true]);
      // The documented fields the simulator once never served.
      for (const k of ['lastModifiedBy', 'resolvingComment', 'summary', 'priorityScore', 'systemTags'])
        expect(Object.keys(incident)).toContain(k);
    }
    // Everything the typed model has is served (alerts with $expand).
    expect([...incidentProps].filter((p) => !(p in incidents[0]!))).toEqual([]);
  });

  test('enums hold the typed model’s values', () => {
    const values = (k: string) => new Set(incidents.map((i) => i[k]));
    for (const v of values('status')) expect(enumOf('IncidentStatus')).toContain(v);
    for (const v of values('severity')) expect(enumOf('AlertSeverity')).toContain(v);
    for (const v of values('classification')) expect(enumOf('AlertClassification')).toContain(v);
    for (const v of values('determination')) expect(enumOf('AlertDetermination')).toContain(v);
    // Generated pairs are ones Microsoft documents.
    for (const i of incidents)
      expect(GRAPH_PAIRS[i.classification as keyof typeof GRAPH_PAIRS]).toContain(i.determination);
  });

  test('comments are security.alertComment: createdByDisplayName / createdDateTime', () => {
    const commentProps = props('AlertComment');
    const comments = incidents.flatMap((i) => i.comments as Record<string, unknown>[]);
    expect(comments.length).toBeGreaterThan(0);
    for (const c of comments) {
      expect(Object.keys(c).filter(isData).sort()).toEqual([...commentProps].sort());
    }
  });
});

describe('the simulated Graph alert is a security.Alert', () => {
  const { alerts } = simulated();
  const alertProps = props('Alert');

  test('every property is in the typed model; productName and systemTags are served', () => {
    expect(alertProps.size).toBeGreaterThan(25);
    for (const alert of alerts) {
      for (const k of Object.keys(alert).filter(isData)) expect([k, alertProps.has(k)]).toEqual([k, true]);
      expect(alert).toHaveProperty('productName');
      expect(alert).toHaveProperty('systemTags');
    }
  });

  test('enums hold the typed model’s values: sources, status, severity, verdicts, roles', () => {
    for (const a of alerts) {
      expect(enumOf('DetectionSource')).toContain(a.detectionSource);
      expect(enumOf('ServiceSource')).toContain(a.serviceSource);
      expect(enumOf('AlertStatus')).toContain(a.status);
      expect(enumOf('AlertSeverity')).toContain(a.severity);
      expect(enumOf('AlertClassification')).toContain(a.classification);
      expect(enumOf('AlertDetermination')).toContain(a.determination);
    }
    expect(new Set(alerts.map((a) => a.detectionSource))).toContain('cloudAppSecurity');
  });

  test('evidence: each @odata.type is a typed evidence with its own properties and enum values', () => {
    const evidence = alerts.flatMap((a) => a.evidence as Record<string, unknown>[]);
    expect(evidence.length).toBeGreaterThan(0);
    for (const e of evidence) {
      const type = String(e['@odata.type']).replace('#microsoft.graph.security.', '');
      const name = type.charAt(0).toUpperCase() + type.slice(1);
      const known = props(name);
      expect([name, known.size > 0]).toEqual([name, true]);
      for (const k of Object.keys(e).filter(isData)) expect([name, k, known.has(k)]).toEqual([name, k, true]);
      for (const role of e.roles as string[]) expect(enumOf('EvidenceRole')).toContain(role);
      expect(enumOf('EvidenceVerdict')).toContain(e.verdict);
      expect(enumOf('EvidenceRemediationStatus')).toContain(e.remediationStatus);
      if (name === 'DeviceEvidence') {
        expect(enumOf('DeviceHealthStatus')).toContain(e.healthStatus);
        expect(enumOf('DeviceRiskScore')).toContain(e.riskScore);
        expect(enumOf('OnboardingStatus')).toContain(e.onboardingStatus);
        expect(enumOf('DefenderAvStatus')).toContain(e.defenderAvStatus);
      }
      if (name === 'ProcessEvidence') expect(enumOf('DetectionStatus')).toContain(e.detectionStatus);
    }
  });
});

describe("the relay's Graph vocabulary is the typed model's", () => {
  const withoutSentinel = (name: string) => enumOf(name).filter((v) => v !== 'unknownFutureValue');
  test('classifications, determinations, statuses, severities', () => {
    expect([...GRAPH_CLASSIFICATIONS].sort()).toEqual(withoutSentinel('AlertClassification').sort());
    expect([...GRAPH_DETERMINATIONS].sort()).toEqual(withoutSentinel('AlertDetermination').sort());
    expect([...GRAPH_INCIDENT_STATUSES].sort()).toEqual(withoutSentinel('IncidentStatus').sort());
    expect([...GRAPH_SEVERITIES].sort()).toEqual(withoutSentinel('AlertSeverity').sort());
    for (const s of GRAPH_UPDATE_STATUSES) expect(enumOf('IncidentStatus')).toContain(s);
    // Issue 14: confirmedUserActivity is a page's spelling, not a value.
    expect(enumOf('AlertDetermination')).not.toContain('confirmedUserActivity');
  });
  test('the pairs use only model values, and every determination has a classification', () => {
    const paired = new Set(Object.values(GRAPH_PAIRS).flat());
    expect([...paired].sort()).toEqual([...GRAPH_DETERMINATIONS].sort());
    for (const c of Object.keys(GRAPH_PAIRS)) expect(enumOf('AlertClassification')).toContain(c);
  });
});

/**
 * The legacy view emits only values Microsoft's legacy pages document: api-list-incidents (incident and
 * alert fields, its example), api-incident (severity UnSpecified) and api-update-incidents (the values an
 * update may set, which the API then returns).
 */
describe('the simulated legacy incident speaks only documented legacy values', () => {
  const store = new IncidentStore(
    new Rng(11),
    () => Date.parse('2026-11-03T09:00:00Z'),
    () => 'contoso.com',
  );
  const tenant = '00000000-0000-4000-8000-000000000002';
  store.seed(tenant, 80, { alertsPerIncident: [1, 4] });
  const incidents = store.visible(tenant).map((v) => legacyIncident(v, tenant));
  const alerts = incidents.flatMap((i) => i.alerts as Record<string, unknown>[]);

  test('incident enums', () => {
    for (const i of incidents) {
      expect(['Active', 'InProgress', 'Resolved', 'Redirected']).toContain(i.status);
      expect(LEGACY_SEVERITIES).toContain(i.severity);
      expect(['Unknown', ...LEGACY_UPDATE_CLASSIFICATIONS]).toContain(i.classification);
      expect(['NotAvailable', 'Apt', 'SecurityPersonnel', ...LEGACY_UPDATE_DETERMINATIONS]).toContain(
        i.determination,
      );
      for (const c of i.comments as Record<string, unknown>[])
        expect(Object.keys(c).sort()).toEqual(['comment', 'createdBy', 'createdTime']);
    }
  });

  test('alert enums', () => {
    for (const a of alerts) {
      expect(['New', 'Active', 'Resolved']).toContain(a.status);
      expect(['Informational', 'Low', 'Medium', 'High']).toContain(a.severity);
      for (const e of a.entities as { entityType: string }[])
        expect([
          'User',
          'Ip',
          'Url',
          'File',
          'Process',
          'MailBox',
          'MailMessage',
          'MailCluster',
          'Registry',
        ]).toContain(e.entityType);
    }
    expect(new Set(alerts.map((a) => a.detectionSource))).toContain('MCAS');
  });
});
