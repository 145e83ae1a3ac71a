/**
 * Errors the SCIM client raises for people. Each one says what went wrong with which request
 * and what to do; none of them ever carries a request header, so the bearer token cannot leak
 * through an error message, a hint or a `cause`.
 */
import { STATUS_CODES } from 'node:http';
import { ScimformError } from '../errors.js';
import type { ProfileName } from '../model.js';
import { safeText } from '../render/format.js';
import type { RetryState } from './retry.js';
import { REDACTED, type Redact } from '../secret.js';

export { MIN_FRAGMENT_CHARS, MIN_TOKEN_CHARS, redactor, type Redact } from '../secret.js';

/** What the client knows about the target when it words an error. */
export interface ErrorContext {
  target: string;
  url: string;
  tokenEnv: string;
  profile: ProfileName;
}

/** The fields of an RFC 7644 §3.12 error body; `status` may come as a string or a number (SPEC §5a). */
export interface ScimErrorBody {
  status?: number;
  scimType?: string;
  detail?: string;
}

/** A response with a status the caller did not expect, with the server's SCIM error fields when it sent them. */
export class ScimHttpError extends ScimformError {
  readonly status: number;
  readonly scimType: string | undefined;
  readonly detail: string | undefined;
  readonly method: string;
  readonly path: string;

  constructor(
    message: string,
    fields: { status: number; scimType?: string | undefined; detail?: string | undefined; method: string; path: string; hint?: string },
  ) {
    super(message, fields.hint === undefined ? {} : { hint: fields.hint });
    this.name = 'ScimHttpError';
    this.status = fields.status;
    this.scimType = fields.scimType;
    this.detail = fields.detail;
    this.method = fields.method;
    this.path = fields.path;
  }
}

/**
 * A POST whose fate is unknown: it timed out, the connection broke after it was sent, or the
 * server answered with a 5xx (or an unreadable success). The resource may or may not exist now;
 * apply looks it up by userName before deciding what to do (SPEC §5). `retry` says where the POST
 * stands in its retries, for sending it again under the same bound.
 */
export class OutcomeUnknownError extends ScimformError {
  readonly method: string;
  readonly path: string;
  readonly retry: RetryState | undefined;
  /** The server's answer, when there was one (a 5xx): what the audit log records. */
  readonly status: number | undefined;

  constructor(method: string, path: string, reason: string, details: { cause?: unknown; retry?: RetryState | undefined; status?: number } = {}) {
    super(`${method} ${path} may or may not have been applied: ${reason}`, {
      hint: 'Look the resource up before sending it again; re-running apply does this and converges.',
      cause: details.cause,
    });
    this.name = 'OutcomeUnknownError';
    this.method = method;
    this.path = path;
    this.retry = details.retry;
    this.status = details.status;
  }
}

/**
 * A request that never left: apply was interrupted while it waited for a connection slot or the
 * rate limit. Nothing was written, so apply reports the operation as not started.
 */
export class NotSentError extends ScimformError {
  constructor(method: string, path: string) {
    super(`interrupted: ${method} ${path} was not sent`, { hint: 'Run the command again to finish.' });
    this.name = 'NotSentError';
  }
}

/** The request never got a complete answer: refused connection, reset, timeout, unreadable body. */
export class ScimNetworkError extends ScimformError {
  readonly method: string;
  readonly path: string;
  readonly reason: 'connect' | 'reset' | 'timeout';

  constructor(method: string, path: string, reason: 'connect' | 'reset' | 'timeout', message: string, hint: string, cause?: unknown) {
    super(message, { hint, cause });
    this.name = 'ScimNetworkError';
    this.method = method;
    this.path = path;
    this.reason = reason;
  }
}

/** A non-GET request on a read-only client: planning code tried to write. Always a bug. */
export class ReadOnlyViolationError extends ScimformError {
  readonly method: string;
  readonly path: string;

  constructor(method: string, path: string) {
    super(`refused to send ${method} ${path}: this client is read-only and sends only GET requests`, {
      hint: 'This is a bug in scimform (plan must never write to a target); please report it.',
    });
    this.name = 'ReadOnlyViolationError';
    this.method = method;
    this.path = path;
  }
}

/** Reads `status`, `scimType` and `detail` from an error body, whatever their JSON types; undefined when the body is not one. */
export function parseScimErrorBody(body: unknown): ScimErrorBody | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const result: ScimErrorBody = {};
  const status = typeof record.status === 'string' ? Number(record.status.trim()) : record.status;
  if (typeof status === 'number' && Number.isInteger(status)) result.status = status;
  // RFC 7644 §3.12 scimType values are single keywords; anything else is not one and is not quoted to people.
  if (typeof record.scimType === 'string' && /^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(record.scimType)) result.scimType = record.scimType;
  // `detail` is the RFC field; some servers use `message` instead.
  const detail = typeof record.detail === 'string' ? record.detail : typeof record.message === 'string' ? record.message : undefined;
  if (detail !== undefined && detail.trim() !== '') result.detail = detail.trim();
  return Object.keys(result).length === 0 ? undefined : result;
}

/** Longest server detail quoted in an error: enough for any real message, and one line. */
const MAX_DETAIL_CHARS = 300;

/**
 * A server's `detail` as one line of bounded length. Call it after `redact`: cutting first could
 * leave part of a token too short for `redact` to recognise. The cut never falls inside a
 * `[redacted]` (it is kept whole) nor between the two halves of a character beyond U+FFFF.
 */
export function shorten(detail: string, max = MAX_DETAIL_CHARS): string {
  const line = detail.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  let end = max;
  const label = line.lastIndexOf(REDACTED, end - 1);
  if (label >= 0 && label + REDACTED.length > end) end = label + REDACTED.length;
  else if (/[\ud800-\udbff]/.test(line.charAt(end - 1))) end -= 1;
  return end >= line.length ? line : `${line.slice(0, end)}…`;
}

/** A request path as quoted in a message: query values (a server's cursor) can be of any length. */
export function displayPath(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

/** Only the start of a server's text is ever quoted: redacting a bounded part keeps a huge error body cheap. */
const MAX_SCANNED_CHARS = 16 * 1024;

/**
 * Text from the server (an error `detail`, the start of a body that is not JSON, a header) as
 * quoted in an error: the token and its fragments redacted, on one line of bounded length, and
 * control characters escaped, so it can neither recolour a terminal nor start a line of its own
 * (a `::add-mask::` workflow command in a CI log).
 */
export function quoteServerText(text: string, redact: Redact, max = MAX_DETAIL_CHARS): string {
  const head = text.length > MAX_SCANNED_CHARS ? text.slice(0, MAX_SCANNED_CHARS) : text;
  // Cut before escaping, so that the cut never falls inside an escape.
  return safeText(shorten(redact(head), max));
}

/** `503 Service Unavailable`: the status with its reason phrase (Node's table), or the bare code. */
function statusLabel(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

/** Finds the userName a request body names, for the 409 message. */
function userNameOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.userName === 'string') return record.userName;
  const operations = record.Operations ?? record.operations;
  if (Array.isArray(operations)) {
    for (const operation of operations as Record<string, unknown>[]) {
      if (operation?.path === 'userName' && typeof operation.value === 'string') return operation.value;
    }
  }
  return undefined;
}

/**
 * Words an unexpected status for a person. `path` is relative to the target URL; `requestBody`
 * is what was sent (for the userName of a 409); `bodyNote` says why no SCIM error body was read.
 */
export function httpErrorFor(
  context: ErrorContext,
  request: { method: string; path: string; body?: unknown },
  status: number,
  error: ScimErrorBody | undefined,
  bodyNote?: string,
): ScimHttpError {
  const { method, path } = request;
  const where = `${method} ${context.url}${displayPath(path)}`;
  // The caller has redacted the server's text (it holds the token); escaping it again is harmless.
  const detail = error?.detail === undefined ? undefined : safeText(error.detail);
  const scimType = error?.scimType;
  const suffix = detail ? `: ${detail}` : bodyNote ? ` (${safeText(bodyNote)})` : '';
  const fields = { status, scimType, detail, method, path };

  switch (status) {
    case 401: {
      const lightstep =
        context.profile === 'lightstep'
          ? ' (Lightstep: Organization Settings › SCIM provisioning), not the general Lightstep API key. ' +
            "Lightstep's Okta guide instead uses https://api.lightstep.com/public/v0.2/<organization> with an Admin API key: " +
            `the URL is configuration, so make the token and the url of target ${context.target} belong together.`
          : `; check that it is a current SCIM bearer token for ${context.url}.`;
      return new ScimHttpError(
        `the SCIM service of target ${context.target} rejected the token in $${context.tokenEnv} (401 Unauthorized)`,
        { ...fields, hint: `$${context.tokenEnv} must hold a SCIM token${lightstep}` },
      );
    }
    case 403:
      return new ScimHttpError(`the SCIM service of target ${context.target} refused ${where} (403 Forbidden)${suffix}`, {
        ...fields,
        hint:
          context.profile === 'lightstep'
            ? // A general API key where the SCIM token belongs fails without saying so; the 401 hint names it, and so must this one.
              `SCIM provisioning needs the Lightstep Enterprise plan and a SCIM token allowed to manage users: check the plan, and that $${context.tokenEnv} holds ` +
              'the SCIM token (Organization Settings › SCIM provisioning), not the general Lightstep API key, which may be refused this way.'
            : 'The token is valid but lacks permission for this request; check the plan of the service and the rights of the token.',
      });
    case 409: {
      const userName = userNameOf(request.body);
      const subject = userName ? `userName ${userName} is already taken` : 'a uniqueness conflict';
      return new ScimHttpError(`${where} failed: ${subject} on target ${context.target} (409 Conflict${scimType ? `, ${scimType}` : ''})${suffix}`, {
        ...fields,
        hint: 'Another resource holds the same unique value (some servers also keep it for deleted users); resolve the conflict on the server or in the identity files.',
      });
    }
    case 412:
      return new ScimHttpError(`${where} was refused because the resource changed since it was read (412 Precondition Failed)`, {
        ...fields,
        hint: 'The saved plan is stale for this resource: run plan again.',
      });
    case 429:
      return new ScimHttpError(`${where} was still rate limited after every retry (429 Too Many Requests)`, {
        ...fields,
        hint: 'Lower requestsPerSecond or concurrency for this target, or try again later.',
      });
    default:
      return new ScimHttpError(`${where} failed with ${statusLabel(status)}${scimType ? ` (${scimType})` : ''}${suffix}`, {
        ...fields,
        hint:
          status === 404
            ? `Check the url of target ${context.target}; it should end at the SCIM base (for example …/scim/v2).`
            : status >= 300 && status < 400
              ? `A SCIM service answers, it does not redirect (redirects are not followed, so the token goes nowhere else): check the url of target ${context.target}, and any proxy or login page in front of it.`
            : status >= 500
              ? 'The SCIM service failed; try again later, and contact its operator if it persists.'
              : 'The server did not accept the request; the detail above says why.',
      });
  }
}
