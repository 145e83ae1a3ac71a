import { describe, expect, test } from 'vitest';
import { computePlan } from '../../src/plan/index.js';
import { lookalikeProblem } from '../../src/plan/lookalike.js';
import { desired, generic, group, liveGroup, liveUser, policy, user } from './builders.js';

describe('lookalikeProblem', () => {
  test.each([
    ['a Cyrillic а in a Latin word', 'j\u0430ne@example.com', '"j\u0430ne" mixes Latin with Cyrillic letters (\u0430 (U+0430)), which look like Latin ones'],
    ['a Greek ο in a Latin word', 'b\u03bfb@example.com', '"b\u03bfb" mixes Latin with Greek letters (\u03bf (U+03BF)), which look like Latin ones'],
    ['in the domain', 'jane@ex\u0430mple.com', '"ex\u0430mple" mixes Latin with Cyrillic letters (\u0430 (U+0430)), which look like Latin ones'],
    ['two words, two scripts', 'j\u0430ne.d\u03bfe@example.com', '"j\u0430ne", "d\u03bfe" mix Latin with Cyrillic and Greek letters (\u0430 (U+0430), \u03bf (U+03BF)), which look like Latin ones'],
    ['a Latin o in a Cyrillic word: the Latin letter is the one named', '\u0438\u0432\u0430\u043do\u0432@example.com', '"\u0438\u0432\u0430\u043do\u0432" mixes Cyrillic with Latin letters (o (U+006F)), which look like Cyrillic ones'],
    ['a Latin o in a Greek word', '\u03a3\u03c9\u03ba\u03c1\u03acoo\u03c2', '"\u03a3\u03c9\u03ba\u03c1\u03acoo\u03c2" mixes Greek with Latin letters (o (U+006F)), which look like Greek ones'],
    ['one word of each kind', 'j\u0430ne \u0438\u0432\u0430\u043do\u0432', '"j\u0430ne" mixes Latin with Cyrillic letters (\u0430 (U+0430)), which look like Latin ones; "\u0438\u0432\u0430\u043do\u0432" mixes Cyrillic with Latin letters (o (U+006F)), which look like Cyrillic ones'],
  ])('%s is flagged', (_name, name, expected) => {
    expect(lookalikeProblem(name)).toBe(expected);
  });

  test.each([
    ['plain Latin', 'jane@example.com'],
    ['accented Latin', 'jos\u00e9.m\u00fcller@example.com'],
    ['a Cyrillic name at a Latin domain', '\u0438\u0432\u0430\u043d@example.com'],
    ['a Greek group name', '\u039f\u03bc\u03ac\u03b4\u03b1 \u03a5\u03c0\u03bf\u03b4\u03bf\u03bc\u03ae\u03c2'],
    ['Japanese', '\u5c71\u7530@example.com'],
    ['Latin and Cyrillic words side by side', 'Engineering \u0418\u043d\u0436\u0435\u043d\u0435\u0440\u044b'],
    ['Latin with marks and apostrophes', "Nguy\u1ec5n O'Brien Stra\u00dfe \u0141ukasz"],
    ['Cyrillic with a combining accent and a modifier apostrophe', '\u0418\u0432\u0430\u0301\u043d \u041c\u0430\u0440\u02bc\u044f\u043d\u0430'],
    ['Greek with tonos', '\u03a3\u03c9\u03ba\u03c1\u03ac\u03c4\u03b7\u03c2'],
    ['a Cyrillic word next to digits and a Latin one', '\u0438\u0432\u0430\u043d2024-ops@example.com'],
  ])('%s is not', (_name, name) => {
    expect(lookalikeProblem(name)).toBeUndefined();
  });
});

describe('computePlan notes a name it gives the target that can pass for another', () => {
  const note = (subject: string) => `${subject}: "j\u0430ne" mixes Latin with Cyrillic letters (\u0430 (U+0430)), which look like Latin ones; check that it is the name meant`;

  test('a user created', () => {
    const result = computePlan(desired([user('j\u0430ne@example.com')]), { users: [liveUser('u1', 'jane@example.com')], groups: [] }, policy(), generic());
    expect(result.notes).toContain(note('user j\u0430ne@example.com'));
  });

  test('a user renamed', () => {
    const result = computePlan(desired([user('j\u0430ne@example.com', { externalId: 'E-1' })]), { users: [liveUser('u1', 'jane@example.com', { externalId: 'E-1' })], groups: [] }, policy(), generic());
    expect(result.notes).toContain(note('user j\u0430ne@example.com'));
    expect(result.operations).toMatchObject([{ kind: 'updateUser', renamedFrom: 'jane@example.com' }]);
  });

  test('a group created or renamed', () => {
    const created = computePlan(desired([], [group('j\u0430ne')]), { users: [], groups: [] }, policy(), generic());
    expect(created.notes).toContain(note('group j\u0430ne'));
    const renamed = computePlan(desired([], [group('j\u0430ne', [], { externalId: 'G-1' })]), { users: [], groups: [liveGroup('g1', 'jane', [], { externalId: 'G-1' })] }, policy(), generic());
    expect(renamed.notes).toContain(note('group j\u0430ne'));
  });

  test('a look-alike domain on 150,000 users created gives one note, which names three and counts the rest', () => {
    const users = Array.from({ length: 150_000 }, (_, index) => user(`u${index}@ex\u0430mple.com`));
    const result = computePlan(desired(users), { users: [], groups: [] }, policy(), generic());
    expect(result.notes).toEqual([
      '150,000 users, u0@ex\u0430mple.com, u100000@ex\u0430mple.com, u100001@ex\u0430mple.com and 149,997 more: "ex\u0430mple" mixes Latin with Cyrillic letters (\u0430 (U+0430)), which look like Latin ones; check that they are the names meant',
    ]);
  });

  test('a look-alike in every userName, each its own, gives a note per user, and the plan is computed', () => {
    // Base 26 in letters only (its digits 0-9 become q-z): a distinct Latin word for each user.
    const word = (index: number) => index.toString(26).replace(/[0-9]/g, (digit) => 'qrstuvwxyz'[Number(digit)]!);
    const users = Array.from({ length: 150_000 }, (_, index) => user(`\u0430${word(index)}@example.com`));
    const result = computePlan(desired(users), { users: [], groups: [] }, policy(), generic());
    expect(result.notes).toHaveLength(150_000);
  });

  test('three names with the same problem are each named in a note of their own', () => {
    const result = computePlan(desired(['a', 'b', 'c'].map((name) => user(`${name}@ex\u0430mple.com`))), { users: [], groups: [] }, policy(), generic());
    expect(result.notes).toHaveLength(3);
  });

  test('a name already on the target is not noted again', () => {
    const result = computePlan(desired([user('j\u0430ne@example.com')]), { users: [liveUser('u1', 'j\u0430ne@example.com')], groups: [] }, policy(), generic());
    expect(result.notes ?? []).toEqual([]);
  });
});
