/**
 * The imperative shell of the client: one request through the injected undici dispatcher, with
 * the read-only guard, the per-request timeout, the rate and concurrency limits, and the retry
 * loop that `decideRetry` steers. The bearer token is added here and nowhere else.
 */
import { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import { ScimformError } from '../errors.js';
import { replaceToken } from '../secret.js';
import { formatJsonPath, MAX_JSON_DEPTH, nestedDeeperThan, readAtMost } from '../wire.js';
import type { ClientStats } from './types.js';
import {
  OutcomeUnknownError,
  NotSentError,
  ReadOnlyViolationError,
  ScimHttpError,
  ScimNetworkError,
  httpErrorFor,
  parseScimErrorBody,
  displayPath,
  MIN_TOKEN_CHARS,
  quoteServerText,
  shorten,
  redactor,
  type ErrorContext,
} from './errors.js';
import type { ConcurrencyLimiter, RateLimiter } from './limits.js';
import { sleep } from './limits.js';
import { decideRetry, parseRetryAfter, RETRYABLE_STATUS, scheduleRetry, type AttemptOutcome, type RetryPolicy, type RetryState } from './retry.js';
import type { RetryWait } from './types.js';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Relative to the target URL, query included, e.g. `/Users?startIndex=1&count=100`. */
  path: string;
  body?: unknown;
  ifMatch?: string | undefined;
  /** Continues the retries of an earlier send of the same request (a create sent again after a look-up). */
  resume?: RetryState | undefined;
  /** Sent even after the signal fired, once (see `ReadOptions.evenIfInterrupted`). */
  evenIfInterrupted?: boolean | undefined;
}

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The parsed JSON body; undefined when empty. */
  body: unknown;
}

export interface RequestEvent {
  method: string;
  path: string;
  status: number | 'error';
  durationMs: number;
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
}

export interface Transport {
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Waits before `state`'s request is sent again, as the retry policy says; see `ScimWriter.waitToRetry`. */
  waitToRetry(state: RetryState, signal?: AbortSignal): Promise<RetryWait>;
  stats(): ClientStats;
  /** Lifts `readOnly`: from now on writes are sent. */
  allowWrites(): void;
}

export interface TransportOptions {
  baseUrl: URL;
  token: string;
  readOnly: boolean;
  dispatcher: Dispatcher;
  timeoutMs: number;
  policy: RetryPolicy;
  random: () => number;
  limiter: ConcurrencyLimiter;
  rate: RateLimiter;
  context: ErrorContext;
  signal?: AbortSignal | undefined;
  onRequest?: ((event: RequestEvent) => void) | undefined;
}

/** One attempt's result: a complete response (the body read and, when possible, parsed) or a failure. */
type Attempt =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: unknown; notJson?: string; tooDeep?: boolean }
  | { kind: 'failure'; failure: 'connect' | 'reset' | 'timeout'; code: string; cause: unknown };

/** OpenSSL's verification failures and Node's host-name check (ERR_TLS_CERT_ALTNAME_INVALID). */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/;
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const BROKEN_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_ABORTED', 'ECONNRESET', 'EPIPE']);

/** The network failure an error stands for, or undefined when it is not one (then it is a bug and is rethrown). */
function classify(error: unknown): { failure: 'connect' | 'reset' | 'timeout'; code: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    // Node's stream errors for a body cut short ("terminated", "aborted") carry no code.
    return error instanceof Error && /terminated|aborted|premature close|socket hang up/i.test(error.message) ? { failure: 'reset', code: 'ECONNRESET' } : undefined;
  }
  if (CONNECT_CODES.has(code)) return { failure: 'connect', code };
  if (TIMEOUT_CODES.has(code)) return { failure: 'timeout', code };
  if (BROKEN_CODES.has(code) || code === 'ERR_STREAM_PREMATURE_CLOSE' || /^E[A-Z]+$/.test(code)) return { failure: 'reset', code };
  return undefined;
}

function headerRecord(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Larger answers are refused: a page of 500 users is about 0.3 MB, and an endless body must not fill the memory. */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The body's bytes. Read here rather than with undici's `body.text()`, and decoded by the caller
 * in the same synchronous step as the parse: a promise that resolves to the text keeps it
 * reachable from wherever the promise is held (undici holds that of `body.text()` until the
 * connection's next response; an async function's own promise may already be in the old
 * generation), so each list page's text (~450 KB at 500 users) survived young-generation
 * collections into the old generation, where only a full collection frees it.
 */
async function readBody(body: Dispatcher.ResponseData['body']): Promise<Buffer> {
  const bytes = await readAtMost(body, MAX_RESPONSE_BYTES);
  if (bytes === undefined) {
    throw new ScimformError(`the answer is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB, more than any SCIM page holds`, {
      hint: 'Lower pageSize for this target, or check that its url points at the SCIM API.',
    });
  }
  return bytes;
}

/**
 * Replaces every occurrence of the whole token in an answer's text (a server might echo the
 * header). This text is the live data plans are made from, so only a token long enough to be a
 * secret is replaced (`MIN_TOKEN_CHARS`, as `resolveToken` demands): a short one given to the
 * package API (`example`) would rewrite every `user@example.com` and make the plan wrong.
 */
function redactWhole(text: string, token: string): string {
  return token.length >= MIN_TOKEN_CHARS ? replaceToken(text, token) : text;
}

/**
 * Why a body nested deeper than any SCIM data cannot be read: where, and in which resource when it
 * is one (a single resource, or one of a list's `Resources`), so that it can be found on the server.
 */
function tooDeepNote(body: unknown, path: (string | number)[]): string {
  const idOf = (value: unknown) => {
    const id = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)['id'] : undefined;
    return typeof id === 'string' || typeof id === 'number' ? ` (in the resource with id ${JSON.stringify(shorten(String(id)))})` : '';
  };
  const [first, second] = path;
  const list = typeof first === 'string' && first.toLowerCase() === 'resources' && typeof second === 'number';
  const resource = list ? (body as Record<string, unknown[] | undefined>)[first]?.[second] : body;
  return `the body nests values more than ${MAX_JSON_DEPTH} levels deep, at ${formatJsonPath(path)}${idOf(resource)}`;
}

/** UTF-8 text, skipping a byte-order mark as undici's `body.text()` does. */
function decodeText(bytes: Buffer): string {
  const start = bytes.length > 2 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.toString('utf8', start);
}

export function createTransport(options: TransportOptions): Transport {
  const { baseUrl, token, dispatcher, policy, random, limiter, rate, context, signal } = options;
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const counts: Record<string, number> = {};
  let retries = 0;
  const redact = redactor(token);
  // A path may carry a server-made cursor of any length; a message quotes a bounded part of it.
  const urlOf = (path: string) => `${context.url}${displayPath(path)}`;
  const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

  const attemptOnce = async (request: HttpRequest): Promise<Attempt> => {
    // The attempt's deadline, as a signal undici takes (an EventEmitter, as its request options
    // allow): lighter than an AbortController and its EventTarget listeners, one per attempt.
    const deadline = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.emit('abort');
    }, options.timeoutMs);
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: 'application/scim+json, application/json',
      };
      if (request.body !== undefined) headers['content-type'] = 'application/scim+json';
      if (request.ifMatch !== undefined) headers['if-match'] = request.ifMatch;
      const response = await dispatcher.request({
        origin: baseUrl.origin,
        path: basePath + request.path,
        method: request.method,
        headers,
        body: request.body === undefined ? null : JSON.stringify(request.body),
        signal: deadline,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      // A server that echoes the Authorization header must not put the token into anything parsed from its answer.
      const text = redactWhole(decodeText(await readBody(response.body)), token);
      const responseHeaders = headerRecord(response.headers);
      const attempt: Attempt = { kind: 'response', status: response.statusCode, headers: responseHeaders, body: undefined };
      if (text.trim() !== '') {
        try {
          attempt.body = JSON.parse(text) as unknown;
          // No SCIM value is nested that deep; hashing it, or sending it back in a PUT, would exhaust the stack.
          const deep = nestedDeeperThan(attempt.body, MAX_JSON_DEPTH);
          if (deep) {
            attempt.notJson = tooDeepNote(attempt.body, deep);
            attempt.tooDeep = true;
            attempt.body = undefined;
          }
        } catch {
          const type = quoteServerText((responseHeaders['content-type'] ?? 'no content type').split(';')[0]!, redact);
          const start = quoteServerText(text.slice(0, 1024), redact, 60);
          attempt.notJson = /json/i.test(type)
            ? `the body is not valid JSON (cut short?), starting "${start}"`
            : `the body was ${type}, not JSON, starting "${start}"`;
        }
      }
      return attempt;
    } catch (error) {
      if (timedOut) return { kind: 'failure', failure: 'timeout', code: 'ETIMEDOUT', cause: error };
      const code = (error as { code?: unknown } | null)?.code;
      // A certificate that cannot be verified is refused, never retried and never worked around:
      // the handshake failed, so nothing (the token included) was sent.
      if (typeof code === 'string' && TLS_CODES.test(code)) {
        throw new ScimNetworkError(request.method, request.path, 'connect', `the TLS certificate of ${urlOf(request.path)} could not be verified (${code})`,
          `scimform verifies certificates and has no option to skip it; fix the certificate of target ${context.target}, or, for a private CA, give its certificate to Node with NODE_EXTRA_CA_CERTS.`, error);
      }
      const failure = classify(error);
      if (!failure) throw error;
      return { kind: 'failure', ...failure, cause: error };
    } finally {
      clearTimeout(timer);
    }
  };

  const failureError = (request: HttpRequest, attempt: Extract<Attempt, { kind: 'failure' }>, attempts: number, startedAt: number): ScimformError => {
    const { method, path } = request;
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    if (method === 'POST' && attempt.failure !== 'connect') {
      const reason = attempt.failure === 'timeout' ? `no answer within ${seconds(options.timeoutMs)} from ${urlOf(path)}` : `the connection broke (${attempt.code})`;
      return new OutcomeUnknownError(method, path, reason, { cause: attempt.cause, retry: { attempts, startedAt } });
    }
    // A write that timed out or lost its connection may have been applied all the same.
    const maybe = method !== 'GET' && attempt.failure !== 'connect' ? '; it may have been applied' : '';
    switch (attempt.failure) {
      case 'timeout':
        return new ScimNetworkError(method, path, 'timeout', `${method} ${urlOf(path)} timed out: no answer within ${seconds(options.timeoutMs)}${tries}${maybe}`,
          `The service is slow or unreachable; raise timeoutSeconds of target ${context.target} or try again later.`, attempt.cause);
      case 'connect':
        return new ScimNetworkError(method, path, 'connect', `could not connect to ${urlOf(path)} (${attempt.code})${tries}`,
          `Check the url of target ${context.target} and the network (proxy, DNS, firewall).`, attempt.cause);
      case 'reset':
        return new ScimNetworkError(method, path, 'reset', `${method} ${urlOf(path)} failed: the connection broke before a complete response (${attempt.code})${tries}${maybe}`,
          'The service or a proxy closed the connection; try again later.', attempt.cause);
    }
  };

  const responseError = (request: HttpRequest, attempt: Extract<Attempt, { kind: 'response' }>): ScimHttpError => {
    const parsed = parseScimErrorBody(attempt.body);
    const error = parsed?.detail ? { ...parsed, detail: quoteServerText(parsed.detail, redact) } : parsed;
    return httpErrorFor(context, request, attempt.status, error, attempt.notJson);
  };

  /** `sent`: whether this call sent the request at all (a create sent again after its look-up starts with attempts made by earlier calls). */
  const interrupted = (request: HttpRequest, sent: boolean, cause?: unknown) =>
    !sent
      ? new NotSentError(request.method, request.path)
      : new ScimformError(`interrupted: ${request.method} ${request.path} was not retried`, {
          hint: 'Run the command again to finish.',
          ...(cause === undefined ? {} : { cause }),
        });

  let readOnly = options.readOnly;
  return {
    allowWrites: () => void (readOnly = false),
    async send(request) {
      const { method, path } = request;
      // peribolos-style dry-run guard: a read-only client cannot write, whatever its caller does.
      if (readOnly && method !== 'GET') throw new ReadOnlyViolationError(method, path);
      const started = request.resume?.startedAt ?? Date.now();
      const first = request.resume?.attempts ?? 0;
      // After the signal, a request that must still go is sent once and waits for its turn whatever the signal says.
      const gate = request.evenIfInterrupted ? undefined : signal;
      let lastError: ScimformError | undefined;
      for (let attempt = first; ; attempt++) {
        if (signal?.aborted && (gate !== undefined || attempt > first)) throw interrupted(request, attempt > first, lastError);
        let result: Attempt;
        const release = await limiter.acquire(gate).catch(() => undefined);
        if (!release) throw interrupted(request, attempt > first, lastError);
        try {
          await rate.take(gate);
        } catch {
          release();
          throw interrupted(request, attempt > first, lastError);
        }
        const sentAt = Date.now();
        const window = limiter.window();
        try {
          counts[method] = (counts[method] ?? 0) + 1;
          if (attempt > 0) retries++;
          result = await attemptOnce(request);
        } finally {
          release();
        }
        options.onRequest?.({
          method,
          path,
          status: result.kind === 'response' ? result.status : 'error',
          durationMs: Date.now() - sentAt,
          attempt: attempt + 1,
        });

        if (result.kind === 'response') {
          if (result.status === 429) limiter.throttled(window);
          else if (result.status < 500) limiter.succeeded();
          // SPEC §5: a DELETE retried after an ambiguous failure and now gone did succeed.
          if (method === 'DELETE' && attempt > 0 && result.status === 404) return { status: 204, headers: result.headers, body: undefined };
        }

        const outcome: AttemptOutcome =
          result.kind === 'response'
            ? { kind: 'response', status: result.status, retryAfterMs: parseRetryAfter(result.headers['retry-after'], Date.now()) }
            : { kind: 'failure', failure: result.failure };
        // Where this request stands, should its outcome be unknown: apply sends it again from there.
        const standing = (): RetryState => ({
          attempts: attempt + 1,
          startedAt: started,
          ...(outcome.kind === 'response' && outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
        });
        const decision = decideRetry(method, outcome, attempt, Date.now() - started, policy, random);
        switch (decision.kind) {
          case 'accept': {
            const response = result as Extract<Attempt, { kind: 'response' }>;
            if (response.notJson !== undefined) {
              if (method === 'POST') throw new OutcomeUnknownError(method, path, `the answer (${response.status}) could not be read: ${response.notJson}`, { retry: standing(), status: response.status });
              throw new ScimformError(`${method} ${urlOf(path)} answered ${response.status}, but ${response.notJson}`, {
                hint: response.tooDeep
                  ? `No SCIM attribute is nested that deep, so scimform cannot read the answer: fix or remove that value on the service of target ${context.target}, or ask its operator to.`
                  : `Something other than the SCIM service answered (a proxy or login page?); check the url of target ${context.target}.`,
              });
            }
            // The attempt itself, not a copy: a caller that clears its body (see the client's
            // listing) then frees it from every promise that resolved to it.
            return response;
          }
          case 'unknown': {
            if (result.kind === 'failure') throw failureError(request, result, attempt + 1, started);
            const detail = parseScimErrorBody(result.body)?.detail;
            throw new OutcomeUnknownError(method, path, `the server answered ${result.status}${detail ? ` (${quoteServerText(detail, redact)})` : ''}`, { retry: standing(), status: result.status });
          }
          case 'stop': {
            if (result.kind === 'failure') throw failureError(request, result, attempt + 1, started);
            const error = responseError(request, result);
            const asked = outcome.kind === 'response' ? outcome.retryAfterMs : undefined;
            if (asked !== undefined && RETRYABLE_STATUS.has(result.status) && attempt + 1 < policy.maxAttempts) {
              // Stopped by the time budget alone: the service asked for a longer wait than scimform gives one request.
              throw new ScimHttpError(`${error.message}; it asked to wait ${seconds(asked)} more (Retry-After), which would pass the ${seconds(policy.maxTotalMs)} scimform gives one request`, {
                ...error,
                hint: 'Try again later; if the service keeps asking for long waits, lower requestsPerSecond or concurrency for this target.',
              });
            }
            // An earlier attempt whose answer was lost may itself have changed the version.
            if (result.status === 412 && attempt > 0) {
              throw new ScimHttpError(error.message, { ...error, hint: 'An earlier attempt of this request may have been applied; run plan again to see.' });
            }
            throw error;
          }
          case 'retry':
            lastError = result.kind === 'response' ? responseError(request, result) : failureError(request, result, attempt + 1, started);
            try {
              await sleep(decision.delayMs, signal);
            } catch {
              throw interrupted(request, true, lastError);
            }
        }
      }
    },
    async waitToRetry(state, interrupt) {
      const decision = scheduleRetry(state.attempts - 1, Date.now() - state.startedAt, state.retryAfterMs, policy, random);
      if (decision.kind === 'stop') return 'exhausted';
      const signals = [signal, interrupt].filter((candidate): candidate is AbortSignal => candidate !== undefined);
      try {
        await sleep(decision.delayMs, signals.length > 1 ? AbortSignal.any(signals) : signals[0]);
      } catch {
        return 'interrupted';
      }
      return 'retry';
    },
    stats: () => ({ requests: { ...counts }, pages: 0, retries }),
  };
}
