/**
 * Inbound webhooks from ticketing / SOAR systems: Standard Webhooks signatures (signed here with the
 * `standardwebhooks` reference library), stale timestamps and replayed ids refused, updates applied with
 * the application context, and an update whose application fails kept on the retry queue and applied by
 * the queue trigger later.
 */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { inboundRetryHandler, inboundWebhookHandler } from '../../src/functions/inbound-webhook';
import { startActionsWorld, call, type ActionsWorld } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';

const logs = new LogCapture();
let sim: Simulator;
let world: ActionsWorld;

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  world = await startActionsWorld(sim, logs);
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  logs.restore();
  await world?.stop();
  await sim?.stop();
});

function signed(body: object, opts: { secret?: string; at?: Date; id?: string } = {}) {
  const id = opts.id ?? `msg_${crypto.randomUUID()}`;
  const at = opts.at ?? new Date();
  const text = JSON.stringify(body);
  const signature = logs.secret(new Webhook(opts.secret ?? world.webhookSecret).sign(id, at, text));
  return {
    id,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body: text,
  };
}

const send = (m: { headers: Record<string, string>; body: string }) =>
  call(
    inboundWebhookHandler(world.relay),
    { path: '/api/webhooks/incident-updates', headers: m.headers, body: m.body },
    logs,
    'inbound',
  );

test('a validly signed update is applied with the application context', async () => {
  const incident = sim.incidents.create(world.tenantId, { displayName: 'Ticketed' });
  const res = await send(
    signed({
      incidentId: incident.id,
      status: 'resolved',
      classification: 'falsePositive',
      comment: 'Closed in ServiceNow INC0012345',
      source: 'ServiceNow INC0012345',
    }),
  );
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ status: 'applied' });
  const after = sim.incidents.get(world.tenantId, incident.id);
  expect(after).toMatchObject({ status: 'resolved', classification: 'falsePositive' });
  // The comment carries its idempotency marker (docs/two-way.md: comments exactly once).
  expect(after.comments.at(-1)?.comment).toMatch(
    /^Closed in ServiceNow INC0012345\n\n\[relay default:[0-9a-f]{16}\]$/,
  );
});

test('a forged signature is refused (401) and nothing is applied', async () => {
  const incident = sim.incidents.create(world.tenantId, { status: 'active' });
  const forged = signed(
    { incidentId: incident.id, status: 'resolved' },
    { secret: `whsec_${crypto.randomBytes(24).toString('base64')}` },
  );
  const res = await send(forged);
  expect(res.status).toBe(401);
  expect(res.json).toMatchObject({ type: 'urn:defender-relay:problem:invalid-signature' });
  expect(sim.incidents.get(world.tenantId, incident.id).status).toBe('active');
  // A body changed after signing is a forgery too.
  const good = signed({ incidentId: incident.id, status: 'inProgress' });
  const tampered = await send({ ...good, body: good.body.replace('inProgress', 'resolved') });
  expect(tampered.status).toBe(401);
});

test('a stale timestamp is refused (401, outside the replay window)', async () => {
  const incident = sim.incidents.create(world.tenantId, { status: 'active' });
  const res = await send(
    signed({ incidentId: incident.id, status: 'resolved' }, { at: new Date(Date.now() - 10 * 60_000) }),
  );
  expect(res.status).toBe(401);
  expect(res.json).toMatchObject({ type: 'urn:defender-relay:problem:stale-timestamp' });
  expect(res.json.errors).toEqual([expect.objectContaining({ field: 'header.webhook-timestamp' })]);
});

test('a replayed message id is refused (409) and applied only once', async () => {
  const incident = sim.incidents.create(world.tenantId, { status: 'active' });
  const message = signed({ incidentId: incident.id, comment: 'only once' });
  expect((await send(message)).status).toBe(200);
  const replay = await send(message);
  expect(replay.status).toBe(409);
  expect(replay.json).toMatchObject({ type: 'urn:defender-relay:problem:duplicate-message' });
  expect(
    sim.incidents.get(world.tenantId, incident.id).comments.filter((c) => c.comment.startsWith('only once')),
  ).toHaveLength(1);
});

test('bad bodies name the field; missing headers name the header', async () => {
  const bad = await send(signed({ incidentId: 'INC0012345', status: 'closed' }));
  expect(bad.status).toBe(422);
  const fields = (bad.json.errors as { field: string }[]).map((e) => e.field);
  expect(fields).toEqual(expect.arrayContaining(['incidentId', 'status']));
  const noHeaders = await call(
    inboundWebhookHandler(world.relay),
    { path: '/api/webhooks/incident-updates', body: { incidentId: 1 } },
    logs,
  );
  expect(noHeaders.status).toBe(400);
  expect((noHeaders.json.errors as { field: string }[]).map((e) => e.field)).toContain(
    'header.webhook-signature',
  );
});

test('an update whose application fails is kept on the retry queue and applied by the queue trigger', async () => {
  const incident = sim.incidents.create(world.tenantId, { status: 'active' });
  sim.faults.inject({ target: 'graph', status: 503, count: 10 });
  const res = await send(
    signed({ incidentId: incident.id, status: 'resolved', assignedTo: 'tier2@contoso.example' }),
  );
  sim.faults.clear();
  expect(res.status).toBe(202);
  expect(res.json).toMatchObject({ status: 'queued' });
  expect(sim.incidents.get(world.tenantId, incident.id).status).toBe('active');

  const queue = world.relay.storage.queues.getQueueClient(world.config.inbound.retryQueue);
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1 });
  expect(receivedMessageItems).toHaveLength(1);
  // The Functions host decodes base64 and parses JSON before calling the handler.
  const message = JSON.parse(
    Buffer.from(receivedMessageItems[0]!.messageText, 'base64').toString('utf8'),
  ) as unknown;
  await inboundRetryHandler(world.relay)(message, logs.context('inboundRetry'));
  expect(sim.incidents.get(world.tenantId, incident.id)).toMatchObject({
    status: 'resolved',
    assignedTo: 'tier2@contoso.example',
  });
  // A retry that still fails throws, so the host retries it and then keeps it in the poison queue.
  sim.faults.inject({ target: 'graph', status: 503, count: 10 });
  await expect(inboundRetryHandler(world.relay)(message, logs.context('inboundRetry'))).rejects.toThrow();
  sim.faults.clear();
});
