/**
 * Random and mutated YAML never crashes the loader: `validateRepository` returns either a valid
 * repository or issues that each name a file, a 1-based line and column inside it, and a one-line
 * message; `loadConfig`/`loadDesiredState` either load or throw a `ScimformError`.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig, loadDesiredState, validateRepository } from '../../src/config/index.js';
import { ScimformError } from '../../src/errors.js';

const EXAMPLE = join(import.meta.dirname, '../../examples/basic');
const CONFIG = readFileSync(join(EXAMPLE, 'scimform.yaml'), 'utf8');
const IDENTITY = readFileSync(join(EXAMPLE, 'identities/engineering.yaml'), 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'scimform-fuzz-'));
mkdirSync(join(dir, 'identities'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Characters that matter to YAML, plus a few that matter to people. */
const yamlChar = fc.constantFrom(':', '-', ' ', '  ', '\n', '\t', '[', ']', '{', '}', '&a', '*a', '!', '!!str', '|', '>', "'", '"', '#', '%', '@', '`', ',', '?', '<<', 'null', '~', 'x', '0', '1e3', 'é', '😀', '\u0000', '\r\n', '\uFEFF');

type Mutation = { kind: 'delete'; at: number; length: number } | { kind: 'insert'; at: number; text: string } | { kind: 'duplicateLine'; at: number } | { kind: 'swapLines'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.array(yamlChar, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('')) }),
  fc.record({ kind: fc.constant('duplicateLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), at: fc.nat() }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let out = text;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === 'delete') out = out.slice(0, at) + out.slice(at + m.length);
    else if (m.kind === 'insert') out = out.slice(0, at) + m.text + out.slice(at);
    else {
      const lines = out.split('\n');
      const i = m.at % lines.length;
      if (m.kind === 'duplicateLine') lines.splice(i, 0, lines[i]!);
      else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
      out = lines.join('\n');
    }
  }
  return out;
}

/** Values shaped a little like identity documents, with wrong types and odd keys mixed in. */
const identityLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue({ maxDepth: 2 }),
    tie('user'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('users', 'groups', 'userName', 'name', 'emails', 'members', 'active', 'externalId', 'displayName', '__proto__', 'constructor'), tie('value'), { maxKeys: 4 }),
  ),
  user: fc.record(
    {
      userName: fc.oneof(fc.emailAddress(), fc.string(), fc.integer()),
      name: fc.oneof(fc.record({ givenName: fc.string(), familyName: fc.string() }), fc.constant(null), fc.string()),
      emails: fc.oneof(fc.array(fc.record({ value: fc.emailAddress(), primary: fc.boolean() }), { maxLength: 2 }), fc.constant(null)),
      active: fc.oneof(fc.boolean(), fc.constantFrom('false', 'False', 0)),
    },
    { requiredKeys: ['userName'] },
  ),
}));

/** The lines an editor shows: a final line break ends the last line rather than starting another. */
function lineCount(text: string): number {
  return text.replace(/(\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/).length;
}

async function checkRepository(config: string, identity: string): Promise<void> {
  writeFileSync(join(dir, 'scimform.yaml'), config);
  writeFileSync(join(dir, 'identities', 'engineering.yaml'), identity);
  const texts: Record<string, string> = { 'scimform.yaml': config, 'identities/engineering.yaml': identity };
  const report = await validateRepository('scimform.yaml', { cwd: dir });
  if (report.issues.length === 0) {
    expect(report.config).toBeDefined();
    expect(report.desired).toBeDefined();
  }
  for (const issue of report.issues) {
    expect(typeof issue.file).toBe('string');
    expect(Number.isInteger(issue.line) && issue.line >= 1).toBe(true);
    expect(Number.isInteger(issue.column) && issue.column >= 1).toBe(true);
    const text = texts[issue.file];
    if (text !== undefined) expect(issue.line).toBeLessThanOrEqual(lineCount(text));
    expect(issue.message.length).toBeGreaterThan(0);
    expect(issue.message).not.toMatch(/[\r\n\u2028\u2029]/);
  }
  // The throwing API agrees: it loads exactly when validate finds nothing, and throws only ScimformError.
  const loaded = await loadConfig('scimform.yaml', { cwd: dir }).then((c) => loadDesiredState(c)).then(
    () => 'loaded' as const,
    (error: unknown) => error,
  );
  if (loaded !== 'loaded') {
    expect(loaded).toBeInstanceOf(ScimformError);
    expect((loaded as Error).message).not.toMatch(/[\r\n\u2028\u2029]/);
  }
  expect(loaded === 'loaded').toBe(report.issues.length === 0);
}

describe('the loader never crashes', () => {
  test('mutated config files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 5 }), async (mutations) => checkRepository(mutate(CONFIG, mutations), IDENTITY)),
      { numRuns: 150 },
    );
  });

  test('mutated identity files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 5 }), async (mutations) => checkRepository(CONFIG, mutate(IDENTITY, mutations))),
      { numRuns: 150 },
    );
  });

  test('a case fuzzing found: a `?` that makes an explicit key spanning lines, which an unknown-key message must show on one line', async () => {
    await checkRepository(CONFIG, mutate(IDENTITY, [{ kind: 'insert', at: 1047369765, text: '?' }, { kind: 'duplicateLine', at: 0 }]));
  });

  test('a case fuzzing found: a repeated empty key on lines that end in CRLF, which a duplicate-key message must not name as the CR', async () => {
    await checkRepository(mutate(CONFIG, [{ kind: 'duplicateLine', at: 0 }, { kind: 'insert', at: 116801504, text: '\n:\r\n' }, { kind: 'duplicateLine', at: 1501349933 }]), IDENTITY);
  });

  test('a case fuzzing found: an alias inside the node it refers to, whose value contains itself', async () => {
    await checkRepository('&x\n  - *x\n', IDENTITY);
  });

  test('a case fuzzing found: a glob that starts with `....`, which the glob library fails on', async () => {
    await checkRepository(':version: 1\ndesired:\n  - identities/*.yaml\n  - ..../:/shared/*.yaml\ntargets:\n  prod:\n    url: https://scim.example.com/scim/v2\n    tokenEnv: SCIM_TOKEN\n', IDENTITY);
  });

  test('a case fuzzing found: a configuration that starts with two byte-order marks, which validate read and plan refused', async () => {
    await checkRepository(`\uFEFF\uFEFF${CONFIG.replace(/#.*$/gm, '').replace(/\n/g, '\r\n')}`, IDENTITY);
  });

  test('a case fuzzing found: a list as a key, with an anchor in it that yaml reads but will not write when it turns the key into text', async () => {
    await checkRepository('[&a\uFEFF]:', IDENTITY);
  });

  test('random documents of identity-like shapes', async () => {
    await fc.assert(
      fc.asyncProperty(identityLike.value, async (value) => checkRepository(CONFIG, stringify(value))),
      { numRuns: 150 },
    );
  });

  test('random text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: yamlChar, maxLength: 60 }), async (noise, yamlish) => {
        await checkRepository(CONFIG, noise);
        await checkRepository(yamlish, IDENTITY);
      }),
      { numRuns: 150 },
    );
  });
});

describe('every message is one line', () => {
  // Values quoted in a message keep their line breaks escaped, so `file:line:col: message` stays one line.
  test.each([
    ['a carriage return as the whole document', '\r'],
    ['a quoted string with a newline as the whole document', '"line one\\nline two"\n'],
  ])('%s', async (_name, identity) => {
    writeFileSync(join(dir, 'scimform.yaml'), CONFIG);
    writeFileSync(join(dir, 'identities', 'engineering.yaml'), identity);
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues.length).toBeGreaterThan(0);
    for (const issue of report.issues) expect(issue.message).not.toMatch(/[\r\n]/);
  });
});
