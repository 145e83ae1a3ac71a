import { describe, expect, test } from 'vitest';
import { createConcurrencyLimiter, createRateLimiter, sleep } from '../../src/scim/limits.js';

describe('concurrency limiter', () => {
  test('never runs more than the limit at once', async () => {
    const limiter = createConcurrencyLimiter(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const release = await limiter.acquire();
        running++;
        peak = Math.max(peak, running);
        await sleep(2);
        running--;
        release();
      }),
    );
    expect(peak).toBe(3);
  });

  test.each([
    // start, 429s, successes after, expected limit
    [8, 1, 0, 4],
    [8, 2, 0, 2],
    [8, 5, 0, 1],
    [8, 1, 9, 4],
    [8, 1, 10, 5],
    [8, 1, 40, 8],
    [8, 1, 1000, 8],
  ])('from %i, %i × 429 then %i successes → limit %i (halve, then +1 per 10 successes)', (max, throttles, successes, expected) => {
    const limiter = createConcurrencyLimiter(max, 10);
    for (let i = 0; i < throttles; i++) limiter.throttled();
    for (let i = 0; i < successes; i++) limiter.succeeded();
    expect(limiter.current()).toBe(expected);
  });

  test('429s for requests sent in the same window halve the limit once, not once each', () => {
    const limiter = createConcurrencyLimiter(16, 10);
    const window = limiter.window();
    // Eight requests in flight together all meet the same congestion.
    for (let i = 0; i < 8; i++) limiter.throttled(window);
    expect(limiter.current()).toBe(8);
    // A request sent after the halving, and throttled again, halves again.
    limiter.throttled(limiter.window());
    expect(limiter.current()).toBe(4);
  });

  test('a waiting acquire rejects when the signal aborts', async () => {
    const limiter = createConcurrencyLimiter(1);
    const release = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    release();
    const again = await limiter.acquire();
    again();
  });
});

describe('rate limiter', () => {
  test('concurrent callers get evenly spaced start times, the first at once', async () => {
    const limiter = createRateLimiter(100);
    const t0 = Date.now();
    const started = await Promise.all(Array.from({ length: 4 }, async () => {
      await limiter.take();
      return Date.now() - t0;
    }));
    expect(started[0]).toBeLessThan(25); // generous: the machine may be busy
    for (let i = 1; i < 4; i++) expect(started[i]!).toBeGreaterThanOrEqual(i * 10 - 2);
  });

  test('real spacing: 5 starts at 200 per second take at least 20 ms', async () => {
    const limiter = createRateLimiter(200);
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) await limiter.take();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(18);
  });

  test('no limit configured: no waiting', async () => {
    const limiter = createRateLimiter(undefined);
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) await limiter.take();
    expect(Date.now() - t0).toBeLessThan(50);
  });
});
