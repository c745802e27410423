/**
 * `defender-relay replay`: versions re-read from the API and re-sent to the queue and the webhooks with
 * the same CloudEvents `id`, marked `relayreplay`; `--poison` puts given-up webhook deliveries back on the
 * outbox; a backfill says what it suppressed and how to re-send it. Child processes against the
 * simulator, Azurite and a real HTTPS webhook receiver.
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
let env: Record<string, string>;
const since = new Date(Date.now() - 2 * 86_400_000).toISOString();

beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  const signing = newSigningSecret();
  receiver = await startWebhookReceiver({ signingSecret: signing });
  const suffix = uniqueSuffix();
  sim.keyVault.setSecret(`hook-url-${suffix}`, receiver.url('/hook'));
  sim.keyVault.setSecret(`hook-signing-${suffix}`, signing);
  env = {
    ...world.env,
    ...identityEnv(sim),
    WEBHOOKS: JSON.stringify([
      { name: 'hook', urlSecret: `hook-url-${suffix}`, signingSecret: `hook-signing-${suffix}` },
    ]),
    WEBHOOK_OUTBOX_QUEUE_NAME: `outbox-${suffix}`,
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
  };
  sim.incidents.seed(world.tenantId, 3);
  expect((await runCli(['sync', '--deliver-webhooks'], env)).code).toBe(0);
});
afterAll(async () => {
  await receiver.stop();
  await sim.stop();
});

const bodies = () => receiver.requests.map((r) => JSON.parse(r.body) as { id: string; relayreplay?: string });

test('a backfill says it suppressed what was delivered, and how to re-send it', async () => {
  await world.drainQueue();
  const from = new Date(Date.now() - 1000).toISOString();
  sim.incidents.create(world.tenantId);
  expect((await runCli(['sync', '--deliver-webhooks'], env)).code).toBe(0);
  expect(await world.drainQueue()).toHaveLength(1);
  // The backfill re-reads that version: it is in the delivered record, so it is not sent again.
  const { code, stdout } = await runCli(['sync', '--since', from, '--tenant', world.tenantId], env);
  expect(code).toBe(0);
  expect(stdout).toContain(
    `The backfill suppressed 1 version(s) delivered before (each destination had them already). To re-send them, marked as replays: defender-relay replay --since ${from} --tenant ${world.tenantId}`,
  );
  expect(await world.drainQueue()).toHaveLength(0);
});

test('replay re-sends the versions to the queue and the webhook with the same id, marked relayreplay', async () => {
  // What each incident's current version was first delivered as (id and webhook-id), by incident.
  const first = new Map(
    receiver.requests.map((r) => [(JSON.parse(r.body) as { subject: string }).subject, r]),
  );
  const n = sim.incidents.ids(world.tenantId).length;
  receiver.requests.length = 0;
  const { code, stdout } = await runCli(['replay', '--since', since, '--json', '--deliver-webhooks'], env);
  expect(code).toBe(0);
  const summary = JSON.parse(stdout);
  expect(summary.tenants).toEqual([{ tenantId: world.tenantId, read: n, replayed: n }]);
  expect(summary.webhooks).toMatchObject({ delivered: n, poisoned: 0, queued: 0 });
  const queued = await world.drainQueue();
  expect(queued).toHaveLength(n);
  for (const event of queued) {
    expect((event as { relayreplay?: string }).relayreplay).toEqual(expect.any(String));
    expect(event.id).toBe((JSON.parse(first.get(event.subject)!.body) as { id: string }).id);
  }
  expect(receiver.requests).toHaveLength(n);
  for (const r of receiver.requests) {
    const body = JSON.parse(r.body) as { id: string; subject: string; relayreplay?: string };
    expect(body.relayreplay).toEqual(expect.any(String));
    // The same id and webhook-id as the first delivery: a receiver that de-duplicates on them can.
    expect(body.id).toBe((JSON.parse(first.get(body.subject)!.body) as { id: string }).id);
    expect(r.headers['webhook-id']).toBe(first.get(body.subject)!.headers['webhook-id']);
    expect(r.signatureValid).toBe(true);
  }
});

test('replay of chosen incidents only', async () => {
  const [id] = sim.incidents.ids(world.tenantId);
  const { code, stdout } = await runCli(
    ['replay', '--since', since, '--incident', id!, '--tenant', world.tenantId],
    env,
  );
  expect(code).toBe(0);
  expect(stdout).toContain(`${world.tenantId}  read ${sim.incidents.ids(world.tenantId).length}, replayed 1`);
  expect((await world.drainQueue()).map((e) => e.subject)).toEqual([id]);
  await runCli(['webhooks', 'drain'], env);
});

test('replay --poison puts a given-up webhook delivery back on the outbox, marked as a replay', async () => {
  receiver.answer('/hook', 400);
  const [, id] = sim.incidents.ids(world.tenantId);
  sim.incidents.update(world.tenantId, id!, { status: 'inProgress' });
  const refused = await runCli(['sync', '--deliver-webhooks', '--json'], env);
  expect(refused.code).toBe(1);
  const poisoned = JSON.parse(refused.stdout).webhooks.poisoned as number;
  expect(poisoned).toBe(1);
  receiver.answer('/hook', 200);
  receiver.requests.length = 0;
  const { code, stdout } = await runCli(['replay', '--poison', '--deliver-webhooks', '--json'], env);
  expect(code).toBe(0);
  const summary = JSON.parse(stdout);
  expect(summary.poison).toMatchObject({
    requeued: poisoned,
    leftAlone: 0,
    destinations: { hook: poisoned },
  });
  expect(summary.webhooks).toMatchObject({ delivered: poisoned, poisoned: 0, queued: 0 });
  expect(bodies().some((b) => b.id.includes(`/${id}/`))).toBe(true);
  expect(bodies().every((b) => typeof b.relayreplay === 'string')).toBe(true);
  await world.drainQueue();
});

test('replay without --since, or with a time that is not one, is a usage error', async () => {
  const none = await runCli(['replay'], env);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('replay needs --since (or --poison).');
  const bad = await runCli(['replay', '--since', 'yesterday'], env);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--since: not an ISO 8601 timestamp');
});
