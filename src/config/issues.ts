/**
 * Problems found while loading, before they have a line and column: a file, a path inside it,
 * and a message. They are located only at the end, so a file that is clean never needs its
 * full position-aware parse.
 */
import type { ValidationIssue } from '../errors.js';
import { safeText } from '../render/format.js';
import type { FileLocator, PathSegment } from './yaml.js';

export interface PendingIssue {
  file: FileLocator;
  path: readonly PathSegment[];
  /** Point at the key of the last path segment rather than at its value. */
  at?: 'key' | 'value';
  message: string;
}

export function toPointer(path: readonly PathSegment[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function fromPointer(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function locateIssue(issue: PendingIssue): ValidationIssue {
  const location = issue.file.locate(issue.path, issue.at);
  return { ...location, path: toPointer(issue.path), message: issue.message };
}

export function sortIssues(issues: ValidationIssue[]): ValidationIssue[] {
  return [...issues].sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with line breaks, tabs, control and invisible characters escaped as the plan shows them,
 * so that a message holding it stays on its one `file:line:col:` line.
 */
export function oneLine(text: string): string {
  return safeText(text.replace(/[\n\r\t]/g, (c) => ESCAPES[c]!));
}

/**
 * A value quoted for a message, shortened so a long or odd value cannot flood the output, and
 * escaped by `oneLine`, so two values that differ only in invisible characters look different.
 */
export function show(value: unknown): string {
  const text = oneLine(typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));
  return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\``;
}
