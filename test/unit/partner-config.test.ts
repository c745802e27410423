/**
 * Partner-context settings and parsing without servers: one setting picks a cloud and sets every host and
 * audience together, each still overridable on its own; consent and credential settings fail start by
 * name; the certificate reader takes PEM and Key Vault's PKCS#12 and refuses the rest clearly.
 */
import { ConfigError, loadConfig } from '../../src/config/settings';
import { parseCertificate } from '../../src/auth/certificate';
import { makeCertificate } from '../helpers/certificates';

const base = {
  DEFENDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  DEFENDER_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
  KEY_VAULT_URL: 'https://kv.vault.azure.net',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => p.setting);
    throw e;
  }
  return [];
}

describe('DEFENDER_CLOUD sets every host together', () => {
  test('GCC High', () => {
    expect(loadConfig({ ...base, DEFENDER_CLOUD: 'gcchigh' }).endpoints).toEqual({
      authorityHost: 'https://login.microsoftonline.us',
      graphBaseUrl: 'https://graph.microsoft.us',
      graphResource: 'https://graph.microsoft.us',
      legacyBaseUrl: 'https://api-gov.security.microsoft.us',
      legacyResource: 'https://api-gov.security.microsoft.us',
      federationAudience: 'api://AzureADTokenExchangeUSGov',
      portalUrl: 'https://security.microsoft.us',
    });
  });

  test('DoD and GCC', () => {
    expect(loadConfig({ ...base, DEFENDER_CLOUD: 'dod' }).endpoints).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      graphBaseUrl: 'https://dod-graph.microsoft.us',
      legacyBaseUrl: 'https://api-gov.security.microsoft.us',
      federationAudience: 'api://AzureADTokenExchangeUSGov',
    });
    expect(loadConfig({ ...base, DEFENDER_CLOUD: 'gcc' }).endpoints).toMatchObject({
      authorityHost: 'https://login.microsoftonline.com',
      legacyBaseUrl: 'https://api-gcc.security.microsoft.us',
      federationAudience: 'api://AzureADTokenExchange',
    });
  });

  test('each value can be overridden on its own, the federation audience included', () => {
    const endpoints = loadConfig({
      ...base,
      DEFENDER_CLOUD: 'gcchigh',
      DEFENDER_FEDERATION_AUDIENCE: 'api://AzureADTokenExchange',
      DEFENDER_PORTAL_URL: 'https://portal.example/',
    }).endpoints;
    expect(endpoints).toMatchObject({
      federationAudience: 'api://AzureADTokenExchange',
      portalUrl: 'https://portal.example',
      graphBaseUrl: 'https://graph.microsoft.us',
    });
    expect(problems({ ...base, DEFENDER_FEDERATION_AUDIENCE: 'not a uri' })).toEqual([
      'DEFENDER_FEDERATION_AUDIENCE',
    ]);
  });
});

describe('partner settings', () => {
  test('defaults', () => {
    const config = loadConfig(base);
    expect(config.names.tenantsTable).toBe('relaytenants');
    expect(config.consent).toEqual({
      redirectUri: undefined,
      stateKeySecretName: 'consent-state-key',
      stateLifetimeMs: 24 * 60 * 60_000,
    });
  });

  test('a bad redirect URI, table name or lifetime fails start naming the setting', () => {
    expect(
      problems({
        ...base,
        CONSENT_REDIRECT_URI: 'http://relay.example.net/api/consent/callback',
        TENANTS_TABLE_NAME: 'bad-name',
        CONSENT_STATE_LIFETIME_MINUTES: '0',
      }).sort(),
    ).toEqual(['CONSENT_REDIRECT_URI', 'CONSENT_STATE_LIFETIME_MINUTES', 'TENANTS_TABLE_NAME']);
    // http is fine for localhost (func start).
    expect(problems({ ...base, CONSENT_REDIRECT_URI: 'http://localhost:7071/api/consent/callback' })).toEqual(
      [],
    );
  });

  test('consent needs Key Vault for its signing key, even with a federated credential', () => {
    const { KEY_VAULT_URL: _kv, ...noVault } = base;
    const federated = {
      ...noVault,
      DEFENDER_CREDENTIAL: 'federated',
      MANAGED_IDENTITY_CLIENT_ID: '33333333-3333-3333-3333-333333333333',
    };
    expect(problems(federated)).toEqual([]);
    expect(
      problems({ ...federated, CONSENT_REDIRECT_URI: 'https://relay.example.net/api/consent/callback' }),
    ).toEqual(['KEY_VAULT_URL']);
    expect(problems({ ...noVault, DEFENDER_CREDENTIAL: 'federated' })).toEqual([
      'MANAGED_IDENTITY_CLIENT_ID',
    ]);
  });
});

describe('certificate from Key Vault', () => {
  const cert = makeCertificate();

  test('PEM and PKCS#12 (empty or no password) give the same thumbprint and key', () => {
    const fromPem = parseCertificate(cert.pem, 'relay-cert');
    expect(fromPem.thumbprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(parseCertificate(cert.pkcs12(''), 'relay-cert').thumbprintSha256).toBe(fromPem.thumbprintSha256);
    expect(parseCertificate(cert.pkcs12(null), 'relay-cert').thumbprintSha256).toBe(fromPem.thumbprintSha256);
    // Key first, certificate second: order does not matter.
    expect(parseCertificate(`${cert.privateKeyPem}\n${cert.certificatePem}`, 'x').thumbprintSha256).toBe(
      fromPem.thumbprintSha256,
    );
  });

  test.each([
    ['a certificate without its key', () => cert.certificatePem, /no private key/],
    ['a password-protected PKCS#12', () => cert.pkcs12('s3cret'), /cannot be read without a password/],
    [
      'a client secret by mistake',
      () => 'abc8Q~notacertificate',
      /neither PEM nor base64 PKCS#12|cannot be read/,
    ],
    [
      'a key of another certificate',
      () => `${makeCertificate().certificatePem}${cert.privateKeyPem}`,
      /no certificate matches/,
    ],
  ])('%s is refused with a message naming the secret, never its value', (_name, value, message) => {
    const v = value();
    let error: Error | undefined;
    try {
      parseCertificate(v, 'relay-cert');
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).toMatch(/'relay-cert'/);
    expect(error?.message).not.toContain(v.slice(0, 40));
  });
});
