/**
 * `sync` from the CLI with webhook destinations: the sync puts jobs on the outbox, and says so (queued,
 * not delivered); `sync --deliver-webhooks` and `webhooks drain` send them from the CLI process to a real
 * HTTPS receiver, signed, and report what was delivered and what was poisoned. Child processes against
 * the simulator and Azurite.
 */
import { startSimulator, type Simulator } from '../../tools/simulator';
import { identityEnv } from '../../tools/simulator/app-settings';
import { startWebhookReceiver, type WebhookReceiver } from '../../tools/simulator/webhook-receiver';
import { startWorld, uniqueSuffix, type World } from '../helpers/world';
import { runCli } from '../helpers/cli';
import { newSigningSecret } from '../../src/delivery/webhook-signer';

let sim: Simulator;
let world: World;
let receiver: WebhookReceiver;
const signing = newSigningSecret();
let env: Record<string, string>;
let outbox: string;

beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  receiver = await startWebhookReceiver({ signingSecret: signing });
  const suffix = uniqueSuffix();
  outbox = `outbox-${suffix}`;
  sim.keyVault.setSecret(`soc-url-${suffix}`, receiver.url('/soc'));
  sim.keyVault.setSecret(`soc-signing-${suffix}`, signing);
  env = {
    ...world.env,
    ...identityEnv(sim),
    WEBHOOKS: JSON.stringify([
      { name: 'soc', urlSecret: `soc-url-${suffix}`, signingSecret: `soc-signing-${suffix}` },
    ]),
    WEBHOOK_OUTBOX_QUEUE_NAME: outbox,
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
  };
});
afterAll(async () => {
  await receiver.stop();
  await sim.stop();
});

test('sync reports the webhook jobs it left on the outbox as queued, not delivered', async () => {
  sim.incidents.seed(world.tenantId, 3);
  const { code, stdout } = await runCli(['sync', '--json'], env);
  expect(code).toBe(0);
  const summary = JSON.parse(stdout);
  expect(summary.incidentsDelivered).toBe(3);
  expect(summary.webhooks).toEqual({ outboxQueue: outbox, queued: 3, poisoned: 0 });
  expect(receiver.requests).toHaveLength(0);

  const text = await runCli(['sync'], env);
  expect(text.stdout).toContain(
    `Webhooks: about 3 job(s) queued on ${outbox}, not delivered yet: the Function App's webhookDelivery function sends them; to send them from here, run \`defender-relay webhooks drain\``,
  );
});

test('webhooks drain sends the queued jobs, signed, and empties the outbox', async () => {
  const { code, stdout } = await runCli(['webhooks', 'drain', '--json'], env);
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({
    outboxQueue: outbox,
    delivered: 3,
    retrying: 0,
    poisoned: 0,
    queued: 0,
    destinations: { soc: { delivered: 3, retrying: 0, poisoned: 0 } },
  });
  expect(receiver.requests).toHaveLength(3);
  expect(receiver.requests.every((r) => r.path === '/soc' && r.signatureValid === true)).toBe(true);
  const again = await runCli(['webhooks', 'drain'], env);
  expect(again.stdout).toContain('Webhooks: 0 delivered');
});

test('sync --deliver-webhooks delivers what it queued; a refusing receiver is reported as poisoned (exit 1)', async () => {
  receiver.requests.length = 0;
  const ids = sim.incidents.ids(world.tenantId);
  sim.incidents.update(world.tenantId, ids[0]!, { status: 'inProgress' });
  const ok = await runCli(['sync', '--json', '--deliver-webhooks'], env);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout).webhooks).toMatchObject({ delivered: 1, poisoned: 0, queued: 0 });
  expect(receiver.requests).toHaveLength(1);

  receiver.answer('/soc', 400);
  sim.incidents.update(world.tenantId, ids[1]!, { status: 'inProgress' });
  const refused = await runCli(['sync', '--deliver-webhooks'], env);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toContain(
    `Webhooks: 0 delivered, 0 to be retried, 1 moved to the poison queue ${outbox}-poison.`,
  );
  receiver.answer('/soc', 200);
});

test('webhooks drain without webhook destinations, or with a wrong action, is a usage error', async () => {
  const none = await runCli(['webhooks', 'drain'], { ...env, WEBHOOKS: '[]' });
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('No webhook destinations are configured');
  const wrong = await runCli(['webhooks', 'flush'], env);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toContain('webhooks drain');
});
