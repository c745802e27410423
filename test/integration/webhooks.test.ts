/**
 * Webhook destinations end to end: the sync puts one job per matching webhook on the outbox queue
 * (Azurite), the queue-triggered handler (called as the host would, with an InvocationContext and the
 * decoded message) reads the URL and signing secret from Key Vault (the simulator) and posts to a real
 * HTTPS receiver on 127.0.0.1 (the simulator's certificate, trusted through NODE_EXTRA_CA_CERTS).
 * Retries are re-enqueued with visibility timeout 0 here; the delay they would wait is read off the
 * re-enqueued job (`delaySeconds`), so nothing waits and nothing is timed.
 */
import https from 'node:https';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { InvocationContext } from '@azure/functions';
import type { QueueClient } from '@azure/storage-queue';
import { Webhook } from 'standardwebhooks';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { ensureSimulatorTls } from '../../tools/simulator/tls.cjs';
import { identityEnv } from '../../tools/simulator/app-settings';
import { movableClock, startWorld, uniqueSuffix, type World } from '../helpers/world';
import { loadConfig, type RelayConfig } from '../../src/config/settings';
import { createRelay, createWebhookDelivery, type Relay } from '../../src/relay';
import { webhookDeliveryHandler } from '../../src/functions/webhook-delivery';
import { WebhookOutboxDestination, type WebhookJob } from '../../src/delivery/webhook-outbox';
import { newSigningSecret, webhookMessageId } from '../../src/delivery/webhook-signer';
import { sampleIncident, sampleIncidentEvent, SAMPLE_TENANT_ID } from '../../src/delivery/webhook-sample';
import { readIncident } from '../../src/defender/incident';
import { toIncidentEvent, type IncidentEvent } from '../../src/delivery/envelope';
import type { PoisonedJob } from '../../src/delivery/webhook-delivery';

// ---------------------------------------------------------------------------------------------------
// A real HTTPS receiver on loopback with scripted answers.

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  hang?: boolean;
}
interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

class Receiver {
  readonly requests: Received[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private readonly hanging = new Set<import('node:http').ServerResponse>();
  private server!: https.Server;
  port = 0;

  async start(): Promise<void> {
    const tls = ensureSimulatorTls();
    this.server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0]!;
        this.requests.push({
          path,
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const script = this.scripts.get(path) ?? [];
        const answer = (script.length > 1 ? script.shift() : script[0]) ?? { status: 200 };
        if (answer.hang) {
          this.hanging.add(res);
          return;
        }
        res.writeHead(answer.status, answer.headers ?? { 'content-type': 'text/plain' });
        res.end(answer.body ?? 'ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Answers for a path, in order; the last one repeats. */
  script(path: string, answers: Answer[]): void {
    this.scripts.set(path, [...answers]);
  }

  url(path: string, host = '127.0.0.1'): string {
    return `https://${host}:${this.port}${path}`;
  }

  to(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------------

let sim: Simulator;
let world: World;
let receiver: Receiver;
beforeAll(async () => {
  sim = await startSimulator();
  world = await startWorld({ sim });
  receiver = new Receiver();
  await receiver.start();
});
afterAll(async () => {
  await receiver.stop();
  await sim.stop();
});

interface Dest {
  name: string;
  format?: string;
  path: string;
  host?: string;
  signed?: boolean;
  minSeverity?: string;
}

interface Setup {
  config: RelayConfig;
  relay: Relay;
  secrets: Record<string, string>;
  outbox: QueueClient;
  poison: QueueClient;
  logs: string[];
  /** Runs the queue trigger over the outbox until it is empty; returns the jobs it was handed. */
  drain(): Promise<WebhookJob[]>;
  poisoned(): Promise<PoisonedJob[]>;
}

/** A relay with its own outbox queue and the given webhook destinations, their secrets in Key Vault. */
const clock = movableClock();

function setup(destinations: Dest[], env: Record<string, string> = {}): Setup {
  const suffix = uniqueSuffix();
  const secrets: Record<string, string> = {};
  const webhooks = destinations.map((d) => {
    const urlSecret = `webhook-${d.name}-url-${suffix}`;
    sim.keyVault.setSecret(urlSecret, receiver.url(d.path, d.host));
    secrets[urlSecret] = receiver.url(d.path, d.host);
    let signingSecret: string | undefined;
    if (d.signed ?? true) {
      signingSecret = `webhook-${d.name}-signing-${suffix}`;
      const value = newSigningSecret();
      sim.keyVault.setSecret(signingSecret, value);
      secrets[d.name] = value;
    }
    return { name: d.name, format: d.format, urlSecret, signingSecret, minSeverity: d.minSeverity };
  });
  const config = loadConfig({
    ...world.env,
    WEBHOOKS: JSON.stringify(webhooks),
    WEBHOOK_OUTBOX_QUEUE_NAME: `outbox-${suffix}`,
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    ...env,
  });
  const relay = createRelay(config, { now: clock.now });
  // The same use case as the relay's, re-enqueueing retries visible at once.
  const delivery = createWebhookDelivery(config, relay.storage, relay.secrets!, {
    visibilityTimeout: () => 0,
  });
  const handler = webhookDeliveryHandler({ webhooks: delivery });
  const outbox = relay.storage.queues.getQueueClient(config.webhooks.outboxQueue);
  const poison = relay.storage.queues.getQueueClient(config.webhooks.poisonQueue);
  const logs: string[] = [];
  const decode = (text: string) => JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  return {
    config,
    relay,
    secrets,
    outbox,
    poison,
    logs,
    drain: async () => {
      const handed: WebhookJob[] = [];
      if (!(await outbox.exists())) return handed;
      for (let rounds = 0; rounds < 100; rounds++) {
        const { receivedMessageItems } = await outbox.receiveMessages({
          numberOfMessages: 16,
          visibilityTimeout: 60,
        });
        if (receivedMessageItems.length === 0) return handed;
        for (const m of receivedMessageItems) {
          // The host decodes base64 and hands JSON over parsed.
          const message = decode(m.messageText);
          handed.push(message);
          const context = new InvocationContext({
            functionName: 'webhookDelivery',
            triggerMetadata: { dequeueCount: m.dequeueCount, id: m.messageId },
            logHandler: (_level, ...args) => logs.push(args.join(' ')),
          });
          await handler(message, context);
          await outbox.deleteMessage(m.messageId, m.popReceipt);
        }
      }
      throw new Error('the outbox did not empty');
    },
    poisoned: async () => {
      if (!(await poison.exists())) return [];
      const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
      return peekedMessageItems.map((m) => decode(m.messageText));
    },
  };
}

async function enqueue(s: Setup, event: IncidentEvent = sampleIncidentEvent()): Promise<void> {
  const outbox = new WebhookOutboxDestination(
    s.outbox,
    s.relay.storage.blobs.getContainerClient(s.config.names.claimCheckContainer),
    s.config.webhooks.destinations,
  );
  await outbox.deliver([event]);
}

function metrics(logs: string[], name: string): Record<string, unknown>[] {
  return logs
    .filter((l) => l.startsWith('RelayMetric '))
    .map((l) => JSON.parse(l.slice(12)) as Record<string, unknown>)
    .filter((m) => m.name === name);
}

function expectNothingSecretLogged(s: Setup): void {
  const text = s.logs.join('\n');
  expect(text).not.toContain(`127.0.0.1:${receiver.port}`);
  expect(text).not.toContain(`localhost:${receiver.port}`);
  expect(text).not.toMatch(/https:\/\//);
  for (const value of Object.values(s.secrets)) expect(text).not.toContain(value);
  expect(text).not.toMatch(/whsec_|v1,[A-Za-z0-9+/]{20}/);
}

test('the sync puts one job per matching webhook on the outbox; each format arrives signed and verifiable', async () => {
  const s = setup([
    { name: 'siem', format: 'cloudevents', path: '/siem' },
    { name: 'soc-teams', format: 'teams', path: '/teams' },
    { name: 'soc-slack', format: 'slack', path: '/slack' },
    { name: 'slack-unsigned', format: 'slack', path: '/slack-unsigned', signed: false },
    { name: 'high-only', format: 'cloudevents', path: '/high', minSeverity: 'high' },
  ]);
  world.sim.incidents.create(world.tenantId, {
    displayName: 'Suspicious sign-in on FIN-LAPTOP-7',
    severity: 'medium',
  });
  const before = receiver.requests.length;

  // The sync never calls a webhook: it delivers to the incidents queue and stores the outbox jobs.
  const summary = await s.relay.syncAll();
  expect(summary.errors).toEqual([]);
  expect(receiver.requests.length).toBe(before);
  const [queued] = await world.drainQueue();
  expect(queued).toBeDefined();

  const jobs = await s.drain();
  expect(jobs.map((j) => j.destination).sort()).toEqual(['siem', 'slack-unsigned', 'soc-slack', 'soc-teams']);
  expect(receiver.to('/high')).toHaveLength(0);

  // CloudEvents: the whole envelope, as on the queue.
  const [ce] = receiver.to('/siem');
  expect(ce!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
  expect(JSON.parse(ce!.body)).toEqual(queued);
  // Teams: an Adaptive Card message.
  const [teams] = receiver.to('/teams');
  const card = JSON.parse(teams!.body).attachments[0].content;
  expect(card.type).toBe('AdaptiveCard');
  expect(card.body[0].text).toBe('Suspicious sign-in on FIN-LAPTOP-7');
  expect(card.actions[0].url).toBe(queued!.data.header.portalUrl);
  // Slack: Block Kit.
  const [slack] = receiver.to('/slack');
  const blocks = JSON.parse(slack!.body).blocks as { type: string }[];
  expect(blocks[0]).toEqual({
    type: 'header',
    text: { type: 'plain_text', text: 'Suspicious sign-in on FIN-LAPTOP-7', emoji: false },
  });

  // Signatures verify with the independent standardwebhooks library; webhook-id comes from the version key
  // and holds no '.' (the spec's separator; the version key has one).
  for (const [name, request] of [
    ['siem', ce],
    ['soc-teams', teams],
    ['soc-slack', slack],
  ] as const) {
    expect(request!.headers['webhook-id']).toBe(webhookMessageId(queued!.id));
    expect(request!.headers['webhook-id']).not.toContain('.');
    expect(() => new Webhook(s.secrets[name]!).verify(request!.body, request!.headers)).not.toThrow();
    expect(() => new Webhook(newSigningSecret()).verify(request!.body, request!.headers)).toThrow();
  }
  const [unsigned] = receiver.to('/slack-unsigned');
  expect(unsigned!.headers['webhook-id']).toBe(webhookMessageId(queued!.id));
  expect(unsigned!.headers['webhook-signature']).toBeUndefined();

  expect(
    metrics(s.logs, 'relay.delivery')
      .map((m) => m.destination)
      .sort(),
  ).toEqual(['siem', 'slack-unsigned', 'soc-slack', 'soc-teams']);
  expect(await s.poisoned()).toEqual([]);
  expectNothingSecretLogged(s);
});

test('503 is retried with growing backoff until it succeeds; every attempt carries the same webhook-id', async () => {
  const s = setup([{ name: 'flaky', path: '/flaky-503' }]);
  receiver.script('/flaky-503', [{ status: 503 }, { status: 503 }, { status: 200 }]);
  await enqueue(s);
  const jobs = await s.drain();
  expect(jobs.map((j) => j.attempt)).toEqual([1, 2, 3]);
  expect(jobs[1]).toMatchObject({ lastStatus: 503, lastReason: 'HTTP 503' });
  // Planned delays (visibility timeouts): base 60 s ±20 %, then doubled.
  expect(jobs[1]!.delaySeconds).toBeGreaterThanOrEqual(48);
  expect(jobs[1]!.delaySeconds).toBeLessThanOrEqual(72);
  expect(jobs[2]!.delaySeconds).toBeGreaterThanOrEqual(96);
  expect(jobs[2]!.delaySeconds).toBeLessThanOrEqual(144);
  const requests = receiver.to('/flaky-503');
  expect(requests).toHaveLength(3);
  expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
  expect(metrics(s.logs, 'relay.delivery')).toHaveLength(1);
  expect(await s.poisoned()).toEqual([]);
  expectNothingSecretLogged(s);
});

test("429 is retried after the receiver's Retry-After", async () => {
  const s = setup([{ name: 'throttled', path: '/throttled' }]);
  receiver.script('/throttled', [{ status: 429, headers: { 'retry-after': '7' } }, { status: 202 }]);
  await enqueue(s);
  const jobs = await s.drain();
  expect(jobs.map((j) => j.attempt)).toEqual([1, 2]);
  expect(jobs[1]).toMatchObject({ lastStatus: 429, delaySeconds: 7 });
  expect(receiver.to('/throttled')).toHaveLength(2);
  expect(metrics(s.logs, 'relay.delivery')).toHaveLength(1);
});

test('400 is not retried: the delivery goes to the poison queue with its status and reason', async () => {
  const s = setup([{ name: 'rejecting', path: '/bad-request' }]);
  receiver.script('/bad-request', [{ status: 400, body: 'payload not understood' }]);
  await enqueue(s);
  const jobs = await s.drain();
  expect(jobs).toHaveLength(1);
  expect(receiver.to('/bad-request')).toHaveLength(1);
  const [poisoned] = await s.poisoned();
  expect(poisoned).toMatchObject({
    destination: 'rejecting',
    attempt: 1,
    lastStatus: 400,
    reason: 'HTTP 400',
  });
  expect(poisoned!.event?.id).toBe(sampleIncidentEvent().id);
  expect(metrics(s.logs, 'relay.delivery.poisoned')).toEqual([
    expect.objectContaining({ destination: 'rejecting', reason: 'HTTP 400', lastStatus: 400 }),
  ]);
});

test('a webhook URL rotated in Key Vault is read again when the cached one answers 404, and the delivery goes through', async () => {
  const s = setup([{ name: 'teams-rotated', format: 'teams', path: '/old-flow' }]);
  const urlSecret = s.config.webhooks.destinations[0]!.urlSecret;
  // The first delivery reads the URL from Key Vault and keeps it in the instance's cache.
  await enqueue(s);
  await s.drain();
  expect(receiver.to('/old-flow')).toHaveLength(1);
  // Later than SECRET_REFRESH_MIN_SECONDS (the vault is read at most once in that interval)…
  clock.advance(s.config.secretRefreshMinMs);
  // …the Teams workflow is re-created: a new URL in Key Vault; the old one now answers 404.
  sim.keyVault.setSecret(urlSecret, receiver.url('/new-flow'));
  s.secrets[`${urlSecret}-new`] = receiver.url('/new-flow');
  receiver.script('/old-flow', [{ status: 404 }]);
  await enqueue(s);
  const jobs = await s.drain();
  expect(jobs).toHaveLength(1);
  expect(receiver.to('/old-flow')).toHaveLength(2);
  expect(receiver.to('/new-flow')).toHaveLength(1);
  expect(await s.poisoned()).toEqual([]);
  expectNothingSecretLogged(s);
});

test('a 404 with the same URL still in Key Vault is not retried: the delivery is poisoned', async () => {
  const s = setup([{ name: 'gone', path: '/gone' }]);
  receiver.script('/gone', [{ status: 404 }, { status: 404 }]);
  await enqueue(s);
  await s.drain();
  expect(receiver.to('/gone')).toHaveLength(1);
  const [poisoned] = await s.poisoned();
  expect(poisoned).toMatchObject({ destination: 'gone', lastStatus: 404, reason: 'HTTP 404' });
});

test('after WEBHOOK_MAX_ATTEMPTS failed attempts the delivery is poisoned with the last status', async () => {
  const s = setup([{ name: 'down', path: '/down' }], { WEBHOOK_MAX_ATTEMPTS: '3' });
  receiver.script('/down', [{ status: 500 }]);
  await enqueue(s);
  const jobs = await s.drain();
  expect(jobs.map((j) => j.attempt)).toEqual([1, 2, 3]);
  expect(receiver.to('/down')).toHaveLength(3);
  const poisoned = await s.poisoned();
  expect(poisoned).toHaveLength(1);
  expect(poisoned[0]).toMatchObject({ attempt: 3, lastStatus: 500, reason: 'HTTP 500 after 3 attempts' });
  expect(metrics(s.logs, 'relay.delivery.poisoned')).toHaveLength(1);
});

test('a timeout is retried', async () => {
  const s = setup([{ name: 'slow', path: '/slow' }], { WEBHOOK_TIMEOUT_SECONDS: '1' });
  receiver.script('/slow', [{ status: 200, hang: true }, { status: 200 }]);
  await enqueue(s);
  const jobs = await s.drain();
  expect(jobs.map((j) => j.attempt)).toEqual([1, 2]);
  expect(jobs[1]).toMatchObject({ lastStatus: null, lastReason: 'no response within 1 s' });
  expect(metrics(s.logs, 'relay.delivery')).toHaveLength(1);
});

test('a private address is blocked unless allowed: no request is made, the delivery is poisoned', async () => {
  const s = setup(
    [
      { name: 'loopback-ip', path: '/private-ip' },
      { name: 'loopback-name', path: '/private-name', host: 'localhost' },
    ],
    { WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'false' },
  );
  await enqueue(s);
  await s.drain();
  expect(receiver.to('/private-ip')).toHaveLength(0);
  expect(receiver.to('/private-name')).toHaveLength(0);
  const poisoned = await s.poisoned();
  expect(poisoned.map((p) => [p.destination, p.attempt, p.lastStatus]).sort()).toEqual([
    ['loopback-ip', 1, null],
    ['loopback-name', 1, null],
  ]);
  for (const p of poisoned) expect(p.reason).toMatch(/^blocked: the host resolves to a loopback address/);
  expectNothingSecretLogged(s);
});

test('a redirect is not followed', async () => {
  const s = setup([{ name: 'redirecting', path: '/moved' }]);
  receiver.script('/moved', [{ status: 302, headers: { location: receiver.url('/elsewhere') } }]);
  await enqueue(s);
  await s.drain();
  expect(receiver.to('/moved')).toHaveLength(1);
  expect(receiver.to('/elsewhere')).toHaveLength(0);
  const [poisoned] = await s.poisoned();
  expect(poisoned).toMatchObject({ lastStatus: 302, reason: 'HTTP 302: redirects are not followed' });
});

test('an event over the 64 KiB message limit travels as a claim check and arrives whole', async () => {
  const alerts = Array.from({ length: 200 }, (_, i) => ({
    id: `alert-${i}`,
    title: `Alert ${i} ${'x'.repeat(600)}`,
    severity: 'high',
    detectionSource: 'edr',
  }));
  const event = toIncidentEvent(
    readIncident(
      { ...sampleIncident(), alerts },
      'graph',
      SAMPLE_TENANT_ID,
      'https://security.microsoft.com',
    ),
  );
  const s = setup([
    { name: 'big-ce', path: '/big-ce' },
    { name: 'big-teams', format: 'teams', path: '/big-teams' },
  ]);
  await enqueue(s, event);
  const jobs = await s.drain();
  expect(jobs).toHaveLength(2);
  for (const job of jobs) {
    expect(job.event).toBeUndefined();
    expect(job.claimCheck?.blobName).toMatch(/^webhook-outbox\//);
  }
  const [ce] = receiver.to('/big-ce');
  expect(JSON.parse(ce!.body)).toEqual(event);
  const [teams] = receiver.to('/big-teams');
  expect(Buffer.byteLength(teams!.body)).toBeLessThanOrEqual(24 * 1024);
});

test('the response body read is bounded', async () => {
  const s = setup([{ name: 'chatty', path: '/chatty' }]);
  receiver.script('/chatty', [{ status: 200, body: 'y'.repeat(1024 * 1024) }]);
  const result = await s.relay.webhooks.attempt(s.config.webhooks.destinations[0]!, sampleIncidentEvent());
  expect(result.ok).toBe(true);
  expect(result.response!.truncated).toBe(true);
  expect(result.response!.body.length).toBe(16 * 1024);
});

test('a malformed outbox message goes to the poison queue instead of failing the function', async () => {
  const s = setup([{ name: 'any', path: '/any' }]);
  const handler = webhookDeliveryHandler(s.relay);
  const context = new InvocationContext({
    functionName: 'webhookDelivery',
    logHandler: (_l, ...a) => s.logs.push(a.join(' ')),
  });
  await expect(handler({ hello: 'world' }, context)).resolves.toBeUndefined();
  const [poisoned] = await s.poisoned();
  expect(poisoned).toMatchObject({ reason: 'the message is not a webhook delivery job' });
});

// ---------------------------------------------------------------------------------------------------
// The CLI, as a user runs it.

// The TypeScript source through tsx, as bin/defender-relay.cjs runs it in a checkout (bin/ prefers a built
// dist/cli.js, which may be older than the source under test).
const MAIN = path.resolve(__dirname, '../../src/cli/main.ts');
function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', MAIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

test('defender-relay webhook test <name> sends a signed test event and prints what came back', async () => {
  const s = setup([{ name: 'cli-ce', path: '/cli' }]);
  receiver.script('/cli', [
    { status: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' },
  ]);
  const env = {
    ...world.env,
    ...identityEnv(sim),
    WEBHOOKS: JSON.stringify(s.config.webhooks.destinations),
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
  };
  const { code, stdout, stderr } = await runCli(['webhook', 'test', 'cli-ce', '--json'], env);
  // The receiver is on loopback (WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true): the CLI says so, and nothing else.
  expect(stderr).toMatch(/^warning: WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on: [^\n]*\n$/);
  expect(code).toBe(0);
  const out = JSON.parse(stdout);
  expect(out).toMatchObject({
    destination: 'cli-ce',
    format: 'cloudevents',
    signed: true,
    ok: true,
    status: 200,
    body: '{"received":true}',
  });
  const [request] = receiver.to('/cli');
  expect(request!.headers['webhook-id']).toBe(out.webhookId);
  expect(JSON.parse(request!.body).type).toBe('com.microsoft.defender.incident.test');
  expect(() => new Webhook(s.secrets['cli-ce']!).verify(request!.body, request!.headers)).not.toThrow();
  expect(stdout).not.toContain(String(receiver.port));

  const human = await runCli(['webhook', 'test', 'cli-ce'], env);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/^Webhook cli-ce \(cloudevents, signed\): delivered, HTTP 200/);

  const unknown = await runCli(['webhook', 'test', 'nope'], env);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('No webhook destination named "nope" in WEBHOOKS (configured: "cli-ce")');
});
