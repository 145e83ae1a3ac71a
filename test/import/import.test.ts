/**
 * `scimform import` end to end against the emulator: the files it writes pass validate, a plan
 * right after is empty, a second import is byte-identical, and nothing is overwritten unasked.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { exampleRepository } from '../helpers/repo.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';
import { multiTargetRepository, seedUsers, type MultiTargetRepository } from '../helpers/targets.js';

let repo: MultiTargetRepository | undefined;
afterEach(async () => {
  await repo?.close();
  repo = undefined;
});

function expectNoToken(...texts: string[]): void {
  for (const text of texts) for (const token of repo!.tokens) expect(text).not.toContain(token);
}

describe('import round trip', () => {
  test.each([
    ['generic', 'none'],
    ['lightstep', 'none'],
    ['generic', 'domain'],
    ['lightstep', 'group'],
  ] as const)('%s profile, --split %s: plan after import is empty and a re-import is byte-identical', async (profile, split) => {
    const seed = seedUsers(300);
    const outsiders = seedUsers(5, 'contractor.example', 'x');
    repo = await multiTargetRepository(
      { old: { profile, emulator: { initial: { users: [...seed.users, ...outsiders.users], groups: seed.groups } } } },
      { policy: 'policy:\n  unmanagedUsers: deactivate\n  scope: "*@acme.example"\n  allowedEmailDomains: [acme.example]\n' },
    );
    const imported = await repo.run('import', '--target', 'old', '--split', split);
    expect(imported.stderr).not.toContain('warning');
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain('Wrote 300 users and 3 groups');
    expect(imported.stderr).toContain('Left out 5 users outside the policy scope');
    const files = await repo.list('identities');
    expect(files.length).toBeGreaterThan(0);
    const first = await Promise.all(files.map((file) => repo!.read(`identities/${file}`)));
    for (const text of first) expect(text).toMatch(/^# yaml-language-server: \$schema=\.\.\/node_modules\/scimform\/schemas\/identities\.schema\.json\n/);

    const validated = await repo.run('validate');
    expect(validated.code).toBe(0);
    const planned = await repo.run('plan', '--detailed-exitcode');
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('No changes.');

    const again = await repo.run('import', '--target', 'old', '--split', split, '--force');
    expect(again.code).toBe(0);
    expect(await repo.list('identities')).toEqual(files);
    expect(await Promise.all(files.map((file) => repo!.read(`identities/${file}`)))).toEqual(first);
    expect(repo.writes('old')).toBe(0);
    expectNoToken(imported.stdout, imported.stderr, planned.stdout, again.stderr, ...first);
  }, 20_000);

  test('what is written: managed attributes only, deactivated users as active: false, default emails left out, members by userName', async () => {
    const users = [
      { id: 'b', userName: 'ken@acme.example', externalId: '1005', name: { givenName: 'Ken', familyName: 'Thompson' }, emails: [{ value: 'ken@acme.example', type: 'work', primary: true }], active: false },
      { id: 'a', userName: 'ada@acme.example', displayName: 'Ada: the Countess', name: { givenName: 'Ada', familyName: 'Lovelace' }, emails: [{ value: 'ADA@acme.example', type: 'work', primary: true }, { value: 'ada.l@acme.example', type: 'other' }] },
      { id: 'c', userName: 'nameless@acme.example' },
    ];
    repo = await multiTargetRepository({ old: { emulator: { initial: { users, groups: [{ id: 'g', displayName: 'Admins', externalId: 'G-1', members: [{ value: 'b' }, { value: 'a' }] }] } } } });
    expect((await repo.run('import', '--target', 'old')).code).toBe(0);
    expect(await repo.read('identities/identities.yaml')).toBe(
      [
        '# yaml-language-server: $schema=../node_modules/scimform/schemas/identities.schema.json',
        '# Imported from target old by `scimform import`. Edit freely: git is now the source of truth.',
        '',
        'users:',
        '  - userName: ada@acme.example',
        '    displayName: "Ada: the Countess"',
        '    name: { givenName: Ada, familyName: Lovelace }',
        '    emails:',
        '      - { value: ada@acme.example, type: work, primary: true }',
        '      - { value: ada.l@acme.example, type: other }',
        '',
        '  - userName: ken@acme.example',
        '    externalId: "1005"',
        '    name: { givenName: Ken, familyName: Thompson }',
        '    active: false',
        '',
        '  - userName: nameless@acme.example',
        '',
        'groups:',
        '  - displayName: Admins',
        '    externalId: G-1',
        '    members: [ ada@acme.example, ken@acme.example ]',
        '',
      ].join('\n'),
    );
  });
});

test('examples/basic, applied, then imported back in place of its files: the plan is empty and the schema line is the examples\' own', async () => {
  const example = await exampleRepository({ profile: 'generic' });
  try {
    expect((await example.run('apply', '--auto-approve')).code).toBe(0);
    await rm(path.join(example.dir, 'identities'), { recursive: true });
    const imported = await example.run('import', '--target', 'local', '--split', 'group');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe('identities/administrators.yaml\nidentities/engineering.yaml\nidentities/on-call.yaml\nidentities/ungrouped.yaml\n');
    const text = await readFile(path.join(example.dir, 'identities/administrators.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../../schemas/identities.schema.json');
    // Ada is in Administrators and Engineering: she is declared once, in the file of her first group by name.
    expect(text).toContain('  - userName: ada.lovelace@acme.example\n');
    const planned = await example.run('plan', '--detailed-exitcode');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('No changes. local matches the files.');
  } finally {
    await example.close();
  }
});

describe('import refuses what it must not do', () => {
  test('refuses to overwrite existing files without --force, and writes nothing', async () => {
    repo = await multiTargetRepository({ old: { emulator: { initial: seedUsers(3) } } }, { files: { 'identities/identities.yaml': 'users: []\n' } });
    const refused = await repo.run('import', '--target', 'old');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to overwrite identities/identities.yaml');
    expect(refused.stderr).toContain('--force');
    expect(await repo.read('identities/identities.yaml')).toBe('users: []\n');
    expect(repo.emulators.old!.requests).toHaveLength(0);

    const forced = await repo.run('import', '--target', 'old', '--force');
    expect(forced.code).toBe(0);
    expect(await repo.read('identities/identities.yaml')).toContain('userName: ada.lovelace0@acme.example');
  });

  // Each is refused before the target is read: a typo costs no read of every user.
  test.each([
    ['other identity files the globs read', { files: { 'identities/team.yaml': 'users: []\n' } }, [], /other identity files already match .*identities\/team\.yaml/],
    [
      'identity files that one of the split layouts may replace, without --force',
      { files: { 'identities/acme.example.yaml': 'users: []\n' } },
      ['--split', 'domain'],
      /identity files already match the `desired` globs: identities\/acme\.example\.yaml; import would replace them, or declare their users a second time\n.*--force/,
    ],
    ['an --out folder that is a file', { files: { 'people.txt': 'notes\n' } }, ['--out', 'people.txt'], /--out people\.txt is a file, not a folder/],
    ['an --out folder under a file', { files: { 'people.txt': 'notes\n' } }, ['--out', 'people.txt/identities'], /--out people\.txt\/identities cannot be made: .*people\.txt is a file/],
    ['globs that read neither .yaml nor .yml files', { desired: ['identities/*.json'] }, [], /would not be read: identities\/identities\.yaml matches none of the `desired` globs \(identities\/\*\.json\)/],
    ['an --out folder the globs do not cover', {}, ['--out', 'people'], /would not be read: people\/identities\.yaml matches none of the `desired` globs.*\n.*or add a glob for people\/\*\*\/\*\.yaml to scimform\.yaml\./],
    // No glob can reach outside the folder: the hint does not offer one.
    ['an --out folder outside the repository', {}, ['--out', '../elsewhere'], /outside the configuration file's folder.*\n.*Choose an --out folder inside the configuration file's folder that the `desired` globs cover/],
  ])('refuses %s, before writing anything', async (_name, setup, extra, message) => {
    repo = await multiTargetRepository({ old: { emulator: { initial: seedUsers(3) } } }, setup);
    const before = await repo.list('.');
    const result = await repo.run('import', '--target', 'old', ...extra);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(await repo.list('.')).toEqual(before);
    expect(repo.emulators.old!.requests).toHaveLength(0);
  });

  test('globs that read only .yml files: the files are written as .yml, validate reads them and the plan is empty', async () => {
    repo = await multiTargetRepository({ old: { emulator: { initial: seedUsers(3) } } }, { desired: ['identities/**/*.yml'] });
    const imported = await repo.run('import', '--target', 'old', '--split', 'domain');
    expect(imported.stderr).toContain('Wrote 3 users and 3 groups to 2 files.');
    expect(imported.code).toBe(0);
    expect(await repo.list('identities')).toEqual(['acme.example.yml', 'groups.yml']);
    expect((await repo.run('validate')).code).toBe(0);
    const planned = await repo.run('plan', '--detailed-exitcode');
    expect([planned.code, planned.stdout]).toEqual([0, expect.stringContaining('No changes.')]);
  });

  test.each([
    [[], /works on one target: name it with --target.*\n.*old, new/],
    [['--target', 'old', '--target', 'new'], /works on one target, but --target named 2: old, new/],
    [['--target', 'nope'], /unknown target `nope`/],
  ])('needs exactly one known --target (%j)', async (argv, message) => {
    repo = await multiTargetRepository({ old: {}, new: {} });
    const result = await repo.run('import', ...argv);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(repo.emulators.old!.requests).toHaveLength(0);
  });
});

describe('live data that cannot be declared as it is', () => {
  test('userNames that are not email addresses get their emails declared, so the files validate and the next plan is empty', async () => {
    const users = [
      { id: 'b1', userName: 'jdoe' },
      { id: 'b2', userName: 'rdoe', emails: [{ value: 'rdoe@acme.example', type: 'work' }] },
    ];
    repo = await multiTargetRepository({ old: { emulator: { initial: { users, groups: [] } } } }, { policy: 'policy:\n  unmanagedUsers: deactivate\n' });
    const result = await repo.run('import', '--target', 'old');
    expect([result.code, result.stderr]).toEqual([0, expect.not.stringContaining('warning')]);
    const text = await repo.read('identities/identities.yaml');
    expect(text).toContain('  - userName: jdoe\n    emails: []\n');
    expect((await repo.run('validate')).code).toBe(0);
    const planned = await repo.run('plan', '--detailed-exitcode');
    expect([planned.code, planned.stdout]).toEqual([0, expect.stringContaining('No changes.')]);
  });

  test('warnings and notes show live names and ids escaped as the plan does: none adds a line, a workflow command or a terminal escape', async () => {
    const users = [
      // Not importable (a control character), or with an attribute left out: a warning or a note names each.
      ...HOSTILE_NAMES.map((name, index) => ({ id: `${name}-${index}`, userName: name })),
      { id: 'e1', userName: 'one@example.com', externalId: HOSTILE_NAMES[3]!, emails: [{ value: 'one@example.com', primary: true }] },
      { id: 'e2', userName: 'two@example.com', externalId: HOSTILE_NAMES[3]!, emails: [{ value: 'two@example.com', primary: true }] },
    ];
    const groups = [{ id: `g${HOSTILE_NAMES[1]}`, displayName: HOSTILE_NAMES[0]!, members: [] }];
    repo = await multiTargetRepository({ old: { emulator: { initial: { users, groups } } } }, { policy: 'policy:\n  unmanagedUsers: ignore\n' });
    const result = await repo.run('import', '--target', 'old');
    expectSafeOutput(result.stderr);
    expectSafeOutput(result.stdout);
    expect(result.stderr).toContain(`warning: user ${ESCAPED_NAMES[0]} (id ${ESCAPED_NAMES[0]}-0) not imported: `);
    expect(result.stderr).toContain(`warning: user ${ESCAPED_NAMES[2]} (id ${ESCAPED_NAMES[2]}-2) not imported: `);
    expect(result.stderr).toContain(`warning: group ${ESCAPED_NAMES[0]} (id g${ESCAPED_NAMES[1]}) not imported: `);
    expect(result.stderr).toContain(`note: user one@example.com: externalId "${ESCAPED_NAMES[3]}" is also held by another live user`);
  });

  test('is left out or made unmanaged, with a note or warning, and the files still validate', async () => {
    const users = [
      { id: 'a1', userName: 'ok@acme.example', externalId: 'DUP', emails: [{ value: 'ok@acme.example', primary: true }] },
      { id: 'a2', userName: 'twin@acme.example', externalId: 'DUP', emails: [{ value: 'Other@acme.example', type: 'work', primary: true }] },
      { id: 'a3', userName: 'foreign@elsewhere.example' },
      { id: 'a4', userName: 'mail@acme.example', emails: [{ value: 'mail@acme.example', primary: true }, { value: 'x@gmail.example' }] },
    ];
    repo = await multiTargetRepository(
      { old: { emulator: { initial: { users, groups: [{ id: 'g1', displayName: 'All', members: users.map((u) => ({ value: u.id })) }] } } } },
      { policy: 'policy:\n  unmanagedUsers: ignore\n  allowedEmailDomains: [acme.example]\n' },
    );
    const result = await repo.run('import', '--target', 'old');
    // The files are written and validate, but the next plan is not empty: import says so and fails.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: the import is incomplete: the files are written, but 1 live user could not be declared, so `scimform plan --target old` will not be empty (see the warnings above). Review that plan before anything is applied.',
    );
    expect(result.stderr).not.toContain('it should show no changes');
    expect(result.stderr).toContain('warning: user foreign@elsewhere.example (id a3) not imported: the userName is not in an allowed email domain');
    expect(result.stderr).toContain('note: user ok@acme.example: externalId "DUP" is also held by another live user');
    expect(result.stderr).toContain('note: user twin@acme.example: emails left out (unmanaged): the primary email "other@acme.example" differs from the userName');
    expect(result.stderr).toContain('note: user mail@acme.example: emails left out (unmanaged): email "x@gmail.example" is not in an allowed email domain');
    const text = await repo.read('identities/identities.yaml');
    expect(text).not.toContain('DUP');
    expect(text).toContain('members: [ mail@acme.example, ok@acme.example, twin@acme.example ]');
    expect((await repo.run('validate')).code).toBe(0);
    // The user left out is undeclared to plan: its group membership is the one difference, as the warning said.
    expect(result.stderr).toContain('warning: plan will treat 1 user not imported as undeclared');
    const planned = await repo.run('plan', '--detailed-exitcode');
    expect(planned.code).toBe(2);
    expect(planned.stdout).toMatch(/Plan: 0 to create, 1 to update, 0 to deactivate, 0 to delete, 0 manual\./);
    expect(planned.stdout).toContain('foreign@elsewhere.example');
  });
});
