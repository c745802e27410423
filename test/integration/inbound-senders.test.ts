/**
 * Inbound senders and what anonymous callers can cost or learn, through the real handlers, the simulator
 * (Entra ID, Key Vault, Defender) and Azurite:
 *
 * - each sender (INBOUND_SENDERS) signs with its own secret and acts only in its own tenants;
 * - a sender's secret must be a Standard Webhooks secret (whsec_ + base64, at least 24 bytes), else
 *   nothing is accepted (503) and deep health fails;
 * - badly signed webhooks and forged consent states cost at most one Key Vault read per secret per
 *   SECRET_REFRESH_MIN_SECONDS, shared by every caller, and a failed read keeps the last good value;
 * - problem bodies of anonymous routes name neither the vault nor a secret; the log does.
 */
import crypto from 'node:crypto';
import { HttpRequest } from '@azure/functions';
import { Webhook } from 'standardwebhooks';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { inboundWebhookHandler } from '../../src/functions/inbound-webhook';
import { consentCallbackHandler, consentStartHandler } from '../../src/functions/consent';
import { healthDeepHandler } from '../../src/functions/health';
import { createRelay } from '../../src/relay';
import { loadConfig } from '../../src/config/settings';
import { partnerWorld, REDIRECT_URI, type PartnerWorld } from '../helpers/partner';
import { movableClock, uniqueSuffix } from '../helpers/world';
import { call } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';
import { runCheck } from '../../src/cli/check-command';

const logs = new LogCapture();
let sim: Simulator;
let world: PartnerWorld;
let tenantA: string;
let tenantB: string;
const clock = movableClock();
const secrets = {
  a: { name: `inbound-a-${uniqueSuffix()}`, value: `whsec_${crypto.randomBytes(32).toString('base64')}` },
  b: { name: `inbound-b-${uniqueSuffix()}`, value: `whsec_${crypto.randomBytes(32).toString('base64')}` },
};

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  tenantA = sim.addTenant();
  tenantB = sim.addTenant();
  for (const s of Object.values(secrets)) sim.keyVault.setSecret(s.name, logs.secret(s.value));
  logs.secret(secrets.a.value.slice('whsec_'.length));
  logs.secret(secrets.b.value.slice('whsec_'.length));
  const suffix = uniqueSuffix();
  world = partnerWorld(sim, {
    env: {
      DEFENDER_TENANTS: `${tenantA},${tenantB}`,
      INBOUND_TABLE_NAME: `inbound${suffix}`,
      INBOUND_RETRY_QUEUE_NAME: `inbound-retry-${suffix}`,
      INBOUND_SENDERS: JSON.stringify([
        { name: 'contoso-servicenow', secret: secrets.a.name, tenants: [tenantA] },
        { name: 'fabrikam-jira', secret: secrets.b.name, tenants: [tenantB] },
      ]),
    },
    relayOptions: { now: clock.now },
  });
  logs.secret(world.app.secret);
  for (const t of [tenantA, tenantB]) {
    sim.grantPermissions(world.app.clientId, t, 'graph', ['SecurityIncident.ReadWrite.All']);
  }
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  logs.restore();
  await sim.stop();
});

function signed(body: object, secret: string, id = `msg_${crypto.randomUUID()}`) {
  const text = JSON.stringify(body);
  const at = new Date();
  return {
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': logs.secret(new Webhook(secret).sign(id, at, text)),
    },
    body: text,
  };
}

function send(
  sender: string | undefined,
  m: { headers: Record<string, string>; body: string },
  relay = world.relay,
) {
  return call(
    inboundWebhookHandler(relay),
    {
      path: `/api/webhooks/incident-updates${sender ? `/${sender}` : ''}`,
      params: sender ? { sender } : {},
      headers: m.headers,
      body: m.body,
    },
    logs,
    'inboundIncidentUpdates',
  );
}

const reads = (name: string) => sim.counters.snapshot().keyVaultReads[name] ?? 0;

describe('inbound senders', () => {
  test("a sender acts in its own tenants only: customer A's system cannot update customer B's incident", async () => {
    const incidentA = sim.incidents.create(tenantA, { status: 'active' });
    const incidentB = sim.incidents.create(tenantB, { status: 'active' });

    const own = await send(
      'contoso-servicenow',
      signed({ tenantId: tenantA, incidentId: incidentA.id, status: 'resolved' }, secrets.a.value),
    );
    expect(own.status).toBe(200);
    expect(sim.incidents.get(tenantA, incidentA.id).status).toBe('resolved');

    const other = await send(
      'contoso-servicenow',
      signed({ tenantId: tenantB, incidentId: incidentB.id, status: 'resolved' }, secrets.a.value),
    );
    expect(other.status).toBe(403);
    expect(other.headers['content-type']).toBe('application/problem+json');
    expect(other.json).toMatchObject({
      type: 'urn:defender-relay:problem:tenant-not-allowed',
      errors: [{ field: 'tenantId', message: 'is not a tenant of this sender' }],
    });
    expect(sim.incidents.get(tenantB, incidentB.id).status).toBe('active');

    // A's secret on B's route is not B's signature.
    const borrowed = await send(
      'fabrikam-jira',
      signed({ tenantId: tenantB, incidentId: incidentB.id, status: 'resolved' }, secrets.a.value),
    );
    expect(borrowed.status).toBe(401);
    expect(sim.incidents.get(tenantB, incidentB.id).status).toBe('active');

    // Without a tenantId the sender's (first) tenant is meant.
    const implicit = await send(
      'fabrikam-jira',
      signed({ incidentId: incidentB.id, status: 'resolved' }, secrets.b.value),
    );
    expect(implicit.status).toBe(200);
    expect(sim.incidents.get(tenantB, incidentB.id).status).toBe('resolved');
  });

  test('an unknown sender, or none when INBOUND_SENDERS has no "default", is a 404 problem', async () => {
    const m = signed({ tenantId: tenantA, incidentId: '1', status: 'resolved' }, secrets.a.value);
    for (const sender of ['nobody', undefined]) {
      const res = await send(sender, m);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ type: 'urn:defender-relay:problem:sender-unknown' });
    }
  });

  test('one message id from two senders is two messages', async () => {
    const id = `msg_${crypto.randomUUID()}`;
    const incidentA = sim.incidents.create(tenantA);
    const incidentB = sim.incidents.create(tenantB);
    const first = await send(
      'contoso-servicenow',
      signed({ incidentId: incidentA.id, comment: 'from A' }, secrets.a.value, id),
    );
    const second = await send(
      'fabrikam-jira',
      signed({ incidentId: incidentB.id, comment: 'from B' }, secrets.b.value, id),
    );
    expect([first.status, second.status]).toEqual([200, 200]);
  });
});

describe('Key Vault reads anonymous callers can cause', () => {
  test('30 badly signed webhooks and 30 forged consent states: at most one read per secret per interval', async () => {
    // Warm: each secret read once.
    const incident = sim.incidents.create(tenantA);
    expect(
      (
        await send(
          'contoso-servicenow',
          signed({ incidentId: incident.id, comment: 'warm' }, secrets.a.value),
        )
      ).status,
    ).toBe(200);
    const keyName = world.config.consent.stateKeySecretName;
    await world.relay.secrets!.get(keyName);
    const before = { inbound: reads(secrets.a.name), key: reads(keyName) };

    const forger = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    const consentStates = Array.from(
      { length: 30 },
      () =>
        `${Buffer.from(JSON.stringify({ v: 1, t: tenantA, n: crypto.randomBytes(16).toString('base64url'), e: 2e9 })).toString('base64url')}.${crypto.randomBytes(32).toString('base64url')}`,
    );
    const answers = await Promise.all([
      ...Array.from({ length: 30 }, () =>
        send('contoso-servicenow', signed({ incidentId: incident.id, status: 'resolved' }, forger)),
      ),
      ...consentStates.map((state) =>
        call(
          consentCallbackHandler(world.relay),
          {
            method: 'GET',
            path: '/api/consent/callback',
            query: { admin_consent: 'True', tenant: tenantA, state },
            headers: { accept: 'application/json' },
          },
          logs,
          'consentCallback',
        ),
      ),
    ]);
    expect(answers.map((a) => a.status)).toEqual([...Array(30).fill(401), ...Array(30).fill(400)]);
    // Within the interval the first bad message's re-read is shared by every other one.
    expect(reads(secrets.a.name) - before.inbound).toBeLessThanOrEqual(1);
    expect(reads(keyName) - before.key).toBeLessThanOrEqual(1);

    // The next interval allows one more read, however many callers ask.
    clock.advance(world.config.secretRefreshMinMs);
    const mid = { inbound: reads(secrets.a.name), key: reads(keyName) };
    await Promise.all(
      Array.from({ length: 10 }, () =>
        send('contoso-servicenow', signed({ incidentId: incident.id, status: 'resolved' }, forger)),
      ),
    );
    expect(reads(secrets.a.name) - mid.inbound).toBe(1);
    expect(reads(keyName)).toBe(mid.key);
  });

  test('concurrent first reads share one request; a failed refresh keeps the last good value', async () => {
    const relay = createRelay(loadConfig(world.env), { now: clock.now });
    const before = reads(secrets.b.name);
    await Promise.all(Array.from({ length: 10 }, () => relay.secrets!.get(secrets.b.name)));
    expect(reads(secrets.b.name) - before).toBe(1);
    await relay.tokens.getToken(tenantB, 'graph'); // the client secret is read (and cached) too

    // Key Vault refuses from now on; past the interval the relay tries once, then goes on with what it had.
    sim.keyVault.revoke(sim.identities.systemAssigned.principalId);
    try {
      clock.advance(Math.max(world.config.secretRefreshMinMs, world.config.secretCacheTtlMs));
      const incident = sim.incidents.create(tenantB);
      const res = await send(
        'fabrikam-jira',
        signed({ incidentId: incident.id, comment: 'still verified' }, secrets.b.value),
        relay,
      );
      expect(res.status).toBe(200);
      // One attempt (the simulator counts reads it answered: the refused one may not show).
      expect(reads(secrets.b.name) - before).toBeLessThanOrEqual(2);
      expect(logs.lines.join('\n')).toMatch(/could not be read again .*the last value read is used/);
    } finally {
      sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
    }
  });
});

describe('what anonymous callers learn', () => {
  test('a Key Vault failure on the inbound route: a 503 without vault or secret name; both in the log', async () => {
    const name = `inbound-missing-${uniqueSuffix()}`;
    const env = {
      ...world.env,
      INBOUND_SENDERS: JSON.stringify([{ name: 'broken', secret: name, tenants: [tenantA] }]),
    };
    const relay = createRelay(loadConfig(env), { now: clock.now });
    const res = await send('broken', signed({ incidentId: '1', status: 'resolved' }, secrets.a.value), relay);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.json).toMatchObject({ type: 'urn:defender-relay:problem:verification-unavailable' });
    expect(res.text).not.toContain(name);
    expect(res.text).not.toContain(world.config.keyVaultUrl!);
    expect(res.text).not.toMatch(/vault/i);
    expect(logs.lines.some((l) => l.includes(name))).toBe(true);
  });

  test("Defender's own error text is redacted before it reaches a log line or the retry queue", async () => {
    const token = logs.secret(
      `eyJ${crypto.randomBytes(12).toString('base64url')}.eyJ${crypto.randomBytes(24).toString('base64url')}.${crypto.randomBytes(32).toString('base64url')}`,
    );
    sim.faults.inject({
      target: 'graph',
      tenantId: tenantA,
      status: 500,
      count: 10,
      body: {
        error: { code: 'InternalServerError', message: `upstream refused Bearer ${token} for this call` },
      },
    });
    try {
      const incident = sim.incidents.create(tenantA);
      const res = await send(
        'contoso-servicenow',
        signed({ incidentId: incident.id, status: 'resolved' }, secrets.a.value),
      );
      expect(res.status).toBe(202);
      expect(logs.lines.some((l) => l.includes('queued for retry') && l.includes('[token]'))).toBe(true);
    } finally {
      sim.faults.clear();
    }
  });

  test('/api/consent answers 503 (not 500) when Key Vault refuses, naming nothing inside', async () => {
    const relay = createRelay(loadConfig(world.env), { now: clock.now });
    sim.keyVault.revoke(sim.identities.systemAssigned.principalId);
    try {
      const res = await consentStartHandler(relay)(
        new HttpRequest({
          method: 'GET',
          url: `https://relay.example.net/api/consent?tenant=${tenantA}`,
          headers: { accept: 'application/json' },
        }),
        logs.context('consentStart'),
      );
      const text = String(res.body);
      logs.response(text);
      expect(res.status).toBe(503);
      expect(JSON.parse(text)).toMatchObject({ type: 'urn:defender-relay:problem:relay-unavailable' });
      expect(text).not.toContain(world.config.consent.stateKeySecretName);
      expect(text).not.toContain(world.config.keyVaultUrl!);
    } finally {
      sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
    }
  });

  test('a validly signed state with e: 1e308 is refused as invalid (400), not a 500', async () => {
    const key = await world.relay.secrets!.get(world.config.consent.stateKeySecretName);
    const body = Buffer.from(
      JSON.stringify({ v: 1, t: tenantA, n: crypto.randomBytes(16).toString('base64url'), e: 1e308 }),
    ).toString('base64url');
    const state = `${body}.${crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(body).digest('base64url')}`;
    const res = await consentCallbackHandler(world.relay)(
      new HttpRequest({
        method: 'GET',
        url: `${REDIRECT_URI}?admin_consent=True&tenant=${tenantA}&state=${state}`,
        headers: { accept: 'application/json' },
      }),
      logs.context('consentCallback'),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(String(res.body))).toMatchObject({ type: 'urn:defender-relay:problem:state-invalid' });
  });

  test('an Entra error without a valid state gets fixed words, never the description it carries', async () => {
    const res = await consentCallbackHandler(world.relay)(
      new HttpRequest({
        method: 'GET',
        url: `${REDIRECT_URI}?error=access_denied&error_description=${encodeURIComponent('Call +1-555-0100 to restore your account')}&state=forged.state`,
        headers: { accept: 'text/html' },
      }),
      logs.context('consentCallback'),
    );
    expect(res.status).toBe(403);
    expect(String(res.body)).toMatch(/declined the permissions/);
    expect(String(res.body)).not.toContain('555-0100');
  });
});

describe('a sender secret that is not a Standard Webhooks secret fails closed', () => {
  test.each([
    ['symbols only (would be an empty HMAC key)', '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'],
    ['16 bytes', `whsec_${crypto.randomBytes(16).toString('base64')}`],
  ])('%s: nothing is accepted, and deep health says so', async (_label, value) => {
    const name = `inbound-weak-${uniqueSuffix()}`;
    sim.keyVault.setSecret(name, logs.secret(value));
    const env = {
      ...world.env,
      INBOUND_SENDERS: JSON.stringify([{ name: 'weak', secret: name, tenants: [tenantA] }]),
    };
    const relay = createRelay(loadConfig(env), { now: clock.now });
    const incident = sim.incidents.create(tenantA, { status: 'active' });
    // Signed as a sender would sign with the key the relay used to derive from that text (empty / short).
    const mac = (key: Buffer) => {
      const id = `msg_${crypto.randomUUID()}`;
      const ts = String(Math.floor(Date.now() / 1000));
      const text = JSON.stringify({ incidentId: incident.id, status: 'resolved' });
      const sig = crypto.createHmac('sha256', key).update(`${id}.${ts}.${text}`).digest('base64');
      return {
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': ts,
          'webhook-signature': `v1,${sig}`,
        },
        body: text,
      };
    };
    const derived = Buffer.from(value.replace(/^whsec_/, ''), 'base64');
    const res = await send('weak', mac(derived), relay);
    expect(res.status).toBe(503);
    expect(res.text).not.toContain(name);
    expect(sim.incidents.get(tenantA, incident.id).status).toBe('active');

    const health = await healthDeepHandler(relay)(
      new HttpRequest({ method: 'GET', url: 'https://relay.example.net/api/health/deep' }),
      logs.context('healthDeep'),
    );
    logs.response(String(health.body));
    const report = JSON.parse(String(health.body)) as {
      status: string;
      checks: { name: string; ok: boolean; required: boolean; detail: string }[];
    };
    expect(report.status).toBe('unhealthy');
    // `defender-relay check` runs the same checks: it fails (exit 1).
    expect(await runCheck(relay, { write: (t) => logs.response(t) })).toBe(1);
    expect(report.checks.find((c) => c.name === 'inbound:sender:weak')).toMatchObject({
      ok: false,
      required: true,
      detail: expect.stringMatching(/whsec_<base64>|24 to 128 bytes/),
    });
  });
});
