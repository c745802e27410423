/**
 * WEBHOOKS: the webhook destinations, a JSON array in one setting. Each names its format, its filters and
 * the Key Vault secrets that hold its URL and signing key; every problem names its destination.
 */
import { z } from 'zod';
import { describeIssue, guid, namedJsonItems, secretName } from './validators';

export const WEBHOOK_FORMATS = ['cloudevents', 'teams', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
const WEBHOOK_SEVERITIES = ['informational', 'low', 'medium', 'high'] as const;
const WEBHOOK_STATUSES = ['active', 'inProgress', 'resolved', 'redirected', 'awaitingAction'] as const;

/** One webhook destination of WEBHOOKS. URL and signing key are Key Vault secret names. */
export interface WebhookDestinationConfig {
  name: string;
  format: WebhookFormat;
  urlSecret: string;
  signingSecret?: string;
  minSeverity?: (typeof WEBHOOK_SEVERITIES)[number];
  statuses?: (typeof WEBHOOK_STATUSES)[number][];
  /** Lower-case tenant ids. */
  tenants?: string[];
  detectionSources?: string[];
  /** Inbound sender names (INBOUND_SENDERS) whose echoes this destination does not receive (docs/two-way.md). */
  dropEchoesOf?: string[];
}

export interface WebhookSettings {
  destinations: WebhookDestinationConfig[];
  outboxQueue: string;
  poisonQueue: string;
  maxAttempts: number;
  timeoutMs: number;
  retryBaseSeconds: number;
  allowPrivateAddresses: boolean;
}

const WEBHOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

const webhookDestinationSchema = z
  .object({
    name: z.string().regex(WEBHOOK_NAME, {
      message: 'is not a valid name (1-63 letters, digits, - and _)',
    }),
    format: z.string().default('cloudevents'),
    urlSecret: secretName,
    signingSecret: secretName.optional(),
    minSeverity: z.string().optional(),
    statuses: z.array(z.string()).optional(),
    tenants: z.array(guid).optional(),
    detectionSources: z.array(z.string().min(1)).optional(),
    dropEchoesOf: z.array(z.string().regex(WEBHOOK_NAME)).min(1).optional(),
  })
  .strict();

/**
 * Reads WEBHOOKS: a JSON array of destinations. Returns the destinations and one problem per bad
 * destination field, each naming the destination (`destination "soc-teams": unknown format "team"`).
 */
export function parseWebhooks(text: string): {
  destinations: WebhookDestinationConfig[];
  problems: string[];
} {
  const { items, problem } = namedJsonItems(text, 'destination', WEBHOOK_NAME);
  if (problem) return { destinations: [], problems: [problem] };
  const problems: string[] = [];
  const destinations: WebhookDestinationConfig[] = [];
  const seen = new Set<string>();
  items.forEach(({ item, label }) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${label}: is not an object`);
      return;
    }
    const record = item as Record<string, unknown>;
    if ('url' in record) {
      problems.push(
        `${label}: "url" is not allowed, webhook URLs are credentials: store the URL in a Key Vault secret and name that secret in "urlSecret"`,
      );
      return;
    }
    const parsed = webhookDestinationSchema.safeParse(record);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.join('.');
        if (issue.code === 'unrecognized_keys') {
          problems.push(
            `${label}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
          );
        } else if (record[String(issue.path[0])] === undefined) {
          problems.push(`${label}: "${field}" is required`);
        } else {
          problems.push(`${label}: "${field}" ${describeIssue(issue)}`);
        }
      }
      return;
    }
    const d = parsed.data;
    const bad: string[] = [];
    if (!(WEBHOOK_FORMATS as readonly string[]).includes(d.format))
      bad.push(`"format" is not a known format (use ${WEBHOOK_FORMATS.map((f) => `"${f}"`).join(', ')})`);
    if (d.minSeverity !== undefined && !(WEBHOOK_SEVERITIES as readonly string[]).includes(d.minSeverity))
      bad.push(
        `"minSeverity" is not a known severity (use ${WEBHOOK_SEVERITIES.map((v) => `"${v}"`).join(', ')})`,
      );
    (d.statuses ?? []).forEach((st, i) => {
      if (!(WEBHOOK_STATUSES as readonly string[]).includes(st))
        bad.push(
          `"statuses[${i}]" is not a known status (use ${WEBHOOK_STATUSES.map((v) => `"${v}"`).join(', ')})`,
        );
    });
    if (d.format === 'cloudevents' && d.signingSecret === undefined)
      bad.push('"signingSecret" is required for the cloudevents format (receivers verify the signature)');
    if (seen.has(d.name.toLowerCase())) bad.push('the name is used by another destination');
    seen.add(d.name.toLowerCase());
    if (bad.length > 0) {
      problems.push(...bad.map((b) => `${label}: ${b}`));
      return;
    }
    destinations.push({
      name: d.name,
      format: d.format as WebhookFormat,
      urlSecret: d.urlSecret,
      signingSecret: d.signingSecret,
      minSeverity: d.minSeverity as WebhookDestinationConfig['minSeverity'],
      statuses: d.statuses as WebhookDestinationConfig['statuses'],
      tenants: d.tenants?.map((t) => t.toLowerCase()),
      detectionSources: d.detectionSources,
      dropEchoesOf: d.dropEchoesOf,
    });
  });
  return { destinations, problems };
}
