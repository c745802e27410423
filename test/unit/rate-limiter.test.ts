import { SlidingWindowLimiter } from '../../src/defender/rate-limiter';

function fakeClock() {
  const clock = { now: 1_000_000, slept: [] as number[] };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
}

test('at most N calls per key in any minute; the next waits for the oldest to leave the window', async () => {
  const { clock, now, sleep } = fakeClock();
  const limiter = new SlidingWindowLimiter([{ limit: 3, windowMs: 60_000 }], now, sleep);
  for (let i = 0; i < 3; i++) {
    await limiter.acquire('tenant-a');
    clock.now += 1000;
  }
  // Another key has its own window.
  expect(limiter.waitMs('tenant-b')).toBe(0);
  expect(limiter.waitMs('tenant-a')).toBe(60_000 - 3000 + 1);
  await limiter.acquire('tenant-a');
  expect(clock.slept).toEqual([57_001]);
  expect(clock.now).toBe(1_000_000 + 60_001);
});

test('several windows hold together: 50 a minute and 1,500 an hour, as the legacy API allows', async () => {
  const { clock, now, sleep } = fakeClock();
  const limiter = new SlidingWindowLimiter(
    [
      { limit: 50, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ],
    now,
    sleep,
  );
  const start = clock.now;
  for (let i = 0; i < 1501; i++) await limiter.acquire('t');
  // 1,500 calls fit in the first 30 minutes at 50 a minute; the 1,501st waits for the hour to turn.
  expect(clock.now - start).toBeGreaterThanOrEqual(3_600_000);
  expect(clock.now - start).toBeLessThan(3_600_000 + 60_000);
});
