import { expect, test } from 'vitest';
import { scopeMatcher, scopeProblem } from '../../src/config/scope.js';
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
  // `*` matches line breaks and `.`/`..` between slashes too: a live user holding them is in scope, not left untouched.
  ['*@example.com', 'line\nbreak@example.com', true],
  ['*@example.com', 'cr\rlf@example.com', true],
  ['*@example.com', 'sep\u2028arator@example.com', true],
  ['svc-*@example.com', 'svc-a\nb@example.com', true],
  ['*.*@example.com', 'a\n.\u2029b@example.com', true],
  ['svc-*@example.com', 'svc-a/../b@example.com', true],
  ['svc-*@example.com', 'svc-/./@example.com', true],
  ['team/*@example.com', 'team/../x@example.com', true],
  ['svc-*@example.com', 'svc-a\n@example.com.evil.org', false],
  // `+` is a character, after a group as anywhere else (picomatch would read it as a regex quantifier).
  ['{eng,ops}+bot@example.com', 'eng+bot@example.com', true],
  ['{eng,ops}+bot@example.com', 'engopsbot@example.com', false],
  ['[a-c]+*@example.com', 'b+x@example.com', true],
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

test.each([
  ['*a*a*a*a*a*a*a*a*a*b', /has 10 `\*` wildcards, over the limit of 2/],
  ['*a*a*b', /has 3 `\*` wildcards/],
  // A `**` path segment is a wildcard too: 7 of them took 11 s on a 163-character userName.
  ['x/**/a/**/a/**/a/**/a/**/a/**/a/**/b', /has 7 `\*` wildcards, over the limit of 2/],
  ['*@*/**/x', /has 3 `\*` wildcards/],
  ['*(*a)b', /extended glob/],
  ['+(a|aa)*@example.com', /extended glob/],
  ['@(eng|ops)-*@example.com', /extended glob/],
  ['{a,aa}{a,aa}{a,aa}b', /has 3 `\{…\}` groups, over the limit of 2/],
  // picomatch compiles a backwards range to a pattern that matches nothing: every user would be out of scope.
  ['[z-a]*@example.com', /matches no userName at all: a range in `\[…\]` runs backwards/],
])('scope %s is refused, by validate and by the matcher itself', (scope, problem) => {
  expect(scopeProblem(scope)).toMatch(problem);
  expect(() => scopeMatcher(scope)).toThrow(problem);
});

test.each([
  ['*@example.com'],
  ['*@*.example.com'],
  ['**@***.example.com'], // a run of `*` is one wildcard
  ['[*]*@example.com'], // a `*` in brackets, or escaped, is a character
  ['\\**@example.com'],
  ['team/**/*@example.com'], // a `**` segment next to a `*` is one wildcard each
  ['{eng,ops}-*@{example.com,example.org}'],
])('scope %s is within the limits', (scope) => {
  expect(scopeProblem(scope)).toBeUndefined();
});

// The worst cases within the limits: each `*` and each group of choices of different lengths makes the regex backtrack.
test.each([
  ['*a*b', 'a'.repeat(256)],
  ['*?*?b', 'a'.repeat(256)],
  ['*{a,aa}*{a,aa}b', 'a'.repeat(256)],
  ['*@*.example.com', `${'a'.repeat(200)}@${'a.'.repeat(27)}x`],
  ['**/a/**/b', `${'a/'.repeat(127)}c`],
  // A `+` after a group is a character, not a repetition: as a regex quantifier, 24 characters took 60 ms, 30 took 4 s.
  ['(a+)+b', 'a'.repeat(24)],
  ['{a,aa}+b', 'a'.repeat(30)],
])('scope %s on a long userName that it does not match takes well under a millisecond', (scope, userName) => {
  const matches = scopeMatcher(scope);
  expect(matches(userName)).toBe(false); // and now compiled and warm
  const runs = 200;
  let matched = 0;
  const started = performance.now();
  for (let i = 0; i < runs; i++) if (matches(userName)) matched++;
  expect(matched).toBe(0);
  // 1 ms is far above the measured 0.03-0.3 ms, so a loaded machine does not fail this; 9 wildcards took 40 s.
  expect((performance.now() - started) / runs).toBeLessThan(1);
});
