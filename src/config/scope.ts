/**
 * The policy `scope`: a case-insensitive glob on userName (picomatch, not a hand-written matcher).
 * A userName is a plain string, not a path: `*` matches any characters, `/` included (valid in the
 * local part of an email address). picomatch has no option for `?`, which matches one character
 * other than `/`.
 */
import picomatch from 'picomatch';
import type { Policy } from '../model.js';

const matchers = new Map<string, (userName: string) => boolean>();

/** Compiles a scope glob; throws when picomatch cannot make sense of it. */
export function scopeMatcher(scope: string): (userName: string) => boolean {
  let matcher = matchers.get(scope);
  if (!matcher) {
    // dot: a userName may start with `.`, and `*` must match it. bash: `*` matches `/` too, as `**` does.
    const regex = picomatch.makeRe(scope, { nocase: true, dot: true, bash: true, strictBrackets: true });
    matcher = (userName) => regex.test(userName);
    matchers.set(scope, matcher);
  }
  return matcher;
}

/** Whether scimform may touch the user: always when there is no scope. */
export function inScope(policy: Pick<Policy, 'scope'>, userName: string): boolean {
  return policy.scope === undefined || scopeMatcher(policy.scope)(userName);
}
