/**
 * A fast reader for the plain block-style YAML that identity files and configurations are
 * usually written in (and that `scimform import` writes). The `yaml` package costs ~85 µs per
 * user, which is 8.5 s for 100,000 users; this reader keeps only what provenance needs (where
 * each sequence item starts) and runs an order of magnitude faster.
 *
 * It is deliberately narrow: the moment it meets anything outside its subset (anchors, aliases,
 * tags, block scalars, multi-line scalars, escapes, numbers other than plain integers, document
 * markers, tabs, CRLF, duplicate keys, odd indentation…) it returns `undefined` and the caller
 * uses the full parser, which also produces every error message. So it never has to be right
 * about anything it accepts that the full parser would treat differently.
 *
 * It works on offsets into the one source string (no per-line copies) because at this scale
 * the garbage collector, not parsing, is the main cost. The scalars it returns are copies, not
 * V8 substrings: a substring keeps the whole file's text alive for as long as the value lives,
 * and every hash and comparison of it reads through to that text.
 */

/** A 1-based line and column packed into one number: `line * COLUMNS + column`. */
export type PackedPosition = number;
const COLUMNS = 2 ** 24;

export function unpackPosition(position: PackedPosition): { line: number; column: number } {
  // `| 0` keeps both small integers (V8 Smis); a double would be a heap number per location.
  return { line: (position / COLUMNS) | 0, column: position % COLUMNS | 0 };
}

/** The location in `file` of a packed position, as one literal (a spread would put line and column in a separate property array, ~48 bytes per location). */
export function unpackLocation(file: string, position: PackedPosition): { file: string; line: number; column: number } {
  const { line, column } = unpackPosition(position);
  return { file, line, column };
}

export interface FastParse {
  value: unknown;
  /** For every sequence in `value`, where each of its items starts. */
  items: Map<readonly unknown[], PackedPosition[]>;
}

class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

const KEY = /([A-Za-z_][A-Za-z0-9_-]*):(?: +|(?=\n)|$)/y;
const FLOW_KEY = /([A-Za-z_][A-Za-z0-9_-]*): +/y;
const RESERVED_KEYS = new Set(['true', 'false', 'null', 'True', 'False', 'Null', 'TRUE', 'FALSE', 'NULL', '__proto__']);
const INTEGER = /^(?:0|[-+]?[1-9][0-9]{0,14})$/;
// Characters that cannot start a plain scalar, or that start something this reader leaves to the full parser.
const INDICATORS = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`', '+', '.', '"', "'"]);
const SPACE = 32;
const HASH = 35;
const DASH = 45;

/** Copies `text[start, end)` into a string of its own. */
type Copy = (start: number, end: number) => string;

function copier(text: string): Copy {
  // A text of one-byte characters (Latin-1, which covers ASCII) round-trips through a Latin-1
  // buffer, whose decoder makes flat strings; others are rare enough to keep as substrings.
  if (/[^\x00-\xff]/.test(text)) return (start, end) => text.slice(start, end);
  const bytes = Buffer.from(text, 'latin1');
  return (start, end) => bytes.toString('latin1', start, end);
}

export function parseYamlFast(text: string): FastParse | undefined {
  // CR, tabs, control characters and a byte-order mark all have rules of their own in YAML.
  if (/[\x00-\x09\x0b-\x1f\x7f\ufeff]/.test(text)) return undefined;
  const reader = new Reader(text, copier(text));
  if (!reader.scanLines() || reader.count === 0) return undefined;
  try {
    const value = reader.node(0);
    if (reader.index !== reader.count || value === null || typeof value !== 'object') return undefined;
    return { value, items: reader.items };
  } catch (error) {
    // RangeError: nesting deep enough to exhaust the stack; the full parser reports it.
    if (error instanceof Unsupported || error instanceof RangeError) return undefined;
    throw error;
  }
}

class Reader {
  readonly items = new Map<readonly unknown[], PackedPosition[]>();
  /** Lines with content (not blank, not only a comment). */
  count = 0;
  index = 0;
  private number: Int32Array;
  private lineStart: Int32Array;
  /** Where the content starts; moved right for the mapping in `- key: value`. */
  private begin: Int32Array;
  private end: Int32Array;

  constructor(
    private readonly text: string,
    private readonly copy: Copy,
  ) {
    let lines = 1;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    this.number = new Int32Array(lines);
    this.lineStart = new Int32Array(lines);
    this.begin = new Int32Array(lines);
    this.end = new Int32Array(lines);
  }

  scanLines(): boolean {
    const text = this.text;
    let start = 0;
    for (let number = 1; start <= text.length; number++) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      let begin = start;
      while (text.charCodeAt(begin) === SPACE) begin++;
      if (begin < end && text.charCodeAt(begin) !== HASH) {
        if (begin === start) {
          const c = text.charCodeAt(start);
          // `---`, `...` and `%` directives at the start of a line.
          if (c === 37 || ((c === DASH || c === 46) && text.startsWith(c === DASH ? '---' : '...', start))) return false;
        }
        const i = this.count++;
        this.number[i] = number;
        this.lineStart[i] = start;
        this.begin[i] = begin;
        this.end[i] = end;
      }
      start = end + 1;
    }
    return true;
  }

  private indent(i: number): number {
    return this.begin[i]! - this.lineStart[i]!;
  }

  private position(i: number, offset: number): PackedPosition {
    return this.number[i]! * COLUMNS + (offset - this.lineStart[i]! + 1);
  }

  private isSequenceEntry(offset: number, end: number): boolean {
    return this.text.charCodeAt(offset) === DASH && (offset + 1 === end || this.text.charCodeAt(offset + 1) === SPACE);
  }

  /** A block node whose first line has exactly the indentation of the current line (≥ `minIndent`). */
  node(minIndent: number): unknown {
    const i = this.index;
    if (i >= this.count || this.indent(i) < minIndent) return null;
    return this.isSequenceEntry(this.begin[i]!, this.end[i]!) ? this.sequence(this.indent(i)) : this.mapping(this.indent(i));
  }

  private sequence(indent: number): unknown[] {
    const text = this.text;
    const result: unknown[] = [];
    const positions: PackedPosition[] = [];
    for (let i = this.index; i < this.count && this.indent(i) === indent && this.isSequenceEntry(this.begin[i]!, this.end[i]!); i = this.index) {
      const end = this.end[i]!;
      let offset = this.begin[i]! + 1;
      while (text.charCodeAt(offset) === SPACE) offset++;
      if (offset === end || text.charCodeAt(offset) === HASH) {
        this.index++;
        const next = this.index;
        // A nested node starts on the next line; an empty (null) item sits where its content would be, as yaml places it.
        positions.push(next < this.count && this.indent(next) > indent ? this.position(next, this.begin[next]!) : this.position(i, offset));
        result.push(this.node(indent + 1));
      } else if (this.isSequenceEntry(offset, end) || (KEY.lastIndex = offset, KEY.test(text))) {
        // `- key: value` or `- - x`: the rest of the line starts a nested block node at its own column.
        this.begin[i] = offset;
        positions.push(this.position(i, offset));
        result.push(this.node(this.indent(i)));
      } else {
        positions.push(this.position(i, offset));
        result.push(this.inline(i, offset));
      }
      if (this.index < this.count && this.indent(this.index) > indent) unsupported();
    }
    return exact(result, positions, this.items);
  }

  private mapping(indent: number): Record<string, unknown> {
    const text = this.text;
    const result: Record<string, unknown> = {};
    for (let i = this.index; i < this.count && this.indent(i) === indent; i = this.index) {
      const begin = this.begin[i]!;
      const end = this.end[i]!;
      if (this.isSequenceEntry(begin, end)) break;
      KEY.lastIndex = begin;
      const match = KEY.exec(text);
      if (!match) return unsupported();
      const key = match[1]!;
      if (RESERVED_KEYS.has(key) || Object.hasOwn(result, key)) unsupported();
      const offset = KEY.lastIndex;
      if (offset >= end || text.charCodeAt(offset) === HASH) {
        this.index++;
        const next = this.index;
        // A block sequence may sit at the same indentation as its key (YAML 1.2 §8.2.3).
        result[key] =
          next < this.count && this.indent(next) === indent && this.isSequenceEntry(this.begin[next]!, this.end[next]!) ? this.sequence(indent) : this.node(indent + 1);
      } else {
        result[key] = this.inline(i, offset);
      }
      if (this.index < this.count && this.indent(this.index) > indent) unsupported();
    }
    return result;
  }

  /** A value that sits on the rest of line `i` from `offset`: a scalar or a one-line flow collection. */
  private inline(i: number, offset: number): unknown {
    this.index++;
    const text = this.text;
    const end = this.end[i]!;
    const c = text.charCodeAt(offset);
    if (c === 91 /* [ */ || c === 123 /* { */ || c === 34 /* " */ || c === 39 /* ' */) {
      const flow = new FlowReader(text, this.copy, offset, end, (at) => this.position(i, at), this.items);
      const value = flow.value();
      flow.finish();
      return value;
    }
    // The scalar ends at the line's end or at a comment (` #`); search only this line.
    let stop = offset;
    while (stop < end && !(text.charCodeAt(stop) === HASH && text.charCodeAt(stop - 1) === SPACE)) stop++;
    while (stop > offset && text.charCodeAt(stop - 1) === SPACE) stop--;
    return plainScalar(this.copy(offset, stop), false);
  }
}

/**
 * The sequence in an array of its exact length, registered with its item positions. An array
 * filled by `push` keeps room for 16 more items; a declared user's one-email list lives as long
 * as the plan, and that room cost ~150 bytes per user.
 */
function exact(items: unknown[], positions: PackedPosition[], registry: Map<readonly unknown[], PackedPosition[]>): unknown[] {
  const result = items.slice();
  registry.set(result, positions);
  return result;
}

/** Core-schema resolution of a plain scalar (YAML 1.2 §10.3.2), for the forms this reader accepts. */
function plainScalar(text: string, inFlow: boolean): unknown {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  const first = text[0]!;
  if ((first >= '0' && first <= '9') || INDICATORS.has(first)) return INTEGER.test(text) ? Number(text) : unsupported();
  if (text.endsWith(':') || text.includes(': ') || text.includes(' #')) unsupported();
  if (inFlow && /[[\]{},]/.test(text)) unsupported();
  return text;
}

/** One-line flow collections and quoted scalars: `[a, "b"]`, `{ value: x, primary: true }`. */
class FlowReader {
  constructor(
    private readonly text: string,
    private readonly copy: Copy,
    private offset: number,
    private readonly end: number,
    private readonly position: (offset: number) => PackedPosition,
    private readonly items: Map<readonly unknown[], PackedPosition[]>,
  ) {}

  value(): unknown {
    const c = this.text.charCodeAt(this.offset);
    if (c === 91) return this.sequence();
    if (c === 123) return this.mapping();
    if (c === 34) return this.doubleQuoted();
    if (c === 39) return this.singleQuoted();
    const start = this.offset;
    while (this.offset < this.end && !isFlowIndicator(this.text.charCodeAt(this.offset))) this.offset++;
    let stop = this.offset;
    while (stop > start && this.text.charCodeAt(stop - 1) === SPACE) stop--;
    // An empty entry (`[, a]`, `{ a: }`) has rules of its own; leave it to the full parser.
    if (stop === start) unsupported();
    return plainScalar(this.copy(start, stop), true);
  }

  /** Only spaces and a comment (after a space) may follow the value on its line. */
  finish(): void {
    const before = this.offset;
    this.spaces();
    if (this.offset < this.end && (this.text.charCodeAt(this.offset) !== HASH || this.offset === before)) unsupported();
  }

  /** `indexOf` that stops at the end of the line: searching the rest of a 10 MiB file per scalar would be quadratic. */
  private indexOn(char: string, from: number): number {
    const code = char.charCodeAt(0);
    for (let i = from; i < this.end; i++) if (this.text.charCodeAt(i) === code) return i;
    return -1;
  }

  private spaces(): void {
    while (this.offset < this.end && this.text.charCodeAt(this.offset) === SPACE) this.offset++;
  }

  /** After `,`: another entry must follow (`[a, ]` and `[a, , b]` are left to the full parser). */
  private nextEntry(close: number): void {
    this.spaces();
    const c = this.text.charCodeAt(this.offset);
    if (this.offset >= this.end || c === 44 || c === close) unsupported();
  }

  private sequence(): unknown[] {
    const result: unknown[] = [];
    const positions: PackedPosition[] = [];
    this.offset++;
    this.spaces();
    if (this.text.charCodeAt(this.offset) === 93) {
      this.offset++;
      return exact(result, positions, this.items);
    }
    for (;;) {
      positions.push(this.position(this.offset));
      result.push(this.value());
      this.spaces();
      const c = this.text.charCodeAt(this.offset++);
      if (c === 93) return exact(result, positions, this.items);
      if (c !== 44 || this.offset > this.end) return unsupported();
      this.nextEntry(93);
    }
  }

  private mapping(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.offset++;
    this.spaces();
    if (this.text.charCodeAt(this.offset) === 125) {
      this.offset++;
      return result;
    }
    for (;;) {
      FLOW_KEY.lastIndex = this.offset;
      const match = FLOW_KEY.exec(this.text);
      if (!match || FLOW_KEY.lastIndex > this.end) return unsupported();
      const key = match[1]!;
      if (RESERVED_KEYS.has(key) || Object.hasOwn(result, key)) unsupported();
      this.offset = FLOW_KEY.lastIndex;
      result[key] = this.value();
      this.spaces();
      const c = this.text.charCodeAt(this.offset++);
      if (c === 125) return result;
      if (c !== 44 || this.offset > this.end) return unsupported();
      this.nextEntry(125);
    }
  }

  private doubleQuoted(): string {
    const close = this.indexOn('"', this.offset + 1);
    if (close === -1) return unsupported();
    const value = this.copy(this.offset + 1, close);
    if (value.includes('\\')) unsupported();
    this.offset = close + 1;
    return value;
  }

  private singleQuoted(): string {
    let value = '';
    let i = this.offset + 1;
    for (;;) {
      const close = this.indexOn("'", i);
      if (close === -1) return unsupported();
      value += this.copy(i, close);
      if (this.text.charCodeAt(close + 1) === 39) {
        value += "'";
        i = close + 2;
      } else {
        this.offset = close + 1;
        return value;
      }
    }
  }
}

function isFlowIndicator(c: number): boolean {
  return c === 44 || c === 91 || c === 93 || c === 123 || c === 125;
}
