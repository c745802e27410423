/** Lag's one definition (src/sync/lag.ts): now minus the time read completely, never negative. */
import { lagSeconds, readThroughOf } from '../../src/sync/lag';
import { lagVerdict } from '../../src/health/lag-check';

const at = (iso: string) => Date.parse(iso);

describe('the time read completely', () => {
  test('is readThrough, or the checkpoint for state written before it was stored', () => {
    expect(readThroughOf({ readThrough: '2026-12-01T10:00:00Z', cursor: '2026-12-01T09:00:00Z' })).toBe(
      '2026-12-01T10:00:00Z',
    );
    expect(readThroughOf({ cursor: '2026-12-01T09:00:00Z' })).toBe('2026-12-01T09:00:00Z');
    expect(readThroughOf(undefined)).toBeUndefined();
  });

  test('is the checkpoint when an older version moved it past readThrough (after a rollback)', () => {
    expect(
      readThroughOf({ readThrough: '2026-12-01T10:00:00.1234567Z', cursor: '2026-12-01T10:00:00.1234568Z' }),
    ).toBe('2026-12-01T10:00:00.1234568Z');
  });
});

describe('lag', () => {
  test('is whole seconds from the time read completely to now, and never negative', () => {
    expect(lagSeconds('2026-12-01T10:00:00Z', at('2026-12-01T10:01:30Z'))).toBe(90);
    expect(lagSeconds('2026-12-01T10:00:00Z', at('2026-12-01T09:59:00Z'))).toBe(0);
    expect(lagSeconds(undefined, at('2026-12-01T10:00:00Z'))).toBeUndefined();
  });

  test('deep health: a quiet tenant read a minute ago is fine; failing or far behind is not', () => {
    const options = { now: at('2026-12-01T10:01:00Z'), maxLag: 1800, initialLookbackMs: 86_400_000 };
    const quiet = { tenantId: 't', readThrough: '2026-12-01T10:00:00Z', cursor: '2026-12-01T06:00:00Z' };
    expect(lagVerdict('t', { ...quiet, lastRunAt: 'x', lastOutcome: 'complete' }, options)).toMatchObject({
      ok: true,
      lagSeconds: 60,
    });
    const failing = { ...quiet, lastRunAt: 'x', lastOutcome: 'failed', lastError: 'HTTP 503' };
    expect(lagVerdict('t', failing, options)).toMatchObject({ ok: false, lagSeconds: 60 });
    expect(lagVerdict('t', failing, options).detail).toContain('HTTP 503');
    const later = { ...options, now: at('2026-12-01T11:00:00Z') };
    expect(lagVerdict('t', { ...quiet, lastOutcome: 'complete' }, later)).toMatchObject({
      ok: false,
      lagSeconds: 3600,
    });
    expect(lagVerdict('t', undefined, options)).toMatchObject({ ok: true });
  });
});
