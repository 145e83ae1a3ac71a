import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import type { Capabilities, DesiredState, LiveState, LiveUser, Policy } from '../../src/model.js';
import type { IdentityFile } from '../../src/model.js';
import { checkGuards, computePlan } from '../../src/plan/index.js';
import {
  assertDigestMatches,
  buildSavedPlan,
  computeDigest,
  jsonErrorOffset,
  readSavedPlan,
  SAVED_PLAN_FORMAT_VERSION,
  writeSavedPlan,
} from '../../src/plan/saved.js';
import type { SavedPlan, TargetPlan } from '../../src/plan/types.js';
import { renderJson } from '../../src/render/index.js';
import { emptyPlan, genericPlan, largePlan, lightstepPlan } from '../render/fixtures.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const files: IdentityFile[] = [
  { path: 'scimform.yaml', sha256: sha('config') },
  { path: 'identities/eng.yaml', sha256: sha('eng') },
  { path: 'identities/ops.yaml', sha256: sha('ops') },
];

function savedPlan(targets = [lightstepPlan(), genericPlan(), emptyPlan()]): SavedPlan {
  return buildSavedPlan({
    digest: computeDigest(files),
    files,
    config: 'scimform.yaml',
    targets,
    scimformVersion: '0.1.0',
    createdAt: '2026-11-29T00:14:00.000Z',
  });
}

const schemaText = await readFile(new URL('../../schemas/plan.schema.json', import.meta.url), 'utf8');
const validate = new Ajv2020({ allErrors: true, strict: true, validateFormats: false }).compile(JSON.parse(schemaText) as object);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scimform-saved-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readError(name: string, content: string): Promise<ScimformError> {
  const path = join(dir, name);
  await writeFile(path, content);
  const error = await readSavedPlan(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ScimformError);
  return error as ScimformError;
}

describe('computeDigest', () => {
  test('is sha256 of sha256sum-style lines sorted by path', () => {
    const expected = sha(
      [`${sha('eng')}  identities/eng.yaml\n`, `${sha('ops')}  identities/ops.yaml\n`, `${sha('config')}  scimform.yaml\n`].join(''),
    );
    expect(computeDigest(files)).toBe(expected);
  });

  test('does not depend on the order the files were read in', () => {
    expect(computeDigest([...files].reverse())).toBe(computeDigest(files));
  });

  test.each([
    ['a file content changes', files.map((file, index) => (index === 1 ? { ...file, sha256: sha('eng v2') } : file))],
    ['a file is renamed', files.map((file, index) => (index === 1 ? { ...file, path: 'identities/engineering.yaml' } : file))],
    ['a file is added', [...files, { path: 'identities/new.yaml', sha256: sha('new') }]],
    ['a file is removed', files.slice(1)],
  ])('changes when %s', (_name, changed) => {
    expect(computeDigest(changed)).not.toBe(computeDigest(files));
  });
});

describe('the saved-plan document', () => {
  test.each([
    ['every operation kind over several targets', () => savedPlan()],
    ['an empty plan', () => savedPlan([emptyPlan()])],
    ['no targets', () => savedPlan([])],
    ['5,000 operations', () => savedPlan([largePlan('big', 5000)])],
  ])('renderJson of %s is valid against the schema', (_name, make) => {
    const document: unknown = JSON.parse(renderJson(make()));
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
  });

  test('renderJson is pretty, ends with a newline and leads with the format version', () => {
    const text = renderJson(savedPlan());
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n').slice(0, 3)).toEqual(['{', `  "formatVersion": ${SAVED_PLAN_FORMAT_VERSION},`, '  "scimformVersion": "0.1.0",']);
  });

  test('renderJson does not depend on the order keys were set in', () => {
    const plan = savedPlan();
    const reversed = JSON.parse(JSON.stringify(plan), (_key, value: unknown) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    ) as SavedPlan;
    expect(renderJson(reversed)).toBe(renderJson(plan));
  });

  test('holds no token, Authorization header or header of any kind', () => {
    const token = 'secret-scim-token-5f1e';
    const env = { LIGHTSTEP_SCIM_TOKEN: token };
    const text = renderJson(savedPlan());
    const keys: string[] = [];
    JSON.parse(text, (key, value: unknown) => {
      keys.push(key);
      return value;
    });
    expect(keys.filter((key) => /authorization|token|bearer|header|secret|password/i.test(key))).toEqual([]);
    expect(text).not.toContain(env.LIGHTSTEP_SCIM_TOKEN);
    expect(text).not.toMatch(/bearer/i);
  });

  test('the schema refuses a request that carries headers', () => {
    const document = JSON.parse(renderJson(savedPlan())) as { targets: { plan: { operations: { requests: object[] }[] } }[] };
    const request = document.targets[0]?.plan.operations[0]?.requests[0];
    Object.assign(request ?? {}, { headers: { Authorization: 'Bearer x' } });
    expect(validate(document)).toBe(false);
  });
});

/** Real plans from `computePlan`, so that the schema keeps up with what planning produces. */
describe('plans computed from desired and live state', () => {
  const source = (line: number) => ({ file: 'identities/people.yaml', line, column: 5 });
  const live = (id: string, userName: string, fields: Partial<LiveUser> = {}): LiveUser => {
    const attributes = { active: true, ...fields };
    return { id, userName, ...attributes, resource: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id, userName, ...attributes } };
  };
  const desired: DesiredState = {
    users: [
      { userName: 'jane@example.com', name: { givenName: 'Jane', familyName: 'Smith' }, source: source(1) },
      { userName: 'b@example.com', externalId: 'E9', source: source(5) },
      { userName: 'new@example.com', emails: [{ value: 'new@example.com', type: 'work', primary: true }], source: source(9) },
      { userName: 'back@example.com', source: source(12) },
      { userName: 'leaving@example.com', active: false, source: source(14) },
      // Held by u2, which this plan renames to b@example.com: a follow-up for the next plan.
      { userName: 'a@example.com', source: source(16) },
    ],
    groups: [
      { displayName: 'Admins', members: ['jane@example.com', 'new@example.com'], memberSources: [source(21), source(22)], source: source(20) },
      { displayName: 'Ops', members: ['jane@example.com'], memberSources: [source(26)], source: source(25) },
    ],
    files,
  };
  const liveState: LiveState = {
    users: [
      live('u1', 'jane@example.com', { name: { givenName: 'Jane', familyName: 'Doe' }, version: 'W/"1"' }),
      live('u2', 'a@example.com', { externalId: 'E9' }),
      live('u3', 'back@example.com', { active: false }),
      live('u4', 'leaving@example.com'),
      live('u5', 'old@example.com'),
      live('u6', 'older@example.com'),
    ],
    groups: [
      { id: 'g1', displayName: 'Admins', members: ['u5'], resource: { id: 'g1', displayName: 'Admins', members: [{ value: 'u5' }] } },
      { id: 'g2', displayName: 'Legacy', members: [], resource: { id: 'g2', displayName: 'Legacy', members: [] } },
    ],
  };
  const policy: Policy = {
    unmanagedUsers: 'delete',
    unmanagedGroups: 'delete',
    allowDelete: true,
    maxRemovals: { kind: 'count', value: 1, text: '1' },
    protectedUsers: [],
    sources: { unmanagedUsers: { file: 'scimform.yaml', line: 9, column: 3 } },
  };
  const capabilities = (groupsWritable: boolean): Capabilities => ({
    patch: true,
    filter: true,
    etag: true,
    bulk: false,
    groupsWritable,
    usersDeletable: true,
    pagination: 'index',
    memberRemoval: 'path-filter',
    updateMethod: 'patch',
    maxMembersPerPatch: 100,
  });
  const targetPlan = (groupsWritable: boolean): TargetPlan => {
    const plan = computePlan(desired, liveState, policy, capabilities(groupsWritable));
    return {
      target: { name: groupsWritable ? 'generic' : 'lightstep', url: 'http://127.0.0.1:1/scim/v2', profile: groupsWritable ? 'generic' : 'lightstep' },
      capabilities: capabilities(groupsWritable),
      fetch: { users: liveState.users.length, groups: liveState.groups.length, pages: 2, requests: 2, durationMs: 12 },
      plan,
      violations: checkGuards(plan, policy, desired, liveState, { allowMassRemoval: false }),
    };
  };

  test.each([
    ['writable groups', true],
    ['read-only groups', false],
  ])('with %s are valid against the schema and read back', async (name, groupsWritable) => {
    const target = targetPlan(groupsWritable);
    expect(target.plan.operations.length).toBeGreaterThan(5);
    expect(target.plan.operations).toContainEqual(expect.objectContaining({ kind: 'manual', followUp: { userName: 'a@example.com' } }));
    const saved = savedPlan([target]);
    expect(validate(JSON.parse(renderJson(saved))), JSON.stringify(validate.errors)).toBe(true);
    const path = join(dir, `computed-${groupsWritable ? 'generic' : 'lightstep'}.json`);
    await writeSavedPlan(path, saved);
    expect(await readSavedPlan(path)).toEqual(JSON.parse(renderJson(saved)));
  });
});

describe('the schema', () => {
  type Json = Record<string, unknown>;
  const schema = JSON.parse(schemaText) as Json;
  const defs = schema.$defs as Record<string, Json>;
  const resolve = (node: Json): Json => (typeof node.$ref === 'string' ? { ...defs[node.$ref.replace('#/$defs/', '')], ...node } : node);

  test('describes every property', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== 'object') return;
      const object = node as Json;
      if (object.properties && typeof object.properties === 'object') {
        for (const [name, property] of Object.entries(object.properties as Record<string, Json>)) {
          if (typeof resolve(property).description !== 'string') undescribed.push(`${where}/${name}`);
        }
      }
      // An `if` only tests a value; its properties are not properties of the document.
      for (const [key, child] of Object.entries(object)) if (key !== 'if') walk(child, `${where}/${key}`);
    };
    walk(schema, '#');
    expect(undescribed).toEqual([]);
  });

  type Operations = { kind: string; [key: string]: unknown }[];
  const operationsOf = (document: unknown): Operations =>
    (document as { targets: { plan: { operations: Operations } }[] }).targets.flatMap((target) => target.plan.operations);

  const kinds = [...new Set(operationsOf(JSON.parse(renderJson(savedPlan()))).map((operation) => operation.kind))].sort();

  test('the fixtures cover every operation kind', () => {
    expect(kinds).toEqual(['createGroup', 'createUser', 'deactivateUser', 'deleteGroup', 'deleteUser', 'manual', 'reactivateUser', 'updateGroupMembers', 'updateUser']);
  });

  const mutations: [string, (operation: Operations[number]) => void][] = [
    ['without provenance', (operation) => delete operation.provenance],
    ['without its key', (operation) => delete operation.key],
    ['with an unknown property', (operation) => (operation.comment = 'x')],
    ['with an unknown kind', (operation) => (operation.kind = 'renameUser')],
    ['with a provenance of the wrong shape', (operation) => (operation.provenance = { kind: 'policy', location: { file: 'a', line: 1, column: 1 } })],
  ];
  test.each(kinds.flatMap((kind) => mutations.map(([what, mutate]) => [kind, what, mutate] as const)))(
    'refuses a %s operation %s',
    (kind, _what, mutate) => {
      const document: unknown = JSON.parse(renderJson(savedPlan()));
      const operation = operationsOf(document).find((candidate) => candidate.kind === kind);
      if (operation === undefined) throw new Error(`no ${kind} in the fixtures`);
      mutate(operation);
      expect(validate(document)).toBe(false);
    },
  );

  test.each([
    ['createUser', 'changes'],
    ['updateUser', 'fingerprint'],
    ['reactivateUser', 'id'],
    ['deactivateUser', 'changes'],
    ['deleteUser', 'fingerprint'],
    ['createGroup', 'members'],
    ['updateGroupMembers', 'remove'],
    ['deleteGroup', 'id'],
    ['manual', 'reason'],
  ])('refuses a %s operation without %s', (kind, field) => {
    const document: unknown = JSON.parse(renderJson(savedPlan()));
    const operation = operationsOf(document).find((candidate) => candidate.kind === kind);
    delete operation?.[field];
    expect(validate(document)).toBe(false);
  });
});

describe('writeSavedPlan and readSavedPlan', () => {
  test('a written plan reads back equal, private to its owner, with no temporary file left', async () => {
    const path = join(dir, 'roundtrip.json');
    await writeFile(path, 'an older plan');
    const saved = savedPlan();
    await writeSavedPlan(path, saved);
    expect(await readSavedPlan(path)).toEqual(JSON.parse(renderJson(saved)));
    expect(await readFile(path, 'utf8')).toBe(renderJson(saved));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  test('writing into a missing folder says so', async () => {
    const error = await writeSavedPlan(join(dir, 'missing', 'plan.json'), savedPlan()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as ScimformError).message).toMatch(/cannot write the saved plan to .*missing.*ENOENT/);
  });

  test('a plan that does not match the schema is never written', async () => {
    const broken = { ...savedPlan(), digest: 'not a digest' };
    await expect(writeSavedPlan(join(dir, 'broken.json'), broken)).rejects.toThrow(/does not match schemas\/plan\.schema\.json.*\/digest/);
    await expect(stat(join(dir, 'broken.json'))).rejects.toThrow();
  });

  test('a byte-order mark added by an editor is accepted', async () => {
    const path = join(dir, 'bom.json');
    await writeFile(path, `\ufeff${renderJson(savedPlan())}`);
    expect((await readSavedPlan(path)).formatVersion).toBe(1);
  });

  test('a missing file says what to do', async () => {
    const error = await readSavedPlan(join(dir, 'nope.json')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as ScimformError).message).toMatch(/saved plan .*nope\.json does not exist/);
    expect((error as ScimformError).hint).toMatch(/scimform plan --out/);
  });

  const valid = () => JSON.parse(renderJson(savedPlan())) as Record<string, unknown>;
  test.each([
    ['truncated JSON', renderJson(savedPlan()).slice(0, 40), /is not valid JSON at position 40 \(line 3, column 17\)/],
    ['a stray brace', '{"formatVersion": 1,}', /is not valid JSON at position 20 \(line 1, column 21\)/],
    ['YAML instead of JSON', 'formatVersion: 1\n', /is not valid JSON at position 1 \(line 1, column 2\)/],
    ['an array', '[]', /is not a scimform plan \(it has no formatVersion\)/],
    ['another JSON document', '{"name": "scimform", "version": "0.1.0"}', /is not a scimform plan \(it has no formatVersion\)/],
    ['a newer format', JSON.stringify({ ...valid(), formatVersion: 2, somethingNew: true }), /was written by a newer scimform \(format 2\)/],
    ['a nonsense format', JSON.stringify({ ...valid(), formatVersion: 'one' }), /is not a scimform plan \(unknown formatVersion "one"\)/],
    ['a missing digest', JSON.stringify({ ...valid(), digest: undefined }), /is not a valid scimform plan: the document must have required property 'digest'/],
    [
      'an operation of an unknown kind',
      JSON.stringify(valid()).replace('"kind":"createUser"', '"kind":"createUsers"'),
      /is not a valid scimform plan: \/targets\/0\/plan\/operations\/0\/kind must be equal to one of the allowed values: "createUser"/,
    ],
    [
      'a digest that does not match its file list',
      JSON.stringify({ ...valid(), digest: sha('something else') }),
      /its digest does not match the file hashes it lists/,
    ],
  ])('%s is refused with a clear message', async (name, content, message) => {
    const error = await readError(`${name.replace(/\W+/g, '-')}.json`, content);
    expect(error.message).toMatch(message);
    expect(error.hint).toBeTruthy();
  });

  test('a newer format tells the person to upgrade', async () => {
    const error = await readError('newer.json', JSON.stringify({ ...valid(), formatVersion: 2 }));
    expect(error.hint).toMatch(/Upgrade scimform/);
  });
});

describe('assertDigestMatches', () => {
  const saved = savedPlan();
  const edit = (path: string) => files.map((file) => (file.path === path ? { ...file, sha256: sha(`${path} v2`) } : file));

  test('accepts the files the plan was made from, in any order', () => {
    expect(() => assertDigestMatches(saved, [...files].reverse())).not.toThrow();
  });

  test.each([
    ['one file changed', edit('identities/eng.yaml'), 'saved plan is stale: identities/eng.yaml changed since the plan was made'],
    ['the config changed', edit('scimform.yaml'), 'saved plan is stale: scimform.yaml changed since the plan was made'],
    ['a file was added', [...files, { path: 'identities/new.yaml', sha256: sha('new') }], 'saved plan is stale: identities/new.yaml is new since the plan was made'],
    ['a file was removed', files.filter((file) => file.path !== 'identities/ops.yaml'), 'saved plan is stale: identities/ops.yaml was removed since the plan was made'],
    [
      'several things happened',
      [...edit('identities/eng.yaml').filter((file) => file.path !== 'identities/ops.yaml'), { path: 'identities/a.yaml', sha256: sha('a') }],
      'saved plan is stale: identities/eng.yaml changed, identities/a.yaml is new, identities/ops.yaml was removed since the plan was made',
    ],
  ])('names the files when %s', (_name, now, message) => {
    expect(() => assertDigestMatches(saved, now)).toThrow(message);
  });

  test('a plan without its file list still refuses, without naming files', () => {
    const { files: _files, ...withoutFiles } = saved;
    expect(() => assertDigestMatches(withoutFiles, edit('identities/eng.yaml'))).toThrow(
      'saved plan is stale: the configuration or identity files changed since the plan was made',
    );
  });

  test('many changed files are summarised', () => {
    const many = Array.from({ length: 8 }, (_, index) => ({ path: `identities/t${index}.yaml`, sha256: sha(String(index)) }));
    const plan = savedPlan();
    const then = { ...plan, files: many, digest: computeDigest(many) };
    expect(() => assertDigestMatches(then, many.map((file) => ({ ...file, sha256: sha(file.path) })))).toThrow(
      'identities/t0.yaml, identities/t1.yaml, identities/t2.yaml, identities/t3.yaml, identities/t4.yaml and 3 more changed',
    );
  });
});

describe('jsonErrorOffset', () => {
  test.each([
    ['{"a":}', 5],
    ['{"a":1', 6],
    ['', 0],
    ['{"a":1}x', 7],
    ['[1,,2]', 3],
    ['{"a":01}', 6],
    ['"tab\there"', 4],
    ['{"a":"\\x"}', 7],
    ['nul', 3],
    ['[1, 2, 3]', 9],
  ])('%j fails at %i', (text, offset) => {
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  test('agrees with JSON.parse where Node reports a position', () => {
    for (const text of ['{"a":1', '{"a":1}x', '[1 2]', '{"a" 1}']) {
      const message = (() => {
        try {
          JSON.parse(text);
          return '';
        } catch (error) {
          return (error as Error).message;
        }
      })();
      const reported = /position (\d+)/.exec(message)?.[1];
      if (reported !== undefined) expect(jsonErrorOffset(text)).toBe(Number(reported));
    }
  });
});
