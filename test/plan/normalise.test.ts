import { expect, test } from 'vitest';
import { diffUser, sameEmails } from '../../src/plan/index.js';
import type { Email } from '../../src/model.js';
import { liveUser, user } from './builders.js';

test.each<[string, Email[] | null | undefined, Email[] | undefined, boolean]>([
  ['order does not matter', [{ value: 'a@x.io', type: 'work' }, { value: 'b@x.io' }], [{ value: 'b@x.io' }, { value: 'a@x.io', type: 'work' }], true],
  ['value and type ignore case', [{ value: 'A@X.io', type: 'Work' }], [{ value: 'a@x.io', type: 'work' }], true],
  ['primary absent is primary false', [{ value: 'a@x.io', primary: false }], [{ value: 'a@x.io' }], true],
  ['duplicates collapse', [{ value: 'a@x.io' }, { value: 'A@x.io' }], [{ value: 'a@x.io' }], true],
  ['null, absent and empty are all no emails', null, [], true],
  ['a different primary flag differs', [{ value: 'a@x.io', primary: true }], [{ value: 'a@x.io' }], false],
  ['a different type differs', [{ value: 'a@x.io', type: 'home' }], [{ value: 'a@x.io', type: 'work' }], false],
  ['an extra email differs', [{ value: 'a@x.io' }], [{ value: 'a@x.io' }, { value: 'b@x.io' }], false],
])('emails compare as a set: %s', (_name, a, b, expected) => {
  expect(sameEmails(a, b)).toBe(expected);
});

test.each([
  ['userName in another case', user('JANE@example.com'), []],
  ['name.formatted and meta are ignored', user('jane@example.com', { name: { givenName: 'Jane' } }), []],
  ['a trailing space is a difference (values are compared as written)', user('jane@example.com', { displayName: 'Jane ' }), ['displayName']],
  ['name: null with only a server-made formatted name live is converged', user('jane@example.com', { name: { familyName: null } }), []],
  ['active absent means true', user('jane@example.com', { active: undefined }), []],
])('diffUser: %s', (_name, declared, paths) => {
  const live = liveUser('u1', 'jane@example.com', { name: { givenName: 'Jane', formatted: 'Jane' }, displayName: 'Jane' });
  expect(diffUser(declared, live).map((change) => change.path)).toEqual(paths);
});
