import { SlidingWindowLimiter } from '../../src/defender/rate-limiter';

test('at most N calls per key in any minute; the next waits for the oldest to leave the window', async () => {
  let now = 1_000_000;
  const slept: number[] = [];
  const limiter = new SlidingWindowLimiter(
    3,
    () => now,
    async (ms) => {
      slept.push(ms);
      now += ms;
    },
  );
  for (let i = 0; i < 3; i++) {
    await limiter.acquire('tenant-a');
    now += 1000;
  }
  // Another key has its own window.
  expect(limiter.waitMs('tenant-b')).toBe(0);
  expect(limiter.waitMs('tenant-a')).toBe(60_000 - 3000 + 1);
  await limiter.acquire('tenant-a');
  expect(slept).toEqual([57_001]);
  expect(now).toBe(1_000_000 + 60_001);
});
