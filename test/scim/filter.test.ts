import { describe, expect, test } from 'vitest';
import { equalityFilter, escapeFilterValue } from '../../src/scim/index.js';

describe('escapeFilterValue (RFC 7644 §3.4.2.2 string literal)', () => {
  test.each([
    ['jane@example.com', 'jane@example.com'],
    ['say "hi"@example.com', 'say \\"hi\\"@example.com'],
    ['back\\slash@example.com', 'back\\\\slash@example.com'],
    ['\\"', '\\\\\\"'],
    ['line\nbreak', 'line\\nbreak'],
    ['ünïcødé', 'ünïcødé'],
    ['', ''],
  ])('%j → %j', (value, expected) => {
    expect(escapeFilterValue(value)).toBe(expected);
  });

  test('the escaped literal reads back as the original value', () => {
    for (const value of ['a"b', 'c\\d', '"\\"\\', 'x\ty']) {
      expect(JSON.parse(`"${escapeFilterValue(value)}"`)).toBe(value);
    }
  });

  test('equalityFilter quotes the escaped value', () => {
    expect(equalityFilter('userName', 'o"brien\\x@example.com')).toBe('userName eq "o\\"brien\\\\x@example.com"');
  });
});
