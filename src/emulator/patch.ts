/**
 * Turning request bodies into stored attributes, and PATCH (RFC 7644 §3.5.2) on them. Pure
 * functions over plain objects: the store decides what the result means (uniqueness,
 * membership), these only know the schema.
 */
import { badRequest } from './errors.js';
import { checkValueFilter, matchesElement, parsePatchPath, getCaseInsensitive, type PatchPath } from './filter.js';
import { COMMON_ATTRIBUTES, findAttribute, findExtension, type AttributeDef, type ResourceSchema } from './schemas.js';

export type Attributes = Record<string, unknown>;

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const isObject = (value: unknown): value is Attributes => value !== null && typeof value === 'object' && !Array.isArray(value);

function scalar(def: AttributeDef, raw: unknown, where: string): unknown {
  switch (def.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      // Entra ID sends booleans as "True"/"False" strings in its default mode.
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
      throw badRequest(`${where} must be a boolean`, 'invalidValue');
    case 'integer':
      if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
      throw badRequest(`${where} must be an integer`, 'invalidValue');
    case 'complex':
      throw badRequest(`${where} must be an object`, 'invalidValue');
    default:
      if (typeof raw === 'string') return raw;
      throw badRequest(`${where} must be a string`, 'invalidValue');
  }
}

/** One value of an attribute (an element, for a multi-valued one); sub-attribute names made canonical, unknown ones dropped. */
function singleValue(def: AttributeDef, raw: unknown, where: string): unknown {
  if (def.type !== 'complex') return scalar(def, raw, where);
  if (!isObject(raw)) throw badRequest(`${where} must be an object`, 'invalidValue');
  const out: Attributes = {};
  for (const [key, value] of Object.entries(raw)) {
    const sub = findAttribute(def.subAttributes ?? [], key);
    if (!sub || value === null || value === undefined) continue;
    out[sub.name] = scalar(sub, value, `${where}.${sub.name}`);
  }
  return out;
}

/** A whole attribute value; `undefined` means "unassigned" (JSON null, RFC 7643 §2.5). */
export function attributeValue(def: AttributeDef, raw: unknown, where: string): unknown {
  if (raw === null || raw === undefined) return undefined;
  if (def.multiValued) {
    // A lone object where an array belongs is taken as a one-element array, as lenient servers do.
    const items = Array.isArray(raw) ? raw : [raw];
    const values = items.filter((item) => item !== null).map((item, i) => singleValue(def, item, `${where}[${i}]`));
    return values.length === 0 ? undefined : values;
  }
  if (Array.isArray(raw)) throw badRequest(`${where} is single-valued, not an array`, 'invalidValue');
  return singleValue(def, raw, where);
}

const writable = (def: AttributeDef) => def.mutability !== 'readOnly';

/**
 * RFC 7643 §3: `schemas` is required in every resource and names the schemas of the attributes
 * it holds. A POST or PUT body without the resource type's core schema is refused, as the
 * strictest servers do, so a client that leaves it out learns it here and not from one of them.
 */
export function checkSchemas(body: unknown, schema: ResourceSchema): void {
  // A body that is no object is refused by attributesFromBody, with its own message.
  if (!isObject(body)) return;
  const schemas = getCaseInsensitive(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.includes(schema.core.id)) {
    throw badRequest(`a ${schema.kind} body needs "schemas": ["${schema.core.id}"] (RFC 7643 §3)`, 'invalidSyntax');
  }
}

/**
 * The attributes of a POST or PUT body: canonical names, type-checked; read-only and unknown
 * attributes ignored (RFC 7644 §3.5.1 ignores read-only values on replace).
 */
export function attributesFromBody(body: unknown, schema: ResourceSchema): Attributes {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object', 'invalidSyntax');
  const out: Attributes = {};
  const coreDefs = [...COMMON_ATTRIBUTES, ...schema.core.attributes];
  for (const [key, value] of Object.entries(body)) {
    const extension = findExtension(schema, key);
    if (extension) {
      if (value === null) continue;
      if (!isObject(value)) throw badRequest(`${key} must be an object`, 'invalidValue');
      const inner: Attributes = {};
      for (const [subKey, subValue] of Object.entries(value)) {
        const def = findAttribute(extension.attributes, subKey);
        if (!def || !writable(def)) continue;
        const normalised = attributeValue(def, subValue, def.name);
        if (normalised !== undefined) inner[def.name] = normalised;
      }
      if (Object.keys(inner).length > 0) out[extension.id] = inner;
      continue;
    }
    const def = findAttribute(coreDefs, key);
    if (!def || !writable(def)) continue;
    const normalised = attributeValue(def, value, def.name);
    if (normalised !== undefined) out[def.name] = normalised;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PATCH

type OpName = 'add' | 'replace' | 'remove';

interface Target {
  container: Attributes;
  def: AttributeDef;
  path: PatchPath;
  /** The extension object the container is, when it is one; emptied extensions are removed. */
  extensionId?: string;
}

function targetOf(resource: Attributes, path: PatchPath, schema: ResourceSchema, text: string, create: boolean): Target {
  let container = resource;
  let defs = [...COMMON_ATTRIBUTES, ...schema.core.attributes];
  let extensionId: string | undefined;
  if (path.urn) {
    const extension = findExtension(schema, path.urn);
    if (extension) {
      extensionId = extension.id;
      const existing = resource[extension.id];
      if (isObject(existing)) container = existing;
      else {
        container = {};
        if (create) resource[extension.id] = container;
      }
      defs = extension.attributes;
    } else if (path.urn.toLowerCase() !== schema.core.id.toLowerCase()) {
      throw badRequest(`"${text}": unknown schema ${path.urn}`, 'invalidPath');
    }
  }
  const def = findAttribute(defs, path.attr);
  if (!def) throw badRequest(`"${text}": no attribute "${path.attr}" in ${schema.kind}`, 'invalidPath');
  if (!writable(def)) throw badRequest(`"${text}": ${def.name} is read-only`, 'mutability');
  if (def.name === 'id') throw badRequest(`"${text}": id cannot be changed`, 'mutability');
  if (path.sub) {
    const sub = findAttribute(def.subAttributes ?? [], path.sub);
    if (!sub) throw badRequest(`"${text}": no sub-attribute "${path.sub}" in ${def.name}`, 'invalidPath');
    if (!writable(sub)) throw badRequest(`"${text}": ${def.name}.${sub.name} is read-only`, 'mutability');
    // RFC 7644 §3.5.2: a client MUST NOT modify an immutable attribute; every value that a path
    // can reach already has its immutable sub-attributes (a member's value, $ref, type, display).
    if (sub.mutability === 'immutable') throw badRequest(`"${text}": ${def.name}.${sub.name} is immutable; add or remove whole ${def.name} values instead`, 'mutability');
  }
  if (path.filter && !def.multiValued) throw badRequest(`"${text}": a value filter needs a multi-valued attribute`, 'invalidPath');
  if (path.filter) {
    try {
      checkValueFilter(path.filter, def);
    } catch (error) {
      // As a value filter that does not parse (parsePatchPath): the path is what is wrong.
      throw badRequest(`"${text}" has an invalid value filter: ${(error as Error).message}`, 'invalidPath');
    }
  }
  return { container, def, path, ...(extensionId ? { extensionId } : {}) };
}

/** Two values of a multi-valued attribute are the same value when their `value` match (or, without one, when equal). */
function sameValue(def: AttributeDef, a: unknown, b: unknown): boolean {
  if (def.type === 'complex' && isObject(a) && isObject(b) && a.value !== undefined && b.value !== undefined) {
    const exact = findAttribute(def.subAttributes ?? [], 'value')?.caseExact ?? false;
    return exact ? a.value === b.value : String(a.value).toLowerCase() === String(b.value).toLowerCase();
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

function setValue(container: Attributes, name: string, value: unknown): void {
  if (value === undefined) delete container[name];
  else container[name] = value;
}

function subValue(target: Target, raw: unknown, text: string): unknown {
  const sub = findAttribute(target.def.subAttributes ?? [], target.path.sub!)!;
  return raw === null ? undefined : scalar(sub, raw, text);
}

/** Which values of a multi-valued attribute are primary, by identity: the operation may change them in place. */
function primaries(values: unknown): Map<unknown, boolean> {
  return new Map(Array.isArray(values) ? values.map((element) => [element, isObject(element) && element.primary === true]) : []);
}

/**
 * RFC 7644 §3.5.2: an operation that makes a value primary makes every other value of the
 * attribute not primary. The value it made primary is one that was not before; of several, the last.
 */
function demoteOtherPrimaries(values: unknown, before: Map<unknown, boolean>): void {
  if (!Array.isArray(values)) return;
  const made = values.filter((element) => isObject(element) && element.primary === true && before.get(element) !== true);
  const kept = made[made.length - 1];
  if (kept === undefined) return;
  for (const element of values) if (element !== kept && isObject(element) && element.primary === true) element.primary = false;
}

function applyOne(resource: Attributes, op: OpName, path: PatchPath, value: unknown, schema: ResourceSchema, text: string): void {
  const target = targetOf(resource, path, schema, text, op !== 'remove');
  const { container, def } = target;
  const name = def.name;
  const current = container[name];
  const primaryBefore = primaries(current);
  const subName = path.sub ? findAttribute(def.subAttributes ?? [], path.sub)!.name : undefined;

  if (path.filter) {
    const elements = Array.isArray(current) ? current : [];
    const matched = elements.filter((element) => matchesElement(path.filter!, element, def));
    // RFC 7644 §3.12 noTarget: "the specified path ... contains a filter that yields no match".
    if (matched.length === 0) throw badRequest(`"${text}" matches no value`, 'noTarget');
    if (op === 'remove') {
      if (subName) for (const element of matched) delete (element as Attributes)[subName];
      else setValue(container, name, elements.filter((element) => !matched.includes(element)));
    } else if (subName) {
      const next = subValue(target, value, text);
      for (const element of matched) setValue(element as Attributes, subName, next);
    } else {
      const replacement = singleValue(def, value, text);
      setValue(container, name, elements.map((element) => (matched.includes(element) ? replacement : element)));
    }
  } else if (subName) {
    if (op === 'remove') {
      if (Array.isArray(current)) {
        for (const element of current) if (isObject(element)) delete element[subName];
      } else if (isObject(current)) {
        delete current[subName];
      }
    } else if (def.multiValued) {
      if (op === 'add') throw badRequest(`"${text}": add a whole value to ${name}, or select values with a filter`, 'invalidPath');
      const next = subValue(target, value, text);
      for (const element of Array.isArray(current) ? current : []) if (isObject(element)) setValue(element, subName, next);
    } else {
      const object = isObject(current) ? current : {};
      setValue(object, subName, subValue(target, value, text));
      container[name] = object;
    }
  } else if (op === 'remove') {
    if (def.required) throw badRequest(`"${text}": ${name} is required and cannot be removed`, 'invalidValue');
    if (def.multiValued && value !== undefined && value !== null) {
      // Some servers remove chosen values with `{op: remove, path: members, value: [{value: id}]}`.
      const unwanted = attributeValue(def, value, text) as unknown[];
      const kept = (Array.isArray(current) ? current : []).filter((element) => !unwanted.some((u) => sameValue(def, element, u)));
      setValue(container, name, kept);
    } else {
      delete container[name];
    }
  } else {
    const next = attributeValue(def, value, text);
    if (next === undefined && op === 'add') {
      // Adding nothing (null or an empty list) changes nothing.
    } else if (next === undefined) {
      if (def.required) throw badRequest(`"${text}": ${name} is required`, 'invalidValue');
      delete container[name];
    } else if (def.multiValued && op === 'add') {
      const merged = Array.isArray(current) ? [...current] : [];
      for (const item of next as unknown[]) if (!merged.some((existing) => sameValue(def, existing, item))) merged.push(item);
      container[name] = merged;
    } else if (def.type === 'complex' && !def.multiValued && isObject(current)) {
      // Sub-attributes not given are left unchanged (RFC 7644 §3.5.2.1 and §3.5.2.3).
      container[name] = { ...current, ...(next as Attributes) };
    } else {
      container[name] = next;
    }
  }
  demoteOtherPrimaries(container[name], primaryBefore);
  if (Array.isArray(container[name]) && (container[name] as unknown[]).length === 0) delete container[name];
  if (isObject(container[name]) && Object.keys(container[name] as Attributes).length === 0) delete container[name];
  if (target.extensionId && Object.keys(container).length === 0) delete resource[target.extensionId];
}

/** A path-less `add`/`replace`: each key of the value object is a path of its own (RFC 7644 §3.5.2.1). */
function applyWithoutPath(resource: Attributes, op: 'add' | 'replace', value: unknown, schema: ResourceSchema): void {
  if (!isObject(value)) throw badRequest(`an "${op}" without a path needs an object value`, 'invalidValue');
  for (const [key, inner] of Object.entries(value)) {
    if (key.toLowerCase() === 'schemas') continue;
    const extension = findExtension(schema, key);
    if (extension) {
      if (!isObject(inner)) throw badRequest(`${key} must be an object`, 'invalidValue');
      for (const [subKey, subValue] of Object.entries(inner)) {
        const def = findAttribute(extension.attributes, subKey);
        if (def && writable(def)) applyOne(resource, op, { urn: extension.id, attr: def.name }, subValue, schema, `${key}:${subKey}`);
      }
      continue;
    }
    // Keys may carry a schema prefix or a sub-attribute (Entra sends "name.givenName" here).
    let path: PatchPath;
    try {
      path = parsePatchPath(key);
    } catch {
      continue;
    }
    const def = path.urn ? undefined : findAttribute([...COMMON_ATTRIBUTES, ...schema.core.attributes], path.attr);
    // Read-only and unknown attributes in a value object are ignored, as on PUT.
    if (!path.urn && (!def || !writable(def))) continue;
    applyOne(resource, op, path, inner, schema, key);
  }
}

/**
 * Applies a PatchOp request body to a copy of `current` and returns the copy. All operations
 * succeed or none do (RFC 7644 §3.5.2: the PATCH is atomic).
 */
export function applyPatch(current: Attributes, body: unknown, schema: ResourceSchema): Attributes {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object', 'invalidSyntax');
  const schemas = getCaseInsensitive(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP_SCHEMA)) {
    throw badRequest(`a PATCH body needs "schemas": ["${PATCH_OP_SCHEMA}"]`, 'invalidSyntax');
  }
  const operations = getCaseInsensitive(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) throw badRequest('a PATCH body needs a non-empty "Operations" array', 'invalidSyntax');
  const resource = structuredClone(current);
  operations.forEach((operation: unknown, index) => {
    if (!isObject(operation)) throw badRequest(`Operations[${index}] must be an object`, 'invalidSyntax');
    const rawOp = getCaseInsensitive(operation, 'op');
    // Operation names are case-insensitive in practice: Entra ID sends "Replace" and "Add".
    const op = typeof rawOp === 'string' ? rawOp.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw badRequest(`Operations[${index}].op must be "add", "replace" or "remove"`, 'invalidSyntax');
    }
    const rawPath = getCaseInsensitive(operation, 'path');
    const value = getCaseInsensitive(operation, 'value');
    if (rawPath === undefined || rawPath === null || rawPath === '') {
      if (op === 'remove') throw badRequest(`Operations[${index}]: "remove" needs a path`, 'noTarget');
      applyWithoutPath(resource, op, value, schema);
      return;
    }
    if (typeof rawPath !== 'string') throw badRequest(`Operations[${index}].path must be a string`, 'invalidPath');
    if (op !== 'remove' && value === undefined) throw badRequest(`Operations[${index}]: "${op}" needs a value`, 'invalidValue');
    applyOne(resource, op, parsePatchPath(rawPath), value, schema, rawPath);
  });
  return resource;
}
