import { expect, test } from 'vitest';
import { inScope, scopeRules } from '../../src/plan/index.js';

test.each([
  [undefined, 'anyone@anywhere.org', true],
  ['*@example.com', 'jane@example.com', true],
  ['*@example.com', 'Jane.Doe@EXAMPLE.COM', true],
  ['*@example.com', '.hidden@example.com', true],
  ['*@example.com', 'jane@example.com.evil.org', false],
  ['*@example.com', 'jane@other.org', false],
  ['{eng,ops}-*@example.com', 'OPS-bot@example.com', true],
  ['{eng,ops}-*@example.com', 'sales-bot@example.com', false],
  // A userName is a string, not a path: `/` is a character of the local part like any other.
  ['*@example.com', 'c/d@example.com', true],
  ['*@example.com', 'a/b/c@example.com', true],
  ['*@example.com', 'c/d@other.org', false],
  ['team/*@example.com', 'team/a/b@example.com', true],
  ['*', 'a/b@anywhere.org', true],
  // picomatch has no option for `?`: it matches one character other than `/`.
  ['a?b@example.com', 'a-b@example.com', true],
  ['a?b@example.com', 'a/b@example.com', false],
])('scope %s: %s in scope is %s', (scope, userName, expected) => {
  expect(inScope(scope === undefined ? {} : { scope }, userName)).toBe(expected);
});

test.each([
  ['breakglass@example.com', false],
  ['BreakGlass@Example.com', false],
  ['jane@example.com', true],
  ['jane@other.org', false],
])('with scope *@example.com and breakglass protected, %s is manageable: %s', (userName, expected) => {
  const rules = scopeRules({ scope: '*@example.com', protectedUsers: ['breakglass@example.com'] });
  expect(rules.isManageable(userName)).toBe(expected);
});
