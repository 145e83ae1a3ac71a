/**
 * When to try a request again, and how long to wait first (SPEC §5). Pure functions: the HTTP
 * layer feeds them what happened and does what they decide.
 */

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  /** Longest single backoff wait. A `Retry-After` the server asks for is waited in full, within `maxTotalMs`. */
  maxDelayMs: number;
  /** Longest time from the first attempt to the start of the last one. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 20_000, maxTotalMs: 120_000 };

/**
 * Where a request stands in its retries. A POST whose outcome is unknown carries it, so that apply
 * can look the resource up and send the POST again under the same bound and budget (SPEC §5).
 */
export interface RetryState {
  /** Attempts sent so far. */
  attempts: number;
  /** When the first one started (`Date.now()`). */
  startedAt: number;
  /** The wait the last answer asked for with `Retry-After`, when it did. */
  retryAfterMs?: number;
}

/** What one attempt came to. `connect`: never reached the server; `reset`/`timeout`: may have. */
export type AttemptOutcome =
  | { kind: 'response'; status: number; retryAfterMs?: number | undefined }
  | { kind: 'failure'; failure: 'connect' | 'reset' | 'timeout' };

export type RetryDecision =
  | { kind: 'accept' }
  | { kind: 'retry'; delayMs: number }
  /** Retrying would be unsafe or is out of budget: report the last outcome. */
  | { kind: 'stop' }
  /** A POST that may have been applied: the caller must look the resource up instead. */
  | { kind: 'unknown' };

/** Answers worth another attempt (SPEC §5). */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, min(max, base·2^attempt)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/**
 * `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns milliseconds from
 * `now`, 0 for a date in the past, undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names the weekday and GMT; Date.parse alone would also take "5" as a year.
  if (!/GMT$/i.test(text) && !/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Decides after attempt number `attempt` (0-based), `elapsedMs` after the first one started.
 * GET, PATCH, PUT and DELETE are retried (our plans make them idempotent). POST is retried only
 * when the server certainly did not act on it: a refused connection, or a 429 (RFC 6585 §4).
 */
export function decideRetry(
  method: string,
  outcome: AttemptOutcome,
  attempt: number,
  elapsedMs: number,
  policy: RetryPolicy,
  random: () => number,
): RetryDecision {
  // 2xx only: a redirect (never followed) or an informational answer carries no SCIM data, and
  // taking it for an empty list would plan every declared user as new.
  if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) return { kind: 'accept' };
  const retryable = outcome.kind === 'failure' || RETRYABLE_STATUS.has(outcome.status);
  const isPost = method === 'POST';
  if (isPost) {
    const certainlyNotApplied = (outcome.kind === 'failure' && outcome.failure === 'connect') || (outcome.kind === 'response' && outcome.status === 429);
    if (!certainlyNotApplied) {
      const ambiguous = outcome.kind === 'failure' || (outcome.kind === 'response' && outcome.status >= 500 && outcome.status !== 501);
      return ambiguous ? { kind: 'unknown' } : { kind: 'stop' };
    }
  } else if (!retryable) {
    return { kind: 'stop' };
  }
  return scheduleRetry(attempt, elapsedMs, outcome.kind === 'response' ? outcome.retryAfterMs : undefined, policy, random);
}

/**
 * Whether attempt number `attempt` (0-based), which failed in a way worth retrying, gets another,
 * and after how long: the server's `Retry-After` when it gave one (SPEC §5 honours it: retrying
 * sooner would only be refused again), else the jittered backoff; `stop` when the attempts or the
 * time budget are spent, a long `Retry-After` included. `decideRetry` asks
 * it for every request; apply asks it too before it sends a create again after looking it up.
 */
export function scheduleRetry(
  attempt: number,
  elapsedMs: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random: () => number,
): Extract<RetryDecision, { kind: 'retry' | 'stop' }> {
  if (attempt + 1 >= policy.maxAttempts) return { kind: 'stop' };
  const delayMs = retryAfterMs ?? backoffDelay(attempt, policy, random);
  if (elapsedMs + delayMs > policy.maxTotalMs) return { kind: 'stop' };
  return { kind: 'retry', delayMs };
}
