/**
 * Names that can pass for others: a word that mixes Latin letters with Cyrillic or Greek ones
 * (`jаne`, with a Cyrillic `а`) looks the same as the all-Latin word in most fonts, so a reviewer
 * could approve an account for a look-alike of someone's name. A name wholly in one script
 * (`иван@example.com`: a Cyrillic word, then Latin ones) is ordinary and is not flagged.
 */
import type { Operation } from './types.js';

const LOOKALIKE_SCRIPTS = /[\p{Script=Cyrillic}\p{Script=Greek}]/u;
const LATIN = /\p{Script=Latin}/u;
const WORD = /[\p{L}\p{M}]+/gu;
const SCRIPT_NAMES = [
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
] as const;

const scriptsOf = (letters: readonly string[]): string =>
  SCRIPT_NAMES.filter(([, script]) => letters.some((char) => script.test(char)))
    .map(([scriptName]) => scriptName)
    .join(' and ');

const codePoint = (char: string): string => `${char} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;

/**
 * What makes `name` look like another, or undefined: its words that mix Latin with Cyrillic or
 * Greek letters, and in each the letters of the script it has fewer of (the Cyrillic `а` of
 * `jаne`, the Latin `o` of `иванoв`), which pass for letters of the other.
 */
export function lookalikeProblem(name: string): string | undefined {
  // Nearly every name has no Cyrillic or Greek letter at all: one test settles it.
  if (!LOOKALIKE_SCRIPTS.test(name)) return undefined;
  const mixed = (name.match(WORD) ?? []).filter((word) => LATIN.test(word) && LOOKALIKE_SCRIPTS.test(word));
  if (mixed.length === 0) return undefined;
  // Words mostly in Latin (a tie counts as Latin), and words mostly in Cyrillic or Greek.
  const mostlyLatin: Mixed = { words: [], odd: [], others: [] };
  const mostlyOther: Mixed = { words: [], odd: [], others: [] };
  for (const word of mixed) {
    const chars = [...word];
    const latin = chars.filter((char) => LATIN.test(char));
    const others = chars.filter((char) => LOOKALIKE_SCRIPTS.test(char));
    const group = latin.length >= others.length ? mostlyLatin : mostlyOther;
    group.words.push(word);
    group.odd.push(...(group === mostlyLatin ? others : latin));
    group.others.push(...others);
  }
  const parts: string[] = [];
  if (mostlyLatin.words.length > 0) parts.push(describe(mostlyLatin, 'Latin', scriptsOf(mostlyLatin.others)));
  if (mostlyOther.words.length > 0) parts.push(describe(mostlyOther, scriptsOf(mostlyOther.others), 'Latin'));
  return parts.join('; ');
}

/** Mixed words of one kind: the words, their letters of the script each has fewer of, and their Cyrillic or Greek letters. */
interface Mixed {
  words: string[];
  odd: string[];
  others: string[];
}

function describe(group: Mixed, base: string, odd: string): string {
  const words = group.words.map((word) => `"${word}"`).join(', ');
  const letters = [...new Set(group.odd)].map(codePoint).join(', ');
  return `${words} ${group.words.length === 1 ? 'mixes' : 'mix'} ${base} with ${odd} letters (${letters}), which look like ${base} ones`;
}

const count = (n: number): string => n.toLocaleString('en-US');

/** Names shown in one note before the rest are counted. */
const NAMES_PER_NOTE = 3;

/**
 * Notes for the names a plan gives to the target (users created or renamed, groups created or
 * renamed) that can pass for others. Names with the same problem (a misspelt domain on every
 * user created) share one note, which names the first few and counts the rest.
 */
export function lookalikeNotes(operations: readonly Operation[]): string[] {
  const byProblem = new Map<string, string[]>();
  const check = (kind: 'user' | 'group', name: string): void => {
    const problem = lookalikeProblem(name);
    if (problem === undefined) return;
    const key = `${kind} ${problem}`;
    const names = byProblem.get(key);
    if (names) names.push(name);
    else byProblem.set(key, [name]);
  };
  for (const operation of operations) {
    if (operation.kind === 'createUser') check('user', operation.userName);
    else if ((operation.kind === 'updateUser' || operation.kind === 'deactivateUser' || operation.kind === 'reactivateUser') && operation.renamedFrom !== undefined) check('user', operation.userName);
    else if (operation.kind === 'createGroup') check('group', operation.displayName);
    else if (operation.kind === 'updateGroupMembers' && operation.changes.some((change) => change.path === 'displayName')) check('group', operation.displayName);
  }
  const notes: string[] = [];
  for (const [key, names] of byProblem) {
    const kind = key.slice(0, key.indexOf(' '));
    const problem = key.slice(kind.length + 1);
    if (names.length <= NAMES_PER_NOTE) {
      for (const name of names) notes.push(`${kind} ${name}: ${problem}; check that it is the name meant`);
    } else {
      const shown = names.slice(0, NAMES_PER_NOTE).join(', ');
      notes.push(`${count(names.length)} ${kind}s, ${shown} and ${count(names.length - NAMES_PER_NOTE)} more: ${problem}; check that they are the names meant`);
    }
  }
  return notes;
}
