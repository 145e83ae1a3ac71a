/**
 * Filters and attribute paths (RFC 7644 §3.4.2.2 and §3.5.2), parsed into a small AST and
 * evaluated against stored resources. Attribute names and operators are case-insensitive;
 * string comparison follows each attribute's `caseExact`.
 */
import { badRequest } from './errors.js';
import { COMMON_ATTRIBUTES, findAttribute, findCoreAttribute, findExtension, type AttributeDef, type ResourceSchema } from './schemas.js';

export interface AttrPath {
  /** Schema URN prefix, when given (`urn:…:User:name.givenName`). */
  urn?: string;
  attr: string;
  sub?: string;
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';
export type Literal = string | number | boolean | null;

export type Filter =
  | { op: 'pr'; path: AttrPath }
  | { op: CompareOp; path: AttrPath; value: Literal }
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  | { op: 'valuePath'; path: AttrPath; filter: Filter };

/** A PATCH target: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`. */
export interface PatchPath {
  urn?: string;
  attr: string;
  sub?: string;
  filter?: Filter;
}

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'lt', 'ge', 'le']);
const ATTR_PATH = /^(?:(urn:[a-z0-9][a-z0-9.:\-_]*):)?([a-z$][\w$\-]*)(?:\.([a-z$][\w$\-]*))?$/i;

type Token = { kind: 'open' | 'close' | 'lbracket' | 'rbracket' } | { kind: 'string'; value: string } | { kind: 'word'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c === '(' ? 'open' : c === ')' ? 'close' : c === '[' ? 'lbracket' : 'rbracket' });
      i++;
    } else if (c === '"') {
      // JSON string rules (RFC 7644 §3.4.2.2 compValue is a JSON string): `\"` and `\\` escapes.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw badRequest(`unterminated string in filter: ${text}`, 'invalidFilter');
      try {
        tokens.push({ kind: 'string', value: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        throw badRequest(`invalid string escape in filter: ${text.slice(i, j + 1)}`, 'invalidFilter');
      }
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t\r\n()[]"'.includes(text[j]!)) j++;
      tokens.push({ kind: 'word', value: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

export function parseAttrPath(text: string, error: 'invalidFilter' | 'invalidPath' | 'invalidValue'): AttrPath {
  const match = ATTR_PATH.exec(text);
  if (!match) throw badRequest(`"${text}" is not an attribute path`, error);
  return { ...(match[1] ? { urn: match[1] } : {}), attr: match[2]!, ...(match[3] ? { sub: match[3] } : {}) };
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  parse(): Filter {
    const filter = this.parseOr();
    if (this.pos < this.tokens.length) this.fail('unexpected text after the end of the expression');
    return filter;
  }

  private fail(why: string): never {
    throw badRequest(`cannot parse filter ${JSON.stringify(this.source)}: ${why}`, 'invalidFilter');
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.pos];
    return token?.kind === 'word' ? token.value.toLowerCase() : undefined;
  }

  private expect(kind: Token['kind']): void {
    if (this.tokens[this.pos]?.kind !== kind) this.fail(`expected ${kind}`);
    this.pos++;
  }

  private parseOr(): Filter {
    let left = this.parseAnd();
    while (this.peekWord() === 'or') {
      this.pos++;
      left = { op: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  // `and` binds tighter than `or` (RFC 7644 §3.4.2.2, Table 3 precedence).
  private parseAnd(): Filter {
    let left = this.parseUnary();
    while (this.peekWord() === 'and') {
      this.pos++;
      left = { op: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): Filter {
    const token = this.tokens[this.pos];
    if (!token) this.fail('expression ends too early');
    if (token.kind === 'word' && token.value.toLowerCase() === 'not' && this.tokens[this.pos + 1]?.kind === 'open') {
      this.pos++;
      return { op: 'not', filter: this.parseGroup() };
    }
    if (token.kind === 'open') return this.parseGroup();
    if (token.kind !== 'word') this.fail('expected an attribute path');
    this.pos++;
    const path = parseAttrPath(token.value, 'invalidFilter');
    if (this.tokens[this.pos]?.kind === 'lbracket') {
      this.pos++;
      const inner = this.parseOr();
      this.expect('rbracket');
      if (path.sub) this.fail('a value filter applies to a multi-valued attribute, not a sub-attribute');
      return { op: 'valuePath', path, filter: inner };
    }
    const op = this.peekWord();
    if (op === undefined) this.fail(`expected an operator after ${token.value}`);
    this.pos++;
    if (op === 'pr') return { op: 'pr', path };
    if (!COMPARE_OPS.has(op)) this.fail(`unknown operator "${op}"`);
    const value = this.parseLiteral();
    if ((op === 'co' || op === 'sw' || op === 'ew') && typeof value !== 'string') this.fail(`"${op}" needs a string value`);
    if ((op === 'gt' || op === 'ge' || op === 'lt' || op === 'le') && (typeof value === 'boolean' || value === null)) {
      this.fail(`"${op}" cannot compare ${String(value)}`);
    }
    return { op: op as CompareOp, path, value };
  }

  private parseGroup(): Filter {
    this.expect('open');
    const inner = this.parseOr();
    this.expect('close');
    return inner;
  }

  private parseLiteral(): Literal {
    const token = this.tokens[this.pos++];
    if (!token) this.fail('expected a value');
    if (token.kind === 'string') return token.value;
    if (token.kind !== 'word') this.fail('expected a value');
    const word = token.value;
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word)) return Number(word);
    this.fail(`"${word}" is not a value (strings need double quotes)`);
  }
}

export function parseFilter(text: string): Filter {
  if (text.trim() === '') throw badRequest('the filter is empty', 'invalidFilter');
  return new Parser(tokenize(text), text).parse();
}

/** Parses a PATCH `path` (RFC 7644 §3.5.2 PATH grammar). */
export function parsePatchPath(text: string): PatchPath {
  const open = text.indexOf('[');
  if (open === -1) return parseAttrPath(text.trim(), 'invalidPath');
  const close = text.lastIndexOf(']');
  if (close < open) throw badRequest(`"${text}" has an unclosed "["`, 'invalidPath');
  const head = parseAttrPath(text.slice(0, open).trim(), 'invalidPath');
  if (head.sub) throw badRequest(`"${text}": a value filter applies to a multi-valued attribute`, 'invalidPath');
  let filter: Filter;
  try {
    filter = parseFilter(text.slice(open + 1, close));
  } catch (error) {
    throw badRequest(`"${text}" has an invalid value filter: ${(error as Error).message}`, 'invalidPath');
  }
  const rest = text.slice(close + 1).trim();
  if (rest !== '' && !/^\.[a-z$][\w$\-]*$/i.test(rest)) throw badRequest(`"${text}" has unexpected text after "]"`, 'invalidPath');
  return { ...head, filter, ...(rest ? { sub: rest.slice(1) } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

type Resource = Record<string, unknown>;

/** Value of a key looked up case-insensitively, as attribute names are (RFC 7643 §2.1). */
export function getCaseInsensitive(object: Resource, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(object)) if (key.toLowerCase() === lower) return object[key];
  return undefined;
}

interface Scope {
  /** Definitions of the attributes at this level (the resource, or a multi-valued attribute's elements). */
  defs: AttributeDef[];
  schema: ResourceSchema | undefined;
}

function locate(resource: Resource, path: AttrPath, scope: Scope): { raw: unknown; def: AttributeDef | undefined } {
  let container: unknown = resource;
  let defs = scope.defs;
  if (path.urn && scope.schema) {
    const extension = findExtension(scope.schema, path.urn);
    if (extension) {
      container = getCaseInsensitive(resource, extension.id);
      defs = extension.attributes;
    }
  }
  if (!container || typeof container !== 'object') return { raw: undefined, def: undefined };
  return { raw: getCaseInsensitive(container as Resource, path.attr), def: findAttribute(defs, path.attr) };
}

function resolve(resource: Resource, path: AttrPath, scope: Scope): { values: unknown[]; def: AttributeDef | undefined } {
  const { raw, def: topDef } = locate(resource, path, scope);
  const elements = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  // A complex multi-valued attribute compared without a sub-attribute means its `value` (`emails co "@x"`).
  const subName = path.sub ?? (topDef?.type === 'complex' && topDef.multiValued ? 'value' : undefined);
  if (subName === undefined) return { values: elements, def: topDef };
  const subDef = topDef?.subAttributes ? findAttribute(topDef.subAttributes, subName) : undefined;
  const values = elements.flatMap((element) => {
    if (!element || typeof element !== 'object') return [];
    const value = getCaseInsensitive(element as Resource, subName);
    return value === undefined || value === null ? [] : [value];
  });
  return { values, def: subDef };
}

function present(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function compare(op: CompareOp, actual: unknown, expected: Literal, def: AttributeDef | undefined): boolean {
  if (expected === null) return op === 'eq' ? !present(actual) : op === 'ne' ? present(actual) : false;
  if (typeof expected === 'boolean' || typeof expected === 'number') {
    if (op === 'eq') return actual === expected;
    if (op === 'ne') return actual !== expected;
    if (typeof actual !== 'number' || typeof expected !== 'number') return false;
    return op === 'gt' ? actual > expected : op === 'ge' ? actual >= expected : op === 'lt' ? actual < expected : op === 'le' ? actual <= expected : false;
  }
  if (typeof actual !== 'string') return op === 'ne';
  if (def?.type === 'dateTime' && ['gt', 'ge', 'lt', 'le', 'eq', 'ne'].includes(op)) {
    const a = Date.parse(actual);
    const b = Date.parse(expected);
    if (Number.isNaN(b)) throw badRequest(`"${expected}" is not a dateTime`, 'invalidFilter');
    return op === 'eq' ? a === b : op === 'ne' ? a !== b : op === 'gt' ? a > b : op === 'ge' ? a >= b : op === 'lt' ? a < b : a <= b;
  }
  const exact = def?.caseExact ?? false;
  const a = exact ? actual : actual.toLowerCase();
  const b = exact ? expected : expected.toLowerCase();
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'co':
      return a.includes(b);
    case 'sw':
      return a.startsWith(b);
    case 'ew':
      return a.endsWith(b);
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
  }
}

function evaluateIn(filter: Filter, resource: Resource, scope: Scope): boolean {
  switch (filter.op) {
    case 'and':
      return evaluateIn(filter.left, resource, scope) && evaluateIn(filter.right, resource, scope);
    case 'or':
      return evaluateIn(filter.left, resource, scope) || evaluateIn(filter.right, resource, scope);
    case 'not':
      return !evaluateIn(filter.filter, resource, scope);
    case 'pr':
      return resolve(resource, filter.path, scope).values.some(present);
    case 'valuePath': {
      const { raw, def } = locate(resource, filter.path, scope);
      const items = Array.isArray(raw) ? raw : raw && typeof raw === 'object' ? [raw] : [];
      const inner: Scope = { defs: def?.subAttributes ?? [], schema: undefined };
      return items.some((item) => item !== null && typeof item === 'object' && evaluateIn(filter.filter, item as Resource, inner));
    }
    default: {
      const { values, def } = resolve(resource, filter.path, scope);
      // `ne` on an absent attribute is true; every other operator needs a value to match.
      if (values.length === 0) return filter.op === 'ne' || (filter.op === 'eq' && filter.value === null);
      // RFC 7644 §3.4.2.2: on a multi-valued attribute "the filter matches if any of the values"
      // match, `ne` included: emails.type ne "work" matches a user with a work and a home email.
      return values.some((value) => compare(filter.op as CompareOp, value, filter.value, def));
    }
  }
}

/** Whether a stored resource (attribute names canonical) matches a filter. */
export function matchesFilter(filter: Filter, resource: Resource, schema: ResourceSchema): boolean {
  return evaluateIn(filter, resource, { defs: [...COMMON_ATTRIBUTES, ...schema.core.attributes], schema });
}

/** Whether one element of a multi-valued attribute matches a value filter (`members[value eq "…"]`). */
export function matchesElement(filter: Filter, element: unknown, def: AttributeDef): boolean {
  return element !== null && typeof element === 'object' && evaluateIn(filter, element as Resource, { defs: def.subAttributes ?? [], schema: undefined });
}

/** The attribute a path starts at, among a resource's attributes or (in a value filter) an attribute's sub-attributes. */
function attributeOf(path: AttrPath, scope: Scope): AttributeDef | undefined {
  const extension = path.urn && scope.schema ? findExtension(scope.schema, path.urn) : undefined;
  return findAttribute(extension ? extension.attributes : scope.defs, path.attr);
}

/** The definition of what a filter's attribute path compares. */
function definitionOf(path: AttrPath, scope: Scope): AttributeDef | undefined {
  const def = attributeOf(path, scope);
  // As in evaluation: a complex multi-valued attribute compared without a sub-attribute means its `value`.
  const sub = path.sub ?? (def?.type === 'complex' && def.multiValued ? 'value' : undefined);
  return sub === undefined ? def : findAttribute(def?.subAttributes ?? [], sub);
}

/**
 * Refuses what the grammar allows and the attribute's type does not: RFC 7644 §3.4.2.2 says gt,
 * ge, lt and le on a boolean attribute "SHALL cause a failed response" (400 invalidFilter), and
 * a filter that matched nothing would hide a client's mistake.
 */
export function checkFilter(filter: Filter, schema: ResourceSchema): void {
  checkIn(filter, { defs: [...COMMON_ATTRIBUTES, ...schema.core.attributes], schema });
}

/** The same check for a PATCH path's value filter, on the values of a multi-valued attribute (`emails[primary gt 0]`). */
export function checkValueFilter(filter: Filter, def: AttributeDef): void {
  checkIn(filter, { defs: def.subAttributes ?? [], schema: undefined });
}

function checkIn(node: Filter, scope: Scope): void {
  switch (node.op) {
    case 'and':
    case 'or':
      checkIn(node.left, scope);
      checkIn(node.right, scope);
      return;
    case 'not':
      checkIn(node.filter, scope);
      return;
    case 'pr':
      return;
    case 'valuePath':
      checkIn(node.filter, { defs: attributeOf(node.path, scope)?.subAttributes ?? [], schema: undefined });
      return;
    default:
      if ((node.op === 'gt' || node.op === 'ge' || node.op === 'lt' || node.op === 'le') && definitionOf(node.path, scope)?.type === 'boolean') {
        throw badRequest(`"${node.op}" cannot compare the boolean ${node.path.sub ? `${node.path.attr}.${node.path.sub}` : node.path.attr}; use eq or ne`, 'invalidFilter');
      }
  }
}

/** Whether a filter names a top-level attribute, alone or by a sub-attribute or value filter (`groups.value`, `groups[…]`). */
export function namesAttribute(filter: Filter, name: string): boolean {
  switch (filter.op) {
    case 'and':
    case 'or':
      return namesAttribute(filter.left, name) || namesAttribute(filter.right, name);
    case 'not':
      return namesAttribute(filter.filter, name);
    default:
      return filter.path.attr.toLowerCase() === name.toLowerCase();
  }
}

export type IndexedAttribute = 'id' | 'userName' | 'externalId' | 'displayName';

/**
 * Equality terms that every match must satisfy one of, when the filter allows an index lookup
 * (`userName eq "x"`, `a and b` where one side can, `a or b` where both can). Undefined means
 * the filter needs a scan.
 */
export function indexTerms(filter: Filter, schema: ResourceSchema, indexed: readonly IndexedAttribute[]): { attr: IndexedAttribute; value: string }[] | undefined {
  switch (filter.op) {
    case 'eq': {
      if (typeof filter.value !== 'string' || filter.path.sub) return undefined;
      if (filter.path.urn && filter.path.urn.toLowerCase() !== schema.core.id.toLowerCase()) return undefined;
      const def = findCoreAttribute(schema, filter.path.attr);
      const attr = indexed.find((name) => name === def?.name);
      return attr ? [{ attr, value: filter.value }] : undefined;
    }
    case 'and':
      return indexTerms(filter.left, schema, indexed) ?? indexTerms(filter.right, schema, indexed);
    case 'or': {
      const left = indexTerms(filter.left, schema, indexed);
      const right = left && indexTerms(filter.right, schema, indexed);
      return left && right ? [...left, ...right] : undefined;
    }
    default:
      return undefined;
  }
}
