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
