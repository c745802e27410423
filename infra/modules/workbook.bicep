// The relay's dashboard: an Azure Monitor workbook over the telemetry contract (docs/telemetry.md),
// bound to the Application Insights component. Its content is dashboard/relay-workbook.json.

@description('Display name of the workbook.')
param displayName string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object

@description('Name of the Application Insights component the workbook reads.')
param appInsightsName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var content = replace(loadTextContent('../dashboard/relay-workbook.json'), '__APP_INSIGHTS_ID__', appInsights.id)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsights.id, 'defender-relay-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: content
    version: 'Notebook/1.0'
  }
}

output id string = workbook.id
