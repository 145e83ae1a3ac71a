import { describe, expect, test } from 'vitest';
import { backoffDelay, decideRetry, parseRetryAfter, scheduleRetry, type AttemptOutcome, type RetryPolicy } from '../../src/scim/retry.js';

const policy: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 20_000, maxTotalMs: 120_000 };

describe('backoffDelay: full jitter under an exponential ceiling', () => {
  test.each([
    // attempt, random, expected
    [0, 0, 0],
    [0, 0.5, 100],
    [0, 0.9999, 199],
    [1, 0.5, 200],
    [3, 0.5, 800],
    [6, 0.9999, 12_798],
    [7, 0.9999, 19_998], // 200·2^7 = 25,600 is capped at maxDelayMs
    [30, 0.5, 10_000],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, policy, () => random)).toBe(expected);
  });

  test('every delay lies in [0, min(maxDelay, base·2^attempt))', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      for (const r of [0, 0.1, 0.5, 0.99, 0.999999]) {
        const delay = backoffDelay(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  test.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0], // in the past: go now
    [undefined, undefined],
    ['soon', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    ['5 GMT?', undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('decideRetry', () => {
  const random = () => 0.5;
  const response = (status: number, retryAfterMs?: number): AttemptOutcome => ({ kind: 'response', status, retryAfterMs });
  const failure = (kind: 'connect' | 'reset' | 'timeout'): AttemptOutcome => ({ kind: 'failure', failure: kind });

  test.each([
    ['GET', response(200), 'accept'],
    ['POST', response(201), 'accept'],
    ['DELETE', response(204), 'accept'],
    ['GET', response(404), 'stop'],
    ['PATCH', response(400), 'stop'],
    ['PATCH', response(500), 'stop'],
    ['GET', response(429), 'retry'],
    ['GET', response(502), 'retry'],
    ['PATCH', response(503), 'retry'],
    ['DELETE', response(504), 'retry'],
    ['GET', failure('reset'), 'retry'],
    ['PUT', failure('timeout'), 'retry'],
    ['DELETE', failure('connect'), 'retry'],
    // POST: retried only when the server certainly did not act on it
    ['POST', response(429), 'retry'],
    ['POST', failure('connect'), 'retry'],
    ['POST', failure('reset'), 'unknown'],
    ['POST', failure('timeout'), 'unknown'],
    ['POST', response(500), 'unknown'],
    ['POST', response(502), 'unknown'],
    ['POST', response(503), 'unknown'],
    ['POST', response(501), 'stop'],
    ['POST', response(409), 'stop'],
  ] as const)('%s with %j → %s', (method, outcome, expected) => {
    expect(decideRetry(method, outcome, 0, 0, policy, random).kind).toBe(expected);
  });

  test('Retry-After is waited in full instead of the backoff, within the time budget', () => {
    expect(decideRetry('GET', response(429, 3_000), 0, 0, policy, random)).toEqual({ kind: 'retry', delayMs: 3_000 });
    // Longer than one backoff wait may be (maxDelayMs): still what the service asked for.
    expect(decideRetry('GET', response(503, 45_000), 0, 0, policy, random)).toEqual({ kind: 'retry', delayMs: 45_000 });
    expect(decideRetry('GET', response(503, 3_600_000), 0, 0, policy, random)).toEqual({ kind: 'stop' });
  });

  test('without Retry-After the wait is the jittered backoff of that attempt', () => {
    expect(decideRetry('GET', response(503), 2, 0, policy, random)).toEqual({ kind: 'retry', delayMs: 400 });
  });

  test('stops after maxAttempts attempts', () => {
    expect(decideRetry('GET', response(503), 4, 0, policy, random).kind).toBe('retry');
    expect(decideRetry('GET', response(503), 5, 0, policy, random).kind).toBe('stop');
  });

  test('stops when the wait would pass the total time budget', () => {
    expect(decideRetry('GET', response(429, 10_000), 1, 100_000, policy, random).kind).toBe('retry');
    expect(decideRetry('GET', response(429, 10_000), 1, 115_000, policy, random).kind).toBe('stop');
  });
});

describe('scheduleRetry: the wait before another attempt, shared by every request and by a create sent again after its look-up', () => {
  test.each([
    // attempt (0-based), elapsed ms, Retry-After ms, expected
    [0, 0, undefined, { kind: 'retry', delayMs: 100 }],
    [2, 0, undefined, { kind: 'retry', delayMs: 400 }],
    [0, 0, 3_000, { kind: 'retry', delayMs: 3_000 }],
    [0, 0, 45_000, { kind: 'retry', delayMs: 45_000 }],
    [0, 0, 3_600_000, { kind: 'stop' }],
    [4, 0, undefined, { kind: 'retry', delayMs: 1_600 }],
    [5, 0, undefined, { kind: 'stop' }],
    [1, 119_900, undefined, { kind: 'stop' }],
    [1, 100_000, 10_000, { kind: 'retry', delayMs: 10_000 }],
  ] as const)('attempt %i, %i ms in, Retry-After %j → %j', (attempt, elapsed, retryAfter, expected) => {
    expect(scheduleRetry(attempt, elapsed, retryAfter, policy, () => 0.5)).toEqual(expected);
  });
});
