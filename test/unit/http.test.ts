import { describeHttpError, retryAfterMs } from '../../src/defender/http';

describe('throttling and errors', () => {
  test('Retry-After in seconds or as a date, or the legacy API wait in the body', () => {
    expect(retryAfterMs('7', '')).toBe(7000);
    expect(retryAfterMs('Fri, 27 Nov 2026 10:00:30 GMT', '', Date.parse('2026-11-27T10:00:00Z'))).toBe(
      30_000,
    );
    const legacy = JSON.stringify({
      error: {
        code: 'TooManyRequests',
        message:
          'API calls quota exceeded! Maximum allowed 50 per 1 minute(s). Next call can be made in 43 seconds',
      },
    });
    expect(retryAfterMs(null, legacy)).toBe(43_000);
    expect(retryAfterMs(null, 'no hint')).toBeUndefined();
  });

  test('a 403 names the permission the app lacks, per API and per kind of call', () => {
    const graph = describeHttpError(
      { tenantId: 't1', api: 'graph', method: 'GET', url: 'https://x' },
      403,
      '{}',
    );
    expect(graph.message).toMatch(/SecurityIncident\.Read\.All \(or SecurityIncident\.ReadWrite\.All\)/);
    expect(graph.message).toMatch(/tenant t1/);
    expect(graph.transient).toBe(false);
    const legacy = describeHttpError(
      { tenantId: 't1', api: 'legacy', method: 'PATCH', url: 'https://x' },
      403,
      '{}',
    );
    expect(legacy.message).toMatch(/Incident\.ReadWrite\.All/);
  });

  test('5xx and 429 are transient, other 4xx are not', () => {
    const req = { tenantId: 't', api: 'graph' as const, method: 'GET' as const, url: 'https://x' };
    expect(describeHttpError(req, 503, '').transient).toBe(true);
    expect(describeHttpError(req, 429, '').transient).toBe(true);
    expect(
      describeHttpError(req, 400, '{"error":{"code":"BadRequest","message":"Invalid filter"}}'),
    ).toMatchObject({
      transient: false,
      code: 'BadRequest',
    });
  });
});

describe('transient token failures', () => {
  const ok = `data:application/json,${encodeURIComponent('{"value":[]}')}`;

  test('an Entra ID outage is retried after MSAL’s client-side throttle, within the run', async () => {
    const { DefenderHttp, MSAL_THROTTLE_MS, newBudget } = await import('../../src/defender/http');
    const { RelayAuthError } = await import('../../src/auth/errors');
    let calls = 0;
    const slept: number[] = [];
    let clock = 0;
    const http = new DefenderHttp({
      tokens: {
        getToken: async () => {
          if (calls++ === 0)
            throw new RelayAuthError('Entra ID is temporarily unavailable.', 'entra_unavailable', true);
          return 'token';
        },
      } as never,
      timeoutMs: 5000,
      maxRetries: 2,
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    const body = await http.json({
      tenantId: 't',
      api: 'graph',
      method: 'GET',
      url: ok,
      budget: newBudget(10, 120_000, 0),
    });
    expect(body).toEqual({ value: [] });
    expect(calls).toBe(2);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(MSAL_THROTTLE_MS);
  });

  test('Entra ID not reached (no answer, so no MSAL throttle) is retried after the usual backoff', async () => {
    const { DefenderHttp, MSAL_THROTTLE_MS } = await import('../../src/defender/http');
    const { describeEntraError } = await import('../../src/auth/errors');
    let calls = 0;
    const slept: number[] = [];
    const http = new DefenderHttp({
      tokens: {
        getToken: async () => {
          if (calls++ === 0)
            throw describeEntraError(
              Object.assign(new Error('read ECONNRESET'), { errorCode: 'network_error' }),
              {
                tenantId: 't',
                clientId: 'c',
                resource: 'graph',
              },
            );
          return 'token';
        },
      } as never,
      timeoutMs: 5000,
      maxRetries: 2,
      backoffBaseMs: 500,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await http.json({ tenantId: 't', api: 'graph', method: 'GET', url: ok });
    expect(calls).toBe(2);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeLessThanOrEqual(500);
    expect(slept[0]).toBeLessThan(MSAL_THROTTLE_MS);
  });

  test('a token error a person must fix (consent) is not retried', async () => {
    const { DefenderHttp } = await import('../../src/defender/http');
    const { RelayAuthError } = await import('../../src/auth/errors');
    let calls = 0;
    const http = new DefenderHttp({
      tokens: {
        getToken: async () => {
          calls++;
          throw new RelayAuthError('Tenant has not consented.', 'consent_missing');
        },
      } as never,
      timeoutMs: 5000,
      maxRetries: 3,
      sleep: async () => undefined,
    });
    await expect(http.json({ tenantId: 't', api: 'graph', method: 'GET', url: ok })).rejects.toThrow(
      'not consented',
    );
    expect(calls).toBe(1);
  });
});
