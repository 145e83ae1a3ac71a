/**
 * Small, pure formatting helpers shared by the text and Markdown renderers. Everything here is
 * deterministic: no locale or terminal width is consulted.
 */
import type { Provenance } from '../plan/types.js';

let fractional: Intl.NumberFormat | undefined;

/**
 * `1204` → `1,204`, as `Intl.NumberFormat('en-US')` writes it: fixed, so the output is the same on
 * every machine (golden tests, CI logs, PR comments). Whole numbers are grouped here, because
 * the first `Intl.NumberFormat` of a process loads locale data (≈ 11 ms of every command's start).
 */
export function formatCount(value: number): string {
  if (Number.isSafeInteger(value)) return `${value < 0 ? '-' : ''}${String(Math.abs(value)).replace(/\B(?=(\d{3})+$)/g, ',')}`;
  fractional ??= new Intl.NumberFormat('en-US');
  return fractional.format(value);
}

/** `1 user`, `1,204 users`. */
export function plural(value: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(value)} ${value === 1 ? singular : pluralForm}`;
}

/** `850 ms` below a second, else seconds with one decimal (`2.1 s`). */
export function formatDuration(durationMs: number): string {
  if (durationMs < 1000) return `${Math.round(durationMs)} ms`;
  return `${(durationMs / 1000).toFixed(1)} s`;
}

const ID_KEEP = 4;

/** Live ids are long and opaque (UUIDs); a few characters are enough for a reviewer to tell them apart. */
export function shortId(id: string): string {
  const chars = [...id];
  return chars.length <= ID_KEEP + 2 ? safeText(id) : `${safeText(chars.slice(0, ID_KEEP).join(''))}…`;
}

// C0/C1 controls and DEL (Cc) could move the cursor, recolour the terminal or start a fake line;
// format characters (Cf) are invisible: bidi controls make a name read differently from what it is
// (the "Trojan Source" trick), zero-width spaces, joiners, soft hyphens and the BOM make two names
// look the same. The line and paragraph separators (Zl, Zp) break lines in some viewers, and a
// lone surrogate (Cs) shows as a replacement character whichever it is. Letters, marks, spaces and
// symbols of any script are printed as they are; so is an emoji, except that the zero-width joiner
// of a ZWJ sequence shows as `\u200d` (many terminals draw the sequence as its parts anyway).
// GitHub Actions reads a log line as a workflow command when it starts with `::` after white space
// (`::add-mask::…`, `::error::…`) or holds `##[` anywhere (the older form): the first `:` of a
// leading `::` and the first `#` of `##[` are escaped too.
export const UNSAFE_CLASS = '\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}';
const UNSAFE = new RegExp(`[${UNSAFE_CLASS}]|^\\p{Zs}*:(?=:)|#(?=#\\[)`, 'gu');
const UNSAFE_CHARACTER = new RegExp(UNSAFE.source, 'u');

/** `\u200b`; a character beyond the BMP as its two UTF-16 halves (`\udb40\udc01`), the form JSON reads back. */
function escapeCharacter(char: string): string {
  let escaped = '';
  for (let index = 0; index < char.length; index += 1) escaped += `\\u${char.charCodeAt(index).toString(16).padStart(4, '0')}`;
  return escaped;
}

/** One match of `UNSAFE`: a character, or the spaces and first colon of a leading `::` (the spaces kept). */
function escapeUnsafe(match: string): string {
  return match.endsWith(':') ? `${match.slice(0, -1)}${escapeCharacter(':')}` : escapeCharacter(match);
}

/**
 * Text that comes from files or from the server (userNames, group names, ids) and is printed
 * unquoted: unsafe characters are shown escaped, so a crafted name can't forge or hide plan lines
 * or start a workflow command in a CI log, and two names that differ only in an invisible
 * character don't look the same.
 */
export function safeText(text: string): string {
  // Nearly every name is safe: testing first spares building a copy of it.
  return UNSAFE_CHARACTER.test(text) ? text.replace(UNSAFE, escapeUnsafe) : text;
}

// What `safeText` escapes, but a line break: the raw ones in JSON text are those between values.
// No JSON line starts with `::`. (A class difference, `v`: a look-ahead at each of 150 million characters takes 4 times as long.)
const UNSAFE_IN_JSON = new RegExp(`[[${UNSAFE_CLASS}]--\\n]|#(?=#\\[)`, 'v');

/**
 * JSON text (from `JSON.stringify`) to print: `safeText` on each line. JSON escapes only C0 controls
 * in strings; the rest of what `safeText` escapes becomes the same `\uXXXX` escape, which every
 * JSON reader decodes to the very character, so the data is unchanged. Line breaks outside strings
 * are the only raw ones, and they are kept.
 */
export function safeJson(json: string): string {
  // A saved plan of 100,000 users is 150 MB: one scan of it spares splitting it when nothing is unsafe.
  return UNSAFE_IN_JSON.test(json) ? json.split('\n').map(safeText).join('\n') : json;
}

const SURROGATE = /[\ud800-\udfff]/;

/** Display width in terminal columns, counting code points (wide East Asian characters count as one). */
export function displayWidth(text: string): number {
  if (!SURROGATE.test(text)) return text.length;
  let width = 0;
  for (const _char of text) width += 1;
  return width;
}

/** `identities/eng.yaml:41`, or `policy unmanagedUsers: deactivate (scimform.yaml:14)`. */
export function formatProvenance(provenance: Provenance): string {
  if (provenance.kind === 'declaration') return safeText(`${provenance.location.file}:${provenance.location.line}`);
  const rule = `policy ${provenance.rule}: ${provenance.value}`;
  const where = provenance.location ? ` (${provenance.location.file}:${provenance.location.line})` : '';
  return safeText(`${rule}${where}`);
}

function isEmail(value: unknown): value is { value: string; type?: unknown; primary?: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { value?: unknown }).value === 'string';
}

/** `jane@example.com (work, primary)`: the form a person reads, not the JSON. */
function formatEmail(email: { value: string; type?: unknown; primary?: unknown }): string {
  const tags: string[] = [];
  if (typeof email.type === 'string') tags.push(safeText(email.type));
  if (email.primary === true) tags.push('primary');
  return tags.length > 0 ? `${safeText(email.value)} (${tags.join(', ')})` : safeText(email.value);
}

/**
 * An attribute value on one line: strings JSON-quoted (so spaces and empty strings are visible and
 * control characters escaped), `(absent)` for absent or null, emails compactly, other complex
 * values as `{key: value}` / `[a, b]`.
 */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '(absent)';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every(isEmail)) return `[${value.map(formatEmail).join(', ')}]`;
    return `[${value.map(formatValue).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    return `{${entries.map(([key, item]) => `${safeText(key)}: ${formatValue(item)}`).join(', ')}}`;
  }
  return safeText(String(value));
}

/** JSON quoting, plus the bidi controls JSON leaves alone. */
function quote(text: string): string {
  return safeText(JSON.stringify(text));
}
