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

/** What makes `name` look like another, or undefined: its words that mix Latin with Cyrillic or Greek letters, and those letters. */
export function lookalikeProblem(name: string): string | undefined {
  // Nearly every name has no Cyrillic or Greek letter at all: one test settles it.
  if (!LOOKALIKE_SCRIPTS.test(name)) return undefined;
  const mixed = (name.match(WORD) ?? []).filter((word) => LATIN.test(word) && LOOKALIKE_SCRIPTS.test(word));
  if (mixed.length === 0) return undefined;
  const letters = [...new Set(mixed.flatMap((word) => [...word].filter((char) => LOOKALIKE_SCRIPTS.test(char))))];
  const scripts = SCRIPT_NAMES.filter(([, script]) => letters.some((char) => script.test(char))).map(([scriptName]) => scriptName);
  const shown = letters.map((char) => `${char} (U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`).join(', ');
  return `${mixed.map((word) => `"${word}"`).join(', ')} ${mixed.length === 1 ? 'mixes' : 'mix'} Latin with ${scripts.join(' and ')} letters (${shown}), which look like Latin ones`;
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
