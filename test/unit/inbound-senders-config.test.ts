/** INBOUND_SENDERS and the storage protocol rule: every problem named by setting and field, never a value. */
import { ConfigError, loadConfig } from '../../src/config/settings';
import { SENDER_DEFAULTS } from '../../src/config/inbound-senders';

const HOME = '11111111-1111-1111-1111-111111111111';
const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const BASE = {
  DEFENDER_TENANT_ID: HOME,
  DEFENDER_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
  KEY_VAULT_URL: 'https://relay.vault.azure.net',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.setting}: ${p.problem}`);
  }
  return [];
}

test('without INBOUND_SENDERS the single secret is the sender "default", for the setting tenants only', () => {
  const config = loadConfig({ ...BASE, DEFENDER_TENANTS: A, INBOUND_WEBHOOK_SECRET_NAME: 'soar-secret' });
  expect(config.inbound.senders).toEqual([
    { name: 'default', secret: 'soar-secret', tenants: [A], defaultTenant: HOME, ...SENDER_DEFAULTS },
  ]);
});

test('INBOUND_SENDERS: named senders with their secret and tenants; the first tenant is the default', () => {
  const config = loadConfig({
    ...BASE,
    INBOUND_SENDERS: JSON.stringify([
      { name: 'contoso-snow', secret: 'inbound-contoso', tenants: [A.toUpperCase(), HOME] },
    ]),
  });
  expect(config.inbound.senders).toEqual([
    {
      name: 'contoso-snow',
      secret: 'inbound-contoso',
      tenants: [A, HOME],
      defaultTenant: A,
      ...SENDER_DEFAULTS,
    },
  ]);
});

test('every bad sender is named with its field, in one start-up error, never with a value', () => {
  const pasted = 'whsec_c2VjcmV0LXZhbHVlLXBhc3RlZC1ieS1taXN0YWtl';
  const found = problems({
    INBOUND_SENDERS: JSON.stringify([
      { name: 'a', secret: pasted, tenants: [A] },
      { name: 'b', secret: 'ok-secret', tenants: [] },
      { name: 'c', secret: 'ok-secret-c', tenants: ['not-a-guid'], extra: true },
      { name: 'ok1', secret: 'shared-secret', tenants: [A] },
      { name: 'ok1', secret: 'ok-secret-d', tenants: [A] },
      { name: 'https://evil.example/x', secret: 'ok-secret-e', tenants: [A] },
      { name: 'f', secret: 'shared-secret', tenants: [A] },
      { secret: 'ok-secret-g', tenants: [A] },
    ]),
  });
  expect(found).toHaveLength(8);
  expect(found).toEqual(
    expect.arrayContaining([
      'INBOUND_SENDERS: sender "a": "secret" is not a Key Vault secret name (letters, digits, hyphens)',
      'INBOUND_SENDERS: sender "b": "tenants" is not a non-empty array of tenant ids (GUIDs)',
      'INBOUND_SENDERS: sender "c": unknown field "extra"',
      'INBOUND_SENDERS: sender "c": "tenants" is not a non-empty array of tenant ids (GUIDs)',
      'INBOUND_SENDERS: sender "ok1": the name is used by another sender',
      'INBOUND_SENDERS: sender #6: "name" is not a valid name (1-63 letters, digits, - and _)',
      'INBOUND_SENDERS: sender "f": "secret" is used by another sender (each sender signs with its own)',
      'INBOUND_SENDERS: sender #8: "name" is required',
    ]),
  );
  expect(found.join('\n')).not.toContain(pasted);
  expect(found.join('\n')).not.toContain('evil.example');
  expect(problems({ INBOUND_SENDERS: '{' })).toEqual([
    'INBOUND_SENDERS: is not valid JSON (expected an array of senders)',
  ]);
});

test('DefaultEndpointsProtocol=http only for Azurite on this machine, named without the value', () => {
  const key = Buffer.from('account-key-value-secret').toString('base64');
  const remote = `DefaultEndpointsProtocol=http;AccountName=prodacct;AccountKey=${key};EndpointSuffix=core.windows.net`;
  const found = problems({ AzureWebJobsStorage: remote });
  expect(found).toEqual([
    expect.stringMatching(
      /^AzureWebJobsStorage: uses DefaultEndpointsProtocol=http for a storage account that is not on this machine/,
    ),
  ]);
  expect(found.join('\n')).not.toContain(key);
  const local = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://localhost:10002/devstoreaccount1;`;
  expect(problems({ AzureWebJobsStorage: local })).toEqual([]);
  expect(
    problems({
      AzureWebJobsStorage: local.replace('http://127.0.0.1:10001', 'http://storage.example.com:10001'),
    }),
  ).toHaveLength(1);
  expect(problems({ AzureWebJobsStorage: remote.replace('=http;', '=https;') })).toEqual([]);
});

test('two-way settings of a sender: fields, wins, requireBase, onMerged; bad ones named by field', () => {
  const config = loadConfig({
    ...BASE,
    INBOUND_SENDERS: JSON.stringify([
      {
        name: 'snow',
        secret: 'inbound-snow',
        tenants: [A],
        fields: ['status', 'comment'],
        wins: true,
        requireBase: true,
        onMerged: 'refuse',
      },
    ]),
  });
  expect(config.inbound.senders[0]).toMatchObject({
    fields: ['status', 'comment'],
    wins: true,
    requireBase: true,
    onMerged: 'refuse',
  });
  expect(
    problems({
      INBOUND_SENDERS: JSON.stringify([
        { name: 'x', secret: 's-x', tenants: [A], fields: ['severity'], wins: 'yes', onMerged: 'drop' },
      ]),
    }),
  ).toEqual([
    'INBOUND_SENDERS: sender "x": "fields" is not a non-empty array of update fields (status, assignedTo, classification, determination, tags, comment)',
    'INBOUND_SENDERS: sender "x": "wins" is not true or false',
    'INBOUND_SENDERS: sender "x": "onMerged" is not one of follow, refuse',
  ]);
});

test('WEBHOOKS dropEchoesOf must name inbound senders (a misspelt name would drop nothing)', () => {
  const webhooks = (dropEchoesOf: string[]) =>
    JSON.stringify([{ name: 'hook', urlSecret: 'u', signingSecret: 's', dropEchoesOf }]);
  const senders = JSON.stringify([{ name: 'snow', secret: 'inbound-snow', tenants: [A] }]);
  expect(problems({ INBOUND_SENDERS: senders, WEBHOOKS: webhooks(['snow']) })).toEqual([]);
  expect(problems({ INBOUND_SENDERS: senders, WEBHOOKS: webhooks(['snwo']) })).toEqual([
    'WEBHOOKS: destination "hook": "dropEchoesOf" names "snwo", which is not an inbound sender (INBOUND_SENDERS names: snow)',
  ]);
  expect(problems({ WEBHOOKS: webhooks(['default']) })).toEqual([]);
});
