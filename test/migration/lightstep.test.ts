/**
 * The walk-through of docs/migrating-from-lightstep.md, for real, against two emulators: an old
 * target with the Lightstep profile holding the organisation's users and (read-only) groups, and
 * a new, empty generic target. Each step is a command of the guide, in its order.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { multiTargetRepository, seedUsers, type MultiTargetRepository } from '../helpers/targets.js';
import type { CliResult } from '../helpers/cli.js';

let repo: MultiTargetRepository;
const printed: string[] = [];
const seed = seedUsers(150);
const contractors = seedUsers(4, 'contractor.example', 'c');

async function run(...argv: string[]): Promise<CliResult> {
  const result = await repo.run(...argv);
  printed.push(result.stdout, result.stderr);
  return result;
}

beforeAll(async () => {
  repo = await multiTargetRepository(
    {
      lightstep: { profile: 'lightstep', emulator: { initial: { users: [...seed.users, ...contractors.users], groups: seed.groups }, maxPageSize: 40 } },
      observability: { profile: 'generic' },
    },
    { policy: 'policy:\n  unmanagedUsers: deactivate\n  scope: "*@acme.example"\n  protectedUsers: [ada.lovelace0@acme.example]\n  allowedEmailDomains: [acme.example]\n' },
  );
});
afterAll(async () => {
  await repo.close();
});

test('1. import the old target: git now describes it, and its plan is empty', async () => {
  const imported = await run('import', '--target', 'lightstep', '--split', 'domain');
  expect(imported.code).toBe(0);
  expect(imported.stdout).toBe('identities/acme.example.yaml\nidentities/groups.yaml\n');
  expect((await run('validate')).code).toBe(0);
  const planned = await run('plan', '--target', 'lightstep', '--detailed-exitcode');
  expect(planned.code).toBe(0);
});

test('2. plan the new target: every in-scope user and group is a create', async () => {
  const planned = await run('plan', '--target', 'observability', '--detailed-exitcode');
  expect(planned.code).toBe(2);
  // The protected user is declared but left alone on every target, so 149 of the 150 are created.
  expect(planned.stdout).toContain('Plan: 152 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.');
  expect(repo.writes('observability')).toBe(0);
});

test('3. apply the new target: it converges; the old one is not written to', async () => {
  const applied = await run('apply', '--target', 'observability', '--auto-approve');
  expect(applied.code).toBe(0);
  expect(applied.stdout).toContain('observability: converged.');
  expect(repo.writes('lightstep')).toBe(0);
  const created = repo.emulators.observability!.users();
  expect(created).toHaveLength(149);
  const deactivated = seed.users.filter((user) => user.active === false && user.userName !== 'ada.lovelace0@acme.example').map((user) => user.userName);
  expect(created.filter((user) => user.active === false).map((user) => user.userName).sort()).toEqual(deactivated.sort());
  expect(repo.emulators.observability!.groups().map((group) => group.displayName).sort()).toEqual(['Empty', 'Engineering', 'On-call']);
});

test('4. drift on both targets: in sync', async () => {
  const drift = await run('drift');
  expect(drift.stderr).toBe('lightstep: in sync\nobservability: in sync\n');
  expect(drift.code).toBe(0);
});

test('5. export the id map: each user\'s old id → new id, as the two services store them', async () => {
  const ids = await run('ids', '--target', 'observability', '--join', 'lightstep', '--format', 'json');
  expect(ids.code).toBe(0);
  const map = JSON.parse(ids.stdout) as { from: string; to: string; users: { userName: string; oldId?: string; newId?: string }[] };
  expect(map).toMatchObject({ from: 'lightstep', to: 'observability' });

  const oldStore = new Map(repo.emulators.lightstep!.users().map((user) => [String(user.userName), String(user.id)]));
  const newStore = new Map(repo.emulators.observability!.users().map((user) => [String(user.userName), String(user.id)]));
  const migrated = map.users.filter((row) => row.oldId !== undefined && row.newId !== undefined);
  expect(migrated).toHaveLength(149);
  for (const row of migrated) {
    expect(row.oldId).toBe(oldStore.get(row.userName));
    expect(row.newId).toBe(newStore.get(row.userName));
    expect(row.newId).not.toBe(row.oldId);
  }
  // Out of scope (contractors) and protected users were never migrated: they stay visible, with no new id.
  const unmigrated = map.users.filter((row) => row.newId === undefined).map((row) => row.userName).sort();
  expect(unmigrated).toEqual(['ada.lovelace0@acme.example', ...contractors.users.map((user) => String(user.userName))].sort());
  expect(ids.stderr).toContain('warning: 5 users of lightstep have no counterpart in observability (empty newId).');

  const csv = await run('ids', '--target', 'observability', '--join', 'lightstep');
  expect(csv.stdout.split('\n')[0]).toBe('userName,externalId,oldId,newId');
  expect(csv.stdout.trimEnd().split('\n')).toHaveLength(1 + map.users.length);
});

test('6. retire the old target: remove it from the config; the new one stays in sync', async () => {
  const config = await repo.read('scimform.yaml');
  const retired = config.replace(/^ {2}lightstep:\n(?: {4}.*\n)+/m, '');
  expect(retired).not.toContain('lightstep');
  await repo.write('scimform.yaml', retired);
  const drift = await run('drift');
  expect(drift.stderr).toBe('observability: in sync\n');
  expect(drift.code).toBe(0);
});

test('no token was ever printed', () => {
  expect(printed.length).toBeGreaterThan(10);
  for (const text of printed) for (const token of repo.tokens) expect(text).not.toContain(token);
});
