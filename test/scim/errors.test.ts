import { describe, expect, test } from 'vitest';
import { MIN_FRAGMENT_CHARS, quoteServerText, redactor } from '../../src/scim/errors.js';

const TOKEN = 'tok-5ecret-7F3a9C1e-do-not-print';

describe('redactor: the token and every run of 8 or more of its characters', () => {
  test.each([
    ['the whole token', `bad token ${TOKEN}`, 'bad token [redacted]'],
    ['twice', `${TOKEN},${TOKEN}`, '[redacted],[redacted]'],
    ['a prefix of 18 characters', `token ${TOKEN.slice(0, 18)}… rejected`, 'token [redacted]… rejected'],
    ['the token cut at a line end', `sent ${TOKEN.slice(0, 10)}\n${TOKEN.slice(10)}`, 'sent [redacted]\n[redacted]'],
    ['a fragment from the middle', `…${TOKEN.slice(7, 19)}…`, '…[redacted]…'],
    ['exactly 8 characters', `x${TOKEN.slice(3, 3 + MIN_FRAGMENT_CHARS)}x`, 'x[redacted]x'],
    ['7 characters are left', `x${TOKEN.slice(3, 3 + MIN_FRAGMENT_CHARS - 1)}x`, `x${TOKEN.slice(3, 10)}x`],
    ['two fragments side by side become one', `${TOKEN.slice(0, 9)}${TOKEN.slice(20)}!`, '[redacted]!'],
    ['the token lower-cased', `Token ${TOKEN.toUpperCase().toLowerCase()} Rejected`, 'Token [redacted] Rejected'],
    ['a fragment upper-cased, with the text around it kept as it was', `Bad: ${TOKEN.slice(4, 20).toUpperCase()}.`, 'Bad: [redacted].'],
    ['text without any of it', 'userName ada@acme.example is already taken', 'userName ada@acme.example is already taken'],
    ['an empty text', '', ''],
  ])('%s', (_name, text, expected) => {
    expect(redactor(TOKEN)(text)).toBe(expected);
  });

  test.each([
    ['shorter than a fragment: only the whole token', 'abc1234', 'key abc1234 and abc123', 'key [redacted] and abc123'],
    ['three characters: nothing (it would hide ordinary text)', 'abc', 'abc abc', 'abc abc'],
  ])('a token %s', (_name, token, text, expected) => {
    expect(redactor(token)(text)).toBe(expected);
  });

  test('no run of 8 characters of the token survives, wherever the text is cut', () => {
    const redact = redactor(TOKEN);
    for (let from = 0; from < TOKEN.length; from++) {
      for (let to = from + MIN_FRAGMENT_CHARS; to <= TOKEN.length; to++) {
        const out = redact(`<${TOKEN.slice(from, to)}>`);
        expect(out).toBe('<[redacted]>');
      }
    }
  });

  test('takes time linear in the text: 4 MB of near-misses', () => {
    const redact = redactor(TOKEN);
    const text = `${TOKEN.slice(0, 7)}!`.repeat(500_000);
    const started = performance.now();
    expect(redact(text)).toBe(text);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('quoteServerText', () => {
  test.each([
    ['a token broken over lines, on one line', `sent ${TOKEN.slice(0, 10)}\r\n${TOKEN.slice(10)}\n`, 'sent [redacted] [redacted]'],
    ['a long detail, cut after redaction, the [redacted] kept whole', `${'x'.repeat(295)} ${TOKEN} and more`, `${'x'.repeat(295)} [redacted]…`],
    ['control and bidi characters escaped', 'bad\u001b[31m \u009b\u202e name\u0000', 'bad\\u001b[31m \\u009b\\u202e name\\u0000'],
    ['a megabyte of detail, bounded', `${TOKEN} ${'y'.repeat(1_000_000)}`, `[redacted] ${'y'.repeat(289)}…`],
  ])('%s', (_name, detail, expected) => {
    expect(quoteServerText(detail, redactor(TOKEN))).toBe(expected);
  });
});

test('quoteServerText cuts a short excerpt before escaping it: the cut never falls inside an escape', () => {
  expect(quoteServerText(`${'x'.repeat(58)}\u200b\u001bz`, redactor(TOKEN), 60)).toBe(`${'x'.repeat(58)}\\u200b\\u001b…`);
});

test.each([
  ['inside a [redacted], which is kept whole', `${'x'.repeat(55)}${TOKEN} and more`, `${'x'.repeat(55)}[redacted]…`],
  ['between the halves of an emoji, which is left out whole', `${'x'.repeat(59)}\u{1f600} and more`, `${'x'.repeat(59)}…`],
])('quoteServerText never cuts a short excerpt %s', (_where, text, expected) => {
  expect(quoteServerText(text, redactor(TOKEN), 60)).toBe(expected);
});
