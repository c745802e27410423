/**
 * When a tenant lease whose renewals fail is given up (src/sync/tenant-lease.ts): before its next renewal
 * could come after its expiry, with a margin, so the run stops while the lease is still its own.
 */
import { mustGiveUp } from '../../src/sync/tenant-lease';

const timings = { leaseSeconds: 60, renewEveryMs: 15_000 };

test('a 60 s lease renewed every 15 s survives two failed renewals and is given up at the third', () => {
  expect(mustGiveUp(15_000, timings)).toBe(false);
  expect(mustGiveUp(30_000, timings)).toBe(false);
  // The next try, at 60 s, would come at its expiry: give it up now, 15 s before.
  expect(mustGiveUp(45_000, timings)).toBe(true);
});

test('the margin holds for short leases too', () => {
  const short = { leaseSeconds: 15, renewEveryMs: 5_000 };
  expect(mustGiveUp(4_000, short)).toBe(false);
  // 5 s + 5 s reaches the 10 s that leaves a 5 s margin before a 15 s lease expires.
  expect(mustGiveUp(5_000, short)).toBe(true);
});
