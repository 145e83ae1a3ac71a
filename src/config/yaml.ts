/**
 * Reading one YAML file into plain data while keeping the source positions that error
 * messages and plan provenance need. Duplicate keys and alias bombs are refused; an empty
 * file is an error (an identity file must declare `users:` and/or `groups:`).
 */
import { createRequire } from 'node:module';
import type { Document, Node, Scalar } from 'yaml';
import type { SourceLocation, ValidationIssue } from '../errors.js';
import type { MemberSources } from '../model.js';
import { parseYamlFast, unpackLocation } from './fast-yaml.js';
import { oneLine, show } from './issues.js';

export type PathSegment = string | number;

/**
 * The \`yaml\` package, loaded on first use (a synchronous require of the same module an import
 * would load): a run whose files all suit the fast reader, and that has nothing to locate, never
 * needs it, and loading it is about a fifth of the start-up of \`plan\` and \`apply\`.
 */
let loaded: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}
const isAlias = (node: unknown) => yaml().isAlias(node);
const isMap = (node: unknown) => yaml().isMap(node);
const isPair = (node: unknown) => yaml().isPair(node);
const isScalar = (node: unknown) => yaml().isScalar(node);
const isSeq = (node: unknown) => yaml().isSeq(node);

/** At most this many alias expansions per document (yaml's own guard against "billion laughs"). */
export const MAX_ALIAS_COUNT = 100;

/** What a problem found after reading needs of its file: its path, and where a path in it is. */
export interface FileLocator {
  /** Relative to the config folder, `/`-separated. */
  path: string;
  /**
   * Where the node at `path` starts; `key` asks for the key of the last segment instead of its
   * value. Falls back to the nearest ancestor that exists. Exact, and may re-read the file.
   */
  locate(path: readonly PathSegment[], at?: 'value' | 'key'): SourceLocation;
}

export interface YamlFile extends FileLocator {
  value: unknown;
  /** Where item `index` of a sequence taken from `value` starts (cheap; used for provenance). */
  itemLocation(sequence: readonly unknown[], index: number): SourceLocation;
  /** Where each item of a sequence taken from `value` starts, as `itemLocation` says, in the compact form when there is one. */
  itemLocations(sequence: readonly unknown[]): MemberSources;
  /**
   * `locate` apart from the value: what a check that runs after every file is read keeps of
   * this one. (From a file read by the fast reader it holds the text, not the value and the item
   * positions, which at 1,000,000 users were ~200 MB more while the files were checked.)
   */
  locator: FileLocator;
}

export type ParseResult = { ok: true; file: YamlFile } | { ok: false; issues: ValidationIssue[] };

/**
 * Parses `text` (the content of `path`). Files in the plain block style that `import` writes
 * take a fast path; anything else, and any file whose locations are asked for, gets the full
 * position-aware parse.
 */
export function parseYaml(text: string, path: string, options: { fast?: boolean; kind?: 'config' | 'identities' } = {}): ParseResult {
  if (options.fast !== false) {
    const fast = parseYamlFast(text);
    if (fast !== undefined) {
      const locator = lazyLocator(text, path);
      return {
        ok: true,
        file: {
          path,
          value: fast.value,
          itemLocation: (sequence, index) => {
            const position = fast.items.get(sequence)?.[index];
            return position === undefined ? fileStart(path) : unpackLocation(path, position);
          },
          itemLocations: (sequence) => {
            const positions = fast.items.get(sequence);
            // A copy at its exact length: the list lives as long as the plan, and `push` left room for more.
            return positions ? { file: path, positions: positions.slice() } : sequence.map(() => fileStart(path));
          },
          locate: locator.locate,
          locator,
        },
      };
    }
  }
  const full = parseFull(text);
  const issues = documentIssues(full, path, text, options.kind ?? 'identities');
  if (issues.length > 0) return { ok: false, issues };
  const structure = structureIssue(full, path);
  if (structure) return { ok: false, issues: [structure] };
  let value: unknown;
  try {
    value = full.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError) return { ok: false, issues: [aliasIssue(full, path)] };
    throw error;
  }
  const items = new WeakMap<object, SourceLocation[]>();
  recordItems(full, path, full.doc.contents, value, items, new Set());
  const itemLocation = (sequence: readonly unknown[], index: number) => items.get(sequence)?.[index] ?? fileStart(path);
  const locator: FileLocator = { path, locate: (segments, at) => locateIn(full, path, segments, at) };
  return {
    ok: true,
    file: {
      path,
      value,
      itemLocation,
      itemLocations: (sequence) => sequence.map((_, index) => itemLocation(sequence, index)),
      locate: locator.locate,
      locator,
    },
  };
}

/** Where an item is placed when its own position is not known: the start of its file. */
function fileStart(path: string): SourceLocation {
  return { file: path, line: 1, column: 1 };
}

/**
 * Locates by the full parse, done on first use. Built in a scope of its own: closures made in one
 * scope share its variables, so a locator made next to `itemLocation` would keep the value too.
 */
function lazyLocator(text: string, path: string): FileLocator {
  let full: FullParse | undefined;
  return { path, locate: (segments, at) => locateIn((full ??= parseFull(text)), path, segments, at) };
}

interface FullParse {
  doc: Document.Parsed;
  lineCounter: InstanceType<typeof import('yaml').LineCounter>;
}

function parseFull(text: string): FullParse {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // Not `prettyErrors`: it appends a location and a code frame to each message, and we print the location ourselves.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  return { doc, lineCounter };
}

function at(full: FullParse, file: string, offset: number): SourceLocation {
  const { line, col } = full.lineCounter.linePos(offset);
  return { file, line, column: col };
}

const EMPTY_FILE = {
  config: 'the configuration file is empty: it needs `version: 1`, `desired:` and `targets:` (see examples/basic/scimform.yaml)',
  identities: 'the file is empty: declare `users:` and/or `groups:` (write `users: []` for a file that is empty on purpose)',
};

function documentIssues(full: FullParse, file: string, text: string, kind: 'config' | 'identities'): ValidationIssue[] {
  const { doc } = full;
  if (doc.errors.length > 0) {
    return doc.errors.map((error) => {
      // yaml notices an unclosed quote only where the file ends: point at the quote that opens the string.
      const quoted = error.code === 'MISSING_CHAR' ? unclosedQuote(full, error.pos[0]) : undefined;
      // yaml places a repeated empty key (a `:` alone) where the line before it ends, on the line of the key it repeats.
      const offset = error.code === 'DUPLICATE_KEY' ? emptyKeyAt(text, error.pos[0]) : (quoted?.range?.[0] ?? error.pos[0]);
      const position = onRealLine(text, full.lineCounter.linePos(offset));
      if (quoted) {
        const quote = quoted.type === 'QUOTE_SINGLE' ? "'" : '"';
        return { file, line: position.line, column: position.col, path: '', message: `YAML syntax error: the string that starts here with \`${quote}\` has no closing \`${quote}\`: add one where the value ends` };
      }
      if (error.code === 'MULTIPLE_DOCS') return { file, line: position.line, column: position.col, path: '', message: secondDocument(text.startsWith('---', error.pos[0]), kind) };
      if (error.code === 'DUPLICATE_KEY' && text.charCodeAt(offset) === 58 /* : */) return { file, line: position.line, column: position.col, path: '', message: EMPTY_KEY_TWICE };
      // yaml points a duplicate-key error at the repeated key itself: name it. (A CR ends a line too: a key never spans one.)
      const key = error.code === 'DUPLICATE_KEY' ? (/^("[^"\r\n]*"|'[^'\r\n]*'|[^:,{}\r\n]+?)\s*:/.exec(text.slice(offset))?.[1] ?? '') : '';
      return { file, line: position.line, column: position.col, path: '', message: yamlMessage(error.code, error.message, key) };
    });
  }
  const directive = versionDirective(full, text);
  if (directive !== undefined) return [{ file, ...position(full, directive.offset), path: '', message: otherVersion(directive.version) }];
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return [{ file, line: 1, column: 1, path: '', message: EMPTY_FILE[kind] }];
  }
  return [];
}

const EMPTY_KEY_TWICE = 'duplicate key: this `:` has no key before it, and the mapping already has such an empty key: write the key in front of the `:`, or remove the line';

/** From where yaml places an empty key, to its `:` when that starts the next line. */
const EMPTY_KEY = /[ \t]*\r?\n[ \t]*(?=:)/y;
function emptyKeyAt(text: string, offset: number): number {
  EMPTY_KEY.lastIndex = offset;
  return EMPTY_KEY.test(text) ? EMPTY_KEY.lastIndex : offset;
}

/**
 * A `%YAML` directive that asks for another version than 1.2. yaml honours `%YAML 1.1`, which
 * changes what a file means (merge keys, `off` as false, `1:30` as 90): the files are YAML 1.2,
 * whatever they say, so such a file is refused rather than read either way.
 */
function versionDirective(full: FullParse, text: string): { version: string; offset: number } | undefined {
  if (!full.doc.directives?.yaml.explicit) return undefined;
  // Directives are the lines before the document's `---`, where its range starts.
  const match = /^%YAML[ \t]+([^\s#]*)/m.exec(text.slice(0, full.doc.range[0]));
  if (!match || match[1] === '1.2') return undefined;
  return { version: match[1]!, offset: match.index };
}

function otherVersion(version: string): string {
  return `\`%YAML ${version}\` asks for YAML ${version}, which scimform does not read: every file is YAML 1.2, where \`<<\` merges no keys, \`on\`/\`off\`/\`yes\`/\`no\` are strings and \`1:30\` is not a number; remove this line (and write out what a \`<<\` merges)`;
}

function position(full: FullParse, offset: number): { line: number; column: number } {
  const { line, col } = full.lineCounter.linePos(offset);
  return { line, column: col };
}

/** yaml points at where the second document starts: its `---`, or its first line after a `...`. */
function secondDocument(marker: boolean, kind: 'config' | 'identities'): string {
  const what = kind === 'config' ? 'the configuration file holds' : 'an identity file holds';
  const rest = kind === 'config' ? 'merge the two into one' : 'merge the two into one (one `users:` list and one `groups:` list), or move the second to a file of its own';
  return marker
    ? `${what} one YAML document, and this \`---\` starts a second: remove it and ${rest}`
    : `${what} one YAML document, and a second starts here, after a \`...\`: remove the \`...\` and ${rest}`;
}

/** The quoted scalar that runs on to `end`, where yaml found its closing quote missing. */
function unclosedQuote(full: FullParse, end: number): Scalar | undefined {
  let found: Scalar | undefined;
  yaml().visit(full.doc, {
    Scalar(_, node) {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range?.[1] === end) {
        found = node;
        return yaml().visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * A position on a line the file has: yaml places an error found at the very end after the last
 * line break, on a line no editor shows as part of the file; the end of the last line is meant.
 */
function onRealLine(text: string, position: { line: number; col: number }): { line: number; col: number } {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const lines = body.split('\n').length;
  return position.line <= lines ? position : { line: lines, col: body.length - body.lastIndexOf('\n') };
}

/**
 * yaml's message, on one line: some quote the source they stopped at (`Not a YAML token: …`,
 * `Block scalar header includes extra characters: …`), which may hold a CR, a U+2028 or a control
 * character that would break the `file:line:col:` line or act on the terminal.
 */
function yamlMessage(code: string, message: string, key: string): string {
  if (code === 'DUPLICATE_KEY') {
    return key ? `duplicate key ${show(key)}: each key may appear only once in a mapping` : 'duplicate key: each key may appear only once in a mapping';
  }
  const text = oneLine(message.trim());
  return `YAML syntax error: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

function aliasIssue(full: FullParse, file: string): ValidationIssue {
  let first: number | undefined;
  const visit = (node: unknown): void => {
    if (first !== undefined || node === null || typeof node !== 'object') return;
    if (isAlias(node)) first = node.range?.[0];
    else if (isMap(node) || isSeq(node)) for (const item of node.items) visit(item);
    else if (isPair(node)) {
      visit(node.key);
      visit(node.value);
    }
  };
  visit(full.doc.contents);
  return {
    ...at(full, file, first ?? 0),
    path: '',
    message: `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT}): refusing a possible alias bomb`,
  };
}

/**
 * What yaml reads but no file here can mean, found in one walk of the document:
 * - an alias inside the node it refers to (`&x [*x]`): yaml reads it to a value that contains
 *   itself, which no check, message or saved plan could print. Aliases refer only to nodes
 *   anchored before them, so every such cycle has an alias inside its own target.
 * - a key that is a list or a mapping (`[a, b]: 1`, `? { a: b }`): yaml turns it into text,
 *   with a warning on stderr, and throws on some anchors inside it; no key here is one.
 */
function structureIssue(full: FullParse, file: string): ValidationIssue | undefined {
  // The node each anchor names so far, in document order, as yaml resolves an alias (its own
  // `resolve` searches the whole document for each alias).
  const anchored = new Map<string, unknown>();
  const open = new Set<unknown>();
  let issue: ValidationIssue | undefined;
  const visit = (node: unknown): void => {
    if (issue !== undefined || node === null || typeof node !== 'object') return;
    if (isAlias(node)) {
      if (open.has(anchored.get(node.source))) {
        issue = {
          ...at(full, file, startOf(node)),
          path: '',
          message: `the alias ${show(`*${node.source}`)} is inside the node it refers to, which would make that node contain itself: write the value out instead of the alias`,
        };
      }
    } else if (isPair(node)) {
      const key = isAlias(node.key) ? anchored.get(node.key.source) : node.key;
      if (isMap(key) || isSeq(key)) {
        const what = isMap(key) ? 'a mapping' : 'a list';
        issue = { ...at(full, file, startOf(node.key)), path: '', message: `this key is ${what}, and keys are plain text: write it as text, in quotes if it holds brackets, braces or commas` };
        return;
      }
      visit(node.key);
      visit(node.value);
    } else {
      const anchor = (node as Node).anchor;
      if (anchor !== undefined) anchored.set(anchor, node);
      if (isMap(node) || isSeq(node)) {
        open.add(node);
        for (const item of node.items) visit(item);
        open.delete(node);
      }
    }
  };
  visit(full.doc.contents);
  return issue;
}

/** Walks the YAML nodes and the plain value side by side, noting where each sequence item starts. */
function recordItems(full: FullParse, file: string, node: unknown, value: unknown, items: WeakMap<object, SourceLocation[]>, seen: Set<unknown>): void {
  if (seen.has(node)) return;
  seen.add(node);
  if (isAlias(node)) {
    recordItems(full, file, node.resolve(full.doc), value, items, seen);
  } else if (isSeq(node) && Array.isArray(value)) {
    if (!items.has(value)) items.set(value, node.items.map((item) => at(full, file, startOf(item))));
    node.items.forEach((item, index) => recordItems(full, file, item, value[index], items, seen));
  } else if (isMap(node) && value !== null && typeof value === 'object') {
    for (const pair of node.items) {
      if (isScalar(pair.key) && (typeof pair.key.value === 'string' || typeof pair.key.value === 'number')) {
        recordItems(full, file, pair.value, (value as Record<string, unknown>)[String(pair.key.value)], items, seen);
      }
    }
  }
}

function startOf(node: unknown): number {
  return (node as Node | null)?.range?.[0] ?? 0;
}

function locateIn(full: FullParse, file: string, segments: readonly PathSegment[], want: 'value' | 'key' = 'value'): SourceLocation {
  let node: unknown = full.doc.contents;
  let keyNode: unknown;
  for (const [i, segment] of segments.entries()) {
    if (isAlias(node)) node = node.resolve(full.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (i === segments.length - 1 && want === 'key') return at(full, file, startOf(pair.key));
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (item === undefined) break;
      keyNode = undefined;
      node = item;
    } else {
      break;
    }
  }
  // `key:` with nothing after it: point at the key rather than at the end of the line.
  if ((node === null || (isScalar(node) && node.source === '')) && keyNode) return at(full, file, startOf(keyNode));
  return at(full, file, startOf(node ?? keyNode));
}
