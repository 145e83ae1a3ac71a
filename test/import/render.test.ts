import { parse } from 'yaml';
import { expect, test } from 'vitest';
import { renderIdentityFile } from '../../src/import/render.js';

const OPTIONS = { schema: 'identities.schema.json', header: [] };

test.each([
  ['a bidi control', 'bidi\u202eevil', '"bidi\\u202eevil"'],
  ['a zero-width space', 'zw\u200bsp', '"zw\\u200bsp"'],
  ['the joiner of an emoji sequence', '👩\u200d💻 Dev', '"👩\\u200d💻 Dev"'],
  ['a C1 control', 'csi\u009b31m', '"csi\\u009b31m"'],
  ['a next-line character', 'n\u0085l', '"n\\u0085l"'],
  ['a line separator', 'l\u2028s', '"l\\u2028s"'],
  ['a tag character beyond the BMP', 'tag\u{e0041}', '"tag\\U000e0041"'],
  ['a lone surrogate', 'half\ud800', '"half\\ud800"'],
  ['a line break', 'two\nlines', '"two\\nlines"'],
  ['an escape', 'x\u001b[31mred', '"x\\e[31mred"'],
])('a displayName holding %s is written double-quoted with the character escaped, and reads back the same', (_case, displayName, written) => {
  const text = renderIdentityFile({ users: [{ userName: 'jane@example.com', displayName }], groups: [{ displayName, members: ['jane@example.com'] }] }, OPTIONS);
  expect(text).toContain(`    displayName: ${written}\n`);
  expect(text).toContain(`  - displayName: ${written}\n`);
  expect(text.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
  expect(parse(text)).toEqual({ users: [{ userName: 'jane@example.com', displayName }], groups: [{ displayName, members: ['jane@example.com'] }] });
});

test('letters, accents, CJK and emoji of any script are written as they are, unquoted', () => {
  const user = { userName: 'josé.müller@example.com', displayName: 'José Müller 李雷 🎉', name: { givenName: 'Zoë', familyName: 'Ñúñez' } };
  const text = renderIdentityFile({ users: [user], groups: [] }, OPTIONS);
  expect(text).toContain('  - userName: josé.müller@example.com\n    displayName: José Müller 李雷 🎉\n    name: { givenName: Zoë, familyName: Ñúñez }\n');
  expect(parse(text)).toEqual({ users: [user] });
});
