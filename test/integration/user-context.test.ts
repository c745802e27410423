/**
 * User context end to end against the simulator: the caller's token is validated with jose (JWKS,
 * issuer, audience, expiry, tenant, scope) and exchanged with MSAL's on-behalf-of flow; hunting and
 * incident updates run as that user on both APIs. Every log line and response is searched for secrets.
 */
import crypto from 'node:crypto';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { huntingHandler, incidentUpdateHandler } from '../../src/functions/user-actions';
import { startActionsWorld, call, type ActionsWorld } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';
import { PROBLEM_CONTENT_TYPE } from '../../src/http';

const logs = new LogCapture();
let sim: Simulator;
let world: ActionsWorld;

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  world = await startActionsWorld(sim, logs);
});
afterAll(async () => {
  // The Defender tokens obtained on behalf of users must not be anywhere either.
  expect(logs.leaks()).toEqual([]);
  expect(logs.secretCount).toBeGreaterThan(5);
  logs.restore();
  await world?.stop();
  await sim?.stop();
});

const hunt = (token: string | undefined, body: object) =>
  call(
    huntingHandler(world.relay),
    { path: '/api/hunting', headers: token ? { authorization: `Bearer ${token}` } : {}, body },
    logs,
    'hunting',
  );

const patchIncident = (id: string | number, body: object, query: Record<string, string> = {}) =>
  call(
    incidentUpdateHandler(world.relay),
    {
      method: 'PATCH',
      path: `/api/incidents/${id}`,
      params: { id: String(id) },
      query,
      headers: { authorization: `Bearer ${world.userToken()}` },
      body,
    },
    logs,
  );

function expectProblem(
  res: { status: number; headers: Record<string, string>; json: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(res.json).toMatchObject({ status, type: `urn:defender-relay:problem:${code}` });
  expect(typeof res.json.detail).toBe('string');
}

describe('token validation (jose) before the on-behalf-of exchange', () => {
  test('a valid v1 user token runs a hunting query as that user', async () => {
    const res = await hunt(world.userToken(), { query: 'AlertInfo | take 3' });
    expect(res.status).toBe(200);
  });

  test('a valid v2 token (issuer https://<authority>/<tid>/v2.0) is accepted too', async () => {
    const res = await hunt(world.userToken({ version: '2.0' }), { query: 'AlertInfo | take 1' });
    expect(res.status).toBe(200);
  });

  test('no token: 401 with WWW-Authenticate', async () => {
    const res = await hunt(undefined, { query: 'AlertInfo' });
    expectProblem(res, 401, 'token-missing');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
  });

  test('an expired token: 401 token-expired, and Entra ID is never asked', async () => {
    sim.counters.reset();
    const res = await hunt(world.userToken({ lifetimeSeconds: -600 }), { query: 'AlertInfo' });
    expectProblem(res, 401, 'token-expired');
    expect(sim.counters.snapshot().tokenRequests).toEqual([]);
  });

  test('a token for another audience: 401 wrong-audience', async () => {
    const res = await hunt(world.userToken({ audience: 'api://00000000-1111-2222-3333-444444444444' }), {
      query: 'x',
    });
    expectProblem(res, 401, 'wrong-audience');
  });

  test('a token from a tenant that is not allowed: 403 tenant-not-allowed, its keys are not even fetched', async () => {
    const other = sim.addTenant();
    sim.counters.reset();
    const res = await hunt(world.userToken({ tenantId: other }), { query: 'x' });
    expectProblem(res, 403, 'tenant-not-allowed');
    expect(sim.counters.snapshot().byKind.jwks ?? 0).toBe(0);
  });

  test('a badly signed token (right kid, wrong key): 401 invalid-signature', async () => {
    const good = decodeJwt(world.userToken());
    const { privateKey } = await generateKeyPair('RS256');
    const kid = String(sim.jwks().keys[0]!.kid);
    const forged = logs.secret(
      await new SignJWT({ ...good }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey),
    );
    const res = await hunt(forged, { query: 'x' });
    expectProblem(res, 401, 'invalid-signature');
  });

  test('a token without the required scope: 403 scope-missing', async () => {
    const res = await hunt(world.userToken({ scp: 'User.Read' }), { query: 'x' });
    expectProblem(res, 403, 'scope-missing');
  });

  test('an app-only token (no scp) cannot act for a person', async () => {
    const token = logs.secret(
      sim.issueToken({
        tenantId: world.tenantId,
        audience: `api://${world.app.clientId}`,
        roles: ['Defender.Act'],
      }),
    );
    const res = await hunt(token, { query: 'x' });
    expectProblem(res, 401, 'not-a-user-token');
  });
});

describe('the simulator refuses bad assertions in the OBO grant itself', () => {
  const identity = (assertion: string) => {
    const c = decodeJwt(assertion);
    return {
      tenantId: world.tenantId,
      objectId: String(c.oid),
      scopes: ['Defender.Act'],
      roles: [],
      assertion,
      expiresAt: 0,
    };
  };
  test('an expired assertion is refused by Entra ID (AADSTS500133) → token-expired', async () => {
    await expect(
      world.relay.user.obo.getToken(identity(world.userToken({ lifetimeSeconds: -600 })), 'graph'),
    ).rejects.toMatchObject({
      status: 401,
      code: 'token_expired',
    });
  });
  test('an assertion for another audience is refused (AADSTS50013) → assertion-rejected', async () => {
    await expect(
      world.relay.user.obo.getToken(identity(world.userToken({ audience: 'api://someone-else' })), 'graph'),
    ).rejects.toMatchObject({ status: 401, code: 'assertion_rejected' });
  });
});

test('token caches are partitioned per user: user B never gets user A', async () => {
  const [oidA, oidB] = [crypto.randomUUID(), crypto.randomUUID()];
  const tokenA = world.userToken({ oid: oidA, upn: 'a@contoso.example' });
  const tokenB = world.userToken({ oid: oidB, upn: 'b@contoso.example' });
  const userA = await world.relay.user.validator.validate(`Bearer ${tokenA}`);
  const userB = await world.relay.user.validator.validate(`Bearer ${tokenB}`);
  const obo = world.relay.user.obo;
  const before = obo.tokenRequestCount;
  const a1 = logs.secret(await obo.getToken(userA, 'graph'));
  const b1 = logs.secret(await obo.getToken(userB, 'graph'));
  const a2 = await obo.getToken(userA, 'graph');
  const b2 = await obo.getToken(userB, 'graph');
  expect(decodeJwt(a1).oid).toBe(oidA);
  expect(decodeJwt(b1).oid).toBe(oidB);
  expect(a2).toBe(a1); // from A's cache
  expect(b2).toBe(b1); // from B's cache, not A's
  expect(b1).not.toBe(a1);
  expect(obo.tokenRequestCount - before).toBe(2);
  // A user's provider refuses to act in another tenant.
  await expect(obo.forUser(userA).getToken(crypto.randomUUID(), 'graph')).rejects.toMatchObject({
    status: 403,
  });
});

describe.each(['graph', 'legacy'] as const)('acting as the user on the %s API', (api) => {
  test('hunting returns schema and rows', async () => {
    world.sim.incidents.create(world.tenantId, { displayName: 'Hunting target', severity: 'high' });
    const res = await hunt(world.userToken(), { query: 'AlertInfo | take 2', api });
    expect(res.status).toBe(200);
    expect(res.json.api).toBe(api);
    const schema = res.json.schema as { name: string; type: string }[];
    expect(schema.map((c) => c.name)).toContain('AlertId');
    expect(schema.find((c) => c.name === 'Timestamp')?.type).toBe('DateTime');
    expect((res.json.results as unknown[]).length).toBeGreaterThan(0);
    expect((res.json.results as unknown[]).length).toBeLessThanOrEqual(2);
    // The Defender call was made with a delegated (OBO) token: the simulator saw a token request with the assertion.
  });

  test('hunting limits come back as clear errors: row cap (422, field query) and timeout (504)', async () => {
    world.sim.incidents.create(world.tenantId, { displayName: 'More rows' });
    sim.huntingLimits.set({ maxRows: 1, timeoutMarker: 'SlowTable' });
    try {
      const capped = await hunt(world.userToken(), { query: 'AlertInfo', api });
      expectProblem(capped, 422, 'hunting-row-cap');
      expect(capped.json.errors).toEqual([expect.objectContaining({ field: 'query' })]);
      const slow = await hunt(world.userToken(), { query: 'SlowTable | take 1', api });
      expectProblem(slow, 504, 'hunting-timeout');
    } finally {
      sim.huntingLimits.clear();
    }
  });

  test('throttling comes back as 429 with Retry-After', async () => {
    sim.faults.inject({ target: api, status: 429, retryAfterSeconds: 600, count: 5 });
    try {
      const res = await hunt(world.userToken(), { query: 'AlertInfo | take 1', api });
      expectProblem(res, 429, 'throttled');
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      sim.faults.clear();
    }
  });

  test('an incident update maps the vocabulary and records the user as the author', async () => {
    const incident = world.sim.incidents.create(world.tenantId, { displayName: 'To resolve' });
    const res = await call(
      incidentUpdateHandler(world.relay),
      {
        method: 'PATCH',
        path: `/api/incidents/${incident.id}`,
        params: { id: String(incident.id) },
        query: { api },
        headers: { authorization: `Bearer ${world.userToken({ upn: 'soc.lead@contoso.example' })}` },
        // Legacy spellings are accepted and mapped, whatever the target API.
        body: {
          status: 'Resolved',
          classification: 'truePositive',
          determination: 'Malware',
          assignedTo: 'soc.lead@contoso.example',
          tags: ['ticket-INC001'],
          comment: 'Contained and cleaned.',
        },
      },
      logs,
      'incidentUpdate',
    );
    expect(res.status).toBe(200);
    expect(res.json.incident).toMatchObject({
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
      api,
    });
    const after = world.sim.incidents.get(world.tenantId, incident.id);
    expect(after).toMatchObject({
      status: 'resolved',
      classification: 'truePositive',
      determination: 'malware',
      assignedTo: 'soc.lead@contoso.example',
      customTags: ['ticket-INC001'],
    });
    expect(after.comments.at(-1)).toMatchObject({
      comment: 'Contained and cleaned.',
      createdBy: 'soc.lead@contoso.example',
    });
  });

  test("documented pairs beyond truePositive go through, in each API's own names", async () => {
    const incident = world.sim.incidents.create(world.tenantId, {});
    const patch = (body: object) => patchIncident(incident.id, body, { api });
    for (const [classification, determination] of [
      ['falsePositive', 'notMalicious'],
      ['informationalExpectedActivity', 'securityTesting'],
      ['falsePositive', 'notEnoughDataToValidate'],
    ] as const) {
      const res = await patch({ classification, determination });
      expect([determination, res.status]).toEqual([determination, 200]);
      // The header speaks Graph whatever the API (the legacy API stored Clean / NoEnoughDataToValidate).
      expect(res.json.incident).toMatchObject({ classification, determination, api });
      expect(world.sim.incidents.get(world.tenantId, incident.id)).toMatchObject({
        classification,
        determination,
      });
    }
    // inProgress: legacy only (Graph's update page lists active, resolved, redirected).
    sim.counters.reset();
    const progress = await patch({ status: 'inProgress' });
    if (api === 'legacy') expect(progress.status).toBe(200);
    else {
      expectProblem(progress, 422, 'validation-error');
      expect(progress.json.errors).toEqual([expect.objectContaining({ field: 'status' })]);
      expect(sim.counters.snapshot().byKind['graph.update'] ?? 0).toBe(0);
    }
    // Apt: Graph only (the legacy update refuses it since August 2022).
    const apt = await patch({ classification: 'truePositive', determination: 'apt' });
    if (api === 'graph') expect(apt.status).toBe(200);
    else {
      expectProblem(apt, 422, 'validation-error');
      expect(apt.json.errors).toEqual([
        expect.objectContaining({
          field: 'determination',
          message: expect.stringContaining('multiStagedAttack'),
        }),
      ]);
    }
  });

  test('a timespan is Graph only: refused with a reason on the legacy API', async () => {
    const res = await hunt(world.userToken(), { query: 'AlertInfo | take 1', timespan: 'P1D', api });
    if (api === 'graph') expect(res.status).toBe(200);
    else {
      expectProblem(res, 422, 'validation-error');
      expect(res.json.errors).toEqual([expect.objectContaining({ field: 'timespan' })]);
    }
  });

  test('a pair the API does not document is refused before Defender is called, naming the allowed ones', async () => {
    const incident = world.sim.incidents.create(world.tenantId, {});
    sim.counters.reset();
    const res = await patchIncident(
      incident.id,
      { classification: 'falsePositive', determination: 'malware' },
      { api },
    );
    expectProblem(res, 422, 'validation-error');
    expect(res.json.errors).toEqual([
      expect.objectContaining({
        field: 'determination',
        message: expect.stringContaining('notEnoughDataToValidate'),
      }),
    ]);
    expect(sim.counters.snapshot().byKind[`${api}.update`] ?? 0).toBe(0);
  });
});

test('bad input names the field: unknown field, bad enum, bad id, bad timespan', async () => {
  const token = world.userToken();
  const patch = (id: string, body: object) =>
    call(
      incidentUpdateHandler(world.relay),
      {
        method: 'PATCH',
        path: `/api/incidents/${id}`,
        params: { id },
        headers: { authorization: `Bearer ${token}` },
        body,
      },
      logs,
    );
  const unknown = await patch('1', { statuz: 'resolved' });
  expectProblem(unknown, 422, 'validation-error');
  expect(unknown.json.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'statuz' })]));
  const badEnum = await patch('1', { status: 'closed' });
  expect(badEnum.json.errors).toEqual([expect.objectContaining({ field: 'status' })]);
  const badId = await patch('abc', { status: 'resolved' });
  expectProblem(badId, 400, 'validation-error');
  expect(badId.json.errors).toEqual([expect.objectContaining({ field: 'id' })]);
  const badSpan = await hunt(token, { query: 'AlertInfo', timespan: 'a week' });
  expect(badSpan.json.errors).toEqual([expect.objectContaining({ field: 'timespan' })]);
  const wrongMethod = await call(huntingHandler(world.relay), { method: 'GET', path: '/api/hunting' }, logs);
  expectProblem(wrongMethod, 405, 'method-not-allowed');
  expect(wrongMethod.headers.allow).toBe('POST');
  const huge = await hunt(token, { query: 'x'.repeat(70_000) });
  expectProblem(huge, 413, 'content-too-large');
});
