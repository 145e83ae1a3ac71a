import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument, stringify } from 'yaml';
import { describe, expect, test } from 'vitest';
import type { SourceLocation } from '../../src/errors.js';
import type { MemberSources } from '../../src/model.js';
import { parseYamlFast, unpackPosition } from '../../src/config/fast-yaml.js';
import { parseYaml, type YamlFile } from '../../src/config/yaml.js';

/** A sequence's item locations as `itemLocations` gives them, expanded to locations. */
function expand(sources: MemberSources): SourceLocation[] {
  return 'positions' in sources ? sources.positions.map((position) => ({ file: sources.file, ...unpackPosition(position) })) : [...sources];
}

/** Every sequence in `value` with the location of each item, as a file reports them (one at a time, then all at once). */
function itemLocations(file: YamlFile): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) {
      const all = expand(file.itemLocations(value));
      value.forEach((item, i) => {
        const { line, column } = file.itemLocation(value, i);
        found.push(`${path}/${i} ${line}:${column} ${all[i]?.file}:${all[i]?.line}:${all[i]?.column}`);
        walk(item, `${path}/${i}`);
      });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, `${path}/${key}`);
    }
  };
  walk(file.value, '');
  return found;
}

function parseBoth(text: string) {
  const fast = parseYaml(text, 'f.yaml');
  const full = parseYaml(text, 'f.yaml', { fast: false });
  if (!fast.ok || !full.ok) throw new Error('expected both parses to succeed');
  return { fast: fast.file, full: full.file };
}

/** Files the fast reader accepts: it must read them exactly as the `yaml` package does, positions included. */
const accepted: [name: string, text: string][] = [
  ['block users with compact mappings', 'users:\n  - userName: a@example.com\n    name:\n      givenName: A\n      familyName: B\n    active: false\n  - userName: b@example.com\n'],
  ['a sequence at the same indentation as its key', 'users:\n- userName: a@example.com\n- userName: b@example.com\ngroups:\n- displayName: G\n  members:\n  - a@example.com\n'],
  ['flow mappings and sequences', 'users:\n  - userName: a@example.com\n    name: { givenName: A, familyName: "B" }\n    emails:\n      - { value: a@example.com, type: work, primary: true }\ngroups:\n  - { displayName: G, members: [a@example.com, "b@example.com", \'c\'] }\n'],
  ['comments and blank lines everywhere', '# head\n\nusers: # trailing\n\n  # between\n  - userName: a@example.com # after\n\n    displayName: A#1 # hash inside a word stays\n'],
  ['nulls, booleans and integers of the core schema', 'a: ~\nb: null\nc:\nd: NULL\ne: True\nf: FALSE\ng: 42\nh: -7\ni: +3\nj: 0\n'],
  ['strings that only look special', 'a: yes\nb: on\nc: http://example.com/x\nd: a: b\n'.replace('d: a: b\n', 'd: key:value\n')],
  ['quoted strings', `a: "it is # not a comment"\nb: 'it''s'\nc: ""\nd: ''\ne: "x: y"\n`],
  ['empty flow collections', 'users: []\ngroups: [ ]\nx: {}\n'],
  ['nested sequences', 'a:\n  - - x\n    - y\n  -\n    - z\n  - [p, q]\n'],
  ['an item on the next line', 'users:\n  -\n    userName: a@example.com\n'],
  ['empty items', 'members:\n  - a\n  - # commented out\n  -\n  - b\n'],
];

/** Files outside the fast reader's subset: it must decline them, and the full parser reads them. */
const declined: [name: string, text: string][] = [
  ['anchors and aliases', 'a: &x [1]\nb: *x\n'],
  ['tags', 'a: !!str 1\n'],
  ['literal block scalars', 'a: |\n  text\n'],
  ['folded block scalars', 'a: >\n  text\n'],
  ['multi-line plain scalars', 'a: one\n  two\n'],
  ['escapes in double quotes', 'a: "tab\\there"\n'],
  ['floats', 'a: 1.5\n'],
  ['octal-looking integers', 'a: 0123\n'],
  ['dates', 'a: 2024-01-01\n'],
  ['document markers', '---\na: 1\n'],
  ['CRLF line ends', 'a: 1\r\nb: 2\r\n'],
  ['tabs', 'a:\tb\n'],
  ['a byte-order mark', '\ufeffa: 1\n'],
  ['duplicate keys', 'a: 1\na: 2\n'],
  ['duplicate keys in a flow mapping', 'a: { b: 1, b: 2 }\n'],
  ['complex keys', '? a\n: b\n'],
  ['merge keys', 'a: { b: 1 }\nc:\n  <<: { d: 1 }\n'],
  ['reserved words as keys', 'true: 1\n'],
  ['quoted keys', '"a": 1\n'],
  ['flow collections over several lines', 'a: [1,\n  2]\n'],
  ['trailing commas', 'a: [1, 2, ]\n'],
  ['leading commas', 'a: [, 1]\n'],
  ['empty flow values', 'a: { b: , c: 1 }\n'],
  ['a mapping value on a sequence line', 'a: - b\n'],
  ['a plain scalar ending in a colon', 'a: b:\n'],
  ['odd indentation', 'a:\n    b: 1\n  c: 2\n'],
  ['a scalar document', 'just text\n'],
  ['comments only', '# nothing\n'],
];

describe('the fast reader agrees with the yaml package', () => {
  test.each(accepted)('%s', (_name, text) => {
    expect(parseYamlFast(text)).toBeDefined();
    const { fast, full } = parseBoth(text);
    expect(fast.value).toEqual(full.value);
    expect(fast.value).toEqual(parseDocument(text).toJS());
    expect(itemLocations(fast)).toEqual(itemLocations(full));
  });

  test.each(declined)('declines %s', (_name, text) => {
    expect(parseYamlFast(text)).toBeUndefined();
  });

  test('on generated files: whatever it accepts, yaml reads without errors and to the same value', () => {
    const scalar = fc.oneof(
      fc.stringMatching(/^[a-zA-Z0-9 :#@.,'"\[\]{}&*!|>%~-]{0,12}$/),
      fc.constantFrom('true', 'False', 'null', '~', '12', '-3', '0', '1.5', "'it''s'", '"q"', '[a, b]', '{ k: v }', 'a #c', 'a: b'),
    );
    const line = fc.tuple(fc.constantFrom('  - userName: ', '    displayName: ', '    members: ', '  - ', '    x: '), scalar).map(([head, value]) => head + value);
    const file = fc.array(line, { minLength: 1, maxLength: 6 }).map((lines) => `users:\n${lines.join('\n')}\n`);
    fc.assert(
      fc.property(file, (text) => {
        const fast = parseYamlFast(text);
        if (fast === undefined) return true;
        const doc = parseDocument(text, { uniqueKeys: true });
        return doc.errors.length === 0 && isDeepStrictEqual(fast.value, doc.toJS());
      }),
      { numRuns: 2000 },
    );
  });
});

describe('files written by the yaml package itself (as `import` writes them)', () => {
  test('are read to the same value and positions, or declined', () => {
    const text = fc.string({ maxLength: 10 });
    const user = fc.record(
      {
        userName: text,
        externalId: fc.oneof(text, fc.constant(null)),
        name: fc.record({ givenName: text, familyName: fc.oneof(text, fc.constant(null)) }, { requiredKeys: [] }),
        emails: fc.array(fc.record({ value: text, type: fc.constantFrom('work', 'home'), primary: fc.boolean() }, { requiredKeys: ['value'] }), { maxLength: 2 }),
        active: fc.boolean(),
      },
      { requiredKeys: ['userName'] },
    );
    const group = fc.record({ displayName: text, members: fc.array(text, { maxLength: 3 }) });
    const document = fc.record({ users: fc.array(user, { maxLength: 3 }), groups: fc.array(group, { maxLength: 2 }) });
    const options = fc.record({ indentSeq: fc.boolean(), flowCollectionPadding: fc.boolean(), collectionStyle: fc.constantFrom('any', 'block', 'flow') as fc.Arbitrary<'any' | 'block' | 'flow'> });
    let accepted = 0;
    fc.assert(
      fc.property(document, options, (value, opts) => {
        const yamlText = stringify(value, opts);
        if (parseYamlFast(yamlText) === undefined) return true;
        accepted++;
        const { fast, full } = parseBoth(yamlText);
        return isDeepStrictEqual(fast.value, full.value) && isDeepStrictEqual(itemLocations(fast), itemLocations(full));
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100); // the fast path is actually exercised
  });
});

/**
 * Random edits of an example file: whatever the fast reader still accepts, yaml must read without
 * errors and to the same value.
 */
async function survivesEdits(example: string, alphabet: RegExp, numRuns: number): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const original = await readFile(new URL(`../../examples/basic/${example}`, import.meta.url), 'utf8');
  const edit = fc.record({ at: fc.nat({ max: original.length }), remove: fc.nat({ max: 3 }), insert: fc.stringMatching(alphabet) });
  fc.assert(
    fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
      let text = original;
      for (const { at, remove, insert } of edits) text = text.slice(0, at) + insert + text.slice(at + remove);
      const fast = parseYamlFast(text);
      if (fast === undefined) return true;
      const doc = parseDocument(text, { uniqueKeys: true });
      return doc.errors.length === 0 && isDeepStrictEqual(fast.value, doc.toJS());
    }),
    { numRuns },
  );
}

describe('configurations', () => {
  // The configuration takes the fast reader too: nested mappings, quoted scalars, flow sequences.
  test('generated ones are read to the same value as yaml reads them, or declined', () => {
    const word = fc.stringMatching(/^[a-z][a-zA-Z0-9_-]{0,8}$/);
    const value = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.integer({ min: -1000, max: 100000 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    );
    const target = fc.record({ url: fc.webUrl(), tokenEnv: word, profile: fc.constantFrom('generic', 'lightstep'), concurrency: fc.nat({ max: 64 }), pageSize: fc.nat({ max: 1000 }) }, { requiredKeys: ['url'] });
    const document = fc.record({
      version: fc.constant(1),
      desired: fc.array(fc.constantFrom('identities/**/*.yaml', 'people/*.yaml', '*.yml'), { minLength: 1, maxLength: 2 }),
      targets: fc.dictionary(word, target, { minKeys: 1, maxKeys: 3 }),
      policy: fc.dictionary(word, value, { maxKeys: 5 }),
    });
    const options = fc.record({ indent: fc.integer({ min: 1, max: 4 }), indentSeq: fc.boolean(), flowCollectionPadding: fc.boolean(), collectionStyle: fc.constantFrom('any', 'block', 'flow') as fc.Arbitrary<'any' | 'block' | 'flow'> });
    let accepted = 0;
    fc.assert(
      fc.property(document, options, (config, opts) => {
        const text = stringify(config, opts);
        const fast = parseYamlFast(text);
        if (fast === undefined) return true;
        accepted++;
        const doc = parseDocument(text, { uniqueKeys: true });
        return doc.errors.length === 0 && isDeepStrictEqual(fast.value, doc.toJS());
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100); // the fast path is actually exercised
  });

  test('whatever the fast reader accepts of the example configuration after random edits, yaml reads to the same value', async () => {
    await survivesEdits('scimform.yaml', /^[ \n:#\-'"\[\]{},&*!|>%a-z0-9]{0,3}$/, 2000);
  });
});

describe('damaged files', () => {
  test('whatever the fast reader accepts after random edits, yaml reads without errors and to the same value', async () => {
    await survivesEdits('identities/engineering.yaml', /^[ \n:#\-'"\[\]{},&*!|>a-z0-9]{0,3}$/, 3000);
  });
});

describe('the YAML version', () => {
  const body = 'users:\n  - &jane\n    userName: jane@example.com\n    active: off\n  - <<: *jane\n    userName: john@example.com\n';

  test.each([
    ['%YAML 1.1 (merge keys, `off` as false)', `%YAML 1.1\n---\n${body}`, 1, '1.1'],
    ['%YAML 1.1 after a comment', `# people\n%YAML 1.1\n---\n${body}`, 2, '1.1'],
    ['a version yaml does not know', `%YAML 1.3\n---\n${body}`, 1, '1.3'],
  ])('%s is refused where the directive is, by either reader', (_name, text, line, version) => {
    for (const fast of [true, false]) {
      for (const kind of ['identities', 'config'] as const) {
        expect(parseYaml(text, 'a.yaml', { fast, kind })).toEqual({
          ok: false,
          issues: [{ file: 'a.yaml', line, column: 1, path: '', message: expect.stringContaining(`\`%YAML ${version}\` asks for YAML ${version}, which scimform does not read: every file is YAML 1.2`) }],
        });
      }
    }
  });

  test.each([
    ['no directive', body],
    ['%YAML 1.2', `%YAML 1.2\n---\n${body}`],
  ])('with %s, a file is YAML 1.2: `<<` is a key like any other and `off` a string', (_name, text) => {
    const parsed = parseYaml(text, 'a.yaml', { fast: false });
    if (!parsed.ok) throw new Error('parse failed');
    expect(parsed.file.value).toEqual({
      users: [
        { userName: 'jane@example.com', active: 'off' },
        { '<<': { userName: 'jane@example.com', active: 'off' }, userName: 'john@example.com' },
      ],
    });
  });
});

describe('locations', () => {
  const text = 'users:\n  - userName: a@example.com\n    active:\n    emails:\n      - { value: a@example.com, primary: true }\n';

  test.each([
    [['users', 0], undefined, 2, 5],
    [['users', 0, 'userName'], undefined, 2, 15],
    [['users', 0, 'userName'], 'key', 2, 5],
    [['users', 0, 'active'], undefined, 3, 5], // `active:` with no value: the key
    [['users', 0, 'emails', 0, 'primary'], undefined, 5, 42],
    [['users', 0, 'missing', 'deeper'], undefined, 2, 5], // the nearest node that exists
  ] as const)('%j (%s) is at %i:%i, by either reader and by the file\'s locator alone', (path, at, line, column) => {
    for (const fast of [true, false]) {
      const parsed = parseYaml(text, 'identities/a.yaml', { fast });
      if (!parsed.ok) throw new Error('parse failed');
      expect(parsed.file.locate(path, at)).toEqual({ file: 'identities/a.yaml', line, column });
      expect(parsed.file.locator.locate(path, at)).toEqual({ file: 'identities/a.yaml', line, column });
      expect(parsed.file.locator.path).toBe('identities/a.yaml');
    }
  });
});

describe('scale', () => {
  test('a large file is read in linear time (each scalar is searched for on its own line only)', () => {
    let text = 'users:\n';
    for (let i = 0; i < 20000; i++) text += `  - userName: user${i}@example.com\n    name: { givenName: Given${i}, familyName: "Family ${i}" }\n`;
    const started = performance.now();
    const parsed = parseYaml(text, 'big.yaml');
    const elapsed = performance.now() - started;
    expect(parsed.ok && (parsed.file.value as { users: unknown[] }).users.length).toBe(20000);
    expect(parsed.ok && parsed.file.itemLocation((parsed.file.value as { users: unknown[] }).users, 19999)).toEqual({ file: 'big.yaml', line: 40000, column: 5 });
    // Linear is ~0.2 s here; a search to the end of the file per scalar takes minutes.
    expect(elapsed).toBeLessThan(5000);
  });
});
