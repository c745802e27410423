/**
 * `defender-relay check` checks what is configured, and all of it: a relay without inbound webhooks is
 * healthy (not "degraded" forever), and a webhook destination whose URL or signing secret is not in Key
 * Vault fails the check, naming the destination and the secret (never a value). Child processes against
 * the simulator and Azurite.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { startWorld, uniqueSuffix, type World } from '../helpers/world';
import { runCli } from '../helpers/cli';
import { newSigningSecret } from '../../src/delivery/webhook-signer';

interface Check {
  name: string;
  ok: boolean;
  required: boolean;
  detail: string;
}

let sim: Simulator;
let world: World;
const outbox = `outbox-${uniqueSuffix()}`;
beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  await world.relay.storage.queues.getQueueClient(outbox).createIfNotExists();
  // What infra/ creates: the incidents queue and the claim-check container.
  await world.relay.storage.queues.getQueueClient(world.names.queue).createIfNotExists();
  await world.relay.storage.blobs.getContainerClient(world.names.container).createIfNotExists();
});
afterAll(async () => {
  await sim.stop();
});

async function check(extra: Record<string, string> = {}) {
  const env = { ...world.env, ...identityEnv(sim), WEBHOOK_OUTBOX_QUEUE_NAME: outbox, ...extra };
  const { code, stdout, stderr } = await runCli(['check', '--json'], env);
  if (!stdout) throw new Error(`check printed nothing (exit ${code}): ${stderr}`);
  const report = JSON.parse(stdout) as { status: string; checks: Check[] };
  return { code, stderr, report, failed: report.checks.filter((c) => !c.ok) };
}

test('without inbound webhooks or webhook destinations, check is healthy and says inbound is not set up', async () => {
  await world.relay.syncAll();
  const { code, report, failed } = await check();
  expect(failed).toEqual([]);
  expect(report.status).toBe('healthy');
  expect(code).toBe(0);
  expect(report.checks.find((c) => c.name === 'inbound:sender:default')?.detail).toMatch(
    /Inbound webhooks are not set up/,
  );
  expect(report.checks.some((c) => c.name.startsWith('webhook:'))).toBe(false);
});

test('a webhook whose URL secret does not exist fails the check, naming the webhook and the secret', async () => {
  const urlSecret = `soc-url-${uniqueSuffix()}`;
  const { code, report, failed } = await check({
    WEBHOOKS: JSON.stringify([{ name: 'soc', format: 'teams', urlSecret }]),
  });
  expect(code).toBe(1);
  expect(report.status).toBe('unhealthy');
  expect(failed).toEqual([
    expect.objectContaining({
      name: 'webhook:soc',
      required: true,
      detail: expect.stringMatching(
        new RegExp(`^Webhook "soc": Key Vault .* has no secret named '${urlSecret}'`),
      ),
    }),
  ]);
});

test('a missing signing secret fails it too; the URL it read is never printed', async () => {
  const suffix = uniqueSuffix();
  const url = `https://hooks.example.com/secret-path-${suffix}`;
  sim.keyVault.setSecret(`soc-url-${suffix}`, url);
  const { code, stderr, report, failed } = await check({
    WEBHOOKS: JSON.stringify([
      { name: 'soc', urlSecret: `soc-url-${suffix}`, signingSecret: `soc-signing-${suffix}` },
    ]),
  });
  expect(code).toBe(1);
  expect(failed.map((c) => [c.name, c.detail])).toEqual([
    ['webhook:soc', expect.stringContaining(`has no secret named 'soc-signing-${suffix}'`)],
  ]);
  expect(JSON.stringify(report) + stderr).not.toContain(`secret-path-${suffix}`);
});

test('a URL secret that is no https URL, and a malformed signing secret, are named', async () => {
  const suffix = uniqueSuffix();
  sim.keyVault.setSecret(`plain-url-${suffix}`, 'http://hooks.example.com/x');
  sim.keyVault.setSecret(`good-url-${suffix}`, 'https://hooks.example.com/x');
  sim.keyVault.setSecret(`bad-signing-${suffix}`, 'not-a-whsec-secret!');
  const { failed } = await check({
    WEBHOOKS: JSON.stringify([
      { name: 'plain', format: 'teams', urlSecret: `plain-url-${suffix}` },
      { name: 'weak', urlSecret: `good-url-${suffix}`, signingSecret: `bad-signing-${suffix}` },
    ]),
  });
  expect(failed.map((c) => [c.name, c.detail])).toEqual(
    expect.arrayContaining([
      [
        'webhook:plain',
        expect.stringContaining(`'plain-url-${suffix}' does not hold an absolute https:// URL`),
      ],
      [
        'webhook:weak',
        expect.stringContaining(
          `'bad-signing-${suffix}' is refused: the signing secret is not in the form whsec_<base64>`,
        ),
      ],
    ]),
  );
  expect(failed).toHaveLength(2);
});

test('a webhook whose secrets are in Key Vault passes', async () => {
  const suffix = uniqueSuffix();
  sim.keyVault.setSecret(`ok-url-${suffix}`, 'https://hooks.example.com/ok');
  sim.keyVault.setSecret(`ok-signing-${suffix}`, newSigningSecret());
  const { code, report } = await check({
    WEBHOOKS: JSON.stringify([
      { name: 'ok', urlSecret: `ok-url-${suffix}`, signingSecret: `ok-signing-${suffix}` },
    ]),
  });
  expect(report.checks.find((c) => c.name === 'webhook:ok')).toMatchObject({
    ok: true,
    detail: 'Webhook "ok" (cloudevents): its URL and signing secret are in Key Vault (signed).',
  });
  expect(report.status).toBe('healthy');
  expect(code).toBe(0);
});
