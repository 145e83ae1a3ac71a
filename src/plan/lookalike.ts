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

/** Notes for the names a plan gives to the target (users created or renamed, groups created or renamed) that can pass for others. */
export function lookalikeNotes(operations: readonly Operation[]): string[] {
  const notes: string[] = [];
  const check = (subject: string, name: string): void => {
    const problem = lookalikeProblem(name);
    if (problem !== undefined) notes.push(`${subject} ${name}: ${problem}; check that it is the name meant`);
  };
  for (const operation of operations) {
    if (operation.kind === 'createUser') check('user', operation.userName);
    else if ((operation.kind === 'updateUser' || operation.kind === 'deactivateUser' || operation.kind === 'reactivateUser') && operation.renamedFrom !== undefined) check('user', operation.userName);
    else if (operation.kind === 'createGroup') check('group', operation.displayName);
    else if (operation.kind === 'updateGroupMembers' && operation.changes.some((change) => change.path === 'displayName')) check('group', operation.displayName);
  }
  return notes;
}
