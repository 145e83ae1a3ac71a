/**
 * Turns ajv's errors into messages for people ("unknown key `emial` in user (allowed: …)",
 * "`active` must be true or false"), each at the node it is about.
 */
import type { JsonSchema, SchemaError } from './schemas.js';
import { fromPointer, show, type PendingIssue } from './issues.js';
import type { PathSegment, YamlFile } from './yaml.js';

const TYPE_NAMES: Record<string, string> = {
  boolean: 'true or false',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  object: 'a mapping (key: value)',
  array: 'a list',
  null: 'null',
};

/** Messages for `pattern` failures, by the name of the property. */
const PATTERN_MESSAGES: Record<string, (value: unknown) => string> = {
  userName: () => '`userName` must not be empty, start or end with spaces, or contain control characters such as tabs',
  displayName: () => '`displayName` must not be empty, start or end with spaces, or contain control characters such as tabs',
  value: (value) => `${show(value)} is not an email address`,
  tokenEnv: () => '`tokenEnv` must be the name of an environment variable (letters, digits and `_`, not starting with a digit), never the token itself',
  maxRemovals: (value) => `\`maxRemovals\` must be a count such as "20" or a percentage such as "25%" (got ${show(value)})`,
  allowedEmailDomains: (value) => `${show(value)} in \`allowedEmailDomains\` is not a domain name such as example.com`,
};

/** `root` names the document in messages: "the configuration", "the identity file". */
export function schemaIssues(errors: readonly SchemaError[], file: YamlFile, schema: JsonSchema, root: string): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    // propertyNames reports the inner failure too (with `propertyName` set); one message is enough.
    if ((error as { propertyName?: string }).propertyName !== undefined) continue;
    const issue = describe(error, file, schema, root);
    const key = `${issue.path.join('/')}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function describe(error: SchemaError, file: YamlFile, schema: JsonSchema, root: string): PendingIssue {
  const path: PathSegment[] = fromPointer(error.instancePath);
  const value = valueAt(file.value, path);
  const field = path.length === 0 ? root : fieldName(path);
  const where = path.length === 0 ? root : noun(path);
  const params = error.params;
  const secret = path[0] === 'targets'; // never echo a value that could be a token or a URL with credentials
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(propertiesAt(schema, path));
      const suggestion = closest(key, allowed);
      return {
        file,
        path: [...path, key],
        at: 'key',
        message:
          // show(): a key can be any YAML node (an explicit `? [...]` key spans lines); keep the message on one line.
          `unknown key ${show(key)} in ${where}` +
          // YAML 1.1's merge key: YAML 1.2, which scimform reads, has none.
          (key === '<<' ? ': YAML merge keys are not supported, write the keys out' : suggestion ? `: did you mean \`${suggestion}\`?` : '') +
          (allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''),
      };
    }
    case 'required':
      return { file, path, message: `${where} is missing \`${String(params.missingProperty)}\`` };
    case 'type': {
      const types = ([] as string[]).concat(params.type as string | string[]);
      const got = secret ? '' : ` (got ${show(value)})`;
      return { file, path, message: `${field} must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(' or ')}${got}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String).join(', ');
      return { file, path, message: `${field} must be one of ${allowed}${secret && path.at(-1) !== 'profile' ? '' : ` (got ${show(value)})`}` };
    }
    case 'const':
      return { file, path, message: `${field} must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern': {
      // An entry of a list (`allowedEmailDomains/0`) takes the message of the list; ajv's paths hold strings.
      const name = /^\d+$/.test(String(path.at(-1))) ? String(path.at(-2)) : String(path.at(-1));
      const specific = PATTERN_MESSAGES[name];
      return { file, path, message: specific ? specific(value) : `${field} does not have the expected form` };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      return { file, path: [...path, name], at: 'key', message: `target name ${show(name)} may contain only letters, digits, \`.\`, \`_\` and \`-\`, starting with a letter or digit` };
    }
    case 'minLength':
      return { file, path, message: `${field} must not be empty` };
    case 'minItems':
      return { file, path, message: path.at(-1) === 'desired' ? '`desired` must list at least one glob of identity files' : `${field} must not be an empty list` };
    case 'minProperties':
      return {
        file,
        path,
        message: path.length === 0 ? 'the file declares neither `users` nor `groups`' : path.at(-1) === 'targets' ? '`targets` must declare at least one target' : `${field} must not be empty`,
      };
    case 'minimum':
      return { file, path, message: `${field} must be at least ${String(params.limit)}` };
    case 'maximum':
      return { file, path, message: `${field} must be at most ${String(params.limit)}` };
    case 'exclusiveMinimum':
      return { file, path, message: `${field} must be greater than ${String(params.limit)}` };
    default:
      return { file, path, message: `${field}: ${error.message ?? error.keyword}` };
  }
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[String(segment)];
  }
  return node;
}

/** How a message names the value at `path`: `active`, `members` entry 3, the file itself. */
function fieldName(path: readonly PathSegment[]): string {
  const last = path.at(-1);
  if (last === undefined) return 'the file';
  if (/^\d+$/.test(String(last))) return `${show(String(path.at(-2)))} entry ${Number(last) + 1}`;
  return show(String(last));
}

/** What kind of thing the mapping at `path` is, for "unknown key `x` in user". */
function noun(path: readonly PathSegment[]): string {
  const [first, second] = path;
  const shape = path.map((s) => (/^\d+$/.test(String(s)) ? '#' : String(s))).join('/');
  const nouns: Record<string, string> = {
    'users/#': 'user',
    'users/#/name': '`name` of a user',
    'users/#/emails/#': 'email',
    'groups/#': 'group',
    policy: 'policy',
    targets: '`targets`',
  };
  if (first === 'targets' && second !== undefined && path.length === 2) return `target ${show(String(second))}`;
  return nouns[shape] || fieldName(path);
}

/**
 * The `properties` of the schema that applies at `path`. Walked from the instance path because
 * ajv's `schemaPath` restarts inside each `$ref`.
 */
function propertiesAt(schema: JsonSchema, path: readonly PathSegment[]): Record<string, unknown> {
  const resolve = (node: JsonSchema | undefined): JsonSchema | undefined => {
    const ref = node?.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
    let target: unknown = schema;
    for (const segment of fromPointer(ref.slice(1))) target = (target as Record<string, unknown> | undefined)?.[segment];
    return resolve(target as JsonSchema | undefined);
  };
  let node = resolve(schema);
  for (const segment of path) {
    const properties = node?.properties as Record<string, JsonSchema> | undefined;
    if (/^\d+$/.test(String(segment)) && node?.items) node = resolve(node.items as JsonSchema);
    else if (properties?.[String(segment)]) node = resolve(properties[String(segment)]);
    else if (typeof node?.additionalProperties === 'object') node = resolve(node.additionalProperties as JsonSchema);
    else return {};
  }
  return (node?.properties as Record<string, unknown> | undefined) ?? {};
}

/** The allowed key closest to a misspelt one (at most two edits), for "did you mean". */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
