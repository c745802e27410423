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
