// Log alert rules on the relay's telemetry contract (docs/telemetry.md): every metric is a trace line
// `RelayMetric {json}` in Application Insights, so each rule queries the component's `traces` table.

@description('Name prefix of the rules.')
param namePrefix string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Resource id of the Application Insights component the rules query.')
param appInsightsId string

@description('Optional e-mail address for an action group that the rules notify. Empty: the rules fire in the portal only.')
param alertEmail string = ''

@description('Alert when a tenant fails more than this many syncs within the window.')
@minValue(0)
param syncFailureThreshold int = 2

@description('Alert when a tenant\'s lag (now minus the time up to which it has been read completely, docs/telemetry.md) exceeds this many seconds.')
@minValue(60)
param tenantLagThresholdSeconds int = 1800

@description('Alert when more than this many deliveries were poisoned within the window.')
@minValue(0)
param poisonThreshold int = 0

var metricPrelude = 'traces | where message startswith "RelayMetric " | extend m = parse_json(substring(message, 12)) | extend name = tostring(m.name)'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${namePrefix}-ag'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(replace(namePrefix, '-', ''), 12)
    enabled: true
    emailReceivers: [
      {
        name: 'relay-operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmail) ? {} : { actionGroups: [actionGroup.id] }

resource syncFailures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-sync-failures'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Defender Relay: tenant sync failing'
    description: 'A tenant\'s sync failed (relay.sync.failed) more than ${syncFailureThreshold} times in 30 minutes. The reason dimension says why: a missing permission, a wrong secret, throttling, an outage.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT30M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: '${metricPrelude} | where name == "relay.sync.failed" | project timestamp, tenantId = tostring(m.tenantId), api = tostring(m.api), reason = tostring(m.reason)'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: syncFailureThreshold
          dimensions: [
            {
              name: 'tenantId'
              operator: 'Include'
              values: ['*']
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: actions
  }
}

resource poisonGrowing 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-poison-growing'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Defender Relay: deliveries going to a poison queue'
    description: 'More than ${poisonThreshold} deliveries were poisoned (relay.delivery.poisoned) in 15 minutes: a destination keeps refusing events. Inspect the -poison queue; the reason is kept with each message.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: '${metricPrelude} | where name == "relay.delivery.poisoned" | project timestamp, destination = tostring(m.destination), reason = tostring(m.reason)'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: poisonThreshold
          dimensions: [
            {
              name: 'destination'
              operator: 'Include'
              values: ['*']
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: actions
  }
}

// Lag of a tenant = now minus the time up to which it has been read completely (`readThrough` of its
// latest sync line, completed or failed; src/sync/lag.ts). A quiet tenant synced a minute ago is a minute
// behind; a tenant whose syncs fail or stop keeps its `readThrough`, so its lag grows with the clock.
// Lines written before `readThrough` existed: their lagSeconds plus the time since.
resource tenantLag 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-tenant-lag'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Defender Relay: tenant lagging'
    description: 'A tenant has not been read completely for more than ${tenantLagThresholdSeconds} seconds (now minus readThrough of its latest relay.sync.completed or relay.sync.failed).'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT15M'
    windowSize: 'P1D'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: '${metricPrelude} | where name in ("relay.sync.completed", "relay.sync.failed") | summarize arg_max(timestamp, m) by tenantId = tostring(m.tenantId) | extend readThrough = todatetime(m.readThrough) | extend lagSeconds = iff(isnotnull(readThrough), todouble(datetime_diff("second", now(), readThrough)), todouble(m.lagSeconds) + todouble(datetime_diff("second", now(), timestamp))) | where isnotnull(lagSeconds) | project timestamp, tenantId, lagSeconds'
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'lagSeconds'
          operator: 'GreaterThan'
          threshold: tenantLagThresholdSeconds
          dimensions: [
            {
              name: 'tenantId'
              operator: 'Include'
              values: ['*']
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: actions
  }
}

// The completeness sweep (docs/completeness.md) found versions the sync had not delivered: it repaired
// them, but a miss means a bug or an API fault worth a look (the log lines 'repaired …' say which and why).
resource sweepMissing 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-sweep-missing'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Defender Relay: completeness sweep found versions missing'
    description: 'The completeness sweep of a tenant found incident versions that had not been delivered (relay.sweep.completed missing > 0) and repaired them. Look at the sweepWorker log lines "repaired": which versions and why they were missed.'
    severity: 2
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: '${metricPrelude} | where name == "relay.sweep.completed" | extend missing = todouble(m.missing) | project timestamp, tenantId = tostring(m.tenantId), missing'
          timeAggregation: 'Total'
          metricMeasureColumn: 'missing'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'tenantId'
              operator: 'Include'
              values: ['*']
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: actions
  }
}

output ruleIds string[] = [syncFailures.id, poisonGrowing.id, tenantLag.id, sweepMissing.id]
