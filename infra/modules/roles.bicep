// Role assignments: exactly what the relay needs, each on the narrowest resource that works.
//
// Every role definition id below was checked against Microsoft's built-in roles reference,
// "Azure built-in roles" (learn.microsoft.com/azure/role-based-access-control/built-in-roles; source
// MicrosoftDocs/azure-docs, articles/role-based-access-control/built-in-roles.md, section and row named
// in each comment), not written from memory.

@description('Principal (object) id of the relay\'s user-assigned managed identity.')
param principalId string

@description('Name of the relay\'s storage account.')
param storageAccountName string

@description('Name of the relay\'s Key Vault.')
param keyVaultName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Optional: object id of the person or pipeline deploying (azd sets AZURE_PRINCIPAL_ID). It gets Key Vault Secrets Officer on the vault so it can put the secrets in. Empty: no assignment.')
param deployerPrincipalId string = ''

@description('Optional: object id of the person, group or pipeline that operates the relay with the CLI from its own machine (defender-relay status, check, sync, tenants). It gets the storage data roles on the relay\'s account and Key Vault Secrets User on the vault. Empty: no assignment.')
param operatorPrincipalId string = ''

@description('Kind of principal operatorPrincipalId is.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'User'

// "Storage" section, row "Storage Blob Data Owner": b7e6dc6d-f1e8-4753-8033-0f276bb0955b.
// The Functions host needs Owner (not Contributor) for identity-based AzureWebJobsStorage (its blob
// leases and the Flex Consumption deployment container); the relay itself writes claim-check blobs.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// "Storage" section, row "Storage Blob Data Contributor": ba92f5b4-2d11-453d-a403-e96b0029c9fe.
// For the operator only: claim-check blobs and tenant leases when the CLI syncs (no POSIX ownership).
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// "Storage" section, row "Storage Queue Data Contributor": 974c5e8b-45b9-4653-ba55-5f855dd0fb88.
// Queue triggers read and delete messages and move failures to -poison queues; the relay sends.
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
// "Storage" section, row "Storage Table Data Contributor": 0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3.
// Checkpoints, delivered-version records, tenants and inbound idempotency live in tables.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// "Security" section, row "Key Vault Secrets User": 4633458b-17de-408a-b874-0445c86b69e6.
// Read secret contents only: no list of other objects' material, no write.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
// "Security" section, row "Key Vault Secrets Officer": b86a8fe4-44ce-4948-aee5-eccb2c155cd7.
// For the deployer only (to set the secrets), never for the app.
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// "Monitor" section, row "Monitoring Metrics Publisher": 3913510d-42f4-4e42-8a64-420c390055eb.
// Required to send telemetry to an Application Insights component whose local auth is disabled.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// The storage account is dedicated to the relay, so the account is the narrowest scope that lets the
// host create its own -poison queues and lease blobs as well as use the relay's named resources.
resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    description: 'Defender Relay: Functions host storage, deployment package, claim-check blobs, leases.'
  }
}

resource queueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageQueueDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
    description: 'Defender Relay: incident, sync-job and webhook-outbox queues (and their poison queues).'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageTableDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributor)
    description: 'Defender Relay: checkpoints, delivered versions, tenants, inbound records.'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    description: 'Defender Relay: read its own secrets (client secret or certificate, webhook URLs, signing keys).'
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    description: 'Defender Relay: Entra-authenticated telemetry to Application Insights (local auth is off).'
  }
}

resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
    description: 'Defender Relay deployer: put the relay\'s secrets into the vault.'
  }
}

// The operator: what the CLI does from a person's machine (docs/deploy.md, "Operating from your machine").
// Queues: check reads their properties, sync sends incidents and webhook jobs; tables: status reads the
// state, tenants add/disable writes the registry, sync records delivered versions; blobs: sync takes
// tenant leases and writes claim checks; Key Vault: check and sync read the app's secret for tokens.
var operatorRoles = [
  {
    role: storageBlobDataContributor
    what: 'claim-check blobs and tenant leases when the CLI syncs'
  }
  {
    role: storageQueueDataContributor
    what: 'queues the CLI checks and sends to'
  }
  {
    role: storageTableDataContributor
    what: 'sync state and the tenant registry'
  }
]

resource operatorStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for r in operatorRoles: if (!empty(operatorPrincipalId)) {
    name: guid(storage.id, operatorPrincipalId, r.role)
    scope: storage
    properties: {
      principalId: operatorPrincipalId
      principalType: operatorPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', r.role)
      description: 'Defender Relay operator (CLI): ${r.what}.'
    }
  }
]

resource operatorSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    description: 'Defender Relay operator (CLI): read the relay\'s secrets to get Defender tokens.'
  }
}
