/**
 * `scimform drift` for scheduled polling: exit 0 in sync, 2 drift, 1 error, one line per
 * target on stderr for a notification, and the plan in the format asked for on stdout.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';
import { multiTargetRepository, seedUsers, type MultiTargetRepository } from '../helpers/targets.js';
import { driftExitCode, driftLines } from '../../src/cli/drift.js';
import { ScimformError } from '../../src/errors.js';
import type { TargetPlan } from '../../src/plan/types.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';

let repo: TestRepository | undefined;
let multi: MultiTargetRepository | undefined;
afterEach(async () => {
  await repo?.close();
  await multi?.close();
  repo = undefined;
  multi = undefined;
});

describe('drift against the emulator', () => {
  test('an empty target drifts (exit 2), an applied one is in sync (exit 0), and drift never writes', async () => {
    repo = await exampleRepository({ profile: 'generic' });
    const drifted = await repo.run('drift');
    expect(drifted.code).toBe(2);
    expect(drifted.stderr).toContain('local: drift: Plan: 12 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.\n');
    expect(drifted.stdout).toContain('+ user ada.lovelace@acme.example');
    expect(repo.writes()).toBe(0);

    expect((await repo.run('apply', '--auto-approve')).code).toBe(0);
    const synced = await repo.run('drift', '--quiet');
    expect(synced.code).toBe(0);
    expect(synced.stderr).toBe('local: in sync\n');

    // A change made live, outside git, is drift again.
    const ada = repo.emulator.users().find((user) => user.userName === 'ada.lovelace@acme.example')!;
    await fetch(`${repo.emulator.url}/Users/${String(ada.id)}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'name.familyName', value: 'King' }] }),
    });
    const changed = await repo.run('drift');
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('local: drift: Plan: 0 to create, 1 to update');
    expect(changed.stdout).toMatch(/name\.familyName: "King" → "Lovelace"/);
  });

  test.each([
    ['json', (stdout: string) => expect(JSON.parse(stdout)).toMatchObject({ formatVersion: 1, targets: [{ target: { name: 'local' } }] })],
    ['markdown', (stdout: string) => expect(stdout).toMatch(/\| local \|\s*12 \|/)],
  ])('--format %s prints the plan as plan does, still exit 2', async (format, check) => {
    repo = await exampleRepository({ profile: 'generic' });
    const result = await repo.run('drift', '--format', format);
    expect(result.code).toBe(2);
    check(result.stdout);
    expect(result.stderr).toContain('local: drift: Plan: 12 to create');
  });

  test('an unreachable target is an error (exit 1), said in one line naming the target', async () => {
    repo = await exampleRepository({ profile: 'generic' });
    await repo.emulator.close();
    const result = await repo.run('drift');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^local: failed: .+$/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 20_000); // the client retries a refused connection with backoff before it gives up

  test('a lightstep target whose group membership differs is drift (manual items count), though apply could not fix it', async () => {
    const seed = seedUsers(4);
    multi = await multiTargetRepository({ old: { profile: 'lightstep', emulator: { initial: seed } } });
    expect((await multi.run('import', '--target', 'old')).code).toBe(0);
    expect((await multi.run('drift')).code).toBe(0);
    const file = await multi.read('identities/identities.yaml');
    await multi.write('identities/identities.yaml', file.replace('displayName: On-call\n    members: [ ada.lovelace0@acme.example ]', 'displayName: On-call\n    members: [ ada.lovelace0@acme.example, alan.lovelace2@acme.example ]'));
    const result = await multi.run('drift');
    expect(result.stderr).toContain('old: drift: Plan: 0 to create, 0 to update, 0 to deactivate, 0 to delete, 1 manual.');
    expect(result.code).toBe(2);
  });
});

describe('driftLines and driftExitCode', () => {
  const plan = (name: string, operations: number, violations: string[] = []): TargetPlan =>
    ({
      target: { name, url: 'http://x', profile: 'generic' },
      plan: {
        operations: Array.from({ length: operations }, () => ({ kind: 'createUser' })),
        summary: { create: operations, update: 0, deactivate: 0, delete: 0, manual: 0 },
      },
      violations: violations.map((message) => ({ guard: 'maxRemovals', message, overridable: true })),
    }) as unknown as TargetPlan;

  test.each([
    ['every target in sync', [plan('a', 0), plan('b', 0)], [], ['a: in sync', 'b: in sync'], 0],
    ['one target drifted', [plan('a', 0), plan('b', 2)], [], ['a: in sync', 'b: drift: Plan: 2 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.'], 2],
    [
      'one target failed, the other drifted',
      [plan('b', 1)],
      [{ target: 'a', error: new ScimformError('cannot reach http://x') }],
      ['a: failed: cannot reach http://x', 'b: drift: Plan: 1 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.'],
      1,
    ],
    ['a target not reached before an interruption', [plan('a', 0)], [], ['a: in sync', 'b: not checked (interrupted)'], 1],
    [
      'a refused guard fails the check, as plan --detailed-exitcode does, and says why',
      [plan('a', 1, ['removals over the limit']), plan('b', 0)],
      [],
      ['a: refused: removals over the limit (Plan: 1 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.)', 'b: in sync'],
      1,
    ],
    [
      'a refused plan with no operations is not in sync',
      [plan('a', 0, ['refusing to plan from an empty desired state']), plan('b', 0)],
      [],
      ['a: refused: refusing to plan from an empty desired state (No changes. a matches the files.)', 'b: in sync'],
      1,
    ],
  ])('%s', (_name, plans, failures, lines, code) => {
    const result = { plans, failures };
    expect(driftLines(['a', 'b'], result)).toEqual(lines);
    expect(driftExitCode(['a', 'b'], result)).toBe(code);
  });
  test('names a guard or a failure quotes are escaped as the plan shows them: one line per target, no workflow command', () => {
    const result = {
      plans: [plan('b', 1, [`would empty group ${HOSTILE_NAMES[0]}`])],
      failures: [{ target: 'a', error: new ScimformError(`the server sent a user without an id: ${HOSTILE_NAMES[2]}`) }],
    };
    const lines = driftLines(['a', 'b'], result);
    expectSafeOutput(lines.join('\n'));
    expect(lines).toEqual([
      `a: failed: the server sent a user without an id: ${ESCAPED_NAMES[2]}`,
      `b: refused: would empty group ${ESCAPED_NAMES[0]} (Plan: 1 to create, 0 to update, 0 to deactivate, 0 to delete, 0 manual.)`,
    ]);
  });
});
