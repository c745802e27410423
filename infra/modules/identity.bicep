// The relay's one identity: a user-assigned managed identity. It reads storage, Key Vault and writes
// telemetry, and (optionally) is the federated identity credential of the Defender app registration, so
// no secret needs to be stored at all. User-assigned (not system-assigned) because only a user-assigned
// identity can be a federated credential and because it exists before the Function App does.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
