/** The id map and the old → new join of `scimform ids`, on plain data. */
import { describe, expect, test } from 'vitest';
import { csvField, idMap, joinIds, renderIdsCsv, renderIdsJson, renderJoinedCsv, renderJoinedJson } from '../../src/import/ids.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';
import type { LiveUser } from '../../src/model.js';

const user = (id: string, userName: string, externalId?: string): LiveUser => ({ id, userName, active: true, resource: {}, ...(externalId ? { externalId } : {}) });

describe('idMap', () => {
  test('one row per user, by userName without case, externalId only when set', () => {
    expect(idMap([user('9', 'bob@x.example', 'E2'), user('4', 'Alice@x.example')])).toEqual([
      { userName: 'Alice@x.example', id: '4' },
      { userName: 'bob@x.example', externalId: 'E2', id: '9' },
    ]);
  });
});

describe('joinIds', () => {
  test.each([
    ['by userName without case', [user('o1', 'Ann@x.example')], [user('n1', 'ann@x.example')], [{ userName: 'ann@x.example', oldId: 'o1', newId: 'n1' }]],
    [
      'by externalId first, so a renamed user keeps its pair and a newcomer on its old userName gets none',
      [user('o1', 'ann@x.example', 'E1')],
      [user('n1', 'ann.smith@x.example', 'E1'), user('n2', 'ann@x.example', 'E9')],
      [
        { userName: 'ann.smith@x.example', externalId: 'E1', oldId: 'o1', newId: 'n1' },
        { userName: 'ann@x.example', externalId: 'E9', newId: 'n2' },
      ],
    ],
    [
      'users on one side only keep an empty id on the other',
      [user('o1', 'gone@x.example'), user('o2', 'both@x.example')],
      [user('n2', 'both@x.example'), user('n3', 'new@x.example')],
      [
        { userName: 'both@x.example', oldId: 'o2', newId: 'n2' },
        { userName: 'gone@x.example', oldId: 'o1' },
        { userName: 'new@x.example', newId: 'n3' },
      ],
    ],
    [
      'of old users sharing an externalId, the one with the same userName, as plan matches; the other pairs by its own userName',
      [user('o1', 'jane@x.example', 'E1'), user('o2', 'jane2@x.example', 'E1')],
      [user('n2', 'jane2@x.example', 'E1'), user('n1', 'jane@x.example')],
      [
        { userName: 'jane2@x.example', externalId: 'E1', oldId: 'o2', newId: 'n2' },
        { userName: 'jane@x.example', externalId: 'E1', oldId: 'o1', newId: 'n1' },
      ],
    ],
    [
      'userNames that differ only in case on both sides: each pairs with the one spelt the same, once',
      [user('o1', 'a@x.example'), user('o2', 'A@x.example')],
      [user('n2', 'A@x.example'), user('n1', 'a@x.example')],
      [
        { userName: 'A@x.example', oldId: 'o2', newId: 'n2' },
        { userName: 'a@x.example', oldId: 'o1', newId: 'n1' },
      ],
    ],
    [
      'userNames that differ only in case, one of them respelt: the other pairs first, the respelt one without case',
      [user('o1', 'a@x.example'), user('o2', 'A@x.example')],
      [user('n3', 'a@X.example'), user('n2', 'A@x.example')],
      [
        { userName: 'A@x.example', oldId: 'o2', newId: 'n2' },
        { userName: 'a@X.example', oldId: 'o1', newId: 'n3' },
      ],
    ],
    [
      'old users sharing an externalId with userNames that differ only in case: the one spelt the same',
      [user('o1', 'a@x.example', 'E1'), user('o2', 'A@x.example', 'E1')],
      [user('n2', 'A@x.example', 'E1'), user('n1', 'a@x.example', 'E1')],
      [
        { userName: 'A@x.example', externalId: 'E1', oldId: 'o2', newId: 'n2' },
        { userName: 'a@x.example', externalId: 'E1', oldId: 'o1', newId: 'n1' },
      ],
    ],
    ['the old externalId is kept when the new side has none', [user('o1', 'a@x.example', 'E1')], [user('n1', 'a@x.example')], [{ userName: 'a@x.example', externalId: 'E1', oldId: 'o1', newId: 'n1' }]],
  ])('%s', (_name, oldUsers, newUsers, expected) => {
    expect(joinIds(oldUsers, newUsers)).toEqual(expected);
  });
});

describe('rendering', () => {
  test.each([
    ['plain', 'plain'],
    ['', ''],
    [undefined, ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    [' padded', '" padded"'],
  ])('csvField(%j) is %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });

  test('CSV has a header and one line per user', () => {
    expect(renderIdsCsv([{ userName: 'a@x.example', externalId: 'E,1', id: '7' }, { userName: 'b@x.example', id: '8' }])).toBe('userName,externalId,id\na@x.example,"E,1",7\nb@x.example,,8\n');
    expect(renderJoinedCsv([{ userName: 'a@x.example', oldId: 'o', newId: 'n' }])).toBe('userName,externalId,oldId,newId\na@x.example,,o,n\n');
  });

  test('CSV shows hostile names and ids escaped as the plan does: one row each, no workflow command, no terminal escape', () => {
    const text = renderJoinedCsv(HOSTILE_NAMES.map((name) => ({ userName: name, externalId: name, oldId: name, newId: name })));
    expectSafeOutput(text);
    expect(text.trimEnd().split('\n')).toEqual(['userName,externalId,oldId,newId', ...ESCAPED_NAMES.map((escaped) => csvField(escaped)).map((field) => [field, field, field, field].join(','))]);
    expect(text).toContain('\nz\\u000d+ user evil@example.com,');
    expectSafeOutput(renderIdsCsv(HOSTILE_NAMES.map((name) => ({ userName: name, id: name }))));
  });

  test('JSON escapes the same characters the JSON way, so a reader gets every value exact', () => {
    const entries = HOSTILE_NAMES.map((name) => ({ userName: name, externalId: name, id: name }));
    const text = renderIdsJson('old', entries);
    expectSafeOutput(text);
    expect(text).toContain('"userName": "ja\\u200bne@example.com"');
    expect(JSON.parse(text)).toEqual({ target: 'old', users: entries });
    const joined = HOSTILE_NAMES.map((name) => ({ userName: name, oldId: name, newId: name }));
    expectSafeOutput(renderJoinedJson('old', 'new', joined));
    expect(JSON.parse(renderJoinedJson('old', 'new', joined))).toEqual({ from: 'old', to: 'new', users: joined });
  });

  test('JSON names both targets', () => {
    expect(JSON.parse(renderJoinedJson('old', 'new', [{ userName: 'a@x.example', oldId: 'o', newId: 'n' }]))).toEqual({ from: 'old', to: 'new', users: [{ userName: 'a@x.example', oldId: 'o', newId: 'n' }] });
  });
});
