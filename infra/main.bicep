// Defender Relay: everything it runs on, with least privilege. Deploy with `azd up` (see docs/deploy.md)
// or `az deployment sub create -l <region> -f infra/main.bicep -p environmentName=<name> defenderClientId=<app id>`.
//
// Local modules only (no public registry): compiles offline. Compile and lint: bash tools/bicep/check.sh

targetScope = 'subscription'

// ---------------------------------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(48)
@description('Name of the environment (azd: AZURE_ENV_NAME). Names every resource and the resource group.')
param environmentName string

@minLength(1)
@description('Azure region of every resource (a region that offers Flex Consumption).')
param location string

@description('Resource group to create or update. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional: object id of the person or pipeline deploying (azd: AZURE_PRINCIPAL_ID). Gets Key Vault Secrets Officer so it can put the secrets in.')
param deployerPrincipalId string = ''

@description('Optional: object id of the person, group or pipeline that runs the defender-relay CLI against this deployment from its own machine (azd: RELAY_OPERATOR_PRINCIPAL_ID). Gets the storage data roles and Key Vault Secrets User (docs/deploy.md). Empty: none.')
param operatorPrincipalId string = ''

@description('Kind of principal operatorPrincipalId is (azd: RELAY_OPERATOR_PRINCIPAL_TYPE).')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

@description('Memory of one Function App instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound of Function App instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Node.js version the Functions runtime runs.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Optional e-mail address that alerts are sent to. Empty: alerts show in the portal only.')
param alertEmail string = ''

@description('Days a claim-check blob (an event over the 64 KiB queue limit, or a webhook job) is kept before lifecycle management deletes it; 0 keeps them forever. Consumers must read a claim check within this time.')
@minValue(0)
param claimCheckRetentionDays int = 30

@description('Alert when a tenant\'s sync lag exceeds this many seconds.')
param tenantLagThresholdSeconds int = 1800

@description('Alert when a tenant fails more than this many syncs in 30 minutes.')
param syncFailureThreshold int = 2

// ---------------------------------------------------------------------------------------------------
// The relay's settings (src/config/settings.ts). Empty string = the relay's own default.
// Secret VALUES are never parameters: only the NAMES of the Key Vault secrets are.
// ---------------------------------------------------------------------------------------------------

@description('DEFENDER_CLOUD: public, gcc, gcchigh or dod.')
@allowed([
  'public'
  'gcc'
  'gcchigh'
  'dod'
])
param defenderCloud string = 'public'

@description('DEFENDER_API: graph (Microsoft Graph security API) or legacy (api.security.microsoft.com, retired 2027-02-01): the API of tenants that do not set their own.')
@allowed([
  'graph'
  'legacy'
])
param defenderApi string = 'graph'

@description('DEFENDER_TENANT_ID: directory (tenant) id of the app registration. Empty: the tenant deployed to.')
param defenderTenantId string = ''

@description('DEFENDER_CLIENT_ID: application (client) id of the app registration that holds the Defender permissions.')
@minLength(36)
@maxLength(36)
param defenderClientId string

@description('DEFENDER_TENANTS: comma-separated tenant ids to sync (MSSP: the consented customer tenants), each optionally <id>:graph or <id>:legacy. Empty: the home tenant.')
param defenderTenants string = ''

@description('DEFENDER_CREDENTIAL: secret (client secret in Key Vault), certificate (in Key Vault) or federated (this deployment\'s managed identity, no stored secret).')
@allowed([
  'secret'
  'certificate'
  'federated'
])
param defenderCredential string = 'secret'

@description('DEFENDER_CLIENT_SECRET_NAME: NAME of the Key Vault secret holding the client secret or certificate (the value is set with az keyvault secret set).')
param defenderClientSecretName string = 'defender-client-secret'

@description('DEFENDER_AUTHORITY_HOST: Entra ID authority host. Empty: per cloud.')
param defenderAuthorityHost string = ''

@description('DEFENDER_GRAPH_BASE_URL: Microsoft Graph base URL. Empty: per cloud.')
param defenderGraphBaseUrl string = ''

@description('DEFENDER_LEGACY_BASE_URL: legacy Defender XDR API base URL. Empty: per cloud.')
param defenderLegacyBaseUrl string = ''

@description('DEFENDER_GRAPH_RESOURCE: audience of Graph tokens. Empty: per cloud.')
param defenderGraphResource string = ''

@description('DEFENDER_LEGACY_RESOURCE: audience of legacy Defender API tokens. Empty: per cloud.')
param defenderLegacyResource string = ''

@description('DEFENDER_PORTAL_URL: Defender portal for incident links. Empty: per cloud.')
param defenderPortalUrl string = ''

@description('DEFENDER_FEDERATION_AUDIENCE: audience of the managed-identity token used as a federated credential. Empty: per cloud.')
param defenderFederationAudience string = ''

@description('TENANTS_TABLE_NAME: table of the tenant registry (onboarded customer tenants) and used consent states.')
param tenantsTableName string = 'relaytenants'

@description('CONSENT_REDIRECT_URI: redirect URI registered on the app registration for admin consent (https://<app host>/api/consent/callback). Empty: onboarding off.')
param consentRedirectUri string = ''

@description('CONSENT_STATE_KEY_SECRET_NAME: NAME of the Key Vault secret holding the key that signs consent states.')
param consentStateKeySecretName string = 'consent-state-key'

@description('CONSENT_STATE_LIFETIME_MINUTES: how long a consent link (an operator\'s invitation) stays valid once issued.')
@minValue(1)
@maxValue(10080)
param consentStateLifetimeMinutes int = 1440

@description('SECRET_CACHE_TTL_SECONDS: how long a secret read from Key Vault is reused.')
param secretCacheTtlSeconds int = 300

@description('SECRET_REFRESH_MIN_SECONDS: the least time between two Key Vault reads of one secret (rotation checks included).')
@minValue(1)
@maxValue(3600)
param secretRefreshMinSeconds int = 30

@description('INCIDENTS_QUEUE_NAME: queue receiving one CloudEvents message per incident version.')
param incidentsQueueName string = 'defender-incidents'

@description('CLAIM_CHECK_CONTAINER_NAME: blob container for events over the 64 KiB queue limit.')
param claimCheckContainerName string = 'defender-incident-payloads'

@description('STATE_TABLE_NAME: table of per-tenant checkpoints and delivered versions.')
param stateTableName string = 'relaystate'

@description('SYNC_SCHEDULE: NCRONTAB schedule of the sync timer.')
param syncSchedule string = '0 */5 * * * *'

@description('SYNC_INITIAL_LOOKBACK_MINUTES: first-run look-back.')
param syncInitialLookbackMinutes int = 1440

@description('SYNC_OVERLAP_MINUTES: window re-read before the checkpoint.')
param syncOverlapMinutes int = 10

@description('SYNC_MAX_API_CALLS_PER_RUN: per-tenant call budget of one run.')
param syncMaxApiCallsPerRun int = 500

@description('SYNC_MAX_RUN_SECONDS: per-tenant time budget of one run.')
param syncMaxRunSeconds int = 240

@description('SYNC_JOBS_QUEUE_NAME: queue of per-tenant sync jobs (the fan-out).')
param syncJobsQueueName string = 'relay-sync-jobs'

@description('SYNC_TENANT_CONCURRENCY: tenants one process syncs at once outside the fan-out (CLI).')
param syncTenantConcurrency int = 8

@description('SWEEP_SCHEDULE: NCRONTAB schedule of the completeness sweep timer (hourly).')
param sweepSchedule string = '0 17 * * * *'

@description('SWEEP_WINDOW_HOURS: how far back the completeness sweep checks delivery; delivered records are kept this long.')
@minValue(1)
@maxValue(168)
param sweepWindowHours int = 24

@description('SWEEP_MAX_API_CALLS_PER_RUN: per-tenant call budget of one sweep (apart from the sync\'s).')
param sweepMaxApiCallsPerRun int = 300

@description('SWEEP_JOBS_QUEUE_NAME: queue of per-tenant sweep jobs (the fan-out).')
param sweepJobsQueueName string = 'relay-sweep-jobs'

@description('LEASES_CONTAINER_NAME: blob container of per-tenant leases.')
param leasesContainerName string = 'relay-leases'

@description('GRAPH_CALLS_PER_MINUTE: per-tenant ceiling on Microsoft Graph security calls (Graph allows about 150 a minute).')
@minValue(1)
@maxValue(150)
param graphCallsPerMinute int = 120

@description('LEGACY_CALLS_PER_MINUTE: per-tenant ceiling on legacy Defender API calls (documented limit 50).')
@minValue(1)
@maxValue(50)
param legacyCallsPerMinute int = 45

@description('LEGACY_CALLS_PER_HOUR: per-tenant hourly ceiling on legacy Defender API calls (documented limit 1,500).')
@minValue(1)
@maxValue(1500)
param legacyCallsPerHour int = 1400

@description('DEFENDER_REQUEST_TIMEOUT_SECONDS: timeout of one Defender API request.')
param defenderRequestTimeoutSeconds int = 60

@description('DEFENDER_MAX_RETRIES: retries of a throttled, failed or timed-out Defender request.')
param defenderMaxRetries int = 4

@description('WEBHOOKS: JSON array of webhook destinations (names of the Key Vault secrets holding their URLs and signing keys, never the values). See docs/webhooks.md.')
param webhooks array = []

@description('WEBHOOK_OUTBOX_QUEUE_NAME: queue of pending webhook deliveries (its -poison queue keeps the given-up ones).')
param webhookOutboxQueueName string = 'relay-webhook-outbox'

@description('WEBHOOK_MAX_ATTEMPTS: attempts of one webhook delivery before it moves to the poison queue.')
@minValue(1)
@maxValue(50)
param webhookMaxAttempts int = 8

@description('WEBHOOK_TIMEOUT_SECONDS: timeout of one webhook request.')
@minValue(1)
@maxValue(120)
param webhookTimeoutSeconds int = 10

@description('WEBHOOK_RETRY_BASE_SECONDS: first retry delay of a failed webhook delivery (doubling, at most an hour).')
@minValue(1)
@maxValue(3600)
param webhookRetryBaseSeconds int = 60

@description('WEBHOOK_ALLOW_PRIVATE_ADDRESSES: allow webhooks on private, loopback and link-local addresses (local development only).')
param webhookAllowPrivateAddresses bool = false

@description('USER_ALLOWED_TENANTS: tenants whose users may call the user-context functions (empty: the synced tenants).')
param userAllowedTenants string = ''

@description('USER_REQUIRED_SCOPE: delegated scope a caller\'s token must carry.')
param userRequiredScope string = 'Defender.Act'

@description('USER_REQUIRED_ROLE: app role a caller\'s user token must also carry (empty: none).')
param userRequiredRole string = ''

@description('INBOUND_WEBHOOK_SECRET_NAME: Key Vault secret that verifies inbound webhooks.')
param inboundWebhookSecretName string = 'inbound-webhook-secret'

@description('INBOUND_SENDERS: inbound webhook senders, a JSON array of {name, secret (Key Vault secret NAME), tenants}. Empty: the one sender of INBOUND_WEBHOOK_SECRET_NAME.')
param inboundSenders array = []

@description('INBOUND_TABLE_NAME: table of inbound webhook message ids.')
param inboundTableName string = 'relayinbound'

@description('INBOUND_RETRY_QUEUE_NAME: queue of inbound updates to retry.')
param inboundRetryQueueName string = 'relay-inbound-retry'

@description('INBOUND_REPLAY_WINDOW_SECONDS: inbound webhooks older than this are rejected.')
param inboundReplayWindowSeconds int = 300

// ---------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------

var tags = {
  'azd-env-name': environmentName
  application: 'defender-relay'
}
var token = toLower(uniqueString(subscription().id, environmentName, location))
var rgName = empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
var appName = 'func-relay-${token}'
var deploymentContainerName = 'app-package-${take(token, 12)}'

// Storage the relay uses: the queues and their -poison queues, the tables, the containers.
var relayQueues = [
  incidentsQueueName
  syncJobsQueueName
  sweepJobsQueueName
  webhookOutboxQueueName
  inboundRetryQueueName
]
var queueNames = flatten(map(relayQueues, q => [q, '${q}-poison']))
var tableNames = [
  stateTableName
  tenantsTableName
  inboundTableName
]
var containerNames = [
  claimCheckContainerName
  leasesContainerName
  deploymentContainerName
]

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: rgName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: {
    name: 'id-relay-${token}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: {
    name: 'strelay${take(token, 17)}'
    location: location
    tags: tags
    queueNames: queueNames
    tableNames: tableNames
    containerNames: containerNames
    claimCheckContainerName: claimCheckContainerName
    claimCheckRetentionDays: claimCheckRetentionDays
  }
}

module vault 'modules/keyvault.bicep' = {
  scope: rg
  name: 'keyvault'
  params: {
    name: 'kv-relay-${take(token, 14)}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-relay-${token}'
    appInsightsName: 'appi-relay-${token}'
    location: location
    tags: tags
  }
}

module roles 'modules/roles.bicep' = {
  scope: rg
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: vault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    deployerPrincipalId: deployerPrincipalId
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

// Every setting of src/config/settings.ts (SETTINGS_DOC), test/unit/infra.test.ts checks that none is
// missing. AzureWebJobsStorage (a connection string, for local runs) is replaced by the identity-based
// AzureWebJobsStorage__* settings. No secret is an app setting: the relay reads them from KEY_VAULT_URL.
var appSettings = {
  // Functions host: identity-based storage and Entra-authenticated Application Insights.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  // Defender and Entra ID.
  DEFENDER_CLOUD: defenderCloud
  DEFENDER_API: defenderApi
  DEFENDER_TENANT_ID: empty(defenderTenantId) ? tenant().tenantId : defenderTenantId
  DEFENDER_CLIENT_ID: defenderClientId
  DEFENDER_TENANTS: defenderTenants
  DEFENDER_CREDENTIAL: defenderCredential
  DEFENDER_CLIENT_SECRET_NAME: defenderClientSecretName
  DEFENDER_AUTHORITY_HOST: defenderAuthorityHost
  DEFENDER_GRAPH_BASE_URL: defenderGraphBaseUrl
  DEFENDER_LEGACY_BASE_URL: defenderLegacyBaseUrl
  DEFENDER_GRAPH_RESOURCE: defenderGraphResource
  DEFENDER_LEGACY_RESOURCE: defenderLegacyResource
  DEFENDER_PORTAL_URL: defenderPortalUrl
  DEFENDER_FEDERATION_AUDIENCE: defenderFederationAudience
  DEFENDER_REQUEST_TIMEOUT_SECONDS: string(defenderRequestTimeoutSeconds)
  DEFENDER_MAX_RETRIES: string(defenderMaxRetries)
  // Secrets: where they are, never what they are.
  KEY_VAULT_URL: vault.outputs.uri
  MANAGED_IDENTITY_CLIENT_ID: identity.outputs.clientId
  SECRET_CACHE_TTL_SECONDS: string(secretCacheTtlSeconds)
  SECRET_REFRESH_MIN_SECONDS: string(secretRefreshMinSeconds)
  // Storage names.
  INCIDENTS_QUEUE_NAME: incidentsQueueName
  CLAIM_CHECK_CONTAINER_NAME: claimCheckContainerName
  STATE_TABLE_NAME: stateTableName
  TENANTS_TABLE_NAME: tenantsTableName
  // Partner context: admin-consent onboarding.
  CONSENT_REDIRECT_URI: consentRedirectUri
  CONSENT_STATE_KEY_SECRET_NAME: consentStateKeySecretName
  CONSENT_STATE_LIFETIME_MINUTES: string(consentStateLifetimeMinutes)
  // Sync.
  SYNC_SCHEDULE: syncSchedule
  SYNC_INITIAL_LOOKBACK_MINUTES: string(syncInitialLookbackMinutes)
  SYNC_OVERLAP_MINUTES: string(syncOverlapMinutes)
  SYNC_MAX_API_CALLS_PER_RUN: string(syncMaxApiCallsPerRun)
  SYNC_MAX_RUN_SECONDS: string(syncMaxRunSeconds)
  SYNC_JOBS_QUEUE_NAME: syncJobsQueueName
  SYNC_TENANT_CONCURRENCY: string(syncTenantConcurrency)
  // Completeness sweep.
  SWEEP_SCHEDULE: sweepSchedule
  SWEEP_WINDOW_HOURS: string(sweepWindowHours)
  SWEEP_MAX_API_CALLS_PER_RUN: string(sweepMaxApiCallsPerRun)
  SWEEP_JOBS_QUEUE_NAME: sweepJobsQueueName
  LEASES_CONTAINER_NAME: leasesContainerName
  GRAPH_CALLS_PER_MINUTE: string(graphCallsPerMinute)
  LEGACY_CALLS_PER_MINUTE: string(legacyCallsPerMinute)
  LEGACY_CALLS_PER_HOUR: string(legacyCallsPerHour)
  // Webhooks.
  WEBHOOKS: string(webhooks)
  WEBHOOK_OUTBOX_QUEUE_NAME: webhookOutboxQueueName
  WEBHOOK_MAX_ATTEMPTS: string(webhookMaxAttempts)
  WEBHOOK_TIMEOUT_SECONDS: string(webhookTimeoutSeconds)
  WEBHOOK_RETRY_BASE_SECONDS: string(webhookRetryBaseSeconds)
  WEBHOOK_ALLOW_PRIVATE_ADDRESSES: string(webhookAllowPrivateAddresses)
  // User context and inbound webhooks.
  USER_ALLOWED_TENANTS: userAllowedTenants
  USER_REQUIRED_SCOPE: userRequiredScope
  USER_REQUIRED_ROLE: userRequiredRole
  INBOUND_WEBHOOK_SECRET_NAME: inboundWebhookSecretName
  INBOUND_SENDERS: string(inboundSenders)
  INBOUND_TABLE_NAME: inboundTableName
  INBOUND_RETRY_QUEUE_NAME: inboundRetryQueueName
  INBOUND_REPLAY_WINDOW_SECONDS: string(inboundReplayWindowSeconds)
}

module functionApp 'modules/functionapp.bicep' = {
  scope: rg
  name: 'functionapp'
  params: {
    name: appName
    planName: 'plan-relay-${token}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    nodeVersion: nodeVersion
    appSettings: appSettings
  }
  // The host starts as soon as the app exists: its identity must already hold its roles.
  dependsOn: [
    roles
  ]
}

module alerts 'modules/alerts.bicep' = {
  scope: rg
  name: 'alerts'
  params: {
    namePrefix: 'relay-${token}'
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
    alertEmail: alertEmail
    tenantLagThresholdSeconds: tenantLagThresholdSeconds
    syncFailureThreshold: syncFailureThreshold
  }
}

module workbook 'modules/workbook.bicep' = {
  scope: rg
  name: 'workbook'
  params: {
    displayName: 'Defender Relay (${environmentName})'
    location: location
    tags: tags
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

// ---------------------------------------------------------------------------------------------------
// Outputs (azd stores them in the environment: `azd env get-values`)
// ---------------------------------------------------------------------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
@description('The redirect URI to register on the app registration for admin consent, and to set as CONSENT_REDIRECT_URI.')
output RELAY_CONSENT_REDIRECT_URI string = 'https://${functionApp.outputs.defaultHostName}/api/consent/callback'
@description('Client id of the relay\'s user-assigned identity (MANAGED_IDENTITY_CLIENT_ID).')
output RELAY_IDENTITY_CLIENT_ID string = identity.outputs.clientId
@description('Principal (object) id of the identity: the subject of the federated credential on the app registration.')
output RELAY_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AZURE_KEY_VAULT_URI string = vault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
