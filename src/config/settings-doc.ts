/**
 * The documentation of every setting: its default as a user sees it, what it means, and how to fix it.
 * The README table and local.settings.example.json are generated from it (tools/settings-doc.ts), start-up
 * errors quote its `fix`, and tests keep it, the schema, the Bicep and the README in step.
 */
import type { SettingName } from './settings';

export interface SettingDoc {
  default?: string;
  description: string;
  /** Shown as the fix when the setting is missing or invalid. */
  fix?: string;
}

/** Documentation of every setting; the README table and the Bicep cross-check test read it. */
export const SETTINGS_DOC: Record<SettingName, SettingDoc> = {
  DEFENDER_CLOUD: {
    default: 'public',
    description: 'Microsoft cloud: `public`, `gcc`, `gcchigh` or `dod`. Sets every host below together.',
  },
  DEFENDER_API: {
    default: 'graph',
    description:
      'Which Defender API a tenant reads unless its own API is set (`DEFENDER_TENANTS` `<id>:legacy`, `defender-relay tenants set-api`): `graph` (Microsoft Graph security API) or `legacy` (api.security.microsoft.com, retired 2027-02-01; see docs/migration.md).',
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
      "Comma-separated tenant IDs to sync (MSSP: the customer tenants that granted admin consent); `<id>:graph` or `<id>:legacy` sets that tenant's API (default `DEFENDER_API`; the registry's `tenants set-api` wins).",
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
  SECRET_REFRESH_MIN_SECONDS: {
    default: '30',
    description:
      'The least time between two Key Vault reads of one secret, rotation checks included (a rejected client secret, a webhook 401, an inbound signature that does not match): one read shared by every caller, the last good value kept when a read fails. Caps what anonymous requests can cost the vault.',
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
      'Redirect URI registered on the app registration for admin consent, e.g. `https://<app>.azurewebsites.net/api/consent/callback`. Empty: the consent endpoints answer 503. See docs/partner-setup.md.',
  },
  CONSENT_STATE_KEY_SECRET_NAME: {
    default: 'consent-state-key',
    description:
      'Name of the Key Vault secret holding the HMAC key that signs the consent `state` (at least 32 random characters).',
  },
  CONSENT_STATE_LIFETIME_MINUTES: {
    default: '1440',
    description:
      'How long a consent link (its signed, single-use `state`) stays valid once an operator has issued it (`GET /api/consent` with the function key, or `defender-relay tenants invite`); at most 10080 (a week).',
  },
  SYNC_SCHEDULE: {
    default: '0 */5 * * * *',
    description:
      'Schedule of the sync timer (every 5 minutes by default): six-field NCRONTAB (`{second} {minute} {hour} {day} {month} {day-of-week}`; values, ranges, lists, steps, month and weekday names), checked at start. A TimeSpan (`hh:mm:ss`) runs only on an App Service plan: on Flex Consumption (what infra/ deploys) or Consumption, read from the `WEBSITE_SKU` the Functions host sets, it is refused.',
    fix: 'Use a six-field NCRONTAB expression such as "0 */5 * * * *" (every 5 minutes) or "0 0 * * * *" (hourly).',
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
  SWEEP_SCHEDULE: {
    default: '0 17 * * * *',
    description:
      "NCRONTAB schedule of the completeness sweep timer (hourly, at minute 17, away from the sync's 5-minute marks). See docs/completeness.md.",
  },
  SWEEP_WINDOW_HOURS: {
    default: '24',
    description:
      "How far back the sweep checks that every current incident version was delivered (ending before the sync's overlap); delivered records are kept this long.",
  },
  SWEEP_MAX_API_CALLS_PER_RUN: {
    default: '300',
    description:
      "Per-tenant call budget of one sweep, apart from the sync's (the per-tenant rate limits are shared); a sweep stopped by it resumes next time.",
  },
  SWEEP_JOBS_QUEUE_NAME: {
    default: 'relay-sweep-jobs',
    description:
      'Queue of per-tenant sweep jobs: the sweep timer puts one job per tenant on it; a queue-triggered worker sweeps one tenant per job.',
  },
  LEASES_CONTAINER_NAME: {
    default: 'relay-leases',
    description:
      'Blob container of per-tenant leases: a timer run, a retry and an on-demand sync never work one tenant at once.',
  },
  GRAPH_CALLS_PER_MINUTE: {
    default: '120',
    description:
      'Per-tenant ceiling on Microsoft Graph security calls (sync and actions together), under the about 150 a minute per app per tenant that Graph allows before it answers 429.',
  },
  LEGACY_CALLS_PER_MINUTE: {
    default: '45',
    description:
      'Per-tenant ceiling on calls to the legacy Defender API, under its documented 50 calls a minute.',
  },
  LEGACY_CALLS_PER_HOUR: {
    default: '1400',
    description:
      'Per-tenant hourly ceiling on calls to the legacy Defender API, under its documented 1,500 an hour.',
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
      'Without `INBOUND_SENDERS`: name of the Key Vault secret that verifies inbound webhooks (Standard Webhooks `whsec_<base64>`, at least 24 bytes), the one sender `default` (`POST /api/webhooks/incident-updates`), allowed in the tenants of `DEFENDER_TENANTS` (or the home tenant) only.',
  },
  INBOUND_SENDERS: {
    default: '[]',
    description:
      'Inbound webhook senders, a JSON array: `[{"name":"contoso-snow","secret":"<Key Vault secret>","tenants":["<tenant id>"]}]`, each calling `POST /api/webhooks/incident-updates/<name>`, signing with its own secret, acting only in its `tenants` (first = the default). Two-way options: docs/two-way.md. Replaces `INBOUND_WEBHOOK_SECRET_NAME`. See docs/inbound-webhooks.md.',
    fix: 'Set it to a JSON array of senders as described in docs/inbound-webhooks.md (each with "name", "secret": a Key Vault secret NAME, and "tenants": tenant ids).',
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
