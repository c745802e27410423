import { ConfigError, loadConfig, settingsSchema } from '../../src/config/settings';
import { SETTINGS_DOC } from '../../src/config/settings-doc';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const base = {
  DEFENDER_TENANT_ID: TENANT,
  DEFENDER_CLIENT_ID: CLIENT,
  KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function problemsOf(env: Record<string, string>): { setting: string; problem: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  test('a minimal valid environment gets the documented defaults', () => {
    const config = loadConfig(base);
    expect(config.api).toBe('graph');
    expect(config.cloud).toBe('public');
    expect(config.endpoints.graphBaseUrl).toBe('https://graph.microsoft.com');
    expect(config.endpoints.authorityHost).toBe('https://login.microsoftonline.com');
    expect(config.tenants).toEqual([TENANT]);
    expect(config.sync.schedule).toBe('0 */5 * * * *');
    expect(config.names.incidentsQueue).toBe('defender-incidents');
    expect(config.sync.overlapMs).toBe(10 * 60_000);
  });

  test('one message names every bad setting: missing client id, malformed URL, unresolved Key Vault reference', () => {
    const env: Record<string, string> = {
      ...base,
      DEFENDER_GRAPH_BASE_URL: 'htp:/graph',
      INCIDENTS_QUEUE_NAME: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/q/)',
    };
    delete env.DEFENDER_CLIENT_ID;
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/3 app settings are wrong/);
    expect(message).toMatch(
      /DEFENDER_CLIENT_ID: is required but not set\. Set it to the "Application \(client\) ID"/,
    );
    expect(message).toMatch(/DEFENDER_GRAPH_BASE_URL: is not an absolute https:\/\/ URL/);
    expect(message).toMatch(/INCIDENTS_QUEUE_NAME: holds an unresolved Key Vault reference/);
    // The value itself (which could be sensitive) is not echoed.
    expect(message).not.toContain('kv.vault.azure.net/secrets/q');
  });

  test('bad enum, number and GUID values are named with what is allowed', () => {
    const problems = problemsOf({
      ...base,
      DEFENDER_API: 'rest',
      SYNC_OVERLAP_MINUTES: 'ten',
      DEFENDER_TENANTS: `${TENANT},nope`,
    });
    expect(problems.map((p) => p.setting).sort()).toEqual([
      'DEFENDER_API',
      'DEFENDER_TENANTS',
      'SYNC_OVERLAP_MINUTES',
    ]);
    expect(problems.find((p) => p.setting === 'DEFENDER_API')?.problem).toMatch(/"graph", "legacy"/);
    expect(problems.find((p) => p.setting === 'SYNC_OVERLAP_MINUTES')?.problem).toMatch(/whole number/);
  });

  test('storage must be a connection string or all three identity-based service URIs', () => {
    const { AzureWebJobsStorage: _omit, ...noStorage } = base;
    expect(problemsOf(noStorage).map((p) => p.setting)).toEqual(['AzureWebJobsStorage']);
    const partial = problemsOf({
      ...noStorage,
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
    });
    expect(partial.map((p) => p.setting).sort()).toEqual([
      'AzureWebJobsStorage__blobServiceUri',
      'AzureWebJobsStorage__tableServiceUri',
    ]);
    const identity = loadConfig({
      ...noStorage,
      AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.windows.net',
      AzureWebJobsStorage__blobServiceUri: 'https://acct.blob.core.windows.net',
      AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net',
      AzureWebJobsStorage__credential: 'managedidentity',
    });
    expect(identity.storage.connectionString).toBeUndefined();
    expect(identity.storage.tableServiceUri).toBe('https://acct.table.core.windows.net');
  });

  test('the secret credential needs a Key Vault', () => {
    const { KEY_VAULT_URL: _omit, ...env } = base;
    expect(problemsOf(env)).toEqual([expect.objectContaining({ setting: 'KEY_VAULT_URL' })]);
  });

  test('one cloud setting moves every host; each host can still be overridden', () => {
    const gcchigh = loadConfig({ ...base, DEFENDER_CLOUD: 'gcchigh' });
    expect(gcchigh.endpoints).toEqual({
      authorityHost: 'https://login.microsoftonline.us',
      graphBaseUrl: 'https://graph.microsoft.us',
      graphResource: 'https://graph.microsoft.us',
      legacyBaseUrl: 'https://api-gov.security.microsoft.us',
      legacyResource: 'https://api-gov.security.microsoft.us',
      federationAudience: 'api://AzureADTokenExchangeUSGov',
      portalUrl: 'https://security.microsoft.us',
    });
    const overridden = loadConfig({
      ...base,
      DEFENDER_CLOUD: 'dod',
      DEFENDER_GRAPH_BASE_URL: 'https://127.0.0.1:8443/graph/',
    });
    expect(overridden.endpoints.graphBaseUrl).toBe('https://127.0.0.1:8443/graph');
    expect(overridden.endpoints.legacyBaseUrl).toBe('https://api-gov.security.microsoft.us');
  });

  test('every setting in the schema is documented, and nothing else is', () => {
    expect(Object.keys(SETTINGS_DOC).sort()).toEqual(Object.keys(settingsSchema.shape).sort());
  });
});
