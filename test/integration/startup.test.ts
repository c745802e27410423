/**
 * Start-up of the Functions entry point (src/index.ts): settings are validated before anything is
 * registered, and a bad environment stops the app with one message naming every bad setting.
 */
const TENANT = '11111111-2222-3333-4444-555555555555';

function loadEntryPoint(env: Record<string, string>): unknown {
  const saved = process.env;
  process.env = { ...env };
  try {
    let error: unknown;
    jest.isolateModules(() => {
      try {
        require('../../src/index');
      } catch (e) {
        error = e;
      }
    });
    return error;
  } finally {
    process.env = saved;
  }
}

const VALID = {
  DEFENDER_TENANT_ID: TENANT,
  DEFENDER_CLIENT_ID: TENANT,
  KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

/** Loads the entry point with console.warn captured (registration outside the host only warns). */
function startQuietly(env: Record<string, string>): { error: unknown; warnings: string[] } {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const error = loadEntryPoint(env);
    return { error, warnings: warn.mock.calls.map((c) => c.map(String).join(' ')) };
  } finally {
    warn.mockRestore();
  }
}

describe('the Functions entry point', () => {
  test('refuses to start on a misconfiguration and names each bad setting', () => {
    const error = loadEntryPoint({
      DEFENDER_TENANT_ID: TENANT,
      // DEFENDER_CLIENT_ID missing
      KEY_VAULT_URL: 'not a url',
      DEFENDER_LEGACY_BASE_URL: '@Microsoft.KeyVault(VaultName=relay;SecretName=legacy-url)',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    }) as Error;
    expect(error?.name).toBe('ConfigError');
    expect(error.message).toContain('DEFENDER_CLIENT_ID: is required but not set');
    expect(error.message).toContain('KEY_VAULT_URL: is not an absolute https:// URL');
    expect(error.message).toContain('DEFENDER_LEGACY_BASE_URL: holds an unresolved Key Vault reference');
  });

  test('starts with valid settings (registration outside the host only warns)', () => {
    expect(startQuietly(VALID).error).toBeUndefined();
  });

  test('WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true starts, with a warning that names it', () => {
    const { error, warnings } = startQuietly({ ...VALID, WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true' });
    expect(error).toBeUndefined();
    expect(warnings).toContainEqual(
      expect.stringMatching(/WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on.*Local development only/),
    );
  });

  test('a bad INBOUND_SENDERS or an http storage account elsewhere stops the start, naming each setting, never a value', () => {
    const error = loadEntryPoint({
      ...VALID,
      AzureWebJobsStorage: 'DefaultEndpointsProtocol=http;AccountName=prod;AccountKey=c2VjcmV0LWtleQ==',
      INBOUND_SENDERS: JSON.stringify([{ name: 'a', secret: 'whsec_c2VjcmV0LWtleQ==', tenants: [TENANT] }]),
    }) as Error;
    expect(error?.name).toBe('ConfigError');
    expect(error.message).toContain('AzureWebJobsStorage: uses DefaultEndpointsProtocol=http');
    expect(error.message).toContain('INBOUND_SENDERS: sender "a": "secret" is not a Key Vault secret name');
    expect(error.message).not.toContain('c2VjcmV0LWtleQ');
  });
});
