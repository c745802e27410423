/**
 * The simulator against the real SDKs (MSAL Node, @azure/identity, @azure/keyvault-secrets), over real
 * HTTPS on loopback. No mocks: if these pass, the SDKs' own code paths accept what the simulator serves.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { ManagedIdentityCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import forge from 'node-forge';
import { parseTicks, startSimulator, type Simulator } from '../../tools/simulator';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures');

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

interface Page {
  value: Record<string, unknown>[];
  '@odata.nextLink'?: string;
  '@odata.context'?: string;
  '@odata.count'?: number;
}

async function call(
  url: string,
  token: string,
  init: RequestInit = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

async function getPage(url: string, token: string): Promise<Page> {
  const r = await call(url, token);
  if (r.status !== 200) throw new Error(`GET ${url} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as Page;
}

async function allPages(
  first: string,
  token: string,
): Promise<{ items: Record<string, unknown>[]; pages: number }> {
  const items: Record<string, unknown>[] = [];
  let next: string | undefined = first;
  let pages = 0;
  while (next) {
    const page = await getPage(next, token);
    items.push(...page.value);
    next = page['@odata.nextLink'];
    pages++;
  }
  return { items, pages };
}

describe('simulator with the real SDKs', () => {
  let sim: Simulator;
  let tenantA: string;
  let tenantB: string;
  let app: { clientId: string; secret: string | undefined };
  const savedEnv = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

  function cca(
    tenantId: string,
    secret = app.secret ?? '',
    clientId = app.clientId,
  ): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      auth: {
        clientId,
        clientSecret: secret,
        authority: `${sim.urls.authorityHost}/${tenantId}`,
        knownAuthorities: sim.urls.knownAuthorities,
      },
    });
  }

  async function appToken(tenantId: string, resource: string): Promise<string> {
    const r = await cca(tenantId).acquireTokenByClientCredential({ scopes: [`${resource}/.default`] });
    if (!r) throw new Error('no token');
    return r.accessToken;
  }

  beforeAll(async () => {
    sim = await startSimulator({ seed: 42 });
    tenantA = sim.addTenant({ displayName: 'Tenant A' });
    tenantB = sim.addTenant({ displayName: 'Tenant B' });
    app = sim.registerApp({ homeTenantId: tenantA, multiTenant: true });
    for (const t of [tenantA, tenantB]) {
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.ReadWrite.All']);
      sim.grantPermissions(app.clientId, t, 'legacy', ['Incident.Read.All']);
    }
    process.env.IDENTITY_ENDPOINT = sim.urls.identityEndpoint;
    process.env.IDENTITY_HEADER = sim.urls.identityHeader;
  });

  afterAll(async () => {
    await sim.stop();
    if (savedEnv.endpoint === undefined) delete process.env.IDENTITY_ENDPOINT;
    else process.env.IDENTITY_ENDPOINT = savedEnv.endpoint;
    if (savedEnv.header === undefined) delete process.env.IDENTITY_HEADER;
    else process.env.IDENTITY_HEADER = savedEnv.header;
  });

  afterEach(() => {
    sim.faults.clear();
    sim.rateLimits.clear();
  });

  describe('Entra ID through MSAL Node', () => {
    it('issues a Graph token and a legacy token with the granted roles', async () => {
      const graph = claimsOf(await appToken(tenantA, 'https://graph.microsoft.com'));
      expect(graph).toMatchObject({
        aud: 'https://graph.microsoft.com',
        iss: `https://sts.windows.net/${tenantA}/`,
        tid: tenantA,
        appid: app.clientId,
        azp: app.clientId,
        roles: ['SecurityIncident.ReadWrite.All'],
      });
      expect(typeof graph.oid).toBe('string');
      expect(Number(graph.exp) - Number(graph.iat)).toBe(3600);
      const legacy = claimsOf(await appToken(tenantA, 'https://api.security.microsoft.com'));
      expect(legacy).toMatchObject({
        aud: 'https://api.security.microsoft.com',
        roles: ['Incident.Read.All'],
      });
      const counted = sim.counters
        .snapshot()
        .tokenRequests.find(
          (t) =>
            t.clientId === app.clientId &&
            t.tenantId === tenantA &&
            t.resource === 'https://graph.microsoft.com',
        );
      expect(counted?.count).toBeGreaterThanOrEqual(1);
    });

    it('surfaces AADSTS7000215 for a wrong secret', async () => {
      await expect(
        cca(tenantA, 'not-the-secret').acquireTokenByClientCredential({
          scopes: ['https://graph.microsoft.com/.default'],
        }),
      ).rejects.toMatchObject({
        errorCode: 'invalid_client',
        errorMessage: expect.stringContaining('AADSTS7000215'),
      });
    });

    it('rejects a tenant that never consented, until it does, and again after revocation', async () => {
      const tenantC = sim.addTenant();
      const scopes = ['https://graph.microsoft.com/.default'];
      await expect(cca(tenantC).acquireTokenByClientCredential({ scopes })).rejects.toMatchObject({
        errorMessage: expect.stringContaining('AADSTS700016'),
      });
      sim.grantPermissions(app.clientId, tenantC, 'graph', ['SecurityIncident.Read.All']);
      const r = await cca(tenantC).acquireTokenByClientCredential({ scopes });
      expect(claimsOf(r?.accessToken ?? '').tid).toBe(tenantC);
      sim.revokeConsent(app.clientId, tenantC);
      await expect(cca(tenantC).acquireTokenByClientCredential({ scopes })).rejects.toMatchObject({
        errorMessage: expect.stringContaining('AADSTS700016'),
      });
    });

    it('rejects an unknown tenant and an unknown resource', async () => {
      await expect(
        cca(crypto.randomUUID()).acquireTokenByClientCredential({
          scopes: ['https://graph.microsoft.com/.default'],
        }),
      ).rejects.toThrow();
      await expect(
        cca(tenantA).acquireTokenByClientCredential({ scopes: ['https://unknown.example.com/.default'] }),
      ).rejects.toMatchObject({ errorMessage: expect.stringContaining('AADSTS500011') });
    });

    it('returns the AAD error JSON shape', async () => {
      const res = await fetch(`${sim.urls.authorityHost}/${tenantA}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: app.clientId,
          client_secret: 'wrong',
          scope: 'https://graph.microsoft.com/.default',
        }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
      expect(String(body.error_description)).toMatch(
        /^AADSTS7000215: Invalid client secret provided\..*\r\nTrace ID: .+\r\nCorrelation ID: .+\r\nTimestamp: .+$/s,
      );
    });

    it('accepts a certificate client assertion (x5t#S256) and rejects an unregistered certificate', async () => {
      const makeCert = (): { pem: string; key: string } => {
        const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
        const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
        const fKey = forge.pki.privateKeyFromPem(keyPem);
        const cert = forge.pki.createCertificate();
        cert.publicKey = forge.pki.setRsaPublicKey(fKey.n, fKey.e);
        cert.serialNumber = '01';
        cert.validity.notBefore = new Date(Date.now() - 3600_000);
        cert.validity.notAfter = new Date(Date.now() + 86400_000);
        cert.setSubject([{ name: 'commonName', value: 'relay' }]);
        cert.setIssuer([{ name: 'commonName', value: 'relay' }]);
        cert.sign(fKey, forge.md.sha256.create());
        return { pem: forge.pki.certificateToPem(cert), key: keyPem };
      };
      const good = makeCert();
      const other = makeCert();
      const certApp = sim.registerApp({ homeTenantId: tenantA, secrets: [], certificates: [good.pem] });
      sim.grantPermissions(certApp.clientId, tenantA, 'graph', ['SecurityIncident.Read.All']);
      const withCert = (c: { pem: string; key: string }): ConfidentialClientApplication =>
        new ConfidentialClientApplication({
          auth: {
            clientId: certApp.clientId,
            authority: `${sim.urls.authorityHost}/${tenantA}`,
            knownAuthorities: sim.urls.knownAuthorities,
            clientCertificate: {
              thumbprintSha256: new crypto.X509Certificate(c.pem).fingerprint256.replace(/:/g, ''),
              privateKey: c.key,
            },
          },
        });
      const r = await withCert(good).acquireTokenByClientCredential({
        scopes: ['https://graph.microsoft.com/.default'],
      });
      expect(claimsOf(r?.accessToken ?? '')).toMatchObject({ appid: certApp.clientId, appidacr: '2' });
      await expect(
        withCert(other).acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
      ).rejects.toMatchObject({ errorMessage: expect.stringContaining('AADSTS700027') });
    });

    it('accepts a managed identity as a federated credential (no stored secret)', async () => {
      const mi = sim.identities.addUserAssigned();
      const fedApp = sim.registerApp({
        homeTenantId: tenantA,
        secrets: [],
        federatedIdentities: [
          {
            issuer: sim.urls.managedIdentityIssuer,
            subject: mi.principalId,
            audience: 'api://AzureADTokenExchange',
          },
        ],
      });
      sim.grantPermissions(fedApp.clientId, tenantA, 'graph', ['SecurityIncident.Read.All']);
      const miCred = new ManagedIdentityCredential({ clientId: mi.clientId });
      const client = new ConfidentialClientApplication({
        auth: {
          clientId: fedApp.clientId,
          authority: `${sim.urls.authorityHost}/${tenantA}`,
          knownAuthorities: sim.urls.knownAuthorities,
          clientAssertion: async () => (await miCred.getToken('api://AzureADTokenExchange/.default')).token,
        },
      });
      const r = await client.acquireTokenByClientCredential({
        scopes: ['https://graph.microsoft.com/.default'],
      });
      expect(claimsOf(r?.accessToken ?? '')).toMatchObject({
        appid: fedApp.clientId,
        roles: ['SecurityIncident.Read.All'],
      });

      // Another identity is not a federated credential of the app.
      const stranger = new ManagedIdentityCredential({ clientId: sim.identities.addUserAssigned().clientId });
      const bad = new ConfidentialClientApplication({
        auth: {
          clientId: fedApp.clientId,
          authority: `${sim.urls.authorityHost}/${tenantA}`,
          knownAuthorities: sim.urls.knownAuthorities,
          clientAssertion: async () => (await stranger.getToken('api://AzureADTokenExchange/.default')).token,
        },
      });
      await expect(
        bad.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
      ).rejects.toMatchObject({ errorMessage: expect.stringContaining('AADSTS70021') });
    });
  });

  describe('partner and user contexts', () => {
    it('grants the required permissions through the admin-consent link', async () => {
      const customer = sim.addTenant();
      const mssp = sim.registerApp({
        homeTenantId: tenantA,
        multiTenant: true,
        requiredPermissions: { graph: ['SecurityIncident.Read.All'] },
      });
      const link = `${sim.urls.authorityHost}/${customer}/adminconsent?client_id=${mssp.clientId}&redirect_uri=${encodeURIComponent('https://relay.example/onboard')}&state=s1`;
      const res = await fetch(link, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location') ?? '');
      expect(back.origin + back.pathname).toBe('https://relay.example/onboard');
      expect(Object.fromEntries(back.searchParams)).toMatchObject({
        admin_consent: 'True',
        tenant: customer,
        state: 's1',
      });
      const r = await cca(customer, mssp.secret, mssp.clientId).acquireTokenByClientCredential({
        scopes: ['https://graph.microsoft.com/.default'],
      });
      expect(claimsOf(r?.accessToken ?? '')).toMatchObject({
        tid: customer,
        roles: ['SecurityIncident.Read.All'],
      });
    });

    it('exchanges a user token on behalf of the user (OBO)', async () => {
      const userToken = sim.issueToken({
        tenantId: tenantA,
        audience: `api://${app.clientId}`,
        scp: 'user_impersonation',
        upn: 'analyst@contoso.com',
        oid: crypto.randomUUID(),
      });
      const r = await cca(tenantA).acquireTokenOnBehalfOf({
        oboAssertion: userToken,
        scopes: ['https://graph.microsoft.com/.default'],
      });
      const claims = claimsOf(r?.accessToken ?? '');
      expect(claims).toMatchObject({
        upn: 'analyst@contoso.com',
        oid: claimsOf(userToken).oid,
        idtyp: 'user',
      });
      expect(String(claims.scp)).toContain('SecurityIncident.ReadWrite.All');
      expect(claims.roles).toBeUndefined();
      const page = await call(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=1`,
        r?.accessToken ?? '',
      );
      expect(page.status).toBe(200);
    });

    it('runs advanced hunting on both APIs with the hunting roles', async () => {
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'graph', ['ThreatHunting.Read.All']);
      sim.grantPermissions(app.clientId, t, 'legacy', ['AdvancedHunting.Read.All']);
      sim.incidents.seed(t, 5, { alertsPerIncident: 2 });
      const g = await call(
        `${sim.urls.graphBaseUrl}/v1.0/security/runHuntingQuery`,
        await appToken(t, 'https://graph.microsoft.com'),
        {
          method: 'POST',
          body: JSON.stringify({ Query: 'AlertInfo | take 3', Timespan: 'P1D' }),
        },
      );
      expect(g.status).toBe(200);
      expect((g.body as { results: unknown[] }).results).toHaveLength(3);
      expect((g.body as { schema: unknown[] }).schema.length).toBeGreaterThan(0);
      const l = await call(
        `${sim.urls.legacyBaseUrl}/api/advancedhunting/run`,
        await appToken(t, 'https://api.security.microsoft.com'),
        {
          method: 'POST',
          body: JSON.stringify({ Query: 'AlertInfo' }),
        },
      );
      expect(l.status).toBe(200);
      expect((l.body as { Results: unknown[] }).Results).toHaveLength(10);
      // Column types as the pages name them (runHuntingQuery: DateTime, String; no System. prefix).
      expect((g.body as { schema: { type: string }[] }).schema[0]).toEqual({
        name: 'Timestamp',
        type: 'DateTime',
      });
      expect((l.body as { Schema: unknown[] }).Schema[0]).toEqual({ Name: 'Timestamp', Type: 'DateTime' });
      // api-advanced-hunting takes Query only: a Timespan is refused, not ignored.
      const span = await call(
        `${sim.urls.legacyBaseUrl}/api/advancedhunting/run`,
        await appToken(t, 'https://api.security.microsoft.com'),
        { method: 'POST', body: JSON.stringify({ Query: 'AlertInfo', Timespan: 'P1D' }) },
      );
      expect(span.status).toBe(400);
      // Incident roles alone do not allow hunting.
      const noHunt = await call(
        `${sim.urls.graphBaseUrl}/v1.0/security/runHuntingQuery`,
        await appToken(tenantB, 'https://graph.microsoft.com'),
        {
          method: 'POST',
          body: JSON.stringify({ Query: 'AlertInfo' }),
        },
      );
      expect(noHunt.status).toBe(403);
    });
  });

  describe('managed identity and Key Vault', () => {
    it('gives system- and user-assigned identities Key Vault tokens', async () => {
      const sys = await new ManagedIdentityCredential().getToken('https://vault.localhost/.default');
      expect(claimsOf(sys.token)).toMatchObject({
        aud: 'https://vault.localhost',
        oid: sim.identities.systemAssigned.principalId,
        sub: sim.identities.systemAssigned.principalId,
        tid: sim.homeTenantId,
      });
      const ua = sim.identities.addUserAssigned();
      const uaToken = await new ManagedIdentityCredential({ clientId: ua.clientId }).getToken(
        'https://vault.localhost/.default',
      );
      expect(claimsOf(uaToken.token)).toMatchObject({ oid: ua.principalId, appid: ua.clientId });
      await expect(
        new ManagedIdentityCredential({ clientId: crypto.randomUUID() }).getToken(
          'https://vault.localhost/.default',
        ),
      ).rejects.toThrow(/Unable to load the proper Managed Identity/);
    });

    it('requires X-IDENTITY-HEADER on the managed-identity endpoint', async () => {
      const url = `${sim.urls.identityEndpoint}?api-version=2019-08-01&resource=https://vault.localhost`;
      expect((await fetch(url)).status).toBe(400);
      expect((await fetch(url, { headers: { 'x-identity-header': 'wrong' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { 'x-identity-header': sim.urls.identityHeader } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({
        token_type: 'Bearer',
        resource: 'https://vault.localhost',
        expires_on: expect.stringMatching(/^\d+$/),
        client_id: sim.identities.systemAssigned.clientId,
      });
    });

    it('reads a secret with challenge auth, sees a rotation, and answers 403 without the role', async () => {
      const v1 = sim.keyVault.setSecret('relay-client-secret', 'first');
      sim.keyVault.grantSecretsUser(sim.identities.systemAssigned.principalId);
      const client = new SecretClient(sim.urls.keyVaultUrl(), new ManagedIdentityCredential());
      const s1 = await client.getSecret('relay-client-secret');
      expect(s1.value).toBe('first');
      expect(s1.properties.version).toBe(v1);
      expect(s1.properties.id).toBe(`${sim.urls.keyVaultUrl()}/secrets/relay-client-secret/${v1}`);

      const v2 = sim.keyVault.setSecret('relay-client-secret', 'second');
      const s2 = await client.getSecret('relay-client-secret');
      expect(s2.value).toBe('second');
      expect(s2.properties.version).toBe(v2);
      expect((await client.getSecret('relay-client-secret', { version: v1 })).value).toBe('first');
      const versions: string[] = [];
      for await (const p of client.listPropertiesOfSecretVersions('relay-client-secret'))
        versions.push(p.version ?? '');
      expect(versions.sort()).toEqual([v1, v2].sort());
      expect(sim.counters.snapshot().keyVaultReads['relay-client-secret']).toBeGreaterThanOrEqual(3);

      await expect(client.getSecret('no-such-secret')).rejects.toMatchObject({
        statusCode: 404,
        code: 'SecretNotFound',
      });

      const ua = sim.identities.addUserAssigned();
      const denied = new SecretClient(
        sim.urls.keyVaultUrl(),
        new ManagedIdentityCredential({ clientId: ua.clientId }),
      );
      await expect(denied.getSecret('relay-client-secret')).rejects.toMatchObject({
        statusCode: 403,
        code: 'Forbidden',
      });
      sim.keyVault.grantSecretsUser(ua.principalId);
      expect((await denied.getSecret('relay-client-secret')).value).toBe('second');
      sim.keyVault.revoke(ua.principalId);
      await expect(denied.getSecret('relay-client-secret')).rejects.toMatchObject({ statusCode: 403 });
    });

    it('challenges a request without a token as Key Vault does', async () => {
      const res = await fetch(`${sim.urls.keyVaultUrl()}/secrets/x?api-version=7.5`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer authorization="${sim.urls.authorityHost}/${sim.homeTenantId}", resource="https://vault.localhost"`,
      );
    });
  });

  describe('Graph security incidents', () => {
    let graphToken: string;
    beforeAll(async () => {
      sim.incidents.seed(tenantA, 57);
      sim.incidents.seed(tenantB, 9);
      graphToken = await appToken(tenantA, 'https://graph.microsoft.com');
    });

    it('pages by $orderby=createdDateTime (honoured) and nextLink: every incident once, in creation order', async () => {
      const since = new Date(Date.now() - 4 * 3600_000).toISOString();
      const expected = sim.incidents
        .ids(tenantA)
        .filter(
          (id) => (parseTicks(sim.incidents.get(tenantA, id).lastUpdateDateTime) ?? 0n) >= parseTicks(since)!,
        );
      const first = `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$filter=lastUpdateDateTime ge ${since}&$orderby=createdDateTime asc&$top=10&$expand=alerts&$count=true`;
      const firstPage = await getPage(first, graphToken);
      expect(firstPage['@odata.count']).toBe(expected.length);
      const { items, pages } = await allPages(first, graphToken);
      expect(pages).toBe(Math.ceil(expected.length / 10));
      expect(items.map((i) => i.id).sort()).toEqual([...expected].sort());
      const created = items.map((i) => parseTicks(String(i.createdDateTime))!);
      for (let i = 1; i < created.length; i++) expect(created[i]! >= created[i - 1]!).toBe(true);
      for (const item of items) {
        expect(item.tenantId).toBe(tenantA);
        expect(Array.isArray(item.alerts)).toBe(true);
        expect(String(item.lastUpdateDateTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/);
        expect(String(item.lastUpdateDateTime)).not.toMatch(/\.\d*0Z$/);
      }
    });

    it('accepts $orderby=lastUpdateDateTime and ignores it; without $orderby the order changes between requests', async () => {
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.Read.All']);
      sim.incidents.seed(t, 40, { spreadHours: 2, alertsPerIncident: 1 });
      const token = await appToken(t, 'https://graph.microsoft.com');
      const ignored = await getPage(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$orderby=lastUpdateDateTime asc&$top=40`,
        token,
      );
      const ticks = ignored.value.map((i) => parseTicks(String(i.lastUpdateDateTime))!);
      expect(ticks.every((x, i) => i === 0 || x >= ticks[i - 1]!)).toBe(false);
      const orders = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const page = await getPage(`${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=40`, token);
        expect(page.value).toHaveLength(40);
        orders.add(page.value.map((x) => x.id).join(','));
      }
      expect(orders.size).toBeGreaterThan(1);
      const severity = await call(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$orderby=severity`,
        token,
      );
      expect(severity.status).toBe(400);
      const skip = await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents?$skip=501`, token);
      expect(skip.status).toBe(400);
      expect((await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents?$skip=500`, token)).status).toBe(
        200,
      );
    });

    it('answers 500 for a page with $expand=alerts carrying too many alerts, and hides newer enum members without Prefer', async () => {
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.Read.All']);
      const big = sim.incidents.create(t, {}, { alerts: 201 });
      sim.incidents.update(t, big.id, { status: 'awaitingAction' });
      const token = await appToken(t, 'https://graph.microsoft.com');
      const url = `${sim.urls.graphBaseUrl}/v1.0/security/incidents`;
      expect((await call(`${url}?$expand=alerts`, token)).status).toBe(500);
      const plain = await getPage(url, token);
      expect(plain.value[0]!.status).toBe('unknownFutureValue');
      const preferred = await call(url, token, { headers: { prefer: 'include-unknown-enum-members' } });
      expect((preferred.body as Page).value[0]!.status).toBe('awaitingAction');
      // One incident with its alerts is not a list page.
      const one = await call(`${url}/${big.id}?$expand=alerts`, token, {
        headers: { prefer: 'include-unknown-enum-members' },
      });
      expect(one.status).toBe(200);
      expect((one.body as { alerts: unknown[] }).alerts).toHaveLength(201);
    });

    it('returns alerts only with $expand=alerts, defaults $top to 20 and rejects $top above 50', async () => {
      const page = await getPage(`${sim.urls.graphBaseUrl}/v1.0/security/incidents`, graphToken);
      expect(page.value).toHaveLength(20);
      expect(page.value[0]).not.toHaveProperty('alerts');
      expect(page['@odata.nextLink']).toContain('$skip=20');
      const r = await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=51`, graphToken);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'BadRequest', message: expect.stringContaining('51') } });
    });

    it('compares filters at 100-ns precision and keeps equal stamps across a page boundary', async () => {
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.Read.All']);
      const base = '2020-09-06T14:46:57.0733333Z';
      const a = sim.incidents.create(t, {}, { stamp: base });
      const b = sim.incidents.create(t, {}, { stamp: base });
      const c = sim.incidents.create(t, {}, { stamp: '2020-09-06T14:46:57.0733334Z' });
      const d = sim.incidents.create(t, {}, { stamp: '2020-09-06T14:46:57.29Z' });
      const token = await appToken(t, 'https://graph.microsoft.com');
      const gt = await getPage(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$filter=lastUpdateDateTime gt ${base}&$orderby=createdDateTime asc`,
        token,
      );
      expect(gt.value.map((i) => i.id)).toEqual([String(c.id), String(d.id)]);
      expect(gt.value.map((i) => i.lastUpdateDateTime)).toEqual([
        '2020-09-06T14:46:57.0733334Z',
        '2020-09-06T14:46:57.29Z',
      ]);
      const all = await getPage(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$filter=lastUpdateDateTime ge ${base}&$orderby=createdDateTime asc&$count=true`,
        token,
      );
      expect(all['@odata.count']).toBe(4);
      const items = all.value;
      // a and b were created at one time: their order is the service's (not stable between requests, so
      // offset paging across them can repeat one and miss the other), the rest is by creation time.
      expect(
        items
          .slice(0, 2)
          .map((i) => i.id)
          .sort(),
      ).toEqual([a.id, b.id].map(String).sort());
      expect(items.slice(2).map((i) => i.id)).toEqual([c.id, d.id].map(String));
    });

    it('isolates tenants: a token only reads its own tenant', async () => {
      const { items } = await allPages(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=50`,
        graphToken,
      );
      expect(items.length).toBe(sim.incidents.ids(tenantA).length);
      expect(new Set(items.map((i) => i.tenantId))).toEqual(new Set([tenantA]));
      const tokenB = await appToken(tenantB, 'https://graph.microsoft.com');
      const pageB = await getPage(`${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=50`, tokenB);
      expect(pageB.value).toHaveLength(9);
      expect(new Set(pageB.value.map((i) => i.tenantId))).toEqual(new Set([tenantB]));
    });

    it('answers 401 to an expired or foreign token and 403 without the role', async () => {
      const url = `${sim.urls.graphBaseUrl}/v1.0/security/incidents`;
      const expired = sim.issueToken({
        tenantId: tenantA,
        audience: 'https://graph.microsoft.com',
        roles: ['SecurityIncident.Read.All'],
        lifetimeSeconds: -10,
      });
      expect(await call(url, expired)).toMatchObject({
        status: 401,
        body: { error: { code: 'InvalidAuthenticationToken' } },
      });
      const legacyAud = await appToken(tenantA, 'https://api.security.microsoft.com');
      expect((await call(url, legacyAud)).status).toBe(401);
      const noRoles = sim.issueToken({ tenantId: tenantA, audience: 'https://graph.microsoft.com' });
      expect(await call(url, noRoles)).toMatchObject({
        status: 403,
        body: { error: { code: 'Forbidden', message: expect.stringContaining('Missing application roles') } },
      });
    });

    it('throttles with 429 and Retry-After, and injects faults', async () => {
      sim.rateLimits.set(tenantA, 'graph', 2);
      const url = `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=1`;
      expect((await call(url, graphToken)).status).toBe(200);
      expect((await call(url, graphToken)).status).toBe(200);
      const limited = await call(url, graphToken);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(limited.body).toMatchObject({ error: { code: 'TooManyRequests' } });
      sim.rateLimits.clear();

      sim.faults.inject({ target: 'graph', tenantId: tenantA, status: 503, count: 2 });
      expect((await call(url, graphToken)).status).toBe(503);
      expect((await call(url, graphToken)).status).toBe(503);
      expect((await call(url, graphToken)).status).toBe(200);
      sim.faults.inject({ target: 'graph', malformedBody: true });
      const bad = await call(url, graphToken);
      expect(bad.status).toBe(200);
      expect(typeof bad.body).toBe('string');
      expect(sim.counters.snapshot().byStatus['graph.list']?.['503']).toBeGreaterThanOrEqual(2);
    });

    it('faults per operation, and after the write: a comment posted whose answer is lost', async () => {
      const incident = sim.incidents.create(tenantA);
      const url = `${sim.urls.graphBaseUrl}/v1.0/security/incidents/${incident.id}`;
      const before = sim.incidents.get(tenantA, incident.id);
      // Aimed at comments: a GET of the same incident is not hit.
      sim.faults.inject({ target: 'graph', operation: 'comment', afterApply: true, status: 504 });
      expect((await call(url, graphToken)).status).toBe(200);
      const lost = await call(`${url}/comments`, graphToken, {
        method: 'POST',
        body: JSON.stringify({ '@odata.type': 'microsoft.graph.security.alertComment', comment: 'once' }),
      });
      expect(lost.status).toBe(504);
      // Carried out all the same: the comment is on the incident and made a new version.
      const after = (await call(url, graphToken)).body as {
        comments: { comment: string }[];
        lastUpdateDateTime: string;
      };
      expect(after.comments.filter((c) => c.comment === 'once')).toHaveLength(1);
      expect(parseTicks(after.lastUpdateDateTime)!).toBeGreaterThan(parseTicks(before.lastUpdateDateTime)!);
      // A fault before the operation (no afterApply) is not carried out.
      sim.faults.inject({ target: 'graph', operation: 'comment', status: 503 });
      const refused = await call(`${url}/comments`, graphToken, {
        method: 'POST',
        body: JSON.stringify({ '@odata.type': 'microsoft.graph.security.alertComment', comment: 'never' }),
      });
      expect(refused.status).toBe(503);
      expect(sim.incidents.get(tenantA, incident.id).comments.some((c) => c.comment === 'never')).toBe(false);
    });

    it('serves a very large incident and a merged (redirected) one', async () => {
      const big = sim.incidents.create(tenantA, {}, { alerts: 250 });
      const r = await call(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents/${big.id}?$expand=alerts`,
        graphToken,
      );
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body).length).toBeGreaterThan(300 * 1024);
      const other = sim.incidents.create(tenantA);
      sim.incidents.merge(tenantA, other.id, big.id);
      const merged = await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents/${other.id}`, graphToken);
      expect(merged.body).toMatchObject({ status: 'redirected', redirectIncidentId: String(big.id) });
      expect(sim.incidents.get(tenantA, big.id).alerts.length).toBeGreaterThan(250);
    });

    it('updates an incident with PATCH (new version) and refuses a determination without truePositive', async () => {
      const id = sim.incidents.ids(tenantA)[0]!;
      const before = sim.incidents.history(tenantA).filter((h) => h.incidentId === id).length;
      const url = `${sim.urls.graphBaseUrl}/v1.0/security/incidents/${id}`;
      const ok = await call(url, graphToken, {
        method: 'PATCH',
        body: JSON.stringify({
          status: 'resolved',
          classification: 'truePositive',
          determination: 'malware',
        }),
      });
      expect(ok).toMatchObject({ status: 200, body: { id, status: 'resolved', determination: 'malware' } });
      expect(sim.incidents.history(tenantA).filter((h) => h.incidentId === id).length).toBe(before + 1);
      const bad = await call(url, graphToken, {
        method: 'PATCH',
        body: JSON.stringify({ classification: 'falsePositive', determination: 'malware' }),
      });
      expect(bad.status).toBe(400);
      // security-incident-update: documented non-true-positive pairs are accepted; inProgress and
      // page-only spellings are not; the update records who made it.
      for (const body of [
        { classification: 'falsePositive', determination: 'notMalicious' },
        { classification: 'informationalExpectedActivity', determination: 'securityTesting' },
        { classification: 'truePositive', determination: 'apt' },
        { status: 'redirected' },
      ]) {
        const r = await call(url, graphToken, { method: 'PATCH', body: JSON.stringify(body) });
        expect([body, r.status]).toEqual([body, 200]);
        expect(r.body).toMatchObject(body);
      }
      for (const body of [
        { status: 'inProgress' },
        { classification: 'truePositive', determination: 'confirmedUserActivity' },
        { classification: 'falsePositive', determination: 'clean' },
        { classification: 'unknown', determination: 'other' },
      ]) {
        const r = await call(url, graphToken, { method: 'PATCH', body: JSON.stringify(body) });
        expect([body, r.status]).toEqual([body, 400]);
      }
    });

    it('updates on the legacy API with exactly the values api-update-incidents lists', async () => {
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'legacy', ['Incident.ReadWrite.All']);
      const [incident] = sim.incidents.seed(t, 1);
      const token = await appToken(t, 'https://api.security.microsoft.com');
      const url = `${sim.urls.legacyBaseUrl}/api/incidents/${incident!.id}`;
      const patch = (body: object) => call(url, token, { method: 'PATCH', body: JSON.stringify(body) });
      const accepted: [object, object][] = [
        [{ classification: 'FalsePositive', determination: 'Clean' }, { determination: 'Clean' }],
        [
          { classification: 'FalsePositive', determination: 'NoEnoughDataToValidate' },
          { determination: 'NoEnoughDataToValidate' },
        ],
        [
          { classification: 'InformationalExpectedActivity', determination: 'ConfirmedActivity' },
          { determination: 'ConfirmedActivity' },
        ],
        [
          { classification: 'TruePositive', determination: 'CompromisedAccount' },
          { determination: 'CompromisedAccount' },
        ],
        [{ status: 'InProgress' }, { status: 'InProgress' }],
      ];
      for (const [body, shown] of accepted) {
        const r = await patch(body);
        expect([body, r.status]).toEqual([body, 200]);
        expect(r.body).toMatchObject(shown);
      }
      for (const body of [
        { classification: 'TruePositive', determination: 'Apt' },
        { classification: 'TruePositive', determination: 'SecurityPersonnel' },
        { classification: 'TruePositive', determination: 'NotAvailable' },
        { classification: 'TruePositive', determination: 'Clean' },
        { classification: 'Unknown' },
        { status: 'Closed' },
      ]) {
        const r = await patch(body);
        expect([body, r.status]).toEqual([body, 400]);
      }
      // The legacy view shows only documented legacy values.
      const got = await call(url, token);
      const legacy = got.body as Record<string, unknown>;
      expect(['Unknown', 'FalsePositive', 'TruePositive', 'InformationalExpectedActivity']).toContain(
        legacy.classification,
      );
      expect(['Active', 'InProgress', 'Resolved', 'Redirected']).toContain(legacy.status);
      expect(legacy.comments).toEqual(expect.any(Array));
    });
  });

  describe('legacy Defender API', () => {
    it('pages with $skip over every incident once, not in time order', async () => {
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'legacy', ['Incident.Read.All']);
      sim.incidents.seed(t, 230);
      const token = await appToken(t, 'https://api.security.microsoft.com');
      const { items, pages } = await allPages(`${sim.urls.legacyBaseUrl}/api/incidents`, token);
      expect(pages).toBe(3);
      const ids = items.map((i) => i.incidentId);
      expect(new Set(ids).size).toBe(230);
      expect(ids.map(String).sort()).toEqual(sim.incidents.ids(t).sort());
      for (const i of items) expect(typeof i.incidentId).toBe('number');
      const ticks = items.map((i) => parseTicks(String(i.lastUpdateTime))!);
      expect(ticks.every((v, k) => k === 0 || v >= ticks[k - 1]!)).toBe(false);

      // $skip by hand gives the same sequence.
      const manual: unknown[] = [];
      for (let skip = 0; skip < 230; skip += 50) {
        const page = await getPage(`${sim.urls.legacyBaseUrl}/api/incidents?$top=50&$skip=${skip}`, token);
        manual.push(...page.value.map((i) => i.incidentId));
      }
      expect(manual).toEqual(ids);

      const since = new Date(Date.now() - 2 * 3600_000).toISOString();
      const filtered = await allPages(
        `${sim.urls.legacyBaseUrl}/api/incidents?$filter=lastUpdateTime ge ${since} and status eq 'Active'`,
        token,
      );
      for (const i of filtered.items) {
        expect(parseTicks(String(i.lastUpdateTime))! >= parseTicks(since)!).toBe(true);
        expect(i.status).toBe('Active');
      }
    });

    it('puts the wait in the body of a 429 and sends no Retry-After', async () => {
      const token = await appToken(tenantA, 'https://api.security.microsoft.com');
      sim.rateLimits.set(tenantA, 'legacy', 1);
      const url = `${sim.urls.legacyBaseUrl}/api/incidents?$top=1`;
      expect((await call(url, token)).status).toBe(200);
      const limited = await call(url, token);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBeNull();
      expect(limited.body).toMatchObject({
        error: {
          code: 'TooManyRequests',
          message: expect.stringMatching(
            /^API calls quota exceeded! Maximum allowed 1 per 1 minute\(s\)\. Next call can be made in \d+ seconds$/,
          ),
        },
      });
    });

    it('requires the legacy audience and roles', async () => {
      const url = `${sim.urls.legacyBaseUrl}/api/incidents`;
      const graphAud = await appToken(tenantA, 'https://graph.microsoft.com');
      expect((await call(url, graphAud)).status).toBe(401);
      const noRoles = sim.issueToken({ tenantId: tenantA, audience: 'https://api.security.microsoft.com' });
      expect((await call(url, noRoles)).status).toBe(403);
    });
  });

  describe('shape against the documented examples', () => {
    it('has the fixture top-level keys on Graph incidents and alerts (customTags for tags)', async () => {
      const fixture = JSON.parse(
        fs.readFileSync(path.join(FIXTURES, 'graph-list-incidents-expand-alerts.json'), 'utf8'),
      ) as {
        value: Record<string, unknown>[];
      };
      const doc = fixture.value[0]!;
      // A tenant of ordinary incidents: a page of them carries its alerts (too many answer 500).
      const t = sim.addTenant();
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.Read.All']);
      sim.incidents.seed(t, 30, { alertsPerIncident: [1, 4] });
      const token = await appToken(t, 'https://graph.microsoft.com');
      const page = await getPage(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=30&$expand=alerts`,
        token,
      );
      const withAlerts = page.value.find(
        (i) => Array.isArray(i.alerts) && (i.alerts as unknown[]).length > 0,
      )!;
      // The example's keys, plus the documented properties it leaves out (typed model, issue 14).
      const docKeys = [
        ...Object.keys(doc).map((k) => (k === 'tags' ? 'customTags' : k)),
        'lastModifiedBy',
        'resolvingComment',
        'summary',
        'priorityScore',
      ];
      expect(Object.keys(withAlerts).sort()).toEqual([...new Set(docKeys)].sort());
      const docAlert = (doc.alerts as Record<string, unknown>[])[0]!;
      const simAlert = (withAlerts.alerts as Record<string, unknown>[])[0]!;
      expect(Object.keys(simAlert).sort()).toEqual(
        [...new Set([...Object.keys(docAlert), 'productName', 'systemTags'])].sort(),
      );
      // Typed evidence: every item names its @odata.type; device evidence has the documented keys.
      const allEvidence = page.value.flatMap((i) =>
        (i.alerts as Record<string, unknown>[]).flatMap((a) => a.evidence as Record<string, unknown>[]),
      );
      expect(
        allEvidence.every((e) => String(e['@odata.type']).startsWith('#microsoft.graph.security.')),
      ).toBe(true);
      const docDevice = (docAlert.evidence as Record<string, unknown>[])[0]!;
      const simDevice = allEvidence.find((e) => e['@odata.type'] === docDevice['@odata.type']);
      expect(Object.keys(simDevice ?? {}).sort()).toEqual(Object.keys(docDevice).sort());
    });

    it('has the fixture top-level keys on legacy incidents, alerts and devices (plus incidentUri)', async () => {
      const fixture = JSON.parse(
        fs.readFileSync(path.join(FIXTURES, 'legacy-list-incidents.json'), 'utf8'),
      ) as {
        value: Record<string, unknown>[];
      };
      const doc = fixture.value[1]!;
      const token = await appToken(tenantA, 'https://api.security.microsoft.com');
      const page = await getPage(`${sim.urls.legacyBaseUrl}/api/incidents`, token);
      expect(page['@odata.context']).toContain('/api/$metadata#Incidents');
      const inc = page.value[0]!;
      expect(Object.keys(inc).sort()).toEqual([...Object.keys(doc), 'incidentUri'].sort());
      const docAlert = (doc.alerts as Record<string, unknown>[])[0]!;
      const alerts = page.value.flatMap((i) => i.alerts as Record<string, unknown>[]);
      expect(Object.keys(alerts[0]!).sort()).toEqual(Object.keys(docAlert).sort());
      const device = alerts.flatMap((a) => a.devices as Record<string, unknown>[])[0];
      expect(Object.keys(device ?? {}).sort()).toEqual(
        Object.keys((docAlert.devices as Record<string, unknown>[])[0]!).sort(),
      );
      expect(['Active', 'InProgress', 'Resolved', 'Redirected']).toContain(inc.status);
    });

    it('shows one tenant the same incidents on both APIs', async () => {
      const g = await allPages(
        `${sim.urls.graphBaseUrl}/v1.0/security/incidents?$top=50`,
        await appToken(tenantB, 'https://graph.microsoft.com'),
      );
      const l = await allPages(
        `${sim.urls.legacyBaseUrl}/api/incidents`,
        await appToken(tenantB, 'https://api.security.microsoft.com'),
      );
      const gMap = new Map(g.items.map((i) => [i.id, i.lastUpdateDateTime]));
      expect(l.items).toHaveLength(g.items.length);
      for (const i of l.items) expect(gMap.get(String(i.incidentId))).toBe(i.lastUpdateTime);
    });
  });
});

describe('simulator with a controlled clock', () => {
  it('hides a version until visibleAfterMs has passed', async () => {
    let now = Date.parse('2024-05-01T12:00:00Z');
    const sim = await startSimulator({ seed: 7, clock: () => now });
    try {
      const t = sim.addTenant();
      const app = sim.registerApp({ homeTenantId: t });
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.Read.All']);
      const [inc] = sim.incidents.seed(t, 1);
      const id = String(inc!.id);
      const token = sim.issueToken({
        tenantId: t,
        audience: 'https://graph.microsoft.com',
        roles: ['SecurityIncident.Read.All'],
        lifetimeSeconds: 24 * 3600,
      });
      const list = async (): Promise<string> => {
        const r = await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents`, token);
        return String(((r.body as Page).value[0] ?? {}).lastUpdateDateTime);
      };
      const oldStamp = await list();
      now += 1000;
      const updated = sim.incidents.update(t, id, { status: 'inProgress' }, { visibleAfterMs: 60_000 });
      expect(updated.lastUpdateDateTime).not.toBe(oldStamp);
      expect(await list()).toBe(oldStamp);
      now += 59_000;
      expect(await list()).toBe(oldStamp);
      now += 1_001;
      expect(await list()).toBe(updated.lastUpdateDateTime);
      const history = sim.incidents.history(t);
      expect(history).toHaveLength(2);
      expect(history[1]).toMatchObject({ incidentId: id, lastUpdate: updated.lastUpdateDateTime });
      expect(history[1]!.visibleAt).toBe(Date.parse('2024-05-01T12:00:01Z') + 60_000);

      // Tokens expire on the simulator's clock.
      now += 25 * 3600_000;
      expect((await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents`, token)).status).toBe(401);
    } finally {
      await sim.stop();
    }
  });

  it('accepts sovereign audiences per cloud', async () => {
    const sim = await startSimulator({ cloud: 'gcchigh' });
    try {
      const t = sim.addTenant();
      const app = sim.registerApp({ homeTenantId: t });
      sim.grantPermissions(app.clientId, t, 'graph', ['SecurityIncident.Read.All']);
      sim.grantPermissions(app.clientId, t, 'legacy', ['Incident.Read.All']);
      sim.incidents.seed(t, 3);
      const client = new ConfidentialClientApplication({
        auth: {
          clientId: app.clientId,
          clientSecret: app.secret ?? '',
          authority: `${sim.urls.authorityHost}/${t}`,
          knownAuthorities: sim.urls.knownAuthorities,
        },
      });
      const tok = async (r: string): Promise<string> =>
        (await client.acquireTokenByClientCredential({ scopes: [`${r}/.default`] }))?.accessToken ?? '';
      const gov = await tok('https://graph.microsoft.us');
      expect((await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents`, gov)).status).toBe(200);
      const pub = await tok('https://graph.microsoft.com');
      expect((await call(`${sim.urls.graphBaseUrl}/v1.0/security/incidents`, pub)).status).toBe(401);
      const legacy = await tok('https://api-gov.security.microsoft.us');
      expect((await call(`${sim.urls.legacyBaseUrl}/api/incidents`, legacy)).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });
});
