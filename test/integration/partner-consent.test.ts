/**
 * Admin-consent onboarding end to end: the relay's /api/consent handler redirects to the simulator's
 * admin-consent page, the test follows the simulator's real redirect back to /api/consent/callback, and
 * the callback verifies the signed state and records the tenant; then the tenant is synced. Denied,
 * forged, expired and replayed answers get a clear page (or problem JSON) and record nothing.
 */
import { HttpRequest, InvocationContext } from '@azure/functions';
import { consentCallbackHandler, consentStartHandler } from '../../src/functions/consent';
import { ConsentService } from '../../src/tenants/consent';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { partnerWorld, REDIRECT_URI, type PartnerWorld } from '../helpers/partner';

let sim: Simulator;
let world: PartnerWorld;
beforeAll(async () => {
  sim = await startSimulator();
  world = partnerWorld(sim);
});
afterAll(async () => {
  await sim.stop();
});

const context = (name: string) => new InvocationContext({ functionName: name, logHandler: () => undefined });

function get(url: string, accept = 'text/html,application/xhtml+xml'): HttpRequest {
  return new HttpRequest({ method: 'GET', url, headers: { accept } });
}

/** /api/consent → the admin-consent URL the relay redirects to. */
async function consentLink(tenant: string, consent = world.relay): Promise<URL> {
  const res = await consentStartHandler(consent)(
    get(`https://relay.example.net/api/consent?tenant=${encodeURIComponent(tenant)}`),
    context('consentStart'),
  );
  expect(res.status).toBe(302);
  return new URL((res.headers as Record<string, string>).location!);
}

/** Follows the admin-consent URL at the simulator: its 302 back to the redirect URI. */
async function followConsent(url: URL): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

async function callback(url: URL | string, accept?: string) {
  const res = await consentCallbackHandler(world.relay)(get(String(url), accept), context('consentCallback'));
  return { status: res.status, headers: res.headers as Record<string, string>, body: String(res.body ?? '') };
}

test('onboarding end to end: consent link, admin consent, callback, tenant recorded and synced', async () => {
  const tenantId = world.addCustomer({ domain: 'fabrikam-partner.onmicrosoft.com' });
  const link = await consentLink('fabrikam-partner.onmicrosoft.com');

  // The admin-consent URL of this app in that tenant (the domain was resolved to the tenant id).
  expect(`${link.origin}${link.pathname}`).toBe(`${sim.urls.authorityHost}/${tenantId}/adminconsent`);
  expect(link.searchParams.get('client_id')).toBe(world.app.clientId);
  expect(link.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
  const state = link.searchParams.get('state')!;
  expect(state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

  const back = await followConsent(link);
  expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
  expect(back.searchParams.get('admin_consent')).toBe('True');
  expect(back.searchParams.get('tenant')).toBe(tenantId);
  expect(back.searchParams.get('state')).toBe(state);

  const res = await callback(back);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.body).toContain(tenantId);
  expect(res.body).toMatch(/next scheduled run/);

  const entry = await world.relay.tenants.get(tenantId);
  expect(entry).toMatchObject({
    tenantId,
    status: 'enabled',
    onboardedBy: 'admin-consent',
    source: 'registry',
  });
  expect(entry?.onboardedAt).toBeDefined();
  expect(await world.relay.tenants.enabledTenantIds()).toContain(tenantId);

  // The consent granted the app's permissions there: the tenant syncs with its own token.
  sim.incidents.create(tenantId, { displayName: 'Onboarded and flowing', severity: 'high' });
  const summary = await world.relay.syncAll({ tenants: [tenantId] });
  expect(summary.errors).toEqual([]);
  expect((await world.drainQueue()).map((e) => e.data.header.title)).toEqual(['Onboarded and flowing']);
  expect(sim.counters.snapshot().tokenRequests).toContainEqual(
    expect.objectContaining({ clientId: world.app.clientId, tenantId }),
  );

  // Replayed: the same answer again is refused and changes nothing.
  const before = await world.relay.tenants.get(tenantId);
  const replay = await callback(back);
  expect(replay.status).toBe(409);
  expect(replay.body).toMatch(/already processed/);
  expect(await world.relay.tenants.get(tenantId)).toEqual(before);
  const replayJson = await callback(back, 'application/json');
  expect(replayJson.headers['content-type']).toBe('application/problem+json');
  expect(JSON.parse(replayJson.body)).toMatchObject({
    type: 'urn:defender-relay:problem:state-used',
    status: 409,
  });
});

test('denied consent: a clear page, nothing recorded', async () => {
  const tenantId = world.addCustomer();
  const link = await consentLink(tenantId);
  const back = new URL(REDIRECT_URI);
  back.searchParams.set('error', 'permission_denied');
  back.searchParams.set(
    'error_description',
    'AADSTS65004: User declined to consent <b>to</b> access the app.',
  );
  back.searchParams.set('state', link.searchParams.get('state')!);
  const res = await callback(back);
  expect(res.status).toBe(403);
  expect(res.body).toMatch(/Consent was not granted/);
  expect(res.body).toContain('&lt;b&gt;to&lt;/b&gt;');
  expect(res.body).not.toContain('<b>to</b>');
  expect(await world.relay.tenants.get(tenantId)).toBeUndefined();
});

test('forged state: altered payload or signature, garbage, or another tenant, is refused and records nothing', async () => {
  const tenantId = world.addCustomer();
  const back = await followConsent(await consentLink(tenantId));
  const state = back.searchParams.get('state')!;
  const [body, signature] = state.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  const other = world.addCustomer({ consent: true });
  const forgedBody = Buffer.from(JSON.stringify({ ...payload, t: other })).toString('base64url');
  const forgeries = [
    `${forgedBody}.${signature}`, // payload changed, signature kept
    `${body}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`, // signature changed
    'not-a-state',
    '',
  ];
  for (const forged of forgeries) {
    const url = new URL(back);
    url.searchParams.set('state', forged);
    if (forged === forgeries[0]) url.searchParams.set('tenant', other);
    const res = await callback(url);
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/does not carry a state this relay issued/);
  }
  const json = await callback(
    `${REDIRECT_URI}?admin_consent=True&tenant=${other}&state=x.y`,
    'application/json',
  );
  expect(json.status).toBe(400);
  expect(json.headers['content-type']).toBe('application/problem+json');
  expect(JSON.parse(json.body)).toMatchObject({
    type: 'urn:defender-relay:problem:state-invalid',
    status: 400,
  });
  expect(await world.relay.tenants.get(tenantId)).toBeUndefined();
  expect(await world.relay.tenants.get(other)).toBeUndefined();

  // A state for one tenant does not onboard another.
  const wrongTenant = new URL(back);
  wrongTenant.searchParams.set('tenant', other);
  expect((await callback(wrongTenant)).status).toBe(400);
  expect(await world.relay.tenants.get(other)).toBeUndefined();
});

test('expired state: refused with a page saying how to start again, nothing recorded', async () => {
  const tenantId = world.addCustomer();
  const back = await followConsent(await consentLink(tenantId));
  // The same relay, a minute after the state's lifetime.
  const later = new ConsentService({
    clientId: world.config.clientId,
    authorityHost: world.config.endpoints.authorityHost,
    redirectUri: world.config.consent.redirectUri,
    stateLifetimeMs: world.config.consent.stateLifetimeMs,
    keySecretName: world.config.consent.stateKeySecretName,
    secrets: world.relay.secrets,
    registry: world.relay.tenants,
    tokens: world.relay.tokens,
    api: world.config.api,
    now: () => Date.now() + world.config.consent.stateLifetimeMs + 60_000,
  });
  const res = await consentCallbackHandler({ consent: later })(get(String(back)), context('consentCallback'));
  expect(res.status).toBe(400);
  expect(String(res.body)).toMatch(/expired/);
  expect(String(res.body)).toContain(`/api/consent?tenant=${tenantId}`);
  expect(await world.relay.tenants.get(tenantId)).toBeUndefined();
});

test('bad input to /api/consent: 4xx with a page or problem JSON, markup escaped', async () => {
  const start = consentStartHandler(world.relay);
  const missing = await start(get('https://relay.example.net/api/consent'), context('consentStart'));
  expect(missing.status).toBe(400);
  const evil = await start(
    get('https://relay.example.net/api/consent?tenant=%3Cscript%3Ealert(1)%3C%2Fscript%3E'),
    context('consentStart'),
  );
  expect(evil.status).toBe(400);
  expect(String(evil.body)).not.toContain('<script>');
  const unknown = await start(
    get('https://relay.example.net/api/consent?tenant=nobody-here.example.com', 'application/json'),
    context('consentStart'),
  );
  expect(unknown.status).toBe(404);
  expect(JSON.parse(String(unknown.body))).toMatchObject({
    type: 'urn:defender-relay:problem:tenant-unknown',
  });
  // A JSON client gets the link instead of a redirect.
  const tenantId = world.addCustomer();
  const json = await start(
    get(`https://relay.example.net/api/consent?tenant=${tenantId}`, 'application/json'),
    context('consentStart'),
  );
  expect(json.status).toBe(200);
  expect(JSON.parse(String(json.body))).toMatchObject({
    tenantId,
    consentUrl: expect.stringContaining('/adminconsent?'),
  });
});
