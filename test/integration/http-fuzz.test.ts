/**
 * Property-based: random methods, headers, query strings, route parameters and bodies thrown at every
 * HTTP function of the app (src/functions/http-functions.ts, the list src/index.ts registers), at least
 * 1,000 cases each, against a working relay on the simulator. Every answer is 2xx, 3xx or 4xx, never
 * 5xx; every 4xx is RFC 9457 problem JSON with its status; a 405 says what is allowed. No answer and no
 * log line holds a secret or a stack trace.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { HttpRequest } from '@azure/functions';
import { startSimulator, type Simulator } from '../../tools/simulator';
import { ALL_METHODS, HTTP_FUNCTIONS } from '../../src/functions/http-functions';
import { PROBLEM_CONTENT_TYPE } from '../../src/http';
import { startActionsWorld, type ActionsWorld, createDestinations } from '../helpers/actions-world';
import { LogCapture } from '../helpers/log-capture';

const RUNS = 1000;
const logs = new LogCapture();
let sim: Simulator;
let world: ActionsWorld;

beforeAll(async () => {
  logs.install();
  sim = await startSimulator();
  sim.keyVault.setSecret('consent-state-key', logs.secret(crypto.randomBytes(32).toString('base64')));
  // The Key Vault cache's clock stands still: every secret may be read once, and no request can force more.
  const frozen = Date.now();
  world = await startActionsWorld(
    sim,
    logs,
    { CONSENT_REDIRECT_URI: 'https://relay.example/api/consent/callback' },
    { now: () => frozen },
  );
  await createDestinations(world);
});
afterAll(async () => {
  expect(logs.leaks()).toEqual([]);
  // Thousands of random requests, most of them anonymous with bad signatures and forged states: still at
  // most one Key Vault read per secret within the refresh interval.
  for (const count of Object.values(sim.counters.snapshot().keyVaultReads)) {
    expect(count).toBeLessThanOrEqual(1);
  }
  logs.restore();
  await world?.stop();
  await sim?.stop();
});

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '');
const b64url = fc
  .base64String({ maxLength: 60 })
  .map((s) => s.replace(/=/g, '').replace(/\+/g, '-').replace(/\//g, '_'));
const jwtLike = fc.tuple(b64url, b64url, b64url).map((p) => p.join('.'));
const headerValue = fc.oneof(
  fc.string({ maxLength: 80 }).map(printable),
  jwtLike.map((t) => `Bearer ${t}`),
  fc.constantFrom(
    'Bearer',
    'Bearer ',
    'Basic dXNlcjpwYXNz',
    'application/json',
    'text/plain',
    'application/json; charset=utf-8',
    'v1,',
    'v1,AAAA',
  ),
  fc.integer({ min: -1e10, max: 1e12 }).map(String),
  fc.constant(`v1,${crypto.randomBytes(32).toString('base64')}`),
);
const headers = fc.dictionary(
  fc.constantFrom(
    'authorization',
    'content-type',
    'accept',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'x-forwarded-for',
    'x-ms-client-principal',
  ),
  headerValue,
  { maxKeys: 6 },
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }).map(printable),
  fc.constantFrom('true', 'false', 'graph', 'legacy', '', 'True', '00000000-0000-0000-0000-000000000000'),
);
const query = fc.dictionary(
  fc.constantFrom(
    'deep',
    'api',
    'tenant',
    'state',
    'code',
    'admin_consent',
    'error',
    'error_description',
    'since',
    'x',
  ),
  queryValue,
  { maxKeys: 5 },
);
const updateLike = fc.record(
  {
    incidentId: fc.oneof(fc.integer(), fc.string({ maxLength: 20 })),
    status: fc.oneof(fc.constantFrom('active', 'Resolved', 'inProgress', 'closed'), fc.jsonValue()),
    classification: fc.constantFrom('truePositive', 'FalsePositive', 'nope'),
    determination: fc.constantFrom('malware', 'NotAvailable', 'phishing', 'x'),
    tags: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.jsonValue()),
    comment: fc.string({ maxLength: 50 }),
    assignedTo: fc.oneof(fc.constant(null), fc.string({ maxLength: 20 })),
    query: fc.string({ maxLength: 50 }),
    timespan: fc.constantFrom('P7D', 'PT1H', 'week'),
    tenants: fc.array(fc.string({ maxLength: 40 }), { maxLength: 2 }),
    since: fc.string({ maxLength: 30 }),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  updateLike.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constant('{"truncated": '),
  fc.constant('x'.repeat(70 * 1024)),
);
const method = fc.constantFrom(...ALL_METHODS);
const params = fc.record({
  id: fc.oneof(fc.string({ maxLength: 25 }), fc.bigInt({ min: 0n, max: 10n ** 19n }).map(String)),
});

describe.each(HTTP_FUNCTIONS.map((f) => [f.name, f] as const))('%s never answers 5xx', (_name, f) => {
  test(`${RUNS} random requests`, async () => {
    const handler = f.handler(world.relay);
    // Half the requests carry a valid user token, so the user-context functions' input validation and
    // their calls to Defender are reached too, not only the token check.
    const token = world.userToken();
    const withToken = fc
      .tuple(headers, fc.boolean())
      .map(([h, valid]) => (valid ? { ...h, authorization: `Bearer ${token}` } : h));
    await fc.assert(
      fc.asyncProperty(method, withToken, query, params, body, async (m, h, q, p, b) => {
        const noBody = m === 'GET' || m === 'HEAD';
        const request = new HttpRequest({
          method: m,
          url: `https://relay.example/api/${f.route.replace('{id}', encodeURIComponent(p.id))}`,
          headers: h,
          query: q,
          params: p,
          body: noBody || b === undefined ? undefined : { string: b },
        });
        const res = (await handler(request, logs.context(f.name))) as {
          status?: number;
          headers?: Record<string, string>;
          body?: unknown;
          jsonBody?: unknown;
        };
        const status = res.status ?? 200;
        const text =
          res.jsonBody !== undefined
            ? JSON.stringify(res.jsonBody)
            : typeof res.body === 'string'
              ? res.body
              : '';
        logs.response(text);
        expect(status).toBeGreaterThanOrEqual(200);
        // The answer itself says why, when it is a 5xx.
        if (status >= 500) throw new Error(`${f.name} answered ${status}: ${text.slice(0, 1500)}`);
        if (status >= 400) {
          const hdrs = Object.fromEntries(
            Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
          );
          // Consent pages answer browsers with HTML; ask for JSON to get problem JSON.
          if (f.name.startsWith('consent') && !/json/i.test(h.accept ?? '')) return;
          expect(hdrs['content-type']).toBe(PROBLEM_CONTENT_TYPE);
          const problem = JSON.parse(text) as { status: number; type: string; title: string };
          expect(problem.status).toBe(status);
          expect(typeof problem.type).toBe('string');
          expect(typeof problem.title).toBe('string');
          if (status === 405) expect(hdrs.allow).toBeTruthy();
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
