/**
 * The guarantees of SECURITY.md, end to end: plan cannot write, no DELETE without allowDelete
 * (even from a saved plan edited by hand), the removal guards stop apply before any write, and
 * values from identity files are data, never commands or templates.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { applyAndVerify, assertPolicyAllows } from '../../src/apply/index.js';
import type { LiveUser, Policy } from '../../src/model.js';
import { computePlan } from '../../src/plan/index.js';
import type { TargetPlan } from '../../src/plan/types.js';
import { createScimClient, ReadOnlyViolationError } from '../../src/scim/index.js';
import { CAPABILITIES, desiredState, desiredUser, liveUser, op, POLICY, targetPlan } from '../apply/fakes.js';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';

let repo: TestRepository | undefined;
afterEach(async () => {
  await repo?.close();
  repo = undefined;
});

const methods = (r: TestRepository) => r.emulator.requests.map((request) => request.method);
const acme = (name: string) => ({ userName: `${name}@acme.example`, name: { givenName: name, familyName: 'Example' } });

describe('plan cannot write', () => {
  test.each(['POST', 'PATCH', 'PUT', 'DELETE'] as const)('the read-only client refuses %s before it reaches the network', async (method) => {
    repo = await exampleRepository();
    const client = createScimClient(
      { name: 'local', url: repo.emulator.url, tokenEnv: 'SCIMFORM_TOKEN', profile: 'generic', concurrency: 1, timeoutSeconds: 5, source: { file: 'scimform.yaml', line: 1, column: 1 } },
      { token: TOKEN, readOnly: true },
    );
    try {
      await expect(client.write({ method, path: '/Users', body: { userName: 'x@acme.example' } })).rejects.toBeInstanceOf(ReadOnlyViolationError);
      expect(repo.emulator.requests).toEqual([]);
    } finally {
      await client.close();
    }
  });

  test('validate, plan (every format, --out), drift and ids send only GETs, with changes pending', async () => {
    repo = await exampleRepository({ initial: { users: [acme('stray'), { ...acme('ada.lovelace'), displayName: 'Someone else' }] } });
    for (const argv of [['validate'], ['plan'], ['plan', '--format', 'json'], ['plan', '--format', 'markdown', '--out', 'plan.json'], ['drift'], ['ids', '--target', 'local']]) {
      const result = await repo.run(...argv);
      expect(result.code, argv.join(' ')).not.toBe(1);
    }
    expect(new Set(methods(repo))).toEqual(new Set(['GET']));
  });
});

describe('no DELETE without allowDelete', () => {
  const live = (n: number): LiveUser[] => Array.from({ length: n }, (_, i) => liveUser(`u${i}`, `user${i}@example.com`));

  test('no plan computed without allowDelete holds a DELETE, whatever the desired and live states and the other rules', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }),
        fc.constantFrom<Policy['unmanagedUsers']>('ignore', 'deactivate', 'delete'),
        fc.constantFrom<Policy['unmanagedGroups']>('ignore', 'delete'),
        (liveCount, kept, unmanagedUsers, unmanagedGroups) => {
          const desired = desiredState([...new Set(kept)].map((i) => desiredUser(`user${i}@example.com`)));
          const groups = [{ id: 'g1', displayName: 'Stray', members: [], resource: { id: 'g1' } }];
          const plan = computePlan(desired, { users: live(liveCount), groups }, { ...POLICY, unmanagedUsers, unmanagedGroups, allowDelete: false }, CAPABILITIES);
          const requests = plan.operations.flatMap((operation) => operation.requests);
          expect(requests.filter((request) => request.method === 'DELETE')).toEqual([]);
          expect(plan.operations.filter((operation) => operation.kind === 'deleteUser' || operation.kind === 'deleteGroup')).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a saved plan edited to DELETE is refused by apply, and nothing is sent', async () => {
    repo = await exampleRepository({ initial: { users: [acme('stray')] } });
    expect((await repo.run('plan', '--out', 'plan.json')).code).toBe(0);
    const file = path.join(repo.dir, 'plan.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { targets: TargetPlan[] };
    const deactivation = saved.targets[0]!.plan.operations.find((operation) => operation.kind === 'deactivateUser');
    expect(deactivation).toBeDefined();
    // What a tampered artifact would carry: the reviewed deactivation turned into a DELETE.
    deactivation!.requests = [{ method: 'DELETE', path: deactivation!.requests[0]!.path }];
    writeFileSync(file, JSON.stringify(saved, null, 2));

    const mark = repo.emulator.requests.length;
    const result = await repo.run('apply', 'plan.json', '--auto-approve');
    expect(result.code).toBe(1);
    // Apply plans again and requires the very same operations: the edit is caught before anything is sent
    // (and `assertPolicyAllows`, below, would refuse the DELETE even then).
    expect(result.stderr).toMatch(
      /saved plan is stale: local: the plan's deactivate user stray@acme\.example \(id [^)]+\) is not what the files and the live state call for now \(was it edited\?\)/,
    );
    expect(repo.emulator.requests.slice(mark).filter((request) => request.method !== 'GET')).toEqual([]);
    expect(repo.emulator.users().find((user) => user.userName === 'stray@acme.example')?.active).toBe(true);
  });

  test('a saved plan whose request body was edited is refused by apply, and nothing is sent', async () => {
    repo = await exampleRepository({ initial: { users: [acme('stray')] } });
    expect((await repo.run('plan', '--out', 'plan.json')).code).toBe(0);
    const file = path.join(repo.dir, 'plan.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { targets: TargetPlan[] };
    const create = saved.targets[0]!.plan.operations.find((operation) => operation.kind === 'createUser')!;
    // A reviewed create quietly turned into an account for someone else.
    (create.requests[0]!.body as { userName: string }).userName = 'intruder@acme.example';
    writeFileSync(file, JSON.stringify(saved, null, 2));
    const mark = repo.emulator.requests.length;
    const result = await repo.run('apply', 'plan.json', '--auto-approve');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('saved plan is stale: local: the plan');
    expect(repo.emulator.requests.slice(mark).filter((request) => request.method !== 'GET')).toEqual([]);
  });

  test('applyAndVerify, the last step before sending, refuses a plan holding a DELETE the policy does not allow', async () => {
    repo = await exampleRepository({ initial: { users: [{ id: 'u1', ...acme('stray') }] } });
    const client = createScimClient(
      { name: 'local', url: repo.emulator.url, tokenEnv: 'SCIMFORM_TOKEN', profile: 'generic', concurrency: 1, timeoutSeconds: 5, source: { file: 'scimform.yaml', line: 1, column: 1 } },
      { token: TOKEN, readOnly: false },
    );
    try {
      // A plan built by hand (package API), past every check the CLI makes on saved plans.
      const plan = targetPlan([op.deleteUser('u1', 'stray@acme.example')]);
      await expect(applyAndVerify(plan, client, desiredState([]), POLICY, { concurrency: 1 })).rejects.toThrow(/holds a DELETE/);
      expect(repo.emulator.requests.filter((request) => request.method !== 'GET')).toEqual([]);
      expect(repo.emulator.users()).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  test.each([
    ['a DELETE request without allowDelete', op.deleteUser('u1', 'user1@example.com'), POLICY, /holds a DELETE/],
    ['a protected user', op.updateUser('u1', 'root@example.com', 'deactivateUser'), { ...POLICY, protectedUsers: ['root@example.com'] }, /protects/],
    ['a user outside the scope', op.updateUser('u1', 'vendor@partner.example', 'deactivateUser'), { ...POLICY, scope: '*@example.com' }, /out of scope/],
  ])('just before sending, the config policy refuses %s', (_name, operation, policy, message) => {
    expect(() => assertPolicyAllows(targetPlan([operation]), policy)).toThrow(message);
  });

  test('the same operations pass when the policy allows them', () => {
    expect(() => assertPolicyAllows(targetPlan([op.deleteUser('u1', 'user1@example.com')]), { ...POLICY, allowDelete: true, unmanagedUsers: 'delete' })).not.toThrow();
    expect(() => assertPolicyAllows(targetPlan([op.updateUser('u1', 'root@example.com', 'deactivateUser')]), POLICY)).not.toThrow();
  });
});

describe('the removal guards stop apply before anything is written', () => {
  const strays = Array.from({ length: 12 }, (_, i) => acme(`stray${i}`));

  test.each([
    ['more removals than maxRemovals', (r: TestRepository) => Promise.resolve(r), /maxRemovals|removal/i],
    [
      'an empty desired state against a non-empty target',
      async (r: TestRepository) => {
        await r.edit('identities/engineering.yaml', () => 'users: []\n');
        await r.edit('identities/operations.yaml', () => 'users: []\n');
        return r;
      },
      /empty/i,
    ],
  ])('%s: exit 1 and zero writes; --allow-mass-removal lets it through', async (_name, prepare, message) => {
    repo = await prepare(await exampleRepository({ initial: { users: strays } }));
    const refused = await repo.run('apply', '--auto-approve');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(message);
    expect(repo.writes()).toBe(0);
    const planned = await repo.run('plan', '--out', 'plan.json');
    expect(planned.code).toBe(1);
    expect(repo.writes()).toBe(0);

    const allowed = await repo.run('apply', '--auto-approve', '--allow-mass-removal');
    expect(allowed.code).toBe(0);
    expect(repo.writes()).toBeGreaterThan(0);
  });
});

describe('files that declare only protected users are an empty desired state', () => {
  test('the break-glass account alone: exit 1 and zero writes, below the maxRemovals floor; --allow-mass-removal lets it through', async () => {
    repo = await exampleRepository({ initial: { users: [acme('breakglass'), acme('ada.lovelace'), acme('grace.hopper')] } });
    await repo.edit('identities/engineering.yaml', () => 'users: []\n');
    await repo.edit('identities/operations.yaml', () => 'users:\n  - userName: breakglass@acme.example\n');
    const refused = await repo.run('apply', '--auto-approve');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'refusing to plan from an empty desired state: the one user declared is protected or outside scope, so no user is managed, but the target has 2 live users in scope',
    );
    expect(repo.writes()).toBe(0);

    const allowed = await repo.run('apply', '--auto-approve', '--allow-mass-removal');
    expect(allowed.code).toBe(0);
    expect(repo.emulator.users().filter((user) => user.active === false).map((user) => user.userName).sort()).toEqual(['ada.lovelace@acme.example', 'grace.hopper@acme.example']);
  });
});

describe('a deleted group is an emptied group to the guards', () => {
  test('unmanagedGroups: delete on a group with members: exit 1 and zero writes, below the maxRemovals floor; --allow-mass-removal lets it through', async () => {
    repo = await exampleRepository({
      initial: { users: [{ id: 'u-ada', ...acme('ada.lovelace') }], groups: [{ displayName: 'Break-glass admins', members: [{ value: 'u-ada' }] }] },
    });
    await repo.edit('scimform.yaml', (text) => text.replace('unmanagedGroups: ignore', 'unmanagedGroups: delete').replace('allowDelete: false', 'allowDelete: true'));
    const refused = await repo.run('apply', '--auto-approve');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to delete group Break-glass admins, which has 1 live member (policy unmanagedGroups: delete)');
    expect(repo.writes()).toBe(0);

    const allowed = await repo.run('apply', '--auto-approve', '--allow-mass-removal');
    expect(allowed.code).toBe(0);
    expect(repo.emulator.requests.filter((request) => request.method === 'DELETE').map((request) => request.path)).toEqual([expect.stringMatching(/^\/Groups\//)]);
  });
});

describe('identity values are data, never commands or templates', () => {
  const marker = path.join(tmpdir(), `scimform-pwned-${process.pid}`);
  const payloads = [
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `; touch ${marker} #`,
    '${HOME} ${process.env.SCIMFORM_TOKEN} #{7*7}',
    '{{7*7}} {{ constructor.constructor("return process")() }}',
    '%s %n %x %%',
  ];

  test('they reach the server and the output byte for byte, and nothing runs', async () => {
    repo = await exampleRepository();
    await repo.edit('identities/engineering.yaml', (text) =>
      text.replace(/displayName: Ada Lovelace/, `displayName: ${JSON.stringify(payloads.join(' | '))}`).replace(
        /displayName: Grace Hopper/,
        `displayName: ${JSON.stringify(payloads.slice(3).join(' '))}`,
      ),
    );
    const plan = await repo.run('plan', '--format', 'json');
    expect(plan.code).toBe(0);
    for (const payload of payloads) expect(plan.stdout).toContain(JSON.stringify(payload).slice(1, -1));
    const text = await repo.run('plan');
    // Unexpanded: a template engine would have turned these into 49 and a home folder.
    for (const literal of [payloads[0]!, '{{7*7}}', '${HOME}', '#{7*7}']) expect(text.stdout).toContain(literal);

    expect((await repo.run('apply', '--auto-approve')).code).toBe(0);
    const stored = repo.emulator.users().map((user) => user.displayName);
    expect(stored).toContain(payloads.join(' | '));
    expect(stored).toContain(payloads.slice(3).join(' '));
    expect(existsSync(marker)).toBe(false);
    expect(JSON.stringify(repo.emulator.users())).not.toContain(TOKEN);
  });
});
