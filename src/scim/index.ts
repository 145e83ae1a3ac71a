/** The SCIM 2.0 client: everything scimform knows about a live service comes through here. */
import { ScimformError } from '../errors.js';
import type { TargetConfig } from '../model.js';
import { MIN_TOKEN_CHARS } from './errors.js';
import { headerUnsafe } from '../wire.js';

export { createScimClient, type ClientOptions } from './client.js';
export { profileDefaults, mergeCapabilities } from './capabilities.js';
export { escapeFilterValue, equalityFilter } from './filter.js';
export { ScimHttpError, OutcomeUnknownError, ScimNetworkError, ReadOnlyViolationError } from './errors.js';
export type { RequestEvent } from './http.js';
export type { RetryPolicy, RetryState } from './retry.js';
export type * from './types.js';

/**
 * The bearer token of a target, from the environment variable its `tokenEnv` names (the only
 * place a token may come from). Surrounding whitespace (a trailing newline from a file) is dropped.
 */
export function resolveToken(target: TargetConfig, env: NodeJS.ProcessEnv): string {
  const token = env[target.tokenEnv]?.trim();
  if (!token) {
    const state = env[target.tokenEnv] === undefined ? 'is not set' : 'is empty';
    throw new ScimformError(`environment variable ${target.tokenEnv} ${state} (target ${target.name})`, {
      hint: `Set ${target.tokenEnv} to the SCIM bearer token of ${target.url}; scimform reads tokens only from the environment.`,
    });
  }
  const unsafe = headerUnsafe(token);
  if (unsafe === 'control characters') {
    throw new ScimformError(`environment variable ${target.tokenEnv} holds a token with control characters (target ${target.name})`, {
      hint: `Set ${target.tokenEnv} to the token alone, on one line.`,
    });
  }
  if (unsafe === 'not ASCII') {
    throw new ScimformError(`environment variable ${target.tokenEnv} holds a token with characters that cannot be sent in an HTTP header (target ${target.name})`, {
      hint: `A token is plain ASCII; typographic quotes or a zero-width or non-breaking space often come with a copy-and-paste. Paste the token into ${target.tokenEnv} again, as plain text.`,
    });
  }
  if (token.length < MIN_TOKEN_CHARS) {
    throw new ScimformError(`environment variable ${target.tokenEnv} holds a token shorter than ${MIN_TOKEN_CHARS} characters, too short to be a secret (target ${target.name})`, {
      hint:
        `Set ${target.tokenEnv} to the whole SCIM bearer token of ${target.url} (a long random string: was it cut short, or is it a placeholder?). ` +
        `scimform could not keep a shorter one out of its output without hiding ordinary text too; for an emulator that checks no token, any ${MIN_TOKEN_CHARS} characters will do.`,
    });
  }
  return token;
}
