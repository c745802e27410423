/**
 * A sample incident (Graph shape, three alerts) as the relay would deliver it: the source of the example
 * cards in docs/examples/ (tools/webhook-examples.ts) and of `defender-relay webhook test`.
 */
import { readIncident } from '../defender/incident';
import { toIncidentEvent, type IncidentEvent } from './envelope';

export const SAMPLE_TENANT_ID = 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c';

export function sampleIncident(portalUrl = 'https://security.microsoft.com'): Record<string, unknown> {
  const tenant = SAMPLE_TENANT_ID;
  const alert = (id: string, title: string, severity: string, detectionSource: string) => ({
    id,
    incidentId: '2972395',
    title,
    severity,
    status: 'new',
    detectionSource,
    serviceSource: 'microsoftDefenderForEndpoint',
    createdDateTime: '2026-11-03T09:12:44.17Z',
    alertWebUrl: `${portalUrl}/alerts/${id}?tid=${tenant}`,
    evidence: [],
  });
  return {
    '@odata.type': '#microsoft.graph.security.incident',
    id: '2972395',
    incidentWebUrl: `${portalUrl}/incidents/2972395?tid=${tenant}`,
    tenantId: tenant,
    displayName: 'Multi-stage incident involving Ransomware on FIN-LAPTOP-7',
    createdDateTime: '2026-11-03T09:12:44.17Z',
    lastUpdateDateTime: '2026-11-03T09:41:57.0733333Z',
    assignedTo: 'soc-tier2@contoso.com',
    classification: 'unknown',
    determination: 'unknown',
    status: 'active',
    severity: 'high',
    customTags: ['finance'],
    systemTags: ['Ransomware'],
    description: 'Ransomware activity was observed on one device after a suspicious sign-in.',
    comments: [],
    alerts: [
      alert(
        'da637551227677560813_-961444813',
        'Ransomware behavior detected in the file system',
        'high',
        'antivirus',
      ),
      alert('da637551227677560814_-961444814', 'Suspicious PowerShell command line', 'medium', 'edr'),
      alert(
        'da637551227677560815_-961444815',
        'Sign-in from an unfamiliar location',
        'low',
        'microsoftDefenderForIdentity',
      ),
    ],
  };
}

export function sampleIncidentEvent(portalUrl = 'https://security.microsoft.com'): IncidentEvent {
  return toIncidentEvent(readIncident(sampleIncident(portalUrl), 'graph', SAMPLE_TENANT_ID, portalUrl));
}
