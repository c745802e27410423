/**
 * Every app setting the relay reads: one zod schema, one table of documentation. `loadConfig` validates
 * the environment once at start and turns it into a typed `RelayConfig`; a bad environment fails with one
 * `ConfigError` that lists every bad setting by name and says how to fix it. Values are never echoed
 * back (AzureWebJobsStorage can hold an account key).
 */
import { z } from 'zod';
import { CLOUDS, type CloudEndpoints, type CloudName } from '../auth/clouds';

export interface SettingDoc {
  default?: string;
  description: string;
  /** Shown as the fix when the setting is missing or invalid. */
  fix?: string;
}

const httpsUrl = z
  .string()
  .trim()
  .refine((v) => isUrl(v, ['https:']), { message: 'is not an absolute https:// URL' });
const anyUrl = z
  .string()
  .trim()
  .refine((v) => isUrl(v, ['https:', 'http:']), { message: 'is not an absolute http(s):// URL' });
const guid = z
  .string()
  .trim()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'is not a GUID' });
const guidList = z
  .string()
  .trim()
  .transform((v) =>
    v
      .split(/[,;\s]+/)
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(guid));
const intIn = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: 'is not a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const queueName = z
  .string()
  .trim()
  .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, {
    message: 'is not a valid queue name (3-63 lowercase letters, digits and single hyphens)',
  });
const tableName = z
  .string()
  .trim()
  .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, {
    message: 'is not a valid table name (3-63 letters and digits, starting with a letter)',
  });
const secretName = z
  .string()
  .trim()
  .regex(/^[0-9a-zA-Z-]{1,127}$/, {
    message: 'is not a valid Key Vault secret name (letters, digits, hyphens)',
  });
const ncrontab = z
  .string()
  .trim()
  .refine((v) => v.split(/\s+/).length === 6 || /^\d{2}:\d{2}:\d{2}$/.test(v), {
    message: 'is not a six-field NCRONTAB expression (e.g. "0 */5 * * * *") or a TimeSpan (hh:mm:ss)',
  });

/** Entra ID accepts https redirect URIs, and http only for localhost. */
function isRedirectUri(value: string): boolean {
  if (isUrl(value, ['https:'])) return true;
  return isUrl(value, ['http:']) && ['localhost', '127.0.0.1', '[::1]'].includes(new URL(value).hostname);
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    const url = new URL(value);
    return protocols.includes(url.protocol) && !!url.hostname;
  } catch {
    return false;
  }
}

/** The schema: every setting, as the environment holds it (strings), with its default. */
export const settingsSchema = z.object({
  DEFENDER_CLOUD: z.enum(['public', 'gcc', 'gcchigh', 'dod']).default('public'),
  DEFENDER_API: z.enum(['graph', 'legacy']).default('graph'),
  DEFENDER_TENANT_ID: guid,
  DEFENDER_CLIENT_ID: guid,
  DEFENDER_TENANTS: guidList.optional(),
  DEFENDER_CREDENTIAL: z.enum(['secret', 'certificate', 'federated']).default('secret'),
  DEFENDER_CLIENT_SECRET_NAME: secretName.default('defender-client-secret'),
  DEFENDER_AUTHORITY_HOST: httpsUrl.optional(),
  DEFENDER_GRAPH_BASE_URL: httpsUrl.optional(),
  DEFENDER_LEGACY_BASE_URL: httpsUrl.optional(),
  DEFENDER_GRAPH_RESOURCE: httpsUrl.optional(),
  DEFENDER_LEGACY_RESOURCE: httpsUrl.optional(),
  DEFENDER_PORTAL_URL: httpsUrl.optional(),
  DEFENDER_FEDERATION_AUDIENCE: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, { message: 'is not a URI (e.g. api://AzureADTokenExchange)' })
    .optional(),
  KEY_VAULT_URL: httpsUrl.optional(),
  MANAGED_IDENTITY_CLIENT_ID: guid.optional(),
  SECRET_CACHE_TTL_SECONDS: intIn(0, 86_400).default(300),
  AzureWebJobsStorage: z.string().trim().min(1).optional(),
  AzureWebJobsStorage__blobServiceUri: anyUrl.optional(),
  AzureWebJobsStorage__queueServiceUri: anyUrl.optional(),
  AzureWebJobsStorage__tableServiceUri: anyUrl.optional(),
  AzureWebJobsStorage__credential: z.enum(['managedidentity']).optional(),
  AzureWebJobsStorage__clientId: guid.optional(),
  INCIDENTS_QUEUE_NAME: queueName.default('defender-incidents'),
  CLAIM_CHECK_CONTAINER_NAME: z
    .string()
    .trim()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, { message: 'is not a valid blob container name' })
    .default('defender-incident-payloads'),
  STATE_TABLE_NAME: tableName.default('relaystate'),
  TENANTS_TABLE_NAME: tableName.default('relaytenants'),
  CONSENT_REDIRECT_URI: z
    .string()
    .trim()
    .refine((v) => isRedirectUri(v), {
      message: 'is not an https:// URL (http:// is accepted for localhost only)',
    })
    .optional(),
  CONSENT_STATE_KEY_SECRET_NAME: secretName.default('consent-state-key'),
  CONSENT_STATE_LIFETIME_MINUTES: intIn(1, 1440).default(30),
  SYNC_SCHEDULE: ncrontab.default('0 */5 * * * *'),
  SYNC_INITIAL_LOOKBACK_MINUTES: intIn(1, 60 * 24 * 180).default(1440),
  SYNC_OVERLAP_MINUTES: intIn(0, 1440).default(10),
  SYNC_MAX_API_CALLS_PER_RUN: intIn(1, 100_000).default(500),
  SYNC_MAX_RUN_SECONDS: intIn(10, 3600).default(240),
  SYNC_JOBS_QUEUE_NAME: queueName.default('relay-sync-jobs'),
  SYNC_TENANT_CONCURRENCY: intIn(1, 64).default(8),
  LEASES_CONTAINER_NAME: z
    .string()
    .trim()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, { message: 'is not a valid blob container name' })
    .default('relay-leases'),
  LEGACY_CALLS_PER_MINUTE: intIn(1, 50).default(45),
  DEFENDER_REQUEST_TIMEOUT_SECONDS: intIn(1, 600).default(60),
  DEFENDER_MAX_RETRIES: intIn(0, 10).default(4),
  USER_ALLOWED_TENANTS: guidList.optional(),
  USER_REQUIRED_SCOPE: z
    .string()
    .trim()
    .regex(/^[\w.:/-]{1,200}$/, { message: 'is not a scope name (e.g. Defender.Act)' })
    .default('Defender.Act'),
  USER_REQUIRED_ROLE: z
    .string()
    .trim()
    .regex(/^[\w.:/-]{1,200}$/, { message: 'is not an app role value (e.g. Relay.User)' })
    .optional(),
  INBOUND_WEBHOOK_SECRET_NAME: secretName.default('inbound-webhook-secret'),
  INBOUND_TABLE_NAME: tableName.default('relayinbound'),
  INBOUND_RETRY_QUEUE_NAME: queueName.default('relay-inbound-retry'),
  INBOUND_REPLAY_WINDOW_SECONDS: intIn(30, 3600).default(300),
  WEBHOOKS: z.string().trim().default('[]'),
  WEBHOOK_OUTBOX_QUEUE_NAME: queueName.default('relay-webhook-outbox'),
  WEBHOOK_MAX_ATTEMPTS: intIn(1, 50).default(8),
  WEBHOOK_TIMEOUT_SECONDS: intIn(1, 120).default(10),
  WEBHOOK_RETRY_BASE_SECONDS: intIn(1, 3600).default(60),
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false']))
    .transform((v) => v === 'true')
    .default(false),
});

type RawSettings = z.output<typeof settingsSchema>;
export type SettingName = keyof RawSettings;

/** Documentation of every setting; the README table and the Bicep cross-check test read it. */
export const SETTINGS_DOC: Record<SettingName, SettingDoc> = {
  DEFENDER_CLOUD: {
    default: 'public',
    description: 'Microsoft cloud: `public`, `gcc`, `gcchigh` or `dod`. Sets every host below together.',
  },
  DEFENDER_API: {
    default: 'graph',
    description:
      'Which Defender API to read: `graph` (Microsoft Graph security API) or `legacy` (api.security.microsoft.com, retired 2027-02-01).',
  },
  DEFENDER_TENANT_ID: {
    description: 'Directory (tenant) ID of the app registration (its home tenant).',
    fix: 'Set it to the "Directory (tenant) ID" shown on the app registration\'s overview page.',
  },
  DEFENDER_CLIENT_ID: {
    description: 'Application (client) ID of the app registration that holds the Defender permissions.',
    fix: 'Set it to the "Application (client) ID" shown on the app registration\'s overview page.',
  },
  DEFENDER_TENANTS: {
    default: '(the home tenant)',
    description:
      'Comma-separated tenant IDs to sync (MSSP: the customer tenants that granted admin consent).',
  },
  DEFENDER_CREDENTIAL: {
    default: 'secret',
    description:
      'How the app proves itself to Entra ID: `secret` (client secret in Key Vault), `certificate` (certificate in Key Vault) or `federated` (user-assigned managed identity as a federated credential, no stored secret).',
  },
  DEFENDER_CLIENT_SECRET_NAME: {
    default: 'defender-client-secret',
    description:
      "Name of the Key Vault secret that holds the app registration's client secret (`secret`), or its certificate with private key, PEM or base64 PKCS#12 (`certificate`; a Key Vault certificate's secret of the same name).",
  },
  DEFENDER_AUTHORITY_HOST: {
    default: '(per cloud) https://login.microsoftonline.com',
    description: 'Entra ID authority host.',
  },
  DEFENDER_GRAPH_BASE_URL: {
    default: '(per cloud) https://graph.microsoft.com',
    description: 'Microsoft Graph base URL.',
  },
  DEFENDER_LEGACY_BASE_URL: {
    default: '(per cloud) https://api.security.microsoft.com',
    description: 'Legacy Defender XDR API base URL.',
  },
  DEFENDER_GRAPH_RESOURCE: {
    default: '(per cloud) https://graph.microsoft.com',
    description: 'Resource (audience) of Graph tokens; the scope asked for is `<resource>/.default`.',
  },
  DEFENDER_LEGACY_RESOURCE: {
    default: '(per cloud) https://api.security.microsoft.com',
    description: 'Resource (audience) of legacy Defender API tokens.',
  },
  DEFENDER_PORTAL_URL: {
    default: '(per cloud) https://security.microsoft.com',
    description: 'Defender portal, for incident links in messages.',
  },
  DEFENDER_FEDERATION_AUDIENCE: {
    default: '(per cloud) api://AzureADTokenExchange',
    description:
      'Audience of the managed-identity token presented as a federated credential (`federated`); US Gov clouds: `api://AzureADTokenExchangeUSGov`.',
  },
  KEY_VAULT_URL: {
    description:
      'URL of the Key Vault that holds the secrets, e.g. `https://my-relay-kv.vault.azure.net`. Needed for a stored credential (`secret`, `certificate`), webhooks, consent and inbound webhooks.',
    fix: "Set it to the vault URI shown on the Key Vault's overview page (the Bicep in infra/ sets it).",
  },
  MANAGED_IDENTITY_CLIENT_ID: {
    default: '(system-assigned)',
    description:
      'Client ID of the user-assigned managed identity that reads Key Vault; empty for the system-assigned one.',
  },
  SECRET_CACHE_TTL_SECONDS: {
    default: '300',
    description: 'How long a secret read from Key Vault is reused before it is read again.',
  },
  AzureWebJobsStorage: {
    description:
      'Storage connection string (locally: Azurite, `UseDevelopmentStorage=true`). In Azure use the identity-based `AzureWebJobsStorage__*` settings instead; one of the two forms is needed.',
    fix: 'Set AzureWebJobsStorage to a connection string, or set AzureWebJobsStorage__blobServiceUri, __queueServiceUri and __tableServiceUri.',
  },
  AzureWebJobsStorage__blobServiceUri: {
    description:
      'Identity-based storage (instead of `AzureWebJobsStorage`): blob service URI. All three service URIs are needed.',
  },
  AzureWebJobsStorage__queueServiceUri: {
    description: 'Identity-based storage (instead of `AzureWebJobsStorage`): queue service URI.',
  },
  AzureWebJobsStorage__tableServiceUri: {
    description: 'Identity-based storage (instead of `AzureWebJobsStorage`): table service URI.',
  },
  AzureWebJobsStorage__credential: {
    description: 'Identity-based storage: `managedidentity`.',
  },
  AzureWebJobsStorage__clientId: {
    description: 'Identity-based storage: client ID of the user-assigned identity (empty: system-assigned).',
  },
  INCIDENTS_QUEUE_NAME: {
    default: 'defender-incidents',
    description: 'Storage queue that receives one CloudEvents message per incident version.',
  },
  CLAIM_CHECK_CONTAINER_NAME: {
    default: 'defender-incident-payloads',
    description:
      'Blob container for events over the 64 KiB queue message limit (the message carries a reference).',
  },
  STATE_TABLE_NAME: {
    default: 'relaystate',
    description: 'Table holding per-tenant checkpoints and the record of delivered versions.',
  },
  TENANTS_TABLE_NAME: {
    default: 'relaytenants',
    description:
      'Table of the tenant registry (onboarded customer tenants, enabled or disabled, last error) and of used consent `state` nonces.',
  },
  CONSENT_REDIRECT_URI: {
    default: '(consent off)',
    description:
      'Redirect URI registered on the app registration for admin consent, e.g. `https://<app>.azurewebsites.net/api/consent/callback`. Empty: the consent endpoints answer 503.',
  },
  CONSENT_STATE_KEY_SECRET_NAME: {
    default: 'consent-state-key',
    description:
      'Name of the Key Vault secret holding the HMAC key that signs the consent `state` (at least 32 random characters).',
  },
  CONSENT_STATE_LIFETIME_MINUTES: {
    default: '30',
    description: 'How long a consent link (its signed `state`) stays valid once /api/consent has issued it.',
  },
  SYNC_SCHEDULE: {
    default: '0 */5 * * * *',
    description: 'NCRONTAB schedule of the sync timer (every 5 minutes by default).',
  },
  SYNC_INITIAL_LOOKBACK_MINUTES: {
    default: '1440',
    description: "On a tenant's first run, how far back to read incident updates.",
  },
  SYNC_OVERLAP_MINUTES: {
    default: '10',
    description:
      'Each run re-reads this window before the checkpoint, so updates that become visible late are not lost (repeats are suppressed).',
  },
  SYNC_MAX_API_CALLS_PER_RUN: {
    default: '500',
    description: 'Per-tenant call budget of one run; the next run continues from the checkpoint.',
  },
  SYNC_MAX_RUN_SECONDS: {
    default: '240',
    description: 'Per-tenant time budget of one run (kept well under the Functions timeout).',
  },
  SYNC_JOBS_QUEUE_NAME: {
    default: 'relay-sync-jobs',
    description:
      'Queue of per-tenant sync jobs: the timer and `POST /api/sync` put one job per tenant on it; a queue-triggered worker syncs one tenant per job.',
  },
  SYNC_TENANT_CONCURRENCY: {
    default: '8',
    description: 'How many tenants one process syncs at once outside the fan-out (the CLI, `npm run demo`).',
  },
  LEASES_CONTAINER_NAME: {
    default: 'relay-leases',
    description:
      'Blob container of per-tenant leases: a timer run, a retry and an on-demand sync never work one tenant at once.',
  },
  LEGACY_CALLS_PER_MINUTE: {
    default: '45',
    description:
      'Per-tenant ceiling on calls to the legacy Defender API, under its documented 50 calls a minute (Graph is throttled by its own 429 answers).',
  },
  DEFENDER_REQUEST_TIMEOUT_SECONDS: {
    default: '60',
    description: 'Timeout of one Defender API request.',
  },
  DEFENDER_MAX_RETRIES: {
    default: '4',
    description: 'Retries of a throttled (429), failed (5xx) or timed-out Defender API request.',
  },
  USER_ALLOWED_TENANTS: {
    default: '(the synced tenants)',
    description:
      'Comma-separated tenant IDs whose users may call the user-context HTTP functions (`/api/hunting`, `/api/incidents/{id}`); default: `DEFENDER_TENANTS` or the home tenant.',
  },
  USER_REQUIRED_SCOPE: {
    default: 'Defender.Act',
    description:
      'Delegated scope (exposed by the app registration under "Expose an API") that a caller\'s token must carry (`scp`) to act on Defender on the user\'s behalf.',
  },
  USER_REQUIRED_ROLE: {
    default: '(none)',
    description:
      "App role that a caller's user token must also carry (`roles`), e.g. `Relay.User` assigned to a group; empty: the scope is enough.",
  },
  INBOUND_WEBHOOK_SECRET_NAME: {
    default: 'inbound-webhook-secret',
    description:
      'Name of the Key Vault secret that verifies inbound webhooks (Standard Webhooks `whsec_...` signing secret shared with the ticketing or SOAR system).',
  },
  INBOUND_TABLE_NAME: {
    default: 'relayinbound',
    description: 'Table of inbound webhook message ids (replay protection) and their outcome.',
  },
  INBOUND_RETRY_QUEUE_NAME: {
    default: 'relay-inbound-retry',
    description:
      'Queue holding inbound updates whose application to Defender failed; a queue-triggered function retries them (then `<name>-poison`).',
  },
  INBOUND_REPLAY_WINDOW_SECONDS: {
    default: '300',
    description:
      'Inbound webhooks whose `webhook-timestamp` is further than this from now are rejected as stale.',
  },
  WEBHOOKS: {
    default: '[]',
    description:
      'Webhook destinations, a JSON array: `[{"name":"soc-teams","format":"teams","urlSecret":"<Key Vault secret holding the URL>","signingSecret":"<Key Vault secret, whsec_...>","minSeverity":"high","statuses":["active"],"tenants":[],"detectionSources":[]}]`. Formats: `cloudevents` (default), `teams`, `slack`. See docs/webhooks.md.',
    fix: 'Set it to a JSON array of destinations as described in docs/webhooks.md (URLs and signing keys are Key Vault secret NAMES, never values).',
  },
  WEBHOOK_OUTBOX_QUEUE_NAME: {
    default: 'relay-webhook-outbox',
    description:
      'Storage queue of pending webhook deliveries (one message per incident version and webhook); given-up deliveries go to `<name>-poison`.',
  },
  WEBHOOK_MAX_ATTEMPTS: {
    default: '8',
    description:
      'Attempts of one webhook delivery (timeouts, 5xx and 429 are retried with backoff) before it moves to the poison queue.',
  },
  WEBHOOK_TIMEOUT_SECONDS: {
    default: '10',
    description: 'Timeout of one webhook request (connect, send and read the response).',
  },
  WEBHOOK_RETRY_BASE_SECONDS: {
    default: '60',
    description:
      'First retry delay of a failed webhook delivery; each further retry doubles it (with jitter, at most one hour). With the defaults a webhook may be down for about two hours without a loss.',
  },
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: {
    default: 'false',
    description:
      'Allow webhooks on private, loopback and link-local addresses (local development only). Instance metadata addresses stay blocked.',
  },
};

export interface StorageConfig {
  connectionString?: string;
  blobServiceUri?: string;
  queueServiceUri?: string;
  tableServiceUri?: string;
  /** Client id of the user-assigned identity for identity-based storage. */
  clientId?: string;
}

export type CredentialConfig =
  | { kind: 'secret'; secretName: string }
  | { kind: 'certificate'; secretName: string }
  | { kind: 'federated' };

export interface RelayConfig {
  cloud: CloudName;
  api: 'graph' | 'legacy';
  endpoints: CloudEndpoints;
  homeTenantId: string;
  clientId: string;
  tenants: string[];
  credential: CredentialConfig;
  keyVaultUrl?: string;
  managedIdentityClientId?: string;
  secretCacheTtlMs: number;
  storage: StorageConfig;
  names: { incidentsQueue: string; claimCheckContainer: string; stateTable: string; tenantsTable: string };
  /** Admin-consent onboarding (partner context). */
  consent: { redirectUri?: string; stateKeySecretName: string; stateLifetimeMs: number };
  sync: {
    schedule: string;
    initialLookbackMs: number;
    overlapMs: number;
    maxApiCallsPerRun: number;
    maxRunMs: number;
    jobsQueue: string;
    leasesContainer: string;
    tenantConcurrency: number;
    legacyCallsPerMinute: number;
  };
  http: { timeoutMs: number; maxRetries: number };
  /** User context (on-behalf-of): who may call, with which scope / role. */
  user: { allowedTenants: string[]; requiredScope: string; requiredRole?: string };
  /** Inbound webhooks from ticketing / SOAR systems. */
  inbound: { secretName: string; table: string; retryQueue: string; replayWindowMs: number };
  webhooks: WebhookSettings;
}

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

const webhookDestinationSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
      message: 'is not a valid name (1-63 letters, digits, - and _)',
    }),
    format: z.string().default('cloudevents'),
    urlSecret: secretName,
    signingSecret: secretName.optional(),
    minSeverity: z.string().optional(),
    statuses: z.array(z.string()).optional(),
    tenants: z.array(guid).optional(),
    detectionSources: z.array(z.string().min(1)).optional(),
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
  const problems: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { destinations: [], problems: ['is not valid JSON (expected an array of destinations)'] };
  }
  if (!Array.isArray(json)) return { destinations: [], problems: ['is not a JSON array of destinations'] };
  const destinations: WebhookDestinationConfig[] = [];
  const seen = new Set<string>();
  json.forEach((item: unknown, index) => {
    const rawName = (item as { name?: unknown } | null)?.name;
    const label =
      typeof rawName === 'string' && rawName !== ''
        ? `destination "${rawName}"`
        : `destination #${index + 1}`;
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
      bad.push(`unknown format "${d.format}" (use ${WEBHOOK_FORMATS.map((f) => `"${f}"`).join(', ')})`);
    if (d.minSeverity !== undefined && !(WEBHOOK_SEVERITIES as readonly string[]).includes(d.minSeverity))
      bad.push(
        `unknown minSeverity "${d.minSeverity}" (use ${WEBHOOK_SEVERITIES.map((v) => `"${v}"`).join(', ')})`,
      );
    for (const st of d.statuses ?? [])
      if (!(WEBHOOK_STATUSES as readonly string[]).includes(st))
        bad.push(`unknown status "${st}" (use ${WEBHOOK_STATUSES.map((v) => `"${v}"`).join(', ')})`);
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
    });
  });
  return { destinations, problems };
}

export interface ConfigProblem {
  setting: string;
  problem: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      [
        `Defender Relay cannot start: ${problems.length} app setting${problems.length === 1 ? ' is' : 's are'} wrong.`,
        ...problems.map((p) => `  - ${p.setting}: ${p.problem}`),
        'Fix them in the Function App\'s configuration (locally: the "Values" of local.settings.json) and restart. ' +
          'Every setting is described in the README.',
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\s*\(/i;

/** Validates the environment once; throws ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const problems: ConfigProblem[] = [];
  const input: Record<string, string> = {};
  for (const name of Object.keys(settingsSchema.shape) as SettingName[]) {
    const value = env[name];
    if (value === undefined || value.trim() === '') continue;
    if (KEY_VAULT_REFERENCE.test(value)) {
      problems.push({
        setting: name,
        problem:
          'holds an unresolved Key Vault reference (@Microsoft.KeyVault(...)). The Functions host could not resolve it: ' +
          'check that the reference names an existing secret and that the app\'s identity has the "Key Vault Secrets User" role on the vault ' +
          '(the relay reads its own secrets from KEY_VAULT_URL, so most settings need no reference at all).',
      });
      continue;
    }
    input[name] = value;
  }

  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const setting = String(issue.path[0] ?? '(settings)');
      if (problems.some((p) => p.setting === setting)) continue;
      const doc = SETTINGS_DOC[setting as SettingName];
      const missing = input[setting] === undefined;
      const problem = missing
        ? `is required but not set. ${doc?.fix ?? doc?.description ?? ''}`.trim()
        : `${describeIssue(issue)}. ${doc?.fix ?? `Expected: ${doc?.description ?? 'see the README'}`}`;
      problems.push({ setting, problem });
    }
  }
  const s = parsed.success ? parsed.data : undefined;

  // Rules that span settings.
  const storageUris = [
    'AzureWebJobsStorage__blobServiceUri',
    'AzureWebJobsStorage__queueServiceUri',
    'AzureWebJobsStorage__tableServiceUri',
  ] as const;
  const hasConnectionString = input.AzureWebJobsStorage !== undefined;
  const presentUris = storageUris.filter((n) => input[n] !== undefined);
  if (
    !hasConnectionString &&
    presentUris.length === 0 &&
    !problems.some((p) => p.setting.startsWith('AzureWebJobsStorage'))
  ) {
    problems.push({
      setting: 'AzureWebJobsStorage',
      problem: `is not set. ${SETTINGS_DOC.AzureWebJobsStorage.fix}`,
    });
  } else if (!hasConnectionString && presentUris.length < storageUris.length) {
    for (const n of storageUris.filter((u) => input[u] === undefined)) {
      problems.push({
        setting: n,
        problem:
          'is required for identity-based storage (the relay uses blobs, queues and tables). Set all three service URIs, or AzureWebJobsStorage.',
      });
    }
  }
  const credential = s?.DEFENDER_CREDENTIAL ?? 'secret';
  if (
    credential !== 'federated' &&
    input.KEY_VAULT_URL === undefined &&
    !problems.some((p) => p.setting === 'KEY_VAULT_URL')
  ) {
    problems.push({
      setting: 'KEY_VAULT_URL',
      problem: `is required when DEFENDER_CREDENTIAL is "${credential}" (the ${credential} is read from Key Vault). ${SETTINGS_DOC.KEY_VAULT_URL.fix}`,
    });
  }
  if (credential === 'federated' && input.MANAGED_IDENTITY_CLIENT_ID === undefined) {
    problems.push({
      setting: 'MANAGED_IDENTITY_CLIENT_ID',
      problem:
        'is required when DEFENDER_CREDENTIAL is "federated": only a user-assigned managed identity can be a federated identity credential. Set it to that identity\'s client ID.',
    });
  }

  if (
    input.CONSENT_REDIRECT_URI !== undefined &&
    input.KEY_VAULT_URL === undefined &&
    !problems.some((p) => p.setting === 'KEY_VAULT_URL')
  ) {
    problems.push({
      setting: 'KEY_VAULT_URL',
      problem: `is required when CONSENT_REDIRECT_URI is set (the key that signs the consent state is read from Key Vault secret CONSENT_STATE_KEY_SECRET_NAME). ${SETTINGS_DOC.KEY_VAULT_URL.fix}`,
    });
  }

  const webhooks = s ? parseWebhooks(s.WEBHOOKS) : { destinations: [], problems: [] };
  for (const problem of webhooks.problems) problems.push({ setting: 'WEBHOOKS', problem });

  if (problems.length > 0 || !s) throw new ConfigError(problems);

  const base = CLOUDS[s.DEFENDER_CLOUD];
  const trimSlash = (u: string) => u.replace(/\/+$/, '');
  const endpoints: CloudEndpoints = {
    authorityHost: trimSlash(s.DEFENDER_AUTHORITY_HOST ?? base.authorityHost),
    graphBaseUrl: trimSlash(s.DEFENDER_GRAPH_BASE_URL ?? base.graphBaseUrl),
    graphResource: trimSlash(s.DEFENDER_GRAPH_RESOURCE ?? base.graphResource),
    legacyBaseUrl: trimSlash(s.DEFENDER_LEGACY_BASE_URL ?? base.legacyBaseUrl),
    legacyResource: trimSlash(s.DEFENDER_LEGACY_RESOURCE ?? base.legacyResource),
    federationAudience: s.DEFENDER_FEDERATION_AUDIENCE ?? base.federationAudience,
    portalUrl: trimSlash(s.DEFENDER_PORTAL_URL ?? base.portalUrl),
  };
  const tenants =
    s.DEFENDER_TENANTS && s.DEFENDER_TENANTS.length > 0 ? s.DEFENDER_TENANTS : [s.DEFENDER_TENANT_ID];
  return {
    cloud: s.DEFENDER_CLOUD,
    api: s.DEFENDER_API,
    endpoints,
    homeTenantId: s.DEFENDER_TENANT_ID.toLowerCase(),
    clientId: s.DEFENDER_CLIENT_ID,
    tenants: [...new Set(tenants.map((t) => t.toLowerCase()))],
    credential:
      s.DEFENDER_CREDENTIAL === 'federated'
        ? { kind: 'federated' }
        : { kind: s.DEFENDER_CREDENTIAL, secretName: s.DEFENDER_CLIENT_SECRET_NAME },
    keyVaultUrl: s.KEY_VAULT_URL ? trimSlash(s.KEY_VAULT_URL) : undefined,
    managedIdentityClientId: s.MANAGED_IDENTITY_CLIENT_ID,
    secretCacheTtlMs: s.SECRET_CACHE_TTL_SECONDS * 1000,
    storage: {
      connectionString: s.AzureWebJobsStorage,
      blobServiceUri: s.AzureWebJobsStorage__blobServiceUri,
      queueServiceUri: s.AzureWebJobsStorage__queueServiceUri,
      tableServiceUri: s.AzureWebJobsStorage__tableServiceUri,
      clientId: s.AzureWebJobsStorage__clientId,
    },
    names: {
      incidentsQueue: s.INCIDENTS_QUEUE_NAME,
      claimCheckContainer: s.CLAIM_CHECK_CONTAINER_NAME,
      stateTable: s.STATE_TABLE_NAME,
      tenantsTable: s.TENANTS_TABLE_NAME,
    },
    consent: {
      redirectUri: s.CONSENT_REDIRECT_URI,
      stateKeySecretName: s.CONSENT_STATE_KEY_SECRET_NAME,
      stateLifetimeMs: s.CONSENT_STATE_LIFETIME_MINUTES * 60_000,
    },
    sync: {
      schedule: s.SYNC_SCHEDULE,
      initialLookbackMs: s.SYNC_INITIAL_LOOKBACK_MINUTES * 60_000,
      overlapMs: s.SYNC_OVERLAP_MINUTES * 60_000,
      maxApiCallsPerRun: s.SYNC_MAX_API_CALLS_PER_RUN,
      maxRunMs: s.SYNC_MAX_RUN_SECONDS * 1000,
      jobsQueue: s.SYNC_JOBS_QUEUE_NAME,
      leasesContainer: s.LEASES_CONTAINER_NAME,
      tenantConcurrency: s.SYNC_TENANT_CONCURRENCY,
      legacyCallsPerMinute: s.LEGACY_CALLS_PER_MINUTE,
    },
    http: { timeoutMs: s.DEFENDER_REQUEST_TIMEOUT_SECONDS * 1000, maxRetries: s.DEFENDER_MAX_RETRIES },
    user: {
      allowedTenants: [
        ...new Set(
          (s.USER_ALLOWED_TENANTS && s.USER_ALLOWED_TENANTS.length > 0
            ? s.USER_ALLOWED_TENANTS
            : tenants
          ).map((t) => t.toLowerCase()),
        ),
      ],
      requiredScope: s.USER_REQUIRED_SCOPE,
      requiredRole: s.USER_REQUIRED_ROLE,
    },
    inbound: {
      secretName: s.INBOUND_WEBHOOK_SECRET_NAME,
      table: s.INBOUND_TABLE_NAME,
      retryQueue: s.INBOUND_RETRY_QUEUE_NAME,
      replayWindowMs: s.INBOUND_REPLAY_WINDOW_SECONDS * 1000,
    },
    webhooks: {
      destinations: webhooks.destinations,
      outboxQueue: s.WEBHOOK_OUTBOX_QUEUE_NAME,
      poisonQueue: `${s.WEBHOOK_OUTBOX_QUEUE_NAME}-poison`,
      maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: s.WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryBaseSeconds: s.WEBHOOK_RETRY_BASE_SECONDS,
      allowPrivateAddresses: s.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    },
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `is not one of ${(issue.values as unknown[]).map((v) => `"${String(v)}"`).join(', ')}`;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') return `is out of range (${issue.message})`;
  return issue.message.replace(/^Invalid input:?\s*/i, 'is invalid: ');
}
