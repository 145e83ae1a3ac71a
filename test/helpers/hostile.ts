import { expect } from 'vitest';

/**
 * Names a hostile server or file could hold: a forged line with a GitHub Actions workflow command,
 * terminal escapes, a carriage return that overprints, an invisible character, a command at the
 * start of a line, the older `##[` command form.
 */
export const HOSTILE_NAMES = ['x\n::add-mask::x@example.com', 'y\u001b[2J\u009b31m@example.com', 'z\r+ user evil@example.com', 'ja\u200bne@example.com', '::warning::forged@example.com', 'w##[add-mask]w@example.com'];

/** The escaped form of each name in `HOSTILE_NAMES`, as output shows it. */
export const ESCAPED_NAMES = ['x\\u000a::add-mask::x@example.com', 'y\\u001b[2J\\u009b31m@example.com', 'z\\u000d+ user evil@example.com', 'ja\\u200bne@example.com', '\\u003a:warning::forged@example.com', 'w\\u0023#[add-mask]w@example.com'];

/** Output a terminal or a CI log can show as it is: no raw control or invisible character, no line a workflow command. */
export function expectSafeOutput(text: string): void {
  for (const line of text.split('\n')) {
    expect(line).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
    expect(line.trimStart()).not.toMatch(/^::/);
    expect(line).not.toContain('##[');
  }
}
