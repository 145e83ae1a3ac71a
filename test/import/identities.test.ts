/** selectIdentities and layoutFiles: which live users and groups are declared, with what, in which file. */
import { describe, expect, test } from 'vitest';
import { selectIdentities } from '../../src/import/identities.js';
import { layoutFiles, slug } from '../../src/import/layout.js';
import type { LiveGroup, LiveUser, Policy } from '../../src/model.js';

const user = (id: string, userName: string, rest: Partial<LiveUser> = {}): LiveUser => ({ id, userName, active: true, resource: {}, ...rest });
const group = (id: string, displayName: string, members: string[], rest: Partial<LiveGroup> = {}): LiveGroup => ({ id, displayName, members, resource: {}, ...rest });
const policy = (rest: Partial<Pick<Policy, 'scope' | 'allowedEmailDomains'>> = {}) => rest;

describe('selectIdentities: attributes of a user', () => {
  test.each([
    ['only the userName when nothing else is set', user('1', 'a@x.example'), { userName: 'a@x.example' }],
    [
      'managed attributes, in the examples\' order; server-made ones dropped',
      user('1', 'a@x.example', { externalId: 'E1', displayName: 'A', name: { givenName: 'A', familyName: 'B', formatted: 'A B' }, version: 'W/"3"', resource: { meta: {} } }),
      { userName: 'a@x.example', externalId: 'E1', displayName: 'A', name: { givenName: 'A', familyName: 'B' } },
    ],
    ['active only when false', user('1', 'a@x.example', { active: false }), { userName: 'a@x.example', active: false }],
    ['no emails when they are the default scimform creates', user('1', 'A@x.example', { emails: [{ value: 'a@x.example', type: 'Work', primary: true }] }), { userName: 'A@x.example' }],
    [
      'emails when they differ from the default; an empty type dropped',
      user('1', 'a@x.example', { emails: [{ value: 'a@x.example', type: '', primary: true }, { value: 'b@x.example', type: 'other', primary: false }] }),
      { userName: 'a@x.example', emails: [{ value: 'a@x.example', primary: true }, { value: 'b@x.example', type: 'other', primary: false }] },
    ],
    ['empty strings are not declared (validate refuses them)', user('1', 'a@x.example', { externalId: '', displayName: '' }), { userName: 'a@x.example' }],
    // Without `emails`, the email would be derived from a userName that is no address, which validate refuses.
    ['no emails, declared as none, for a userName that is not an email address', user('1', 'jdoe'), { userName: 'jdoe', emails: [] }],
    ['the emails of a userName that is not an email address', user('1', 'jdoe', { emails: [{ value: 'jdoe@x.example', type: 'work' }] }), { userName: 'jdoe', emails: [{ value: 'jdoe@x.example', type: 'work' }] }],
  ])('%s', (_name, live, expected) => {
    const selection = selectIdentities({ users: [live], groups: [] }, policy());
    expect(selection.users).toEqual([expected]);
    expect(selection.skipped).toEqual([]);
  });

  test.each([
    ['two primary emails', [{ value: 'a@x.example', primary: true }, { value: 'b@x.example', primary: true }], 'more than one email is marked primary'],
    ['a primary email other than the userName', [{ value: 'b@x.example', primary: true }], 'the primary email "b@x.example" differs from the userName'],
    ['an address validate refuses', [{ value: 'not-an-address' }], 'email "not-an-address" is not an address validate accepts'],
    ['a domain outside allowedEmailDomains', [{ value: 'a@x.example', primary: true }, { value: 'a@gmail.example' }], 'email "a@gmail.example" is not in an allowed email domain'],
  ])('emails left unmanaged, with a note, for %s', (_name, emails, reason) => {
    const selection = selectIdentities({ users: [user('1', 'a@x.example', { emails })], groups: [] }, policy({ allowedEmailDomains: ['x.example'] }));
    expect(selection.users).toEqual([{ userName: 'a@x.example' }]);
    expect(selection.notes).toEqual([`user a@x.example: emails left out (unmanaged): ${reason}`]);
  });
});

describe('selectIdentities: which users', () => {
  test('users outside the scope are counted, not declared; protected users are kept', () => {
    const selection = selectIdentities({ users: [user('1', 'a@x.example'), user('2', 'b@other.example'), user('3', 'breakglass@x.example')], groups: [] }, policy({ scope: '*@x.example' }));
    expect(selection.users.map((u) => u.userName)).toEqual(['a@x.example', 'breakglass@x.example']);
    expect(selection.outOfScope).toBe(1);
    expect(selection.skipped).toEqual([]);
  });

  test.each([
    ['a userName outside allowedEmailDomains', [user('1', 'a@gmail.example')], 'the userName is not in an allowed email domain (x.example)'],
    ['a userName with edge white space', [user('1', ' a@x.example')], 'the userName is empty, starts or ends with white space, or holds a control character, which validate refuses'],
    ['a userName with a control character', [user('1', 'a\u007fb@x.example')], 'the userName is empty, starts or ends with white space, or holds a control character, which validate refuses'],
    [
      'a userName that is not an email address, whose emails cannot be declared',
      [user('1', 'j doe@x.example', { emails: [{ value: 'jdoe@x.example', primary: true }] })],
      'the userName is not an email address, and its emails cannot be declared in its place (the primary email "jdoe@x.example" differs from the userName)',
    ],
    ['a second userName that differs only in case (the lower id is kept)', [user('2', 'A@x.example'), user('1', 'a@x.example')], 'live user 1 has the same userName but for case (a@x.example); userNames are unique without case'],
  ])('skips %s, with a warning that plan will act on it', (_name, users, reason) => {
    const selection = selectIdentities({ users, groups: [] }, policy({ allowedEmailDomains: ['x.example'] }));
    expect(selection.skipped).toEqual([expect.objectContaining({ kind: 'user', reason, affectsPlan: true })]);
  });

  test('with a lightstep target in the config, a userName that is not an email address is skipped, with emails or without: validate would refuse it', () => {
    const users = [user('1', 'jdoe'), user('2', 'ann@x.example'), user('3', 'svc', { emails: [{ value: 'svc@x.example', primary: false }] })];
    const selection = selectIdentities({ users, groups: [] }, policy(), 'next');
    expect(selection.users.map((imported) => imported.userName)).toEqual(['ann@x.example']);
    const reason = 'the userName is not an email address, which target next (profile lightstep) requires';
    expect(selection.skipped).toEqual([
      expect.objectContaining({ kind: 'user', name: 'jdoe', reason, affectsPlan: true }),
      expect.objectContaining({ kind: 'user', name: 'svc', reason, affectsPlan: true }),
    ]);
  });

  test('an externalId two users share is declared for neither', () => {
    const selection = selectIdentities({ users: [user('1', 'a@x.example', { externalId: 'E' }), user('2', 'b@x.example', { externalId: 'E' }), user('3', 'c@x.example', { externalId: 'F' })], groups: [] }, policy());
    expect(selection.users).toEqual([{ userName: 'a@x.example' }, { userName: 'b@x.example' }, { userName: 'c@x.example', externalId: 'F' }]);
    expect(selection.notes).toHaveLength(2);
  });

  test('the order is by userName without case, whatever order the server listed', () => {
    const users = [user('3', 'carol@x.example'), user('1', 'Bob@x.example'), user('2', 'alice@x.example')];
    const forward = selectIdentities({ users, groups: [] }, policy());
    const backward = selectIdentities({ users: [...users].reverse(), groups: [] }, policy());
    expect(forward.users.map((u) => u.userName)).toEqual(['alice@x.example', 'Bob@x.example', 'carol@x.example']);
    expect(backward).toEqual(forward);
  });
});

describe('selectIdentities: groups', () => {
  test('members by userName, sorted, only imported users; nested groups and unknown ids left out, with a note naming them', () => {
    const users = [user('1', 'b@x.example'), user('2', 'a@x.example'), user('3', 'out@other.example')];
    const groups = [group('g2', 'Nested', []), group('g1', 'Admins', ['1', '3', 'g2', 'gone', '2', '1'], { externalId: 'G1' })];
    const selection = selectIdentities({ users, groups }, policy({ scope: '*@x.example' }));
    expect(selection.groups).toEqual([
      { displayName: 'Admins', externalId: 'G1', members: ['a@x.example', 'b@x.example'] },
      { displayName: 'Nested', members: [] },
    ]);
    // An out-of-scope member is left as it is by every plan: no note. A nested group or an unknown id is lost on a migration.
    expect(selection.notes).toEqual([
      'group Admins: left out, as members are declared as users only: the nested group "Nested"; the member id "gone" (no live user or group). This target keeps them; another target the files are applied to will not have them',
    ]);
  });

  test('a second group whose name differs only in case is skipped without a plan warning', () => {
    const selection = selectIdentities({ users: [], groups: [group('g1', 'Admins', []), group('g2', 'admins', [])] }, policy());
    expect(selection.groups.map((g) => g.displayName)).toEqual(['Admins']);
    expect(selection.skipped).toEqual([expect.objectContaining({ kind: 'group', name: 'admins', affectsPlan: false })]);
  });
});

describe('layoutFiles', () => {
  const users = ['ann@b.example', 'zed@a.example', 'kim@a.example', 'local-only'].map((userName) => ({ userName }));
  const groups = [
    { displayName: 'Admins', members: ['zed@a.example', 'ann@b.example'] },
    { displayName: 'Engineering', members: ['ann@b.example', 'kim@a.example'] },
  ];
  const names = (split: 'none' | 'group' | 'domain') =>
    layoutFiles({ users, groups }, split).map((file) => [file.name, file.users.map((u) => u.userName), file.groups.map((g) => g.displayName)]);

  test.each([
    ['none', [['identities.yaml', users.map((u) => u.userName), ['Admins', 'Engineering']]]],
    [
      'domain',
      [
        ['a.example.yaml', ['zed@a.example', 'kim@a.example'], []],
        ['b.example.yaml', ['ann@b.example'], []],
        ['no-domain.yaml', ['local-only'], []],
        ['groups.yaml', [], ['Admins', 'Engineering']],
      ],
    ],
    [
      'group',
      [
        ['admins.yaml', ['ann@b.example', 'zed@a.example'], ['Admins']],
        ['engineering.yaml', ['kim@a.example'], ['Engineering']],
        ['ungrouped.yaml', ['local-only'], []],
      ],
    ],
  ] as const)('--split %s', (split, expected) => {
    expect(names(split)).toEqual(expected);
  });

  test('every user is declared in exactly one file, whatever the split', () => {
    for (const split of ['none', 'group', 'domain'] as const) {
      const declared = layoutFiles({ users, groups }, split).flatMap((file) => file.users.map((u) => u.userName));
      expect(declared.sort()).toEqual(users.map((u) => u.userName).sort());
    }
  });

  test('file names that would collide get a suffix, reserved names included', () => {
    const files = layoutFiles({ users: [], groups: [{ displayName: 'Ungrouped', members: [] }, { displayName: 'R&D', members: [] }, { displayName: 'r d', members: [] }] }, 'group');
    expect(files.map((file) => file.name)).toEqual(['ungrouped-2.yaml', 'r-d.yaml', 'r-d-2.yaml']);
  });

  test.each([
    ['Engineering', 'engineering'],
    ['Site Reliability / On-call', 'site-reliability-on-call'],
    ['Équipe Données', 'equipe-donnees'],
    ['../../etc', 'etc'],
    ['***', 'unnamed'],
  ])('slug(%j) is %j', (text, expected) => {
    expect(slug(text)).toBe(expected);
  });
});

test('an externalId also held by a user outside the scope is not declared: plan would match that user', () => {
  const selection = selectIdentities({ users: [user('1', 'a@x.example', { externalId: 'E' }), user('2', 'a@contractor.example', { externalId: 'E' })], groups: [] }, policy({ scope: '*@x.example' }));
  expect(selection.users).toEqual([{ userName: 'a@x.example' }]);
  expect(selection.notes).toEqual(['user a@x.example: externalId "E" is also held by another live user, so it is left out (unmanaged)']);
});

test('an empty externalId or displayName is left out with a note, as README promises for values validate refuses', () => {
  const selection = selectIdentities(
    { users: [user('1', 'a@x.example', { externalId: '', displayName: '' })], groups: [group('g', 'Eng', ['1'], { externalId: '' })] },
    policy(),
  );
  expect(selection.users).toEqual([{ userName: 'a@x.example' }]);
  expect(selection.groups).toEqual([{ displayName: 'Eng', members: ['a@x.example'] }]);
  expect(selection.notes).toEqual([
    'user a@x.example: externalId is empty live, which validate refuses, so it is left out (unmanaged)',
    'user a@x.example: displayName is empty live, which validate refuses, so it is left out (unmanaged)',
    'group Eng: externalId is empty live, which validate refuses, so it is left out (unmanaged)',
  ]);
});
