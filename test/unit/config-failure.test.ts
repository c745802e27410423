/**
 * A bad setting on the Functions entry point: loadFunctionsConfig registers the health functions answering
 * 503 (what runs on a worker that does not block on an entry-point error) and throws the ConfigError on
 * (what the real worker reports to the host: test/integration/functions-worker.test.ts).
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { ConfigError } from '../../src/config/settings';
import {
  configFailureDeepHealthHandler,
  configFailureHealthHandler,
  loadFunctionsConfig,
} from '../../src/functions/config-failure';

const TENANT = '11111111-2222-3333-4444-555555555555';
const BAD_SCHEDULE = 'every five minutes';

function badEnv(): NodeJS.ProcessEnv {
  return {
    DEFENDER_TENANT_ID: TENANT,
    KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
    SYNC_SCHEDULE: BAD_SCHEDULE,
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  };
}

function configError(): ConfigError {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    loadFunctionsConfig(badEnv());
  } catch (error) {
    return error as ConfigError;
  } finally {
    warn.mockRestore();
  }
  throw new Error('loadFunctionsConfig accepted a bad environment');
}

const context = () => new InvocationContext({ functionName: 'health', logHandler: () => undefined });
const get = (path: string) => new HttpRequest({ method: 'GET', url: `https://relay.example${path}` });

test('throws the ConfigError on, naming every bad setting', () => {
  const error = configError();
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.problems.map((p) => p.setting).sort()).toEqual(['DEFENDER_CLIENT_ID', 'SYNC_SCHEDULE']);
});

test('valid settings load as before', () => {
  const config = loadFunctionsConfig({
    ...badEnv(),
    DEFENDER_CLIENT_ID: TENANT,
    SYNC_SCHEDULE: '0 */5 * * * *',
  });
  expect(config.sync.schedule).toBe('0 */5 * * * *');
});

test('liveness of a misconfigured app answers 503 problem JSON, with no setting named (it is anonymous)', async () => {
  const res = await configFailureHealthHandler()(get('/api/health'), context());
  expect(res.status).toBe(503);
  expect(res.headers).toMatchObject({ 'content-type': 'application/problem+json' });
  const body = JSON.parse(String(res.body)) as { type: string; detail: string };
  expect(body.type).toBe('urn:defender-relay:problem:configuration-error');
  expect(body.detail).not.toContain('SYNC_SCHEDULE');
});

test('deep health of a misconfigured app answers 503 naming each bad setting, never a value', async () => {
  const res = await configFailureDeepHealthHandler(configError())(get('/api/health/deep'), context());
  expect(res.status).toBe(503);
  const text = String(res.body);
  const body = JSON.parse(text) as { errors: { field: string }[] };
  expect(body.errors.map((e) => e.field).sort()).toEqual(['DEFENDER_CLIENT_ID', 'SYNC_SCHEDULE']);
  expect(text).not.toContain(BAD_SCHEDULE);
});
