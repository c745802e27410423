/**
 * What a webhook receives, per format. Pure functions of the event.
 *
 * - `cloudevents`: the brief's envelope as it is (structured-mode CloudEvents 1.0 JSON), always complete.
 * - `teams`: a message with one Adaptive Card (1.4) for a Teams Workflows webhook ("When a Teams webhook
 *   request is received"): title, severity, status, assignee, alert count, the first alerts and a button
 *   to the incident in the Defender portal.
 * - `slack`: a Block Kit message for a Slack incoming webhook, with the same content.
 *
 * Cards summarise: texts are cut to the receiver's field limits and the alert list shrinks until the
 * payload fits the receiver's message size (Teams about 28 KB, Slack's block limits), so a huge incident
 * still posts. Incident text is data, not markup: Slack gets it as plain_text, Teams with link syntax
 * defused.
 */
import type { WebhookFormat } from '../config/webhook-destinations';
import type { IncidentEvent } from './envelope';

export interface WebhookPayload {
  contentType: string;
  body: string;
}

/** Teams rejects messages over about 28 KB; stay well below. */
export const TEAMS_MAX_BYTES = 24 * 1024;
/** Slack: at most 50 blocks; section text 3000, field 2000, header 150, button text 75 characters. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
};
export const SLACK_MAX_BYTES = 32 * 1024;
const MAX_ALERTS_LISTED = 10;

export function formatPayload(format: WebhookFormat, event: IncidentEvent): WebhookPayload {
  switch (format) {
    case 'cloudevents':
      return formatCloudEvents(event);
    case 'teams':
      return formatTeams(event);
    case 'slack':
      return formatSlack(event);
  }
}

export function formatCloudEvents(event: IncidentEvent): WebhookPayload {
  return { contentType: 'application/cloudevents+json; charset=utf-8', body: JSON.stringify(event) };
}

interface AlertLine {
  title: string;
  severity: string;
}

interface Summary {
  title: string;
  severity: string;
  status: string;
  assignee: string;
  alertCount: number;
  tenantId: string;
  incidentId: string;
  classification: string;
  lastUpdate: string;
  detectionSources: string;
  tags: string;
  portalUrl: string;
  alerts: AlertLine[];
}

const SEVERITY_LABEL: Record<string, string> = {
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  informational: 'Informational',
  unknown: 'Unknown',
};
const STATUS_LABEL: Record<string, string> = {
  active: 'Active',
  inProgress: 'In progress',
  resolved: 'Resolved',
  redirected: 'Redirected (merged)',
  awaitingAction: 'Awaiting action',
  unknown: 'Unknown',
};

/** Cuts text to `max` characters (an ellipsis marks the cut). */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

function summarize(event: IncidentEvent): Summary {
  const h = event.data.header;
  const incident = event.data.incident ?? {};
  const rawAlerts = Array.isArray(incident.alerts) ? (incident.alerts as Record<string, unknown>[]) : [];
  return {
    title: h.title,
    severity: SEVERITY_LABEL[h.severity] ?? h.severity,
    // A merged incident's card says into which one (docs/two-way.md), so the channel follows it there.
    status:
      h.status === 'redirected' && h.redirectIncidentId
        ? `Merged into incident ${h.redirectIncidentId}`
        : (STATUS_LABEL[h.status] ?? h.status),
    assignee: h.assignedTo ?? 'Unassigned',
    alertCount: h.alertCount,
    tenantId: h.tenantId,
    incidentId: h.incidentId,
    classification:
      [h.classification, h.determination].filter((v) => v && v !== 'unknown').join(' / ') || 'Not classified',
    lastUpdate: h.lastUpdate,
    detectionSources: h.detectionSources.join(', ') || '—',
    tags: h.tags.join(', '),
    portalUrl: h.portalUrl,
    alerts: rawAlerts.map((a) => ({
      title: typeof a.title === 'string' && a.title ? a.title : 'Untitled alert',
      severity: SEVERITY_LABEL[String(a.severity ?? '').toLowerCase()] ?? String(a.severity ?? ''),
    })),
  };
}

/** Keeps link and image syntax of Teams markdown from working: incident text is data. */
function teamsText(text: string): string {
  return text.replace(/\]\(/g, '] (').replace(/\r?\n/g, ' ');
}

const TEAMS_COLOR: Record<string, string> = { High: 'Attention', Medium: 'Warning', Low: 'Accent' };

function teamsCard(s: Summary, alertsShown: number, textMax: number): Record<string, unknown> {
  const facts = [
    ['Severity', s.severity],
    ['Status', s.status],
    ['Assigned to', s.assignee],
    ['Alerts', String(s.alertCount)],
    ['Classification', s.classification],
    ['Detection sources', s.detectionSources],
    ['Tenant', s.tenantId],
    ['Incident', s.incidentId],
    ['Last update', s.lastUpdate],
    ...(s.tags ? [['Tags', s.tags]] : []),
  ].map(([title, value]) => ({ title, value: teamsText(cut(value!, textMax)) }));
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: teamsText(cut(s.title, Math.min(textMax, 300))),
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
      color: TEAMS_COLOR[s.severity] ?? 'Default',
    },
    { type: 'FactSet', facts },
  ];
  const shown = s.alerts.slice(0, alertsShown);
  if (shown.length > 0) {
    body.push({ type: 'TextBlock', text: 'Alerts', weight: 'Bolder', spacing: 'Medium', wrap: true });
    for (const a of shown)
      body.push({
        type: 'TextBlock',
        text: teamsText(`${cut(a.title, textMax)}${a.severity ? ` (${a.severity})` : ''}`),
        wrap: true,
        spacing: 'None',
      });
  }
  const more = s.alertCount - shown.length;
  if (more > 0)
    body.push({
      type: 'TextBlock',
      text: `and ${more} more alert${more === 1 ? '' : 's'}: see the incident in the Defender portal.`,
      isSubtle: true,
      wrap: true,
    });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          actions: [{ type: 'Action.OpenUrl', title: 'Open in Microsoft Defender', url: s.portalUrl }],
        },
      },
    ],
  };
}

/** Shrinks the alert list, then the texts, until the JSON fits `maxBytes`. */
function fit(build: (alertsShown: number, textMax: number) => unknown, s: Summary, maxBytes: number): string {
  let alertsShown = Math.min(MAX_ALERTS_LISTED, s.alerts.length);
  let textMax = 500;
  for (;;) {
    const json = JSON.stringify(build(alertsShown, textMax));
    if (Buffer.byteLength(json, 'utf8') <= maxBytes || (alertsShown === 0 && textMax <= 40)) return json;
    if (alertsShown > 0) alertsShown = Math.floor(alertsShown / 2);
    else textMax = Math.floor(textMax / 2);
  }
}

export function formatTeams(event: IncidentEvent): WebhookPayload {
  const s = summarize(event);
  return {
    contentType: 'application/json; charset=utf-8',
    body: fit((n, max) => teamsCard(s, n, max), s, TEAMS_MAX_BYTES),
  };
}

const SLACK_EMOJI: Record<string, string> = {
  High: ':red_circle:',
  Medium: ':large_orange_circle:',
  Low: ':large_yellow_circle:',
};

function plain(text: string, max: number): { type: 'plain_text'; text: string; emoji: false } {
  return { type: 'plain_text', text: cut(text || '—', max), emoji: false };
}

function slackMessage(s: Summary, alertsShown: number, textMax: number): Record<string, unknown> {
  const fieldMax = Math.min(textMax, SLACK_LIMITS.fieldText);
  const fields = [
    `Severity: ${s.severity}`,
    `Status: ${s.status}`,
    `Assigned to: ${s.assignee}`,
    `Alerts: ${s.alertCount}`,
    `Classification: ${s.classification}`,
    `Detection sources: ${s.detectionSources}`,
  ].map((f) => plain(f, fieldMax));
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: plain(s.title, SLACK_LIMITS.headerText) },
    { type: 'section', fields },
  ];
  const shown = s.alerts.slice(0, alertsShown);
  const more = s.alertCount - shown.length;
  if (shown.length > 0 || more > 0) {
    const lines = shown.map((a) => `• ${cut(a.title, textMax)}${a.severity ? ` (${a.severity})` : ''}`);
    if (more > 0)
      lines.push(`and ${more} more alert${more === 1 ? '' : 's'}: see the incident in the Defender portal.`);
    blocks.push({ type: 'section', text: plain(lines.join('\n'), SLACK_LIMITS.sectionText) });
  }
  blocks.push({
    type: 'context',
    elements: [
      plain(
        `Tenant ${s.tenantId} · incident ${s.incidentId} · updated ${s.lastUpdate}${s.tags ? ` · tags: ${s.tags}` : ''}`,
        SLACK_LIMITS.fieldText,
      ),
    ],
  });
  blocks.push({
    type: 'actions',
    elements: [
      {
        type: 'button',
        text: plain('Open in Microsoft Defender', SLACK_LIMITS.buttonText),
        url: s.portalUrl,
        action_id: 'open-incident',
      },
    ],
  });
  return {
    // The fallback text is mrkdwn: escape it so incident text cannot form links or mentions.
    text: slackEscape(
      cut(`${SLACK_EMOJI[s.severity] ?? ''} ${s.severity} incident: ${s.title} (${s.status})`.trim(), 300),
    ),
    blocks,
  };
}

function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function formatSlack(event: IncidentEvent): WebhookPayload {
  const s = summarize(event);
  return {
    contentType: 'application/json; charset=utf-8',
    body: fit((n, max) => slackMessage(s, n, max), s, SLACK_MAX_BYTES),
  };
}
