/**
 * Keeping a token out of what is printed: how long a token must be to be one, and how text that
 * came back from a server (which may echo it, whole or in part) is cleaned of it.
 */

/**
 * The shortest run of the token's characters that is redacted. A server may echo a prefix of the
 * token, or the token broken over lines, so redacting only the whole token is not enough. Eight
 * characters of a random token almost never occur in an error text by chance (one position in
 * 62^8 ≈ 2·10^14), so nothing else is hidden; a run of seven or fewer tells little of a token of
 * at least `MIN_TOKEN_CHARS`, and shorter runs would black out ordinary words of a structured one.
 */
export const MIN_FRAGMENT_CHARS = 8;

/**
 * The shortest token `resolveToken` takes. A SCIM bearer token is a long random string (tens of
 * characters); a shorter one is no secret, and could not be kept out of the output without hiding
 * ordinary text too (the token `example` is in every `user@example.com`).
 */
export const MIN_TOKEN_CHARS = 16;

/** What `redactor` puts where the token was, unless it is given another label. */
export const REDACTED = '[redacted]';

/** `text` with every occurrence of the whole `token` replaced by `label`; the text itself when it holds none. */
export function replaceToken(text: string, token: string, label = REDACTED): string {
  return token !== '' && text.includes(token) ? text.split(token).join(label) : text;
}

/** Hides the token in text that came from the server: see `redactor`. */
export type Redact = (text: string) => string;

/** `text` with A–Z as a–z and every other character as it is: the same length, so offsets carry over. */
const foldAscii = (text: string): string => text.replace(/[A-Z]+/g, (run) => run.toLowerCase());

/**
 * A function that replaces, in an error text from the server, the token and every run of at least
 * `MIN_FRAGMENT_CHARS` consecutive characters of it; adjacent and overlapping runs become one
 * `label`. Runs are found whatever the case of their ASCII letters: a server that echoes the token
 * lower- or upper-cased still gives most of it away. Linear in the text: each window of
 * `MIN_FRAGMENT_CHARS` characters is looked up in the set of the token's windows. A token shorter
 * than a window is replaced only whole.
 */
export function redactor(token: string, label = REDACTED): Redact {
  if (token.length < 4) return (text) => text;
  if (token.length < MIN_FRAGMENT_CHARS) return (text) => replaceToken(text, token, label);
  const windows = new Set<string>();
  const folded = foldAscii(token);
  for (let i = 0; i + MIN_FRAGMENT_CHARS <= folded.length; i++) windows.add(folded.slice(i, i + MIN_FRAGMENT_CHARS));
  return (original) => {
    const text = foldAscii(original);
    let result = '';
    let copied = 0;
    // The run being redacted: [start, end).
    let start = -1;
    let end = -1;
    for (let i = 0; i + MIN_FRAGMENT_CHARS <= text.length; i++) {
      if (!windows.has(text.slice(i, i + MIN_FRAGMENT_CHARS))) continue;
      if (i > end) {
        // A run apart from the last: the last one is complete.
        if (start >= 0) {
          result += `${original.slice(copied, start)}${label}`;
          copied = end;
        }
        start = i;
      }
      end = i + MIN_FRAGMENT_CHARS;
    }
    if (start < 0) return original;
    return `${result}${original.slice(copied, start)}${label}${original.slice(end)}`;
  };
}
