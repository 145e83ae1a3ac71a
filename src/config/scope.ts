/**
 * The policy `scope`: a case-insensitive glob on userName (picomatch, not a hand-written matcher).
 * A userName is a plain string, not a path: `*` matches any characters, `/` included (valid in the
 * local part of an email address). picomatch has no option for `?`, which matches one character
 * other than `/`.
 */
import picomatch from 'picomatch';
import type { Policy } from '../model.js';

/**
 * picomatch makes each `*` a lazy `.*?` that the regex engine backtracks over, so the work to
 * refuse a userName grows as its length to the power of the number of `*`: on 256 characters,
 * 2 take about 0.06 ms, 3 about 5 ms, 4 about 200 ms, and 9 longer than anyone waits.
 */
export const MAX_SCOPE_WILDCARDS = 2;
/** Each `{a,b}` group multiplies the backtracking by its choices: 24 groups of `{a,aa}` in a row take 0.1 s, 30 take seconds. */
export const MAX_SCOPE_BRACES = 2;

// regex: false makes a `+` after `)`, `]` or `}` the character it is in a glob (and in many a
// userName): left unset, picomatch passes it on as a regex quantifier, so `{eng,ops}+bot@…` did
// not match `eng+bot@…`, and `(a+)+b` backtracked for seconds on a 30-character userName.
const OPTIONS: picomatch.PicomatchOptions = { nocase: true, dot: true, bash: true, strictBrackets: true, regex: false };

/** The source of the regex picomatch returns for a glob it cannot compile. */
const NOTHING = '$^';

// picomatch.parse takes the options makeRe takes; @types/picomatch declares only `maxLength`.
const parseGlob = picomatch.parse as (pattern: string, options: picomatch.PicomatchOptions) => { tokens: { type: string; value: string; extglob?: boolean }[] };

/** Why picomatch must not be given `scope`, or nothing. Throws what picomatch throws on a glob it cannot read. */
export function scopeProblem(scope: string): string | undefined {
  const { tokens } = parseGlob(scope, OPTIONS);
  // Extended globs (`*(…)`, `+(…)`, `!(…)`…) nest repetitions, whose backtracking has no bound at all.
  if (tokens.some((token) => token.extglob === true)) {
    return 'it uses an extended glob (`*(…)`, `+(…)`, `?(…)`, `@(…)` or `!(…)`), which a scope does not support: write it with `*`, `?`, `[…]` and `{a,b}`';
  }
  // `**` and `***` are one wildcard, as picomatch compiles them; so is a `**` path segment (a
  // `globstar` token, which matches any characters but a `.`/`..` segment and backtracks as a `*` does).
  const wildcard = (token: { type: string } | undefined) => token?.type === 'star' || token?.type === 'globstar';
  const wildcards = tokens.filter((token, index) => wildcard(token) && !wildcard(tokens[index - 1])).length;
  if (wildcards > MAX_SCOPE_WILDCARDS) {
    return `it has ${wildcards} \`*\` wildcards, over the limit of ${MAX_SCOPE_WILDCARDS} (with each one more, matching a long userName takes many times longer, up to minutes): narrow it, for example \`*@*.example.com\`, or list the choices in braces, for example \`*@{eng,ops}.example.com\``;
  }
  const braces = tokens.filter((token) => token.type === 'brace' && token.value === '{').length;
  if (braces > MAX_SCOPE_BRACES) {
    return `it has ${braces} \`{…}\` groups, over the limit of ${MAX_SCOPE_BRACES} (each one multiplies the time to match a userName): put the choices in one group, for example \`*@{eng.example.com,ops.example.org}\``;
  }
  // picomatch gives a pattern that matches nothing (/$^/) when the regex it builds does not compile.
  if (picomatch.makeRe(scope, OPTIONS).source === NOTHING) {
    return 'it matches no userName at all: a range in `[…]` runs backwards (`[z-a]`) or is otherwise no pattern; write ranges low to high, for example `[a-m]*@example.com`';
  }
  return undefined;
}

/** The look-ahead picomatch puts before a `*` that follows other text, to keep it off `.` and `..` path segments. */
const PATH_DOT_SEGMENT = '(?!(?:^|\\/)\\.{1,2}(?:\\/|$))';

const matchers = new Map<string, (userName: string) => boolean>();

/** Compiles a scope glob; throws when picomatch cannot make sense of it, or when `scopeProblem` refuses it. */
export function scopeMatcher(scope: string): (userName: string) => boolean {
  let matcher = matchers.get(scope);
  if (!matcher) {
    const problem = scopeProblem(scope);
    if (problem !== undefined) throw new Error(`scope ${JSON.stringify(scope)}: ${problem}`);
    // dot: a userName may start with `.`, and `*` must match it. bash: `*` matches `/` too, as `**` does.
    const compiled = picomatch.makeRe(scope, OPTIONS);
    // `*` is `.`, which stops at line breaks, and after other text it skips `.` and `..` between
    // slashes, as a path would: a live userName holding either was out of scope, never touched.
    const regex = new RegExp(compiled.source.replaceAll(PATH_DOT_SEGMENT, ''), `${compiled.flags}s`);
    matcher = (userName) => regex.test(userName);
    matchers.set(scope, matcher);
  }
  return matcher;
}

/** Whether scimform may touch the user: always when there is no scope. */
export function inScope(policy: Pick<Policy, 'scope'>, userName: string): boolean {
  return policy.scope === undefined || scopeMatcher(policy.scope)(userName);
}
