/** Address policy, URL checks, retry policy and destination filters: pure functions. */
import { blockedReason, classifyAddress } from '../../src/delivery/webhook-address';
import { parseWebhookUrl, resolveAllowed, WebhookBlockedError } from '../../src/delivery/webhook-http';
import {
  backoffSeconds,
  isRetryableStatus,
  minimumRetryWindowSeconds,
  parseRetryAfter,
} from '../../src/delivery/webhook-retry';
import { matchesFilters } from '../../src/delivery/webhook-outbox';
import { sampleIncidentEvent } from '../../src/delivery/webhook-sample';
import type { WebhookDestinationConfig } from '../../src/config/webhook-destinations';

test.each([
  ['8.8.8.8', 'public'],
  ['52.96.0.1', 'public'],
  ['2606:4700::1111', 'public'],
  ['127.0.0.1', 'loopback'],
  ['127.10.0.5', 'loopback'],
  ['::1', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'private'],
  ['fd12:3456::1', 'private'],
  ['169.254.1.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['169.254.169.254', 'metadata'],
  ['168.63.129.16', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['64:ff9b::a00:1', 'private'],
  ['0.0.0.0', 'unspecified'],
  ['::', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['240.0.0.1', 'reserved'],
  // IPv6 forms that carry an IPv4 address, or tunnel to one: classed by what they reach.
  ['::7f00:1', 'loopback'],
  ['::127.0.0.1', 'loopback'],
  ['::a9fe:a9fe', 'metadata'],
  ['::ffff:0:7f00:1', 'loopback'],
  ['::ffff:0:a00:1', 'private'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b:1::1', 'private'],
  ['64:ff9b:1:7f00:1::', 'private'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:a9fe:a9fe::1', 'metadata'],
  ['2002:808:808::1', 'reserved'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
  ['2001:db8::1', 'reserved'],
  ['fec0::1', 'reserved'],
  ['64:ff9b::808:808', 'public'],
])('%s is %s', (address, cls) => {
  expect(classifyAddress(address)).toBe(cls);
});

test('private addresses are allowed only with the setting; metadata never', () => {
  expect(blockedReason('10.0.0.1', false)).toMatch(/private address/);
  expect(blockedReason('10.0.0.1', true)).toBeUndefined();
  expect(blockedReason('127.0.0.1', true)).toBeUndefined();
  expect(blockedReason('169.254.169.254', true)).toMatch(/metadata/);
  expect(blockedReason('8.8.8.8', false)).toBeUndefined();
});

test('HTTPS only, no credentials in the URL, and the URL is never echoed', () => {
  expect(() => parseWebhookUrl('http://hooks.example.com/x')).toThrow(/HTTPS only/);
  expect(() => parseWebhookUrl('https://user:pw@hooks.example.com/x')).toThrow(/user name or password/);
  expect(() => parseWebhookUrl('not a url secret-token-123')).toThrow(WebhookBlockedError);
  try {
    parseWebhookUrl('not a url secret-token-123');
  } catch (e) {
    expect((e as Error).message).not.toContain('secret-token-123');
  }
  expect(parseWebhookUrl(' https://hooks.example.com/x?sig=1 ').hostname).toBe('hooks.example.com');
});

test('every resolved address is checked: one private address among public ones blocks the host', async () => {
  const url = new URL('https://hooks.example.com/x');
  const lookup = async () => [
    { address: '52.96.0.1', family: 4 },
    { address: '10.0.0.7', family: 4 },
  ];
  await expect(resolveAllowed(url, false, lookup)).rejects.toThrow(/private address/);
  await expect(resolveAllowed(url, true, lookup)).resolves.toEqual({ address: '52.96.0.1', family: 4 });
  await expect(resolveAllowed(new URL('https://[::1]:8443/'), false, lookup)).rejects.toThrow(/loopback/);
});

test('retryable: 408, 429 and 5xx; not: other 4xx', () => {
  expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
  expect([400, 401, 403, 404, 410, 413, 422].some(isRetryableStatus)).toBe(false);
});

test('Retry-After: seconds or an HTTP date, at least 1 s, at most a day', () => {
  const now = Date.parse('2026-11-03T10:00:00Z');
  expect(parseRetryAfter('7', now)).toBe(7);
  expect(parseRetryAfter('0', now)).toBe(1);
  expect(parseRetryAfter('Tue, 03 Nov 2026 10:02:00 GMT', now)).toBe(120);
  expect(parseRetryAfter('9999999', now)).toBe(24 * 3600);
  expect(parseRetryAfter('soon', now)).toBeUndefined();
  expect(parseRetryAfter(undefined, now)).toBeUndefined();
});

test('backoff doubles per attempt with ±20 % jitter, capped at an hour', () => {
  for (const r of [0, 0.5, 0.999]) {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const nominal = Math.min(3600, 60 * 2 ** (attempt - 1));
      const d = backoffSeconds(attempt, 60, () => r);
      expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
      expect(d).toBeLessThanOrEqual(3600);
    }
  }
  expect(backoffSeconds(1, 60, () => 0.5)).toBe(60);
  expect(backoffSeconds(3, 60, () => 0.5)).toBe(240);
});

test('with the default settings a receiver may be down for over an hour without a loss', () => {
  expect(minimumRetryWindowSeconds(8, 60)).toBeGreaterThan(3600);
});

describe('destination filters', () => {
  const event = sampleIncidentEvent(); // high, active, detection sources antivirus/edr/MDI
  const header = event.data.header;
  const d = (patch: Partial<WebhookDestinationConfig>): WebhookDestinationConfig => ({
    name: 'x',
    format: 'teams',
    urlSecret: 'u',
    ...patch,
  });
  test.each([
    [{}, true],
    [{ minSeverity: 'high' as const }, true],
    [{ minSeverity: 'medium' as const }, true],
    [{ statuses: ['active' as const] }, true],
    [{ statuses: ['resolved' as const] }, false],
    [{ tenants: [header.tenantId] }, true],
    [{ tenants: ['00000000-0000-0000-0000-000000000000'] }, false],
    [{ detectionSources: ['EDR'] }, true],
    [{ detectionSources: ['cloudAppSecurity'] }, false],
    [{ minSeverity: 'high' as const, statuses: ['resolved' as const] }, false],
  ])('%j → %s', (patch, expected) => {
    expect(matchesFilters(d(patch), header)).toBe(expected);
  });
  test('a medium incident does not pass minSeverity high', () => {
    expect(matchesFilters(d({ minSeverity: 'high' }), { ...header, severity: 'medium' })).toBe(false);
  });
});
