import { describe, expect, test } from 'vitest';
import { formatJsonPath, headerUnsafe, nestedDeeperThan } from '../src/wire.js';

const nest = (levels: number, inner: unknown = 1): unknown => {
  let value = inner;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

describe('nestedDeeperThan', () => {
  test.each([
    ['a scalar', 'text', 0, undefined],
    ['null', null, 0, undefined],
    ['an empty array within the limit', [], 1, undefined],
    ['an empty array beyond it', [], 0, []],
    ['arrays exactly at the limit', nest(32), 32, undefined],
    ['arrays one level beyond it', nest(33), 32, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['the first too deep among siblings', { a: [1], b: { c: [[2]] } }, 3, ['b', 'c', 0]],
  ] as const)('%s', (_case, value, max, path) => {
    expect(nestedDeeperThan(value, max)).toEqual(path);
  });

  test('a value nested 1,000,000 levels deep is found without exhausting the stack', () => {
    expect(nestedDeeperThan({ x: nest(1_000_000) }, 32)).toHaveLength(32);
  });
});

describe('formatJsonPath', () => {
  test.each([
    [['Resources', 3, 'name', 'givenName'], 'Resources[3].name.givenName'],
    [['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'manager'], 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager'],
    [['a b', 'line\nbreak'], '["a b"]["line\\nbreak"]'],
    [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '[0][1][2][3][4][5][6][7]…'],
  ] as const)('%j reads %s', (path, shown) => {
    expect(formatJsonPath(path)).toBe(shown);
  });
});

describe('headerUnsafe', () => {
  test.each([
    ['printable ASCII', 'tok-ABC_123.~+/=', undefined],
    ['inner spaces', 'a b', undefined],
    ['a tab', 'a\tb', 'control characters'],
    ['DEL', 'a\u007fb', 'control characters'],
    ['typographic quotes', '“tok”', 'not ASCII'],
    ['a non-breaking space', 'a\u00a0b', 'not ASCII'],
    ['a zero-width space', 'a\u200bb', 'not ASCII'],
  ] as const)('%s', (_case, text, reason) => {
    expect(headerUnsafe(text)).toBe(reason);
  });
});
