import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { safeJson, safeText } from '../../src/render/format.js';

/** What must never reach a terminal raw: controls, invisible format characters, line separators, lone surrogates. */
const RAW = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const TRICKY = ['\n', '\r', '\u001b', '\u009b', '\u00ad', '\u200b', '\u200d', '\u202e', '\u2028', '\u2066', '\ufeff', '\u{e0001}', '\ud800', '\udc00', 'a', 'é', '山', '👩', ':', '#', '[', ' ', '\u3000'];

describe('safeText', () => {
  test.each([
    ['a line feed (a forged line)', 'a\n::add-mask::x', 'a\\u000a::add-mask::x'],
    ['a carriage return', 'x\r+ user evil', 'x\\u000d+ user evil'],
    ['an escape sequence', '\u001b[2J', '\\u001b[2J'],
    ['a C1 control sequence introducer', 'a\u009b31mb', 'a\\u009b31mb'],
    ['a right-to-left override', 'ab\u202ecd', 'ab\\u202ecd'],
    ['a zero width space', 'jane\u200b@example.com', 'jane\\u200b@example.com'],
    ['a zero width non-joiner', 'a\u200cb', 'a\\u200cb'],
    ['a zero width joiner', 'a\u200db', 'a\\u200db'],
    ['a word joiner', 'a\u2060b', 'a\\u2060b'],
    ['the invisible operators U+2061..U+2064', '\u2061\u2062\u2063\u2064', '\\u2061\\u2062\\u2063\\u2064'],
    ['a byte order mark', '\ufeffjane', '\\ufeffjane'],
    ['a soft hyphen', 'ja\u00adne', 'ja\\u00adne'],
    ['a Mongolian vowel separator', 'a\u180eb', 'a\\u180eb'],
    ['a line separator', 'a\u2028b', 'a\\u2028b'],
    ['a paragraph separator', 'a\u2029b', 'a\\u2029b'],
    ['an invisible tag character beyond the BMP, as its UTF-16 halves', 'a\u{e0061}b', 'a\\udb40\\udc61b'],
    ['a lone surrogate', 'a\ud800b', 'a\\ud800b'],
  ])('escapes %s', (_name, text, expected) => {
    expect(safeText(text)).toBe(expected);
  });

  test.each([
    ['plain ASCII', 'jane.doe@example.com'],
    ['Latin accents', 'José Zoë Ærøskøbing'],
    ['CJK, with an ideographic space', '山田\u3000太郎'],
    ['Greek and Cyrillic letters (a homoglyph is a letter: not escaped)', 'Ελένη Мария pаypal'],
    ['Arabic and Hebrew letters', 'مريم שרה'],
    ['a combining accent', 'Zoe\u0308'],
    ['emoji with a variation selector, a skin tone and a flag', '❤️ 👍🏽 🇩🇪'],
    ['a no-break space', 'Jane\u00a0Doe'],
  ])('prints %s as it is', (_name, text) => {
    expect(safeText(text)).toBe(text);
  });

  test.each([
    ['a leading ::', '::add-mask::secret', '\\u003a:add-mask::secret'],
    ['a leading :: after spaces', '  ::error::forged', '  \\u003a:error::forged'],
    ['a leading :: after a tab', '\t::error::forged', '\\u0009::error::forged'],
    ['an older ##[ command anywhere', 'jane##[add-mask]x@example.com', 'jane\\u0023#[add-mask]x@example.com'],
  ])('escapes %s, which GitHub Actions would run as a workflow command', (_name, text, expected) => {
    expect(safeText(text)).toBe(expected);
    expect(safeText(text).trimStart()).not.toMatch(/^::/);
    expect(safeText(text)).not.toContain('##[');
  });

  test.each([['a::b@example.com'], ['C# developers'], ['#general']])('keeps %s, which is no workflow command', (text) => {
    expect(safeText(text)).toBe(text);
  });

  test('an emoji ZWJ sequence keeps its emoji and shows the joiner', () => {
    expect(safeText('👩\u200d💻 Developers')).toBe('👩\\u200d💻 Developers');
  });

  test('two userNames that differ only in an invisible character look different', () => {
    expect(safeText('jane@example.com')).not.toBe(safeText('jane\u200b@example.com'));
  });

  test('leaves nothing raw that could control a terminal or hide, and escaping twice changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }), (text) => {
        const safe = safeText(text);
        expect(safe).not.toMatch(RAW);
        expect(safe.trimStart()).not.toMatch(/^::/);
        expect(safe).not.toContain('##[');
        expect(safeText(safe)).toBe(safe);
      }),
    );
  });
});

describe('safeJson', () => {
  test('escapes what safeText escapes inside strings, keeps the line breaks between them, and reads back the same', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) })), (names) => {
        const value = { users: names.map((userName) => ({ userName })) };
        const json = JSON.stringify(value, null, 2);
        const safe = safeJson(json);
        expect(safe.split('\n')).toHaveLength(json.split('\n').length);
        for (const line of safe.split('\n')) {
          expect(line).not.toMatch(RAW);
          expect(line).not.toContain('##[');
        }
        expect(JSON.parse(safe)).toEqual(value);
      }),
    );
  });

  test('a zero width space shows as its JSON escape', () => {
    expect(safeJson(JSON.stringify({ userName: 'ja\u200bne' }, null, 2))).toBe('{\n  "userName": "ja\\u200bne"\n}');
  });
});
