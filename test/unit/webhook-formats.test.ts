/**
 * The three formats: CloudEvents carries the whole event; Teams and Slack cards carry the header fields,
 * the first alerts and a portal link, and stay inside the receivers' limits for any incident. The example
 * cards in docs/examples/ are what the formats produce for the sample incident.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  formatCloudEvents,
  formatPayload,
  formatSlack,
  formatTeams,
  SLACK_LIMITS,
  SLACK_MAX_BYTES,
  TEAMS_MAX_BYTES,
} from '../../src/delivery/webhook-formats';
import { sampleIncident, sampleIncidentEvent, SAMPLE_TENANT_ID } from '../../src/delivery/webhook-sample';
import { readIncident } from '../../src/defender/incident';
import { toIncidentEvent, type IncidentEvent } from '../../src/delivery/envelope';
import { EXAMPLES_DIR, webhookExamples } from '../../tools/webhook-examples';

function eventWith(patch: Record<string, unknown>, alerts?: Record<string, unknown>[]): IncidentEvent {
  const raw = { ...sampleIncident(), ...patch, ...(alerts ? { alerts } : {}) };
  return toIncidentEvent(readIncident(raw, 'graph', SAMPLE_TENANT_ID, 'https://security.microsoft.com'));
}

type Block = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: unknown[] };

function slackTexts(blocks: Block[]): { type: string; text: string; max: number }[] {
  const out: { type: string; text: string; max: number }[] = [];
  for (const b of blocks) {
    if (b.type === 'header') out.push({ type: 'header', text: b.text!.text, max: SLACK_LIMITS.headerText });
    if (b.type === 'section' && b.text)
      out.push({ type: 'section', text: b.text.text, max: SLACK_LIMITS.sectionText });
    for (const f of b.fields ?? []) out.push({ type: 'field', text: f.text, max: SLACK_LIMITS.fieldText });
  }
  return out;
}

test('cloudevents: the envelope as it is, nothing dropped', () => {
  const event = sampleIncidentEvent();
  const payload = formatPayload('cloudevents', event);
  expect(payload.contentType).toBe('application/cloudevents+json; charset=utf-8');
  expect(JSON.parse(payload.body)).toEqual(event);
});

test('teams: an Adaptive Card message with title, severity, status, assignee, alert count and portal link', () => {
  const event = sampleIncidentEvent();
  const message = JSON.parse(formatTeams(event).body);
  expect(message.type).toBe('message');
  const [attachment] = message.attachments;
  expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
  const card = attachment.content;
  expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
  expect(card.body[0].text).toBe(event.data.header.title);
  const facts = Object.fromEntries(
    card.body[1].facts.map((f: { title: string; value: string }) => [f.title, f.value]),
  );
  expect(facts).toMatchObject({
    Severity: 'High',
    Status: 'Active',
    'Assigned to': 'soc-tier2@contoso.com',
    Alerts: '3',
  });
  expect(card.actions).toEqual([
    { type: 'Action.OpenUrl', title: 'Open in Microsoft Defender', url: event.data.header.portalUrl },
  ]);
  expect(JSON.stringify(card)).toContain('Suspicious PowerShell command line');
});

test('a merged incident: the event names its target (relaymergedinto) and the cards say into which one', () => {
  const event = eventWith({ status: 'redirected', redirectIncidentId: '1240' });
  expect(event.relaymergedinto).toBe('1240');
  const card = JSON.parse(formatTeams(event).body).attachments[0].content;
  const facts = Object.fromEntries(
    card.body[1].facts.map((f: { title: string; value: string }) => [f.title, f.value]),
  );
  expect(facts.Status).toBe('Merged into incident 1240');
  expect(formatSlack(event).body).toContain('Merged into incident 1240');
  expect(eventWith({ status: 'active' }).relaymergedinto).toBeUndefined();
});

test('slack: Block Kit with the same content, incident text as plain_text', () => {
  const event = sampleIncidentEvent();
  const message = JSON.parse(formatSlack(event).body);
  expect(message.text).toContain(event.data.header.title);
  const texts = slackTexts(message.blocks).map((t) => t.text);
  expect(texts).toEqual(
    expect.arrayContaining([
      event.data.header.title,
      'Severity: High',
      'Status: Active',
      'Assigned to: soc-tier2@contoso.com',
      'Alerts: 3',
    ]),
  );
  const actions = message.blocks.find((b: Block) => b.type === 'actions');
  expect(actions.elements[0].url).toBe(event.data.header.portalUrl);
  expect(JSON.stringify(message.blocks)).not.toContain('"mrkdwn"');
});

test('incident text cannot inject links: Slack fallback text is escaped, Teams link syntax defused', () => {
  const event = eventWith({
    displayName: 'Click <https://evil.example|here> or [here](https://evil.example)',
  });
  const slack = JSON.parse(formatSlack(event).body);
  expect(slack.text).not.toContain('<https://evil');
  expect(slack.text).toContain('&lt;https://evil.example|here&gt;');
  const teams = formatTeams(event).body;
  expect(teams).not.toContain('](https://evil');
});

test('a huge incident is summarised inside the limits; CloudEvents still carries every alert', () => {
  const alerts = Array.from({ length: 800 }, (_, i) => ({
    id: `alert-${i}`,
    title: `Alert ${i} ${'x'.repeat(2000)}`,
    severity: 'medium',
    detectionSource: 'edr',
  }));
  const event = eventWith({ displayName: 'T'.repeat(5000), assignedTo: 'a'.repeat(3000) }, alerts);
  const teams = formatTeams(event).body;
  expect(Buffer.byteLength(teams)).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
  expect(teams).toContain('more alerts: see the incident in the Defender portal');
  const slack = formatSlack(event).body;
  expect(Buffer.byteLength(slack)).toBeLessThanOrEqual(SLACK_MAX_BYTES);
  for (const t of slackTexts(JSON.parse(slack).blocks)) expect([...t.text].length).toBeLessThanOrEqual(t.max);
  expect((JSON.parse(formatCloudEvents(event).body).data.incident.alerts as unknown[]).length).toBe(800);
});

test('for any incident, cards stay within the receivers limits (property)', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 3000 }),
      fc.array(
        fc.record({ title: fc.string({ maxLength: 4000 }), severity: fc.constantFrom('high', 'low') }),
        {
          maxLength: 60,
        },
      ),
      fc.array(fc.string({ maxLength: 200 }), { maxLength: 30 }),
      (title, alerts, tags) => {
        const event = eventWith({ displayName: title || 'x', customTags: tags }, alerts);
        const teams = JSON.parse(formatTeams(event).body);
        expect(Buffer.byteLength(JSON.stringify(teams))).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
        expect(teams.attachments[0].content.actions[0].url).toBe(event.data.header.portalUrl);
        const slack = JSON.parse(formatSlack(event).body);
        expect(Buffer.byteLength(JSON.stringify(slack))).toBeLessThanOrEqual(SLACK_MAX_BYTES);
        expect(slack.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
        for (const t of slackTexts(slack.blocks)) expect([...t.text].length).toBeLessThanOrEqual(t.max);
      },
    ),
    { numRuns: 60 },
  );
});

test.each(Object.keys(webhookExamples()))(
  'docs/examples/%s is what the format produces for the sample incident (npx tsx tools/webhook-examples.ts)',
  (name) => {
    const checkedIn = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, name), 'utf8'));
    expect(checkedIn).toEqual(JSON.parse(webhookExamples()[name]!));
  },
);
