/**
 * Every app setting the relay reads: one zod schema (documented in settings-doc.ts, value checks in
 * validators.ts, the WEBHOOKS array in webhook-destinations.ts). `loadConfig` validates
 * the environment once at start and turns it into a typed `RelayConfig`; a bad environment fails with one
 * `ConfigError` that lists every bad setting by name and says how to fix it. Values are never echoed
 * back (AzureWebJobsStorage can hold an account key).
 */
import { z } from 'zod';
import {
  httpsUrl,
  anyUrl,
  guid,
  guidList,
  tenantList,
  intIn,
  queueName,
  tableName,
  secretName,
  ncrontab,
  isRedirectUri,
  describeIssue,
} from './validators';
import { SETTINGS_DOC } from './settings-doc';
import { scheduleProblem } from './ncrontab';
import { parseWebhooks, type WebhookDestinationConfig, type WebhookSettings } from './webhook-destinations';
import {
  DEFAULT_SENDER,
  parseInboundSenders,
  SENDER_DEFAULTS,
  type InboundSenderConfig,
} from './inbound-senders';
import { CLOUDS, type CloudEndpoints, type CloudName } from '../auth/clouds';

/** The schema: every setting, as the environment holds it (strings), with its default. */
export const settingsSchema = z.object({
  DEFENDER_CLOUD: z.enum(['public', 'gcc', 'gcchigh', 'dod']).default('public'),
  DEFENDER_API: z.enum(['graph', 'legacy']).default('graph'),
  DEFENDER_TENANT_ID: guid,
  DEFENDER_CLIENT_ID: guid,
  DEFENDER_TENANTS: tenantList.optional(),
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
  SECRET_REFRESH_MIN_SECONDS: intIn(1, 3600).default(30),
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
  CONSENT_STATE_LIFETIME_MINUTES: intIn(1, 10_080).default(1440),
  SYNC_SCHEDULE: ncrontab.default('0 */5 * * * *'),
  SYNC_INITIAL_LOOKBACK_MINUTES: intIn(1, 60 * 24 * 180).default(1440),
  SYNC_OVERLAP_MINUTES: intIn(0, 1440).default(10),
  SYNC_MAX_API_CALLS_PER_RUN: intIn(1, 100_000).default(500),
  SYNC_MAX_RUN_SECONDS: intIn(10, 3600).default(240),
  SYNC_JOBS_QUEUE_NAME: queueName.default('relay-sync-jobs'),
  SYNC_TENANT_CONCURRENCY: intIn(1, 64).default(8),
  SWEEP_SCHEDULE: ncrontab.default('0 17 * * * *'),
  SWEEP_WINDOW_HOURS: intIn(1, 168).default(24),
  SWEEP_MAX_API_CALLS_PER_RUN: intIn(1, 100_000).default(300),
  SWEEP_JOBS_QUEUE_NAME: queueName.default('relay-sweep-jobs'),
  LEASES_CONTAINER_NAME: z
    .string()
    .trim()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, { message: 'is not a valid blob container name' })
    .default('relay-leases'),
  GRAPH_CALLS_PER_MINUTE: intIn(1, 150).default(120),
  LEGACY_CALLS_PER_MINUTE: intIn(1, 50).default(45),
  LEGACY_CALLS_PER_HOUR: intIn(1, 1500).default(1400),
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
  INBOUND_SENDERS: z.string().trim().default('[]'),
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
  /** The API of each tenant of DEFENDER_TENANTS that names one (`<id>:legacy`); the others use `api`. */
  tenantApis: Record<string, 'graph' | 'legacy'>;
  credential: CredentialConfig;
  keyVaultUrl?: string;
  managedIdentityClientId?: string;
  secretCacheTtlMs: number;
  /** The least time between two Key Vault reads of one secret (rotation checks included). */
  secretRefreshMinMs: number;
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
    graphCallsPerMinute: number;
    legacyCallsPerMinute: number;
    legacyCallsPerHour: number;
  };
  /** The completeness sweep (src/sweep/): its schedule, window, own call budget and fan-out queue. */
  sweep: { schedule: string; windowMs: number; maxApiCallsPerRun: number; jobsQueue: string };
  http: { timeoutMs: number; maxRetries: number };
  /** User context (on-behalf-of): who may call, with which scope / role. */
  user: { allowedTenants: string[]; requiredScope: string; requiredRole?: string };
  /** Inbound webhooks from ticketing / SOAR systems. */
  inbound: {
    /** Who may call the inbound webhook, with which secret, in which tenants (INBOUND_SENDERS). */
    senders: InboundSender[];
    table: string;
    retryQueue: string;
    replayWindowMs: number;
  };
  webhooks: WebhookSettings;
}

/** An inbound sender as the relay uses it. */
export interface InboundSender extends InboundSenderConfig {
  /** The tenant of a body that names none: the sender's first tenant (the default sender: the home tenant). */
  defaultTenant: string;
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

/** Plain-http storage is for Azurite on this machine: UseDevelopmentStorage, or every endpoint on loopback. */
export function isLocalStorageConnection(connectionString: string): boolean {
  const parts = new Map(
    connectionString
      .split(';')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const i = p.indexOf('=');
        return [p.slice(0, i).toLowerCase(), p.slice(i + 1)] as const;
      }),
  );
  if (/^true$/i.test(parts.get('usedevelopmentstorage') ?? '')) return true;
  const endpoints = ['blobendpoint', 'queueendpoint', 'tableendpoint']
    .map((k) => parts.get(k))
    .filter((v): v is string => v !== undefined);
  const http =
    /^http$/i.test(parts.get('defaultendpointsprotocol') ?? '') || endpoints.some((e) => /^http:/i.test(e));
  if (!http) return true;
  return endpoints.length === 3 && endpoints.every(isLoopbackUrl);
}

function isLoopbackUrl(value: string): boolean {
  try {
    const host = new URL(value).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\s*\(/i;

/** Validates the environment once; throws ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const problems: ConfigProblem[] = [];
  const input = readSettings(env, problems);
  const s = parseSettings(input, problems);
  storageProblems(input, problems);
  credentialProblems(input, s, problems);
  const webhooks = s ? parseWebhooks(s.WEBHOOKS) : { destinations: [], problems: [] };
  for (const problem of webhooks.problems) problems.push({ setting: 'WEBHOOKS', problem });
  const senders = s ? parseInboundSenders(s.INBOUND_SENDERS) : { senders: [], problems: [] };
  for (const problem of senders.problems) problems.push({ setting: 'INBOUND_SENDERS', problem });
  const names = senders.senders.length > 0 ? senders.senders.map((x) => x.name) : [DEFAULT_SENDER];
  for (const problem of unknownEchoSenders(webhooks.destinations, names))
    problems.push({ setting: 'WEBHOOKS', problem });
  // The plan the host runs on (it sets WEBSITE_SKU) decides whether a TimeSpan schedule runs at all.
  const planProblem = s && scheduleProblem(s.SYNC_SCHEDULE, env.WEBSITE_SKU);
  if (planProblem) problems.push({ setting: 'SYNC_SCHEDULE', problem: planProblem });
  if (problems.length > 0 || !s) throw new ConfigError(problems);
  return toRelayConfig(s, webhooks.destinations, senders.senders);
}

/** `dropEchoesOf` must name inbound senders: a misspelt name would never drop anything. */
function unknownEchoSenders(destinations: WebhookDestinationConfig[], senders: string[]): string[] {
  const known = new Set(senders.map((n) => n.toLowerCase()));
  return destinations.flatMap((d) =>
    (d.dropEchoesOf ?? [])
      .filter((n) => !known.has(n.toLowerCase()))
      .map(
        (n) =>
          `destination "${d.name}": "dropEchoesOf" names "${n}", which is not an inbound sender (INBOUND_SENDERS names: ${senders.join(', ')})`,
      ),
  );
}

/** The settings the schema knows, as set (empty ones left out); unresolved Key Vault references are problems. */
function readSettings(env: NodeJS.ProcessEnv, problems: ConfigProblem[]): Record<string, string> {
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

  return input;
}

/** The schema's verdict, one problem per bad setting (its documented fix, never its value). */
function parseSettings(input: Record<string, string>, problems: ConfigProblem[]): RawSettings | undefined {
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
  return parsed.success ? parsed.data : undefined;
}

/** Storage: one of the two forms, whole; plain http only for Azurite on this machine. */
function storageProblems(input: Record<string, string>, problems: ConfigProblem[]): void {
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
  const cs = input.AzureWebJobsStorage;
  if (cs !== undefined && !isLocalStorageConnection(cs)) {
    problems.push({
      setting: 'AzureWebJobsStorage',
      problem:
        'uses DefaultEndpointsProtocol=http for a storage account that is not on this machine: use DefaultEndpointsProtocol=https (plain http is only for Azurite: UseDevelopmentStorage=true or endpoints on localhost / 127.0.0.1).',
    });
  }
}

/** Where the credential and the consent key come from. */
function credentialProblems(
  input: Record<string, string>,
  s: RawSettings | undefined,
  problems: ConfigProblem[],
): void {
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
}

/** The endpoints of the cloud, each overridable alone. */
function endpointsOf(s: RawSettings): CloudEndpoints {
  const base = CLOUDS[s.DEFENDER_CLOUD];
  return {
    authorityHost: trimSlash(s.DEFENDER_AUTHORITY_HOST ?? base.authorityHost),
    graphBaseUrl: trimSlash(s.DEFENDER_GRAPH_BASE_URL ?? base.graphBaseUrl),
    graphResource: trimSlash(s.DEFENDER_GRAPH_RESOURCE ?? base.graphResource),
    legacyBaseUrl: trimSlash(s.DEFENDER_LEGACY_BASE_URL ?? base.legacyBaseUrl),
    legacyResource: trimSlash(s.DEFENDER_LEGACY_RESOURCE ?? base.legacyResource),
    federationAudience: s.DEFENDER_FEDERATION_AUDIENCE ?? base.federationAudience,
    portalUrl: trimSlash(s.DEFENDER_PORTAL_URL ?? base.portalUrl),
  };
}

const trimSlash = (u: string) => u.replace(/\/+$/, '');

function toRelayConfig(
  s: RawSettings,
  destinations: WebhookDestinationConfig[],
  senders: InboundSenderConfig[],
): RelayConfig {
  const endpoints = endpointsOf(s);
  const tenantEntries =
    s.DEFENDER_TENANTS && s.DEFENDER_TENANTS.length > 0
      ? s.DEFENDER_TENANTS
      : [{ tenantId: s.DEFENDER_TENANT_ID.toLowerCase(), api: undefined }];
  const tenants = tenantEntries.map((t) => t.tenantId);
  return {
    cloud: s.DEFENDER_CLOUD,
    api: s.DEFENDER_API,
    endpoints,
    homeTenantId: s.DEFENDER_TENANT_ID.toLowerCase(),
    clientId: s.DEFENDER_CLIENT_ID,
    tenants: [...new Set(tenants.map((t) => t.toLowerCase()))],
    tenantApis: Object.fromEntries(tenantEntries.filter((t) => t.api).map((t) => [t.tenantId, t.api!])),
    credential:
      s.DEFENDER_CREDENTIAL === 'federated'
        ? { kind: 'federated' }
        : { kind: s.DEFENDER_CREDENTIAL, secretName: s.DEFENDER_CLIENT_SECRET_NAME },
    keyVaultUrl: s.KEY_VAULT_URL ? trimSlash(s.KEY_VAULT_URL) : undefined,
    managedIdentityClientId: s.MANAGED_IDENTITY_CLIENT_ID,
    secretCacheTtlMs: s.SECRET_CACHE_TTL_SECONDS * 1000,
    secretRefreshMinMs: s.SECRET_REFRESH_MIN_SECONDS * 1000,
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
      graphCallsPerMinute: s.GRAPH_CALLS_PER_MINUTE,
      legacyCallsPerMinute: s.LEGACY_CALLS_PER_MINUTE,
      legacyCallsPerHour: s.LEGACY_CALLS_PER_HOUR,
    },
    sweep: {
      schedule: s.SWEEP_SCHEDULE,
      windowMs: s.SWEEP_WINDOW_HOURS * 3_600_000,
      maxApiCallsPerRun: s.SWEEP_MAX_API_CALLS_PER_RUN,
      jobsQueue: s.SWEEP_JOBS_QUEUE_NAME,
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
      senders:
        senders.length > 0
          ? senders.map((x) => ({ ...x, defaultTenant: x.tenants[0]! }))
          : [
              {
                name: DEFAULT_SENDER,
                secret: s.INBOUND_WEBHOOK_SECRET_NAME,
                tenants: [...new Set(tenants.map((t) => t.toLowerCase()))],
                defaultTenant: s.DEFENDER_TENANT_ID.toLowerCase(),
                ...SENDER_DEFAULTS,
                fields: [...SENDER_DEFAULTS.fields],
              },
            ],
      table: s.INBOUND_TABLE_NAME,
      retryQueue: s.INBOUND_RETRY_QUEUE_NAME,
      replayWindowMs: s.INBOUND_REPLAY_WINDOW_SECONDS * 1000,
    },
    webhooks: {
      destinations,
      outboxQueue: s.WEBHOOK_OUTBOX_QUEUE_NAME,
      poisonQueue: `${s.WEBHOOK_OUTBOX_QUEUE_NAME}-poison`,
      maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: s.WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryBaseSeconds: s.WEBHOOK_RETRY_BASE_SECONDS,
      allowPrivateAddresses: s.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    },
  };
}

/** What is allowed but risky: said at start (the host log, the CLI) and in deep health. */
export function startupWarnings(config: RelayConfig): string[] {
  const warnings: string[] = [];
  if (config.webhooks.allowPrivateAddresses) {
    warnings.push(
      'WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on: webhooks may reach private, loopback and link-local addresses (instance metadata stays blocked). Local development only: turn it off in Azure.',
    );
  }
  return warnings;
}
