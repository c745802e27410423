/** WEBHOOKS and the other webhook settings: valid destinations load, a bad one fails start naming it. */
import { ConfigError, loadConfig } from '../../src/config/settings';
import { parseWebhooks } from '../../src/config/webhook-destinations';

const BASE = {
  DEFENDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  DEFENDER_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
  KEY_VAULT_URL: 'https://relay.vault.azure.net',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function problems(webhooks: unknown): string[] {
  try {
    loadConfig({ ...BASE, WEBHOOKS: typeof webhooks === 'string' ? webhooks : JSON.stringify(webhooks) });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.setting}: ${p.problem}`);
  }
  return [];
}

test('defaults: no webhooks, the outbox queue and its poison queue, 8 attempts, 10 s, private addresses blocked', () => {
  const config = loadConfig(BASE);
  expect(config.webhooks).toEqual({
    destinations: [],
    outboxQueue: 'relay-webhook-outbox',
    poisonQueue: 'relay-webhook-outbox-poison',
    maxAttempts: 8,
    timeoutMs: 10_000,
    retryBaseSeconds: 60,
    allowPrivateAddresses: false,
  });
});

test('destinations load with their filters; format defaults to cloudevents; tenants are lower-cased', () => {
  const config = loadConfig({
    ...BASE,
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'TRUE',
    WEBHOOK_MAX_ATTEMPTS: '3',
    WEBHOOKS: JSON.stringify([
      { name: 'siem', urlSecret: 'webhook-siem-url', signingSecret: 'webhook-siem-signing' },
      {
        name: 'soc-teams',
        format: 'teams',
        urlSecret: 'webhook-soc-teams-url',
        minSeverity: 'high',
        statuses: ['active', 'inProgress'],
        tenants: ['AAAAAAAA-1111-1111-1111-111111111111'],
        detectionSources: ['antivirus'],
      },
    ]),
  });
  expect(config.webhooks.allowPrivateAddresses).toBe(true);
  expect(config.webhooks.maxAttempts).toBe(3);
  expect(config.webhooks.destinations).toEqual([
    {
      name: 'siem',
      format: 'cloudevents',
      urlSecret: 'webhook-siem-url',
      signingSecret: 'webhook-siem-signing',
    },
    {
      name: 'soc-teams',
      format: 'teams',
      urlSecret: 'webhook-soc-teams-url',
      minSeverity: 'high',
      statuses: ['active', 'inProgress'],
      tenants: ['aaaaaaaa-1111-1111-1111-111111111111'],
      detectionSources: ['antivirus'],
    },
  ]);
});

test('an unknown format fails start with a message naming the destination', () => {
  expect(problems([{ name: 'soc-teams', format: 'team', urlSecret: 'u' }])).toEqual([
    'WEBHOOKS: destination "soc-teams": "format" is not a known format (use "cloudevents", "teams", "slack")',
  ]);
});

test('every bad destination is named, with every problem, in one message', () => {
  const found = problems([
    { name: 'a', urlSecret: 'webhook-a-url' },
    { name: 'b', format: 'slack', urlSecret: 'not a secret name!' },
    { name: 'c', format: 'slack', urlSecret: 'u', minSeverity: 'critical', statuses: ['open'] },
    { name: 'c', format: 'slack', urlSecret: 'u' },
    { name: 'd', format: 'teams', url: 'https://contoso.webhook.office.com/x' },
    { name: 'e', format: 'teams', urlSecret: 'u', extra: 1 },
    { format: 'teams', urlSecret: 'u' },
    { name: 'f', format: 'slack', urlSecret: 'u', tenants: ['not-a-guid'] },
  ]);
  expect(found).toEqual([
    'WEBHOOKS: destination "a": "signingSecret" is required for the cloudevents format (receivers verify the signature)',
    expect.stringMatching(/^WEBHOOKS: destination "b": "urlSecret" is not a valid Key Vault secret name/),
    expect.stringContaining('destination "c": "minSeverity" is not a known severity'),
    expect.stringContaining('destination "c": "statuses[0]" is not a known status'),
    'WEBHOOKS: destination "c": the name is used by another destination',
    expect.stringMatching(/^WEBHOOKS: destination "d": "url" is not allowed, webhook URLs are credentials/),
    'WEBHOOKS: destination "e": unknown field "extra"',
    'WEBHOOKS: destination #7: "name" is required',
    expect.stringMatching(/^WEBHOOKS: destination "f": "tenants.0" is not a GUID/),
  ]);
  // The URL given by mistake is not echoed.
  expect(found.join('\n')).not.toContain('contoso.webhook.office.com');
});

test('a value pasted into a wrong field is named by its field, never echoed', () => {
  const url = 'https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual?sig=SECRETSIG';
  const found = problems([
    { name: url, format: 'teams', urlSecret: 'u' },
    { name: 'ok', format: url, urlSecret: 'u' },
    { name: 'ok2', format: 'teams', urlSecret: url },
    { name: 'ok3', format: 'slack', urlSecret: 'u', minSeverity: url, statuses: [url] },
    { name: 'ok4', format: 'slack', urlSecret: 'u', detectionSources: [url], tenants: [url] },
  ]);
  expect(found.length).toBeGreaterThanOrEqual(5);
  expect(found[0]).toMatch(/^WEBHOOKS: destination #1: "name" is not a valid name/);
  for (const line of found) {
    expect(line).not.toContain('logic.azure.com');
    expect(line).not.toContain('SECRETSIG');
  }
});

test('WEBHOOKS that is not a JSON array is named', () => {
  expect(problems('{not json')).toEqual(['WEBHOOKS: is not valid JSON (expected an array of destinations)']);
  expect(problems({ name: 'x' })).toEqual(['WEBHOOKS: is not a JSON array of destinations']);
  expect(parseWebhooks('[]')).toEqual({ destinations: [], problems: [] });
});

test('the other webhook settings are validated like every setting', () => {
  try {
    loadConfig({
      ...BASE,
      WEBHOOK_MAX_ATTEMPTS: '0',
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'yes',
      WEBHOOK_OUTBOX_QUEUE_NAME: 'Bad_Name',
    });
    throw new Error('expected a ConfigError');
  } catch (error) {
    const settings = (error as ConfigError).problems.map((p) => p.setting).sort();
    expect(settings).toEqual([
      'WEBHOOK_ALLOW_PRIVATE_ADDRESSES',
      'WEBHOOK_MAX_ATTEMPTS',
      'WEBHOOK_OUTBOX_QUEUE_NAME',
    ]);
  }
});
