/**
 * How apply reads a failed write. The client throws `ScimHttpError` (a status from the server) or
 * `OutcomeUnknownError` (a POST whose fate is unknown); they are recognised by shape and name so
 * that any `ScimWriter` can signal the same cases without sharing classes.
 */
import type { RetryState } from '../scim/retry.js';

export type WriteFailure =
  | { kind: 'unknown'; status?: number; message: string; retry?: RetryState }
  | { kind: 'http'; status: number; scimType?: string; detail?: string; message: string; hint?: string }
  | { kind: 'other'; message: string };

/** Statuses after which a POST may or may not have taken effect (RFC 9110 §15.6: the server failed mid-way, or a proxy gave up). */
const AMBIGUOUS_POST_STATUSES = new Set([500, 502, 503, 504]);

export function classifyFailure(error: unknown, method: string): WriteFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (typeof error !== 'object' || error === null) return { kind: 'other', message };
  const fields = error as { name?: unknown; status?: unknown; scimType?: unknown; detail?: unknown; hint?: unknown; retry?: RetryState };
  const status = typeof fields.status === 'number' ? fields.status : undefined;
  if (fields.name === 'OutcomeUnknownError') {
    return { kind: 'unknown', ...(status === undefined ? {} : { status }), message, ...(fields.retry === undefined ? {} : { retry: fields.retry }) };
  }
  if (status === undefined) return { kind: 'other', message };
  if (method === 'POST' && AMBIGUOUS_POST_STATUSES.has(status)) return { kind: 'unknown', status, message };
  return {
    kind: 'http',
    status,
    message,
    ...(typeof fields.scimType === 'string' ? { scimType: fields.scimType } : {}),
    ...(typeof fields.detail === 'string' && fields.detail !== '' ? { detail: fields.detail } : {}),
    ...(typeof fields.hint === 'string' && fields.hint !== '' ? { hint: fields.hint } : {}),
  };
}

/** A write the client gave up before it left (`NotSentError`: interrupted while waiting for its turn): nothing reached the server. */
export function notSent(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'NotSentError';
}

/** A 401: the service rejected the token itself, so it would reject every further request of this target the same way. */
export function rejectsToken(failure: WriteFailure): boolean {
  return failure.kind === 'http' && failure.status === 401;
}

/** `HTTP 409 uniqueness: userName already taken`: what a person reads in the report. */
export function describeFailure(failure: WriteFailure): string {
  switch (failure.kind) {
    case 'http': {
      // The token or its rights: the client's own message names the variable, and its hint says
      // what to do (for Lightstep, the SCIM token versus the API key), as when planning meets it.
      if ((failure.status === 401 || failure.status === 403) && failure.hint) return `${failure.message}. ${failure.hint}`;
      const scimType = failure.scimType ? ` ${failure.scimType}` : '';
      return `HTTP ${failure.status}${scimType}: ${failure.detail ?? failure.message}`;
    }
    case 'unknown':
      // The client's message already says the request may or may not have been applied, and why.
      return failure.message;
    case 'other':
      return failure.message;
  }
}

/** A failed read (a look-up) as a person reads it: the client's message, and its hint when the token or its rights are the cause. */
export function describeReadFailure(error: unknown): string {
  const failure = classifyFailure(error, 'GET');
  return failure.kind === 'http' && (failure.status === 401 || failure.status === 403) ? describeFailure(failure) : failure.message;
}
