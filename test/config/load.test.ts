import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ScimformError, ValidationError } from '../../src/errors.js';
import { inScope, loadConfig, loadDesiredState, selectTargets, validateRepository } from '../../src/config/index.js';
import { checkUrl, globProblem, parseRemovalLimit } from '../../src/config/config.js';
import { unpackPosition } from '../../src/config/fast-yaml.js';
import { EMAIL_ADDRESS } from '../../src/config/identities.js';
import type { MemberSources } from '../../src/model.js';
import { repository } from './repo.js';


const CONFIG = `version: 1
desired:
  - identities/*.yaml
targets:
  lightstep:
    url: https://api.lightstep.com/scim/v2/
    tokenEnv: LIGHTSTEP_SCIM_TOKEN
    profile: lightstep
    pageSize: 100
  local:
    url: http://localhost:8787/scim/v2
    tokenEnv: SCIMFORM_TOKEN
policy:
  unmanagedUsers: deactivate
  maxRemovals: 20
  scope: "*@Example.com"
  protectedUsers: [BreakGlass@Example.com]
  allowedEmailDomains: [Example.COM]
`;

const PEOPLE = `users:
  - userName: carol@example.com
    externalId: null
    name: { givenName: Carol, familyName: null }
  - userName: dave@example.com
    active: false
    emails:
      - { value: dave@example.com, type: work, primary: true }
  - userName: breakglass@example.com
groups:
  - displayName: Admins
    externalId: G-1
    members: [carol@example.com, Dave@example.com]
  - displayName: Empty
    members: []
  - displayName: Unmanaged
`;

describe('loadConfig', () => {
  test('applies defaults, normalises, and records where things are declared', async () => {
    const dir = await repository({ files: { 'scimform.yaml': CONFIG } });
    const config = await loadConfig('scimform.yaml', { cwd: dir });
    expect(config).toEqual({
      file: join(dir, 'scimform.yaml'),
      dir,
      version: 1,
      desired: ['identities/*.yaml'],
      targets: [
        {
          name: 'lightstep',
          url: 'https://api.lightstep.com/scim/v2',
          tokenEnv: 'LIGHTSTEP_SCIM_TOKEN',
          profile: 'lightstep',
          pageSize: 100,
          concurrency: 4,
          timeoutSeconds: 30,
          source: { file: 'scimform.yaml', line: 5, column: 3 },
        },
        { name: 'local', url: 'http://localhost:8787/scim/v2', tokenEnv: 'SCIMFORM_TOKEN', profile: 'generic', concurrency: 4, timeoutSeconds: 30, source: { file: 'scimform.yaml', line: 10, column: 3 } },
      ],
      policy: {
        unmanagedUsers: 'deactivate',
        unmanagedGroups: 'ignore',
        allowDelete: false,
        maxRemovals: { kind: 'count', value: 20, text: '20' },
        scope: '*@Example.com',
        protectedUsers: ['breakglass@example.com'],
        allowedEmailDomains: ['example.com'],
        sources: {
          unmanagedUsers: { file: 'scimform.yaml', line: 14, column: 3 },
          maxRemovals: { file: 'scimform.yaml', line: 15, column: 3 },
          scope: { file: 'scimform.yaml', line: 16, column: 3 },
          protectedUsers: { file: 'scimform.yaml', line: 17, column: 3 },
        },
      },
    });
  });

  test('finds where targets and policy settings are declared whether or not the fast reader takes the file', async () => {
    // The fast reader takes CONFIG and positions are found when first read; a document marker
    // sends the file to the full parser. Both must name the same keys.
    const fast = await loadConfig('scimform.yaml', { cwd: await repository({ files: { 'scimform.yaml': CONFIG } }) });
    const full = await loadConfig('scimform.yaml', { cwd: await repository({ files: { 'scimform.yaml': `---\n${CONFIG}` } }) });
    const shifted = (location: { file: string; line: number; column: number } | undefined) => location && { ...location, line: location.line + 1 };
    expect(full.targets.map((target) => target.source)).toEqual(fast.targets.map((target) => shifted(target.source)));
    expect(Object.keys(full.policy.sources)).toEqual(Object.keys(fast.policy.sources));
    for (const key of Object.keys(fast.policy.sources) as (keyof typeof fast.policy.sources)[]) {
      expect(full.policy.sources[key]).toEqual(shifted(fast.policy.sources[key]));
    }
    // Read twice, located once: the same object, and from then on a plain property.
    expect(fast.targets[0]!.source).toBe(fast.targets[0]!.source);
    expect(Object.getOwnPropertyDescriptor(fast.targets[0], 'source')).toMatchObject({ writable: true, enumerable: true });
    // A caller may still set them, read or not.
    const elsewhere = { file: 'elsewhere.yaml', line: 1, column: 1 };
    fast.targets[1]!.source = elsewhere;
    fast.policy.sources.maxRemovals = elsewhere;
    expect([fast.targets[1]!.source, fast.policy.sources.maxRemovals]).toEqual([elsewhere, elsewhere]);
  });

  test('throws every problem at once, sorted by line', async () => {
    const dir = await repository({ config: 'several-problems.yaml' });
    const error = await loadConfig('scimform.yaml', { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      '5:10 /targets/prod/url',
      '7:18 /targets/prod/concurrency',
      '9:20 /policy/unmanagedGroups',
      '10:16 /policy/allowDelete',
    ]);
  });

  test('a missing file is a ScimformError with a hint, not a validation issue', async () => {
    const dir = await repository({});
    const error = await loadConfig('missing.yaml', { cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimformError);
    expect(error).not.toBeInstanceOf(ValidationError);
    expect((error as ScimformError).hint).toBe('Run scimform in the folder that holds scimform.yaml, or pass --config FILE.');
  });
});

describe('loadDesiredState', () => {
  test('merges the identity files, keeping absent attributes absent and explicit nulls', async () => {
    const dir = await repository({ files: { 'scimform.yaml': CONFIG, 'identities/people.yaml': PEOPLE } });
    const desired = await loadDesiredState(await loadConfig('scimform.yaml', { cwd: dir }));
    expect(desired.users).toEqual([
      { userName: 'alice@example.com', externalId: 'E-1', name: { givenName: 'Alice', familyName: 'Archer' }, source: { file: 'identities/base.yaml', line: 2, column: 5 } },
      { userName: 'bob@example.com', externalId: 'E-2', source: { file: 'identities/base.yaml', line: 5, column: 5 } },
      { userName: 'carol@example.com', externalId: null, name: { givenName: 'Carol', familyName: null }, source: { file: 'identities/people.yaml', line: 2, column: 5 } },
      { userName: 'dave@example.com', active: false, emails: [{ value: 'dave@example.com', type: 'work', primary: true }], source: { file: 'identities/people.yaml', line: 5, column: 5 } },
      { userName: 'breakglass@example.com', source: { file: 'identities/people.yaml', line: 9, column: 5 } },
    ]);
    // Member sources as locations, whichever form the loader keeps them in.
    const locations = (sources: MemberSources) => ('positions' in sources ? sources.positions.map((p) => ({ file: sources.file, ...unpackPosition(p) })) : sources);
    const groups = desired.groups.map((group) => ({ ...group, memberSources: locations(group.memberSources) }));
    expect(groups).toEqual([
      {
        displayName: 'Admins',
        externalId: 'G-1',
        members: ['carol@example.com', 'Dave@example.com'],
        memberSources: [
          { file: 'identities/people.yaml', line: 13, column: 15 },
          { file: 'identities/people.yaml', line: 13, column: 34 },
        ],
        source: { file: 'identities/people.yaml', line: 11, column: 5 },
      },
      { displayName: 'Empty', members: [], memberSources: [], source: { file: 'identities/people.yaml', line: 14, column: 5 } },
      // No `members` key: membership is unmanaged, as any absent attribute is.
      { displayName: 'Unmanaged', members: [], memberSources: [], membersUnmanaged: true, source: { file: 'identities/people.yaml', line: 16, column: 5 } },
    ]);
  });

  test('lists the config file and every identity file with the sha256 of its bytes, sorted by path', async () => {
    const dir = await repository({ files: { 'scimform.yaml': CONFIG, 'identities/people.yaml': PEOPLE } });
    const desired = await loadDesiredState(await loadConfig('scimform.yaml', { cwd: dir }));
    const sha256 = async (path: string) => createHash('sha256').update(await readFile(join(dir, path))).digest('hex');
    expect(desired.files).toEqual([
      { path: 'identities/base.yaml', sha256: await sha256('identities/base.yaml') },
      { path: 'identities/people.yaml', sha256: await sha256('identities/people.yaml') },
      { path: 'scimform.yaml', sha256: await sha256('scimform.yaml') },
    ]);
  });

  test('reads the configuration as loadConfig read it: a leading byte-order mark is no part of the text', async () => {
    // Decoding drops the first of two marks; yaml takes the second as one, but not two in a row.
    const dir = await repository({ files: { 'scimform.yaml': `\uFEFF\uFEFF\n${CONFIG}`, 'identities/people.yaml': PEOPLE } });
    const desired = await loadDesiredState(await loadConfig('scimform.yaml', { cwd: dir }));
    expect(desired.users.map((user) => user.userName)).toContain('carol@example.com');
  });

  test('throws a ValidationError with the problems of every file', async () => {
    const dir = await repository({ identities: ['wrong-type-active.yaml', 'undeclared-member.yaml', 'duplicate-username-across-files'] });
    const error = await loadDesiredState(await loadConfig('scimform.yaml', { cwd: dir })).catch((e: unknown) => e);
    expect((error as ValidationError).issues.map((i) => `${i.file}:${i.line}`)).toEqual([
      'identities/people.yaml:3',
      'identities/undeclared-member.yaml:5',
      'identities/wrong-type-active.yaml:3',
    ]);
  });
});

describe('validateRepository', () => {
  test('still checks the identity files when the configuration has problems', async () => {
    const dir = await repository({ config: 'http-public-host.yaml', identities: ['bad-email.yaml'] });
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues.map((i) => `${i.file}:${i.line}:${i.column}`)).toEqual(['identities/bad-email.yaml:4:18', 'scimform.yaml:5:10']);
  });

  test('a glob that also matches the configuration file does not read it as an identity file', async () => {
    const config = 'version: 1\ndesired: ["**/*.yaml"]\ntargets:\n  t: { url: "https://scim.example.com/v2", tokenEnv: T }\n';
    const dir = await repository({ files: { 'scimform.yaml': config } });
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues).toEqual([]);
    expect(report.desired?.files.map((f) => f.path)).toEqual(['identities/base.yaml', 'scimform.yaml']);
  });

  const utf8 = (text: string) => [...Buffer.from(text, 'utf8')];
  test.each([
    ['in the first byte', [0xff, ...utf8('users: []\n')], '1:1 byte 0xff'],
    ['after a byte-order mark, which is no column', [0xef, 0xbb, 0xbf, ...utf8('users: '), 0x80, 0x0a], '1:8 byte 0x80'],
    ['after characters of several bytes, counted as an editor counts them', [...utf8('users: []\n# 😀é'), 0xe2, 0x82, 0x41, 0x0a], '2:6 byte 0xe2'],
    ['a character cut off at the end of the file', [...utf8('users: []\n# é'), 0xc3], '2:4 byte 0xc3'],
  ])('a file that is not UTF-8 is reported at the first byte that is not: %s', async (_name, bytes, expected) => {
    const dir = await repository({});
    await writeFile(join(dir, 'identities', 'latin1.yaml'), Buffer.from(bytes));
    const report = await validateRepository('scimform.yaml', { cwd: dir });
    expect(report.issues.map((i) => `${i.line}:${i.column} ${/byte 0x[0-9a-f]{2}/.exec(i.message)?.[0]}`)).toEqual([expected]);
  });

  test('returns the config and desired state when everything is valid', async () => {
    const report = await validateRepository('examples/basic/scimform.yaml');
    expect(report.issues).toEqual([]);
    expect([report.config?.targets.length, report.desired?.users.length, report.desired?.groups.length]).toEqual([1, 10, 3]);
  });
});

test('a userName that becomes an email is checked with the pattern the schema gives an email', async () => {
  const schema = JSON.parse(await readFile(new URL('../../schemas/identities.schema.json', import.meta.url), 'utf8'));
  expect(EMAIL_ADDRESS.source).toBe(schema.$defs.email.properties.value.pattern);
});

describe('selectTargets', () => {
  const config = { targets: [{ name: 'a' }, { name: 'b' }] } as unknown as Parameters<typeof selectTargets>[0];
  test.each([
    [[], ['a', 'b']],
    [['b'], ['b']],
    [['b', 'a', 'b'], ['b', 'a']],
  ])('%j selects %j', (names, expected) => {
    expect(selectTargets(config, names).map((t) => t.name)).toEqual(expected);
  });

  test('an unknown name is an error listing the known ones', () => {
    expect(() => selectTargets(config, ['c'])).toThrow(expect.objectContaining({ message: 'unknown target `c`', hint: 'Targets declared in the configuration: a, b.' }));
  });
});

describe('inScope', () => {
  test.each([
    [undefined, 'anyone@anywhere.example', true],
    ['*@example.com', 'jane@example.com', true],
    ['*@example.com', 'Jane@EXAMPLE.com', true],
    ['*@example.com', 'jane@example.com.evil', false],
    ['*@example.com', '.hidden@example.com', true],
    ['{ops,eng}-*@example.com', 'eng-bot@example.com', true],
    ['{ops,eng}-*@example.com', 'hr-bot@example.com', false],
  ])('scope %s, userName %s → %s', (scope, userName, expected) => {
    expect(inScope(scope === undefined ? {} : { scope }, userName)).toBe(expected);
  });
});

describe('checkUrl', () => {
  test.each([
    ['https://api.lightstep.com/scim/v2', undefined],
    ['http://127.0.0.1:8787/scim/v2', undefined],
    ['http://127.1.2.3/scim', undefined],
    ['http://localhost:8787/scim/v2', undefined],
    ['http://[::1]:8787/scim/v2', undefined],
    ['http://api.lightstep.com/scim/v2', /^`url` must use https/],
    ['http://127.0.0.1.nip.io/scim', /^`url` must use https/],
    ['ftp://example.com/scim', /^`url` must be an https URL, not `ftp`/],
    ['not a url', /^`url` is not a valid URL/],
    ['https://user:pw@example.com/scim', /^`url` must not contain credentials/],
    ['https://example.com/scim?x=1', /without a query or fragment/],
  ])('%s', (url, expected) => {
    const problem = checkUrl(url);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});

describe('parseRemovalLimit', () => {
  test.each([
    ['25%', { kind: 'percent', value: 25, text: '25%' }],
    ['20', { kind: 'count', value: 20, text: '20' }],
    [20, { kind: 'count', value: 20, text: '20' }],
    ['0', { kind: 'count', value: 0, text: '0' }],
  ] as const)('%j', (input, expected) => {
    expect(parseRemovalLimit(input)).toEqual(expected);
  });
});

describe('globProblem keeps identity globs inside the configuration folder', () => {
  test.each([
    ['identities/**/*.yaml', undefined],
    ['teams/a..b/*.yaml', undefined],
    ['../shared/*.yaml', /leaves the configuration file's folder/],
    ['identities/../../x.yaml', /leaves the configuration file's folder/],
    ['{../..,identities}/*.yaml', /leaves the configuration file's folder/],
    ['..', /leaves the configuration file's folder/],
    // tinyglobby takes these for globs that go up a folder (and throws on `....`).
    ['..../shared/*.yaml', /starts with `..`, which is read as leaving the configuration file's folder/],
    ['...', /starts with `..`/],
    ['..a/*.yaml', /starts with `..`/],
    ['./..*/x.yaml', /starts with `..`/],
    ['identities/..a/*.yaml', undefined],
    ['/etc/scimform/*.yaml', /is an absolute path/],
    ['C:\\identities\\*.yaml', /is an absolute path/],
    ['!identities/old.yaml', /is negated/],
  ])('%s', (glob, expected) => {
    const problem = globProblem(glob);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});
