/**
 * A fast reader for the plain block-style YAML that identity files are usually written in
 * (and that `scimform import` writes). The `yaml` package costs ~85 µs per user, which is
 * 8.5 s for 100,000 users; this reader keeps only what provenance needs (where each sequence
 * item starts) and runs an order of magnitude faster.
 *
 * It is deliberately narrow: the moment it meets anything outside its subset (anchors, aliases,
 * tags, block scalars, multi-line scalars, escapes, numbers other than plain integers, document
 * markers, tabs, CRLF, duplicate keys, odd indentation…) it returns `undefined` and the caller
 * uses the full parser, which also produces every error message. So it never has to be right
 * about anything it accepts that the full parser would treat differently.
 */

/** 1-based line and column. */
export type Position = [line: number, column: number];

export interface FastParse {
  value: unknown;
  /** For every sequence in `value`, where each of its items starts. */
  items: Map<readonly unknown[], Position[]>;
}

class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

interface Line {
  /** 1-based line number. */
  number: number;
  /** Column (0-based) where `text` starts. */
  indent: number;
  text: string;
}

const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?: +|$)/;
const RESERVED_KEYS = new Set(['true', 'false', 'null', 'True', 'False', 'Null', 'TRUE', 'FALSE', 'NULL', '__proto__']);
const INTEGER = /^(?:0|[-+]?[1-9][0-9]{0,14})$/;
// Characters that cannot start a plain scalar, or that start something this reader leaves to the full parser.
const INDICATORS = new Set(['-', '?', ':', ',', ']', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`', '+', '.']);

export function parseYamlFast(text: string): FastParse | undefined {
  // CR, tabs, control characters and a byte-order mark all have rules of their own in YAML.
  if (/[\x00-\x09\x0b-\x1f\x7f\ufeff]/.test(text)) return undefined;
  const lines: Line[] = [];
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    if (indent === line.length || line.charCodeAt(indent) === 35 /* # */) continue;
    if (indent === 0 && (line.startsWith('---') || line.startsWith('...') || line.startsWith('%'))) return undefined;
    lines.push({ number: i + 1, indent, text: line.slice(indent) });
  }
  if (lines.length === 0) return undefined;
  const items = new Map<readonly unknown[], Position[]>();
  const reader = new Reader(lines, items);
  try {
    const value = reader.node(0);
    if (reader.index !== lines.length || value === null || typeof value !== 'object') return undefined;
    return { value, items };
  } catch (error) {
    // RangeError: nesting deep enough to exhaust the stack; the full parser reports it.
    if (error instanceof Unsupported || error instanceof RangeError) return undefined;
    throw error;
  }
}

class Reader {
  index = 0;
  constructor(
    private readonly lines: Line[],
    private readonly items: Map<readonly unknown[], Position[]>,
  ) {}

  /** A block node whose first line has exactly the indentation of the current line (≥ `minIndent`). */
  node(minIndent: number): unknown {
    const line = this.lines[this.index];
    if (!line || line.indent < minIndent) return null;
    return isSequenceEntry(line.text) ? this.sequence(line.indent) : this.mapping(line.indent);
  }

  private sequence(indent: number): unknown[] {
    const result: unknown[] = [];
    const positions: Position[] = [];
    this.items.set(result, positions);
    for (let line = this.lines[this.index]; line && line.indent === indent && isSequenceEntry(line.text); line = this.lines[this.index]) {
      let offset = 1;
      while (line.text.charCodeAt(offset) === 32) offset++;
      const rest = line.text.slice(offset);
      if (rest === '' || rest.startsWith('#')) {
        this.index++;
        const next = this.lines[this.index];
        positions.push(next && next.indent > indent ? [next.number, next.indent + 1] : [line.number, indent + 1]);
        result.push(this.node(indent + 1));
      } else if (isSequenceEntry(rest) || KEY.test(rest)) {
        // `- key: value` or `- - x`: the rest of the line starts a nested block node at its own column.
        line.indent += offset;
        line.text = rest;
        positions.push([line.number, line.indent + 1]);
        result.push(this.node(line.indent));
      } else {
        positions.push([line.number, indent + offset + 1]);
        result.push(this.inline(line, offset));
      }
      const next = this.lines[this.index];
      if (next && next.indent > indent) unsupported();
    }
    return result;
  }

  private mapping(indent: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (let line = this.lines[this.index]; line && line.indent === indent; line = this.lines[this.index]) {
      if (isSequenceEntry(line.text)) break;
      const match = KEY.exec(line.text);
      if (!match) return unsupported();
      const key = match[1]!;
      if (RESERVED_KEYS.has(key) || Object.hasOwn(result, key)) unsupported();
      const offset = match[0].length;
      if (offset === line.text.length || line.text.charCodeAt(offset) === 35 /* # */) {
        this.index++;
        const next = this.lines[this.index];
        // A block sequence may sit at the same indentation as its key (YAML 1.2 §8.2.3).
        result[key] = next && next.indent === indent && isSequenceEntry(next.text) ? this.sequence(indent) : this.node(indent + 1);
      } else {
        result[key] = this.inline(line, offset);
      }
      const next = this.lines[this.index];
      if (next && next.indent > indent) unsupported();
    }
    return result;
  }

  /** A value that sits on the rest of `line` from `offset`: a scalar or a one-line flow collection. */
  private inline(line: Line, offset: number): unknown {
    this.index++;
    const text = line.text;
    const first = text[offset]!;
    if (first === '[' || first === '{' || first === '"' || first === "'") {
      const flow = new FlowReader(text, offset, line.number, line.indent, this.items);
      const value = flow.value();
      flow.end();
      return value;
    }
    const comment = text.indexOf(' #', offset);
    return plainScalar((comment === -1 ? text.slice(offset) : text.slice(offset, comment)).trimEnd(), false);
  }
}

function isSequenceEntry(text: string): boolean {
  return text.charCodeAt(0) === 45 /* - */ && (text.length === 1 || text.charCodeAt(1) === 32);
}

/** Core-schema resolution of a plain scalar (YAML 1.2 §10.3.2), for the forms this reader accepts. */
function plainScalar(text: string, inFlow: boolean): unknown {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  const first = text[0]!;
  if (first >= '0' && first <= '9') return INTEGER.test(text) ? Number(text) : unsupported();
  if (INDICATORS.has(first) || first === '[' || first === '{' || first === '"' || first === "'") {
    return INTEGER.test(text) ? Number(text) : unsupported();
  }
  if (text.endsWith(':') || text.includes(': ') || text.includes(' #')) unsupported();
  if (inFlow && /[[\]{},]/.test(text)) unsupported();
  return text;
}

/** One-line flow collections and quoted scalars: `[a, "b"]`, `{ value: x, primary: true }`. */
class FlowReader {
  constructor(
    private readonly text: string,
    private offset: number,
    private readonly lineNumber: number,
    private readonly indent: number,
    private readonly items: Map<readonly unknown[], Position[]>,
  ) {}

  value(): unknown {
    const c = this.text[this.offset];
    if (c === '[') return this.sequence();
    if (c === '{') return this.mapping();
    if (c === '"') return this.doubleQuoted();
    if (c === "'") return this.singleQuoted();
    const start = this.offset;
    while (this.offset < this.text.length && !',[]{}'.includes(this.text[this.offset]!)) this.offset++;
    return plainScalar(this.text.slice(start, this.offset).trimEnd(), true);
  }

  /** Only spaces and a comment may follow the value on its line. */
  end(): void {
    this.spaces();
    if (this.offset < this.text.length && this.text[this.offset] !== '#') unsupported();
    if (this.offset < this.text.length && this.text[this.offset - 1] !== ' ') unsupported();
  }

  private spaces(): void {
    while (this.text.charCodeAt(this.offset) === 32) this.offset++;
  }

  private sequence(): unknown[] {
    const result: unknown[] = [];
    const positions: Position[] = [];
    this.items.set(result, positions);
    this.offset++;
    this.spaces();
    if (this.text[this.offset] === ']') {
      this.offset++;
      return result;
    }
    for (;;) {
      positions.push([this.lineNumber, this.indent + this.offset + 1]);
      result.push(this.value());
      this.spaces();
      const c = this.text[this.offset];
      this.offset++;
      if (c === ']') return result;
      if (c !== ',') return unsupported();
      this.spaces();
      // `[a, ]` and `[a, , b]` are left to the full parser.
      if (this.offset >= this.text.length || ',]'.includes(this.text[this.offset]!)) unsupported();
    }
  }

  private mapping(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    this.offset++;
    this.spaces();
    if (this.text[this.offset] === '}') {
      this.offset++;
      return result;
    }
    for (;;) {
      const match = KEY.exec(this.text.slice(this.offset));
      if (!match || !match[0].endsWith(' ')) return unsupported();
      const key = match[1]!;
      if (RESERVED_KEYS.has(key) || Object.hasOwn(result, key)) unsupported();
      this.offset += match[0].length;
      this.spaces();
      result[key] = this.value();
      this.spaces();
      const c = this.text[this.offset];
      this.offset++;
      if (c === '}') return result;
      if (c !== ',') return unsupported();
      this.spaces();
      if (this.offset >= this.text.length || ',}'.includes(this.text[this.offset]!)) unsupported();
    }
  }

  private doubleQuoted(): string {
    const close = this.text.indexOf('"', this.offset + 1);
    if (close === -1) return unsupported();
    const value = this.text.slice(this.offset + 1, close);
    if (value.includes('\\')) unsupported();
    this.offset = close + 1;
    return value;
  }

  private singleQuoted(): string {
    let value = '';
    let i = this.offset + 1;
    for (;;) {
      const close = this.text.indexOf("'", i);
      if (close === -1) return unsupported();
      value += this.text.slice(i, close);
      if (this.text[close + 1] === "'") {
        value += "'";
        i = close + 2;
      } else {
        this.offset = close + 1;
        return value;
      }
    }
  }
}
