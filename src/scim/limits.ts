/**
 * Per-target limits (SPEC §2, §5): a concurrency limit that halves on 429 and recovers by one
 * slot per run of successes (AIMD, as TCP does), and a client-side rate limit.
 */

export interface ConcurrencyLimiter {
  /** Waits for a free slot; call the returned function exactly once to give it back. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** The current window: it advances each time the limit is halved. Read it when a request is sent. */
  window(): number;
  /**
   * The server said 429: halve the limit (never below 1), once per window. A 429 for a request
   * sent before the last halving answers congestion already reacted to (as TCP reduces once per
   * round trip), so it does not halve again; without `sentIn`, every 429 halves.
   */
  throttled(sentIn?: number): void;
  /** A request succeeded: after `recoverAfter` of them in a row, one more slot (up to the maximum). */
  succeeded(): void;
  current(): number;
}

export function createConcurrencyLimiter(max: number, recoverAfter = 10): ConcurrencyLimiter {
  const ceiling = Math.max(1, Math.floor(max));
  let limit = ceiling;
  let active = 0;
  let streak = 0;
  let window = 0;
  const waiting: (() => void)[] = [];

  const pump = () => {
    while (active < limit && waiting.length > 0) {
      active++;
      waiting.shift()!();
    }
  };

  return {
    acquire(signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          active--;
          pump();
        };
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        };
        const onAbort = () => {
          const index = waiting.indexOf(grant);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.push(grant);
        pump();
      });
    },
    window: () => window,
    throttled(sentIn) {
      streak = 0;
      if (sentIn !== undefined && sentIn < window) return;
      limit = Math.max(1, Math.floor(limit / 2));
      window++;
    },
    succeeded() {
      if (limit >= ceiling) return;
      streak++;
      if (streak >= recoverAfter) {
        streak = 0;
        limit++;
        pump();
      }
    },
    current: () => limit,
  };
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RateLimiter {
  /** Waits until the next request may start. */
  take(signal?: AbortSignal): Promise<void>;
}

/**
 * Evenly spaced starts, `1000 / requestsPerSecond` ms apart (a token bucket of size one), so no
 * second ever sees more than the configured number of requests, not even at start-up.
 */
export function createRateLimiter(requestsPerSecond: number | undefined, now: () => number = Date.now): RateLimiter {
  if (requestsPerSecond === undefined || !(requestsPerSecond > 0)) return { take: async () => {} };
  const interval = 1000 / requestsPerSecond;
  let next = 0;
  return {
    async take(signal) {
      const at = Math.max(now(), next);
      next = at + interval;
      await sleep(at - now(), signal);
    },
  };
}
