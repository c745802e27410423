/**
 * Two-way sync without conflicts (issue 18, docs/two-way.md), through the real inbound handler, the retry
 * queue trigger and the sync, on the simulator (Entra ID, Key Vault, Graph and legacy Defender) and Azurite:
 *
 * - a field the sender does not own is refused (403 naming it), nothing is read or written;
 * - an update based on a stale version is refused (409 with the current state) where Defender changed a
 *   field it touches; the same update rebased on the current version is applied; a sender that `wins` is;
 * - the version the relay's own update produced is marked as its sender's echo, and a webhook destination
 *   configured to drop that sender's echoes gets no job for it (another destination does), also when the
 *   version is replayed;
 * - a comment whose answer was lost after Graph (or the legacy API) posted it is added once across the
 *   retry;
 * - an update for a merged incident is applied to the incident it was merged into (or refused with its id),
 *   and the merged incident's event names its target.
 */
import crypto from 'node:crypto';
import { odata } from '@azure/data-tables';
import { Webhook } from 'standardwebhooks';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { inboundRetryHandler, inboundWebhookHandler } from '../../src/functions/inbound-webhook';
import { partnerWorld, type PartnerWorld } from '../helpers/partner';
import { uniqueSuffix } from '../helpers/world';
import { call } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';
import { takeAllMessages } from '../../tools/queue-messages';
import type { WebhookJob } from '../../src/delivery/webhook-outbox';
import type { IncidentEvent } from '../../src/delivery/envelope';
import { TwoWayApply } from '../../src/two-way/two-way-apply';
import { RETENTION_DAYS, VersionLedger } from '../../src/two-way/version-ledger';
import { readIncident } from '../../src/defender/incident';
import { toTicks } from '../../src/defender/timestamp';
import { replayVersions } from '../../src/sync/replay';

const logs = new LogCapture();
let sim: Simulator;
let world: PartnerWorld;
let tenant: string;
const secret = (name: string) => ({
  name: `${name}-${uniqueSuffix()}`,
  value: `whsec_${crypto.randomBytes(32).toString('base64')}`,
});
const secrets = { ticketing: secret('ticketing'), soar: secret('soar'), boss: secret('boss') };

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  tenant = sim.addTenant();
  for (const s of Object.values(secrets)) {
    sim.keyVault.setSecret(s.name, logs.secret(s.value));
    logs.secret(s.value.slice('whsec_'.length));
  }
  const suffix = uniqueSuffix();
  world = partnerWorld(sim, {
    env: {
      DEFENDER_TENANTS: tenant,
      INBOUND_TABLE_NAME: `inbound${suffix}`,
      INBOUND_RETRY_QUEUE_NAME: `inbound-retry-${suffix}`,
      WEBHOOK_OUTBOX_QUEUE_NAME: `outbox-${suffix}`,
      INBOUND_SENDERS: JSON.stringify([
        {
          name: 'ticketing',
          secret: secrets.ticketing.name,
          tenants: [tenant],
          fields: ['status', 'classification', 'determination', 'comment'],
        },
        { name: 'soar', secret: secrets.soar.name, tenants: [tenant], onMerged: 'refuse', requireBase: true },
        { name: 'boss', secret: secrets.boss.name, tenants: [tenant], wins: true },
      ]),
      WEBHOOKS: JSON.stringify([
        { name: 'ticket-hook', urlSecret: 'u1', signingSecret: 's1', dropEchoesOf: ['ticketing'] },
        { name: 'soc-hook', urlSecret: 'u2', signingSecret: 's2' },
      ]),
    },
  });
  logs.secret(world.app.secret);
  sim.grantPermissions(world.app.clientId, tenant, 'graph', ['SecurityIncident.ReadWrite.All']);
  sim.grantPermissions(world.app.clientId, tenant, 'legacy', ['Incident.ReadWrite.All']);
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  logs.restore();
  await sim.stop();
});

type Sender = keyof typeof secrets;

/** A new incident in the tenant, its id as the relay speaks it (a string). */
function create(patch: Parameters<Simulator['incidents']['create']>[1]) {
  const snapshot = sim.incidents.create(tenant, patch);
  return { ...snapshot, id: String(snapshot.id) };
}

function send(sender: Sender, body: object, id = `msg_${crypto.randomUUID()}`) {
  const text = JSON.stringify(body);
  const at = new Date();
  return call(
    inboundWebhookHandler(world.relay),
    {
      path: `/api/webhooks/incident-updates/${sender}`,
      params: { sender },
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': logs.secret(new Webhook(secrets[sender].value).sign(id, at, text)),
      },
      body: text,
    },
    logs,
    'inboundIncidentUpdates',
  );
}

/** Runs the sync, then takes what reached the incidents queue and the webhook outbox. */
async function sync(): Promise<{ events: IncidentEvent[]; jobs: WebhookJob[] }> {
  const result = await world.relay.syncTenant(tenant);
  expect(result.outcome).toBe('complete');
  const events = await world.drainQueue();
  const jobs = await takeAllMessages<WebhookJob>(
    world.relay.storage.queues.getQueueClient(world.config.webhooks.outboxQueue),
  );
  return { events, jobs };
}

const eventOf = (events: IncidentEvent[], incidentId: string) =>
  events.filter((e) => e.subject === incidentId).at(-1);
const writes = () => {
  const k = sim.counters.snapshot().byKind;
  return (k['graph.update'] ?? 0) + (k['graph.comment'] ?? 0);
};

async function takeRetryMessage(): Promise<unknown> {
  const queue = world.relay.storage.queues.getQueueClient(world.config.inbound.retryQueue);
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1 });
  expect(receivedMessageItems).toHaveLength(1);
  const m = receivedMessageItems[0]!;
  await queue.deleteMessage(m.messageId, m.popReceipt);
  return JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as unknown;
}

test('a field the sender does not own is refused with 403 naming it; nothing is written', async () => {
  const incident = create({ status: 'active', assignedTo: null });
  const before = writes();
  const res = await send('ticketing', {
    incidentId: incident.id,
    status: 'resolved',
    assignedTo: 'someone@contoso.example',
    tags: ['x'],
  });
  expect(res.status).toBe(403);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(res.json).toMatchObject({
    type: 'urn:defender-relay:problem:field-not-owned',
    errors: [
      { field: 'assignedTo', message: expect.stringContaining('not a field this sender may set') },
      { field: 'tags', message: expect.stringContaining('not a field this sender may set') },
    ],
  });
  expect(writes()).toBe(before);
  expect(sim.incidents.get(tenant, incident.id)).toMatchObject({ status: 'active', assignedTo: null });

  // The fields it owns go through.
  const owned = await send('ticketing', { incidentId: incident.id, status: 'resolved' });
  expect(owned.status).toBe(200);
  expect(sim.incidents.get(tenant, incident.id).status).toBe('resolved');
});

test('a stale update is refused with 409 and the current state; rebased on it, it is applied', async () => {
  const incident = create({ status: 'active', classification: 'unknown' });
  const { events } = await sync();
  const delivered = eventOf(events, incident.id)!;
  // An analyst resolves it in the portal after the ticket received the event.
  sim.incidents.update(tenant, incident.id, { status: 'resolved', assignedTo: 'analyst@contoso.example' });

  const stale = await send('ticketing', {
    incidentId: incident.id,
    status: 'active',
    baseVersion: delivered.id,
  });
  expect(stale.status).toBe(409);
  expect(stale.headers['content-type']).toBe('application/problem+json');
  const current = sim.incidents.get(tenant, incident.id);
  expect(stale.json).toMatchObject({
    type: 'urn:defender-relay:problem:update-conflict',
    errors: [{ field: 'status', message: 'changed in Defender since the base version' }],
    conflicts: [{ field: 'status', base: 'active', current: 'resolved' }],
    current: { incidentId: incident.id, status: 'resolved', assignedTo: 'analyst@contoso.example' },
  });
  expect(current.status).toBe('resolved');

  // A field the analyst did not change is no conflict (the base's time as baseVersion works too).
  const other = await send('ticketing', {
    incidentId: incident.id,
    classification: 'falsePositive',
    determination: 'notMalicious',
    baseVersion: delivered.time,
  });
  expect(other.status).toBe(200);
  expect(sim.incidents.get(tenant, incident.id)).toMatchObject({
    status: 'resolved',
    classification: 'falsePositive',
  });

  // Rebased on the current version (the answer's `version`), the status change is applied.
  const rebased = await send('ticketing', {
    incidentId: incident.id,
    status: 'active',
    baseVersion: (other.json as { version: string }).version,
  });
  expect(rebased.status).toBe(200);
  expect(sim.incidents.get(tenant, incident.id).status).toBe('active');

  // A sender configured to win overrides the conflict.
  sim.incidents.update(tenant, incident.id, { status: 'resolved' });
  const boss = await send('boss', { incidentId: incident.id, status: 'active', baseVersion: delivered.id });
  expect(boss.status).toBe(200);
  expect(sim.incidents.get(tenant, incident.id).status).toBe('active');
});

test('a base version the relay never delivered is a conflict on every touched field', async () => {
  const incident = create({ status: 'active' });
  const res = await send('ticketing', {
    incidentId: incident.id,
    status: 'resolved',
    baseVersion: '2020-01-01T00:00:00Z',
  });
  expect(res.status).toBe(409);
  expect(res.json).toMatchObject({
    errors: [{ field: 'status', message: expect.stringContaining('holds no record of that version') }],
    current: { status: 'active' },
  });
  expect(sim.incidents.get(tenant, incident.id).status).toBe('active');
  // A malformed base, or one naming another incident, is a 422 naming baseVersion.
  for (const baseVersion of ['yesterday', `${tenant}/999999/2026-01-01T00:00:00Z`]) {
    const bad = await send('ticketing', { incidentId: incident.id, status: 'resolved', baseVersion });
    expect(bad.status).toBe(422);
    expect(bad.json).toMatchObject({ errors: [{ field: 'baseVersion' }] });
  }
});

test('without a base, a sender that requires one gets 428 with the current state', async () => {
  const incident = create({ status: 'active' });
  const res = await send('soar', { incidentId: incident.id, status: 'resolved' });
  expect(res.status).toBe(428);
  expect(res.json).toMatchObject({
    type: 'urn:defender-relay:problem:base-version-required',
    errors: [{ field: 'baseVersion' }],
    current: { incidentId: incident.id, status: 'active' },
  });
  expect(sim.incidents.get(tenant, incident.id).status).toBe('active');
});

/** A new incident, synced, then resolved by `ticketing`: the message id and the version it produced. */
async function ticketingResolves() {
  const incident = create({ status: 'active' });
  await sync();
  const id = `msg_${crypto.randomUUID()}`;
  const res = await send('ticketing', { incidentId: incident.id, status: 'resolved' }, id);
  expect(res.status).toBe(200);
  return { incident, id, produced: (res.json as { version: string }).version };
}

test("an echo is marked with its sender and message id; the sender's own webhook does not receive it", async () => {
  const { incident, id, produced } = await ticketingResolves();

  const { events, jobs } = await sync();
  const echo = eventOf(events, incident.id)!;
  expect(echo.id).toBe(produced);
  expect(echo).toMatchObject({ relayechosender: 'ticketing', relayechoid: id });
  const jobsFor = (eventId: string) => jobs.filter((j) => j.eventId === eventId).map((j) => j.destination);
  expect(jobsFor(echo.id)).toEqual(['soc-hook']);

  // The analyst's next change is nobody's echo: every destination gets it.
  sim.incidents.update(tenant, incident.id, { assignedTo: 'analyst@contoso.example' });
  const next = await sync();
  const change = eventOf(next.events, incident.id)!;
  expect(change.relayechosender).toBeUndefined();
  expect(
    next.jobs
      .filter((j) => j.eventId === change.id)
      .map((j) => j.destination)
      .sort(),
  ).toEqual(['soc-hook', 'ticket-hook']);
});

test("a replayed echo stays its sender's echo: marked as a replay and an echo, still not sent to the sender's webhook", async () => {
  const { incident, id, produced } = await ticketingResolves();
  await sync();

  // `defender-relay replay --tenant … --incident …` (src/cli/replay-command.ts) runs this use case.
  const [result] = await replayVersions(world.relay, {
    tenants: [tenant],
    since: new Date(Date.now() - 3600_000).toISOString(),
    incidents: [incident.id],
  });
  expect(result).toMatchObject({ tenantId: tenant, replayed: 1 });
  expect(result!.error).toBeUndefined();
  const [replayed] = await world.drainQueue();
  expect(replayed).toMatchObject({
    id: produced,
    relayreplay: expect.any(String),
    relayechosender: 'ticketing',
    relayechoid: id,
  });
  const jobs = await takeAllMessages<WebhookJob>(
    world.relay.storage.queues.getQueueClient(world.config.webhooks.outboxQueue),
  );
  expect(jobs.map((j) => [j.destination, j.eventId])).toEqual([['soc-hook', produced]]);
});

test('a comment whose answer was lost after Graph posted it is added once across the retry', async () => {
  const incident = create({ status: 'active' });
  // Graph posts the comment, then the answer is lost (a gateway timeout after the write).
  sim.faults.inject({ target: 'graph', operation: 'comment', afterApply: true, status: 504 });
  const first = await send('ticketing', { incidentId: incident.id, comment: 'Customer confirmed: test' });
  expect(first.status).toBe(202);
  const posted = () =>
    sim.incidents.get(tenant, incident.id).comments.filter((c) => c.comment.startsWith('Customer confirmed'));
  expect(posted()).toHaveLength(1);

  await inboundRetryHandler(world.relay)(await takeRetryMessage(), logs.context('inboundRetry'));
  expect(posted()).toHaveLength(1);
});

test('on the legacy API too (the comment rides in the PATCH), a retried comment is added once', async () => {
  const incident = create({ status: 'active' });
  const apply = new TwoWayApply(
    world.relay.actions(world.relay.tokens),
    new VersionLedger(world.relay.storage.table(world.config.inbound.table)),
    'legacy',
  );
  const input = {
    sender: world.config.inbound.senders.find((s) => s.name === 'ticketing')!,
    webhookId: `msg_${crypto.randomUUID()}`,
    tenantId: tenant,
    incidentId: incident.id,
    update: { comment: 'Escalated to tier 2' },
  };
  sim.faults.inject({ target: 'legacy', operation: 'update', afterApply: true, status: 504 });
  await expect(apply.apply(input)).rejects.toThrow();
  const posted = () =>
    sim.incidents.get(tenant, incident.id).comments.filter((c) => c.comment.startsWith('Escalated'));
  expect(posted()).toHaveLength(1);
  const retried = await apply.apply(input);
  expect(retried).toMatchObject({ kind: 'applied', commentAlreadyThere: true });
  expect(posted()).toHaveLength(1);
});

test('an update for a merged incident is applied to the one it was merged into; its event names the target', async () => {
  const from = create({ status: 'active' });
  const into = create({ status: 'active' });
  sim.incidents.merge(tenant, from.id, into.id);
  const deadComments = sim.incidents.get(tenant, from.id).comments.length;

  const res = await send('ticketing', {
    incidentId: from.id,
    status: 'resolved',
    comment: 'Closed in the ticket',
  });
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({
    mergedFrom: from.id,
    mergedInto: into.id,
    incident: { incidentId: into.id },
  });
  expect(sim.incidents.get(tenant, into.id).status).toBe('resolved');
  expect(
    sim.incidents.get(tenant, into.id).comments.some((c) => c.comment.startsWith('Closed in the ticket')),
  ).toBe(true);
  expect(sim.incidents.get(tenant, from.id).status).toBe('redirected');
  expect(sim.incidents.get(tenant, from.id).comments).toHaveLength(deadComments);

  const { events } = await sync();
  expect(eventOf(events, from.id)).toMatchObject({ relaymergedinto: into.id });

  // A sender configured to refuse gets the incident it was merged into.
  const refused = await send('soar', {
    incidentId: from.id,
    status: 'active',
    baseVersion: eventOf(events, from.id)!.id,
  });
  expect(refused.status).toBe(409);
  expect(refused.json).toMatchObject({
    type: 'urn:defender-relay:problem:incident-merged',
    mergedInto: into.id,
    errors: [{ field: 'incidentId', message: `was merged into incident ${into.id}` }],
  });
  expect(sim.incidents.get(tenant, into.id).status).toBe('resolved');
});

test('snapshots and echoes older than the retention are pruned by the sync; newer ones stay', async () => {
  const ledger = new VersionLedger(world.relay.storage.table(world.config.inbound.table));
  const day = 86_400_000;
  const version = (incidentId: string, ageDays: number) =>
    readIncident(
      {
        id: incidentId,
        lastUpdateDateTime: new Date(Date.now() - ageDays * day).toISOString(),
        status: 'active',
      },
      'graph',
      tenant,
      'https://security.microsoft.com',
    );
  const old = version('900001', RETENTION_DAYS + 5);
  const recent = version('900002', RETENTION_DAYS - 5);
  await ledger.recordSnapshots(tenant, [old, recent]);
  await ledger.recordEcho(old, { sender: 'ticketing', webhookId: 'msg_old' });
  const ticks = (v: typeof old) => toTicks(v.header.lastUpdate);

  await sync();
  expect(await ledger.snapshot(tenant, '900001', ticks(old))).toBeUndefined();
  expect((await ledger.echoesOf(tenant, [old])).size).toBe(0);
  expect(await ledger.snapshot(tenant, '900002', ticks(recent))).toMatchObject({ status: 'active' });
});

test('a conflict found only on the retry is not applied, and is recorded and logged instead of lost', async () => {
  const incident = create({ status: 'active' });
  const { events } = await sync();
  const base = eventOf(events, incident.id)!.id;
  // Defender is unavailable: the update is kept on the retry queue.
  sim.faults.inject({ target: 'graph', status: 503, count: 10 });
  const queued = await send('ticketing', { incidentId: incident.id, status: 'resolved', baseVersion: base });
  sim.faults.clear();
  expect(queued.status).toBe(202);
  // Meanwhile an analyst changes the status in the portal.
  sim.incidents.update(tenant, incident.id, { status: 'inProgress' });

  const before = logs.lines.length;
  const message = (await takeRetryMessage()) as { webhookId: string };
  await inboundRetryHandler(world.relay)(message, logs.context('inboundRetry'));
  expect(sim.incidents.get(tenant, incident.id).status).toBe('inProgress');
  expect(logs.lines.slice(before).join('\n')).toMatch(
    /\[warning\] inbound retry: .* for incident \d+ in tenant .*: refused \(conflict\)/,
  );
  const records = world.relay.storage.table(world.config.inbound.table).listEntities<{ status?: string }>({
    queryOptions: { filter: odata`PartitionKey eq 'msg' and webhookId eq ${message.webhookId}` },
  });
  const statuses: (string | undefined)[] = [];
  for await (const r of records) statuses.push(r.status);
  expect(statuses).toEqual(['refused-conflict']);
});
