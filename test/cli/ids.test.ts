/** `scimform ids`: the live id of each user, and with `--join`, old id → new id between two emulators. */
import { afterEach, describe, expect, test } from 'vitest';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';
import { multiTargetRepository, seedUsers, type MultiTargetRepository } from '../helpers/targets.js';

let repo: MultiTargetRepository | undefined;
afterEach(async () => {
  await repo?.close();
  repo = undefined;
});

const csvRows = (text: string): string[][] => text.trimEnd().split('\n').map((line) => line.split(','));

describe('ids of one target', () => {
  test.each(['generic', 'lightstep'] as const)('CSV: userName, externalId and the live id of every user (%s profile)', async (profile) => {
    const seed = seedUsers(120);
    repo = await multiTargetRepository({ old: { profile, emulator: { initial: seed, maxPageSize: 50 } } });
    const result = await repo.run('ids', '--target', 'old');
    expect(result.code).toBe(0);
    const [header, ...rows] = csvRows(result.stdout);
    expect(header).toEqual(['userName', 'externalId', 'id']);
    const live = repo.emulators.old!.users();
    expect(rows).toHaveLength(live.length);
    for (const stored of live) {
      expect(rows).toContainEqual([String(stored.userName), stored.externalId === undefined ? '' : String(stored.externalId), String(stored.id)]);
    }
    expect(repo.writes('old')).toBe(0);
  });

  test('JSON names the target', async () => {
    repo = await multiTargetRepository({ old: { emulator: { initial: { users: [{ id: 'x1', userName: 'ann@acme.example', externalId: 'E1' }] } } } });
    const result = await repo.run('ids', '--target', 'old', '--format', 'json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ target: 'old', users: [{ userName: 'ann@acme.example', externalId: 'E1', id: 'x1' }] });
    expect(result.stderr).toBe('1 user in target old.\n');
  });

  test('userNames and ids the server holds are printed escaped: one row each, no workflow command, no terminal escape; JSON keeps them exact', async () => {
    const users = HOSTILE_NAMES.map((name, index) => ({ id: `${name}-${index}`, userName: name, externalId: name }));
    repo = await multiTargetRepository({ old: { emulator: { initial: { users } } } });
    const csv = await repo.run('ids', '--target', 'old');
    expect(csv.code).toBe(0);
    expectSafeOutput(csv.stdout);
    expectSafeOutput(csv.stderr);
    expect(csv.stdout.trimEnd().split('\n')).toHaveLength(1 + users.length);
    expect(csv.stdout).toContain(`\n${ESCAPED_NAMES[0]},${ESCAPED_NAMES[0]},x\\u000a::add-mask::x@example.com-0\n`);
    const json = await repo.run('ids', '--target', 'old', '--format', 'json');
    expectSafeOutput(json.stdout);
    expect(JSON.parse(json.stdout).users).toEqual(expect.arrayContaining(users.map(({ id, userName, externalId }) => ({ userName, externalId, id }))));
  });

  test.each([
    [[], /`scimform ids` works on one target: name it with --target/],
    [['--target', 'old', '--target', 'new'], /works on one target, but --target named 2/],
    [['--target', 'old', '--join', 'old'], /--join names the same target as --target \(old\)/],
    [['--target', 'old', '--join', 'elsewhere'], /unknown target `elsewhere`/],
  ])('refuses %j with a clear error and reads nothing', async (argv, message) => {
    repo = await multiTargetRepository({ old: {}, new: {} });
    const result = await repo.run('ids', ...argv);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Targets declared in the configuration: old, new.');
    expect(repo.emulators.old!.requests).toHaveLength(0);
  });
});

describe('ids --join between two emulators', () => {
  test('old id → new id per user, matched by externalId then userName; users on one side only are kept and counted', async () => {
    const old = [
      { id: 'old-1', userName: 'ann@acme.example', externalId: 'E1' },
      { id: 'old-2', userName: 'bob@acme.example' },
      { id: 'old-3', userName: 'left@acme.example' },
    ].map((user) => ({ ...user, emails: [{ value: user.userName, primary: true }] }));
    const renamed = [
      { id: 'new-9', userName: 'ann.smith@acme.example', externalId: 'E1' },
      { id: 'new-8', userName: 'BOB@acme.example' },
      { id: 'new-7', userName: 'hired@acme.example' },
    ];
    repo = await multiTargetRepository({ old: { profile: 'lightstep', emulator: { initial: { users: old } } }, new: { emulator: { initial: { users: renamed } } } });
    const result = await repo.run('ids', '--target', 'new', '--join', 'old');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'userName,externalId,oldId,newId',
        'ann.smith@acme.example,E1,old-1,new-9',
        'BOB@acme.example,,old-2,new-8', // as the new target spells it
        'hired@acme.example,,,new-7',
        'left@acme.example,,old-3,',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain('2 users in both old and new.');
    expect(result.stderr).toContain('warning: 1 user of old has no counterpart in new (empty newId).');

    const json = await repo.run('ids', '--target', 'new', '--join', 'old', '--format', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ from: 'old', to: 'new', users: expect.arrayContaining([{ userName: 'ann.smith@acme.example', externalId: 'E1', oldId: 'old-1', newId: 'new-9' }]) });
    for (const text of [result.stdout, result.stderr, json.stdout]) for (const token of repo.tokens) expect(text).not.toContain(token);
  });
});
