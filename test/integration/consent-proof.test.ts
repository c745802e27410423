/**
 * A tenant is onboarded only when Entra ID says it consented: the callback proves each consent with a new
 * application token for the tenant (whose roles must hold the incident permission) before it records
 * anything, never switches back on a tenant an operator disabled or removed, and issuing links is the
 * operator's act (function key, `defender-relay tenants invite`). Through the real handlers, the
 * simulator's admin-consent page and token endpoint, and Azurite.
 */
import crypto from 'node:crypto';
import { PassThrough } from 'node:stream';
import { HttpRequest } from '@azure/functions';
import { consentCallbackHandler, consentStartHandler } from '../../src/functions/consent';
import { HTTP_FUNCTIONS } from '../../src/functions/http-functions';
import { runTenantsCommand } from '../../src/cli/tenants-command';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { partnerWorld, REDIRECT_URI, type PartnerWorld } from '../helpers/partner';
import { LogCapture } from '../helpers/log-capture';

const logs = new LogCapture();
let sim: Simulator;
let world: PartnerWorld;
beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  world = partnerWorld(sim);
  logs.secret(world.app.secret);
  logs.secret(await world.relay.secrets!.get(world.config.consent.stateKeySecretName));
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  logs.restore();
  await sim.stop();
});

function get(url: string, accept = 'text/html'): HttpRequest {
  return new HttpRequest({ method: 'GET', url, headers: { accept } });
}

async function link(tenant: string): Promise<URL> {
  const res = await consentStartHandler(world.relay)(
    get(`https://relay.example.net/api/consent?tenant=${tenant}`),
    logs.context('consentStart'),
  );
  expect(res.status).toBe(302);
  return new URL((res.headers as Record<string, string>).location!);
}

/** What an attacker sends without visiting Entra ID: the callback with a state and admin_consent=True. */
function forgedAnswer(consentUrl: URL, tenantId: string): URL {
  const back = new URL(REDIRECT_URI);
  back.searchParams.set('admin_consent', 'True');
  back.searchParams.set('tenant', tenantId);
  back.searchParams.set('state', consentUrl.searchParams.get('state')!);
  return back;
}

/** The administrator accepts on the simulator's admin-consent page: its redirect back. */
async function consent(consentUrl: URL): Promise<URL> {
  const res = await fetch(consentUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function callback(url: URL, accept?: string) {
  const res = await consentCallbackHandler(world.relay)(
    get(String(url), accept),
    logs.context('consentCallback'),
  );
  const body = String(res.body ?? '');
  logs.response(body);
  return { status: res.status ?? 200, body, headers: (res.headers ?? {}) as Record<string, string> };
}

test('issuing a consent link is the operator act: /api/consent takes the function key, the callback is anonymous', () => {
  const authLevel = (name: string) => HTTP_FUNCTIONS.find((f) => f.name === name)?.authLevel;
  expect(authLevel('consentStart')).toBe('function');
  expect(authLevel('consentCallback')).toBe('anonymous');
});

test('a callback for a tenant that never consented records nothing, says why, and works once the consent is given', async () => {
  const tenantId = world.addCustomer();
  const consentUrl = await link(tenantId);
  const before = sim.counters.snapshot().byKind.adminconsent ?? 0;
  const answer = forgedAnswer(consentUrl, tenantId);

  const res = await callback(answer);
  expect(res.status).toBe(403);
  expect(res.body).toMatch(/Consent not confirmed/);
  expect(res.body).toMatch(/Nothing was recorded/);
  expect(await world.relay.tenants.get(tenantId)).toBeUndefined();
  expect(await world.relay.tenants.enabledTenantIds()).not.toContain(tenantId);
  const json = await callback(answer, 'application/json');
  expect(json.headers['content-type']).toBe('application/problem+json');
  expect(JSON.parse(json.body)).toMatchObject({
    type: 'urn:defender-relay:problem:consent-not-effective',
    status: 403,
  });
  // The cause (Entra ID's answer) is in the log, not on the page.
  expect(logs.lines.join('\n')).toMatch(/AADSTS700016/);
  expect(res.body).not.toMatch(/AADSTS/);

  // The administrator really consents now; the same answer (a reload) is proven and recorded.
  const real = await consent(consentUrl);
  expect(sim.counters.snapshot().byKind.adminconsent).toBe(before + 1);
  const ok = await callback(real);
  expect(ok.status).toBe(200);
  expect(await world.relay.tenants.get(tenantId)).toMatchObject({
    status: 'enabled',
    onboardedBy: 'admin-consent',
  });
});

test('fifteen made-up tenants with valid states: none is recorded, deep health and the tenant list stay as they were', async () => {
  const tenantsBefore = await world.relay.tenants.list({ includeRemoved: true });
  for (let i = 0; i < 15; i++) {
    const tenantId = crypto.randomUUID();
    const res = await callback(forgedAnswer(await link(tenantId), tenantId), 'application/json');
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json');
  }
  expect(await world.relay.tenants.list({ includeRemoved: true })).toEqual(tenantsBefore);
});

test('a consent that lacks the incident permission is not recorded and names the permission', async () => {
  const tenantId = world.addCustomer();
  // The app exists in the tenant, but only with a hunting permission.
  sim.grantPermissions(world.app.clientId, tenantId, 'graph', ['ThreatHunting.Read.All']);
  const res = await callback(forgedAnswer(await link(tenantId), tenantId));
  expect(res.status).toBe(403);
  expect(res.body).toMatch(/Permissions missing/);
  expect(res.body).toMatch(/SecurityIncident\.Read\.All/);
  expect(await world.relay.tenants.get(tenantId)).toBeUndefined();
});

test.each(['disabled', 'removed'] as const)(
  'a tenant an operator %s stays so when its admin consents again',
  async (status) => {
    const tenantId = world.addCustomer();
    expect((await callback(await consent(await link(tenantId)))).status).toBe(200);
    await world.relay.tenants.setStatus(tenantId, status);

    const again = await callback(await consent(await link(tenantId)));
    expect(again.status).toBe(200);
    expect(again.body).toMatch(new RegExp(`has this tenant ${status}`));
    const entry = await world.relay.tenants.get(tenantId);
    expect(entry?.status).toBe(status);
    expect(entry?.consentedAt).toBeDefined();
    expect(await world.relay.tenants.enabledTenantIds()).not.toContain(tenantId);
  },
);

test('`defender-relay tenants invite` prints the admin-consent link; the consent it leads to is recorded', async () => {
  const tenantId = world.addCustomer();
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const code = await runTenantsCommand(world.relay, ['invite', tenantId], { json: true, out, err: out });
  expect(code).toBe(0);
  const printed = JSON.parse(text) as { consentUrl: string; tenantId: string; expiresAt: string };
  expect(printed.tenantId).toBe(tenantId);
  const consentUrl = new URL(printed.consentUrl);
  expect(`${consentUrl.origin}${consentUrl.pathname}`).toBe(
    `${sim.urls.authorityHost}/${tenantId}/adminconsent`,
  );
  expect((await callback(await consent(consentUrl))).status).toBe(200);
  expect(await world.relay.tenants.enabledTenantIds()).toContain(tenantId);
});
