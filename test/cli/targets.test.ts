/**
 * Several targets in one config: plan, apply and drift run every selected target on its own.
 * One target's failure (down, or refused by a guard) does not stop the others; the exit code
 * is the worst outcome, and the report names the target that failed.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { multiTargetRepository, seedUsers, type MultiTargetRepository } from '../helpers/targets.js';

/** A target that is down costs the client's retries with backoff (a few seconds) before it fails. */
const DOWN_TIMEOUT = 20_000;

const IDENTITIES = {
  'identities/people.yaml': [
    'users:',
    '  - userName: ada@acme.example',
    '    name: { givenName: Ada, familyName: Lovelace }',
    '  - userName: grace@acme.example',
    '    name: { givenName: Grace, familyName: Hopper }',
    'groups:',
    '  - displayName: Admins',
    '    members: [ada@acme.example]',
    '',
  ].join('\n'),
};

let repo: MultiTargetRepository | undefined;
afterEach(async () => {
  await repo?.close();
  repo = undefined;
});

async function twoTargetsOneDown(): Promise<MultiTargetRepository> {
  repo = await multiTargetRepository({ down: {}, up: {} }, { files: IDENTITIES });
  await repo.emulators.down!.close();
  return repo;
}

describe('two targets, one of them down', () => {
  test('plan shows the reachable target, names the failed one, and exits 1', async () => {
    const repo = await twoTargetsOneDown();
    const result = await repo.run('plan');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^Target up \(http:\/\/127\.0\.0\.1:\d+\/scim\/v2, profile generic\)$/m);
    expect(result.stdout).toContain('Plan: 3 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.');
    expect(result.stdout).not.toContain('Target down');
    expect(result.stderr).toMatch(/^target down failed:\nerror: could not connect to http:\/\/127\.0\.0\.1:\d+\/scim\/v2\/\S+ \(ECONNREFUSED\)/m);
    expect(result.stderr).toContain('Check the url of target down');
  }, DOWN_TIMEOUT);

  test('plan --format markdown names the failed target in the document, so a comment never silently omits it', async () => {
    const repo = await twoTargetsOneDown();
    const result = await repo.run('plan', '--format', 'markdown');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('### scimform plan');
    expect(result.stdout).toMatch(/^> \*\*down\*\*: no plan: could not connect to http:\/\/127\.0\.0\.1:\d+/m);
  }, DOWN_TIMEOUT);

  test('plan --format json lists the failed target in failedTargets, and the document still validates', async () => {
    const repo = await twoTargetsOneDown();
    const result = await repo.run('plan', '--format', 'json', '--out', 'plan.json');
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout) as { targets: { target: { name: string } }[]; failedTargets: { name: string; message: string }[] };
    expect(document.targets.map((plan) => plan.target.name)).toEqual(['up']);
    expect(document.failedTargets).toEqual([{ name: 'down', message: expect.stringMatching(/^could not connect to http:\/\/127\.0\.0\.1:\d+/) }]);
    // writeSavedPlan validates against schemas/plan.schema.json before writing.
    expect(JSON.parse(await repo.read('plan.json'))).toEqual(document);
  }, DOWN_TIMEOUT);

  test('apply of a saved plan that a failed target is missing from applies the rest, names it, and exits 1', async () => {
    const repo = await twoTargetsOneDown();
    expect((await repo.run('plan', '--out', 'plan.json')).code).toBe(1);
    const result = await repo.run('apply', 'plan.json');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('up: converged.');
    expect(result.stderr).toMatch(/^target down failed:\nerror: not in the saved plan: its plan failed \(could not connect to http:\/\/127\.0\.0\.1:\d+/m);
    expect(result.stderr).toContain('Plan again once the target can be read, and apply that plan.');

    const selected = await repo.run('apply', 'plan.json', '--target', 'down');
    expect(selected.code).toBe(1);
    expect(selected.stderr).toContain('error: not in the saved plan: its plan failed');
  }, DOWN_TIMEOUT);

  test('apply still applies the reachable target, converges it, and exits 1', async () => {
    const repo = await twoTargetsOneDown();
    const result = await repo.run('apply', '--auto-approve');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('up: converged.');
    expect(result.stderr).toMatch(/^target down failed:$/m);
    expect(repo.emulators.up!.users().map((user) => user.userName).sort()).toEqual(['ada@acme.example', 'grace@acme.example']);
    expect(repo.emulators.up!.groups().map((group) => group.displayName)).toEqual(['Admins']);

    // Once it is back (here: dropped from the run), the other target is already in sync.
    const again = await repo.run('plan', '--detailed-exitcode', '--target', 'up');
    expect(again.code).toBe(0);
  }, DOWN_TIMEOUT);

  test('drift prints one line per target in config order, and exits 1 for the failure rather than 2 for the drift', async () => {
    const repo = await twoTargetsOneDown();
    const result = await repo.run('drift');
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n');
    expect(lines[0]).toMatch(/^down: failed: could not connect to /);
    expect(lines[1]).toBe('up: drift: Plan: 3 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.');
  }, DOWN_TIMEOUT);
});

describe('selecting targets', () => {
  test('--target is repeatable; the plans are printed grouped per target, in the order given', async () => {
    repo = await multiTargetRepository({ a: {}, b: {}, c: {} }, { files: IDENTITIES });
    const result = await repo.run('plan', '--target', 'c', '--target', 'a');
    expect(result.code).toBe(0);
    const headers = [...result.stdout.matchAll(/^Target (\w+) /gm)].map((match) => match[1]);
    expect(headers).toEqual(['c', 'a']);
    expect(repo.emulators.b!.requests).toHaveLength(0);
    const sections = result.stdout.split(/^Target /m).slice(1);
    for (const section of sections) expect(section).toContain('+ user ada@acme.example');
  });

  test('a guard that refuses one target does not stop another from applying', async () => {
    // `guarded` holds 20 users git does not declare: deactivating them all is over maxRemovals.
    repo = await multiTargetRepository({ guarded: { emulator: { initial: { users: seedUsers(20, 'acme.example', 'x').users } } }, fresh: {} }, { files: IDENTITIES });
    const result = await repo.run('apply', '--auto-approve');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^target guarded failed:\nerror: guarded: .*--allow-mass-removal.*\n  Nothing was written\./m);
    expect(repo.writes('guarded')).toBe(0);
    expect(result.stdout).toContain('fresh: converged.');
    expect(repo.emulators.fresh!.users()).toHaveLength(2);
  });

  test.skipIf(!existsSync('/dev/full'))('once the audit log cannot be written, the next target is not started', async () => {
    repo = await multiTargetRepository({ first: {}, second: {} }, { files: IDENTITIES });
    const result = await repo.run('apply', '--auto-approve', '--audit-log', '/dev/full');
    expect(result.code).toBe(1);
    expect(repo.writes('first')).toBeGreaterThan(0);
    expect(repo.writes('second')).toBe(0);
    expect(result.stdout).toMatch(/^Stopped: cannot write the audit log \/dev\/full: ENOSPC/m);
    expect(result.stderr).toContain('target second failed:\nerror: not started: the audit log could not be written\n');
    expect(result.stderr).toMatch(/error: cannot write the audit log \/dev\/full: ENOSPC \(no space left on device\)\n {2}Free space on its disk/);
  });
});
