/**
 * When a merge may apply the reviewed plan: the answer is a value naming why not, never a thrown
 * "stale" error, so the workflow can tell "apply a fresh plan" from a real failure.
 */
import { describe, expect, test } from 'vitest';
import { checkFreshness } from '../../src/github/freshness.js';
import { computeDigest } from '../../src/plan/saved.js';
import type { SavedPlan } from '../../src/plan/types.js';
import { fakeScim, liveUser, op, targetPlan } from '../apply/fakes.js';

const files = [
  { path: 'scimform.yaml', sha256: 'a'.repeat(64) },
  { path: 'identities/a.yaml', sha256: 'b'.repeat(64) },
];

const reviewed = [op.updateUser('u1', 'jane@example.com', 'updateUser', 'W/"1"')];
/** A plan made now that holds what the reviewed one does. */
const unchanged = () => Promise.resolve(reviewed);

function saved(operations = reviewed): SavedPlan {
  return {
    formatVersion: 1,
    scimformVersion: '0.1.0',
    createdAt: '2026-01-01T00:00:00Z',
    digest: computeDigest(files),
    config: 'scimform.yaml',
    files,
    targets: [targetPlan(operations)],
  } as SavedPlan;
}

describe('checkFreshness', () => {
  test.each([
    { name: 'same files, same live versions', files, live: [liveUser('u1', 'jane@example.com', { version: 'W/"1"' })], targets: ['test'], expected: { fresh: true } },
    {
      name: 'an identity file changed',
      files: [files[0]!, { path: 'identities/a.yaml', sha256: 'c'.repeat(64) }],
      live: [],
      targets: ['test'],
      expected: { fresh: false, reason: 'the files changed after the review (identities/a.yaml changed)' },
    },
    {
      name: 'the user changed live',
      files,
      live: [liveUser('u1', 'jane@example.com', { version: 'W/"2"' })],
      targets: ['test'],
      expected: { fresh: false, reason: 'the live state changed after the review (test: user jane@example.com changed on the server since the plan)' },
    },
    {
      name: 'the user is gone',
      files,
      live: [],
      targets: ['test'],
      expected: { fresh: false, reason: 'the live state changed after the review (test: user jane@example.com no longer exists on the server (id u1))' },
    },
    { name: 'a selected target has no reviewed plan', files, live: [], targets: ['test', 'backup'], expected: { fresh: false, reason: 'the reviewed plan has no plan for target backup' } },
  ])('$name', async ({ files: current, live, targets, expected }) => {
    const scim = fakeScim(() => ({ status: 200, body: {} }) as never, { users: live });
    expect(await checkFreshness(saved(), { files: current, targets, replan: unchanged }, () => scim.client)).toEqual(expected);
    expect(scim.writes).toEqual([]);
  });

  test.each([
    {
      name: 'a user created by hand after the review, which the policy now deactivates',
      now: [...reviewed, op.updateUser('u9', 'by.hand@example.com', 'deactivateUser')],
      expected: {
        fresh: false,
        reason: 'the live state changed after the review (test: the files and the live state now call for deactivate user by.hand@example.com (id u9), which the plan does not hold)',
      },
    },
    {
      name: 'an operation of the reviewed plan that a plan made now does not hold',
      now: [],
      expected: {
        fresh: false,
        reason: 'the live state changed after the review (test: the plan holds update user jane@example.com (id u1), which the files and the live state no longer call for)',
      },
    },
    {
      name: 'the reviewed plan was edited',
      now: [op.updateUser('u1', 'jane@example.com', 'deactivateUser', 'W/"1"')],
      expected: {
        fresh: false,
        reason: "the reviewed plan is not what a plan of this commit holds (test: the plan's update user jane@example.com (id u1) is not what the files and the live state call for now)",
      },
    },
  ])('same files and fingerprints, other operations: $name', async ({ now, expected }) => {
    // What `apply plan.json` would refuse as stale is stale here too: the merge then applies a fresh plan.
    const scim = fakeScim(() => ({ status: 200, body: {} }) as never, { users: [liveUser('u1', 'jane@example.com', { version: 'W/"1"' })] });
    expect(await checkFreshness(saved(), { files, targets: ['test'], replan: () => Promise.resolve(now) }, () => scim.client)).toEqual(expected);
    expect(scim.writes).toEqual([]);
  });

  test('changed files are found without reading the target', async () => {
    const scim = fakeScim(() => ({ status: 200, body: {} }) as never);
    await checkFreshness(saved(), { files: [files[0]!], targets: ['test'], replan: unchanged }, () => scim.client);
    expect(scim.reads).toEqual([]);
  });

  test('a failure to read the target is thrown, not reported as staleness', async () => {
    const scim = fakeScim(() => ({ status: 200, body: {} }) as never);
    const failing = { ...scim.client, getUser: async () => Promise.reject(new Error('401 from the service')), listUsers: async () => Promise.reject(new Error('401 from the service')) };
    await expect(checkFreshness(saved(), { files, targets: ['test'], replan: unchanged }, () => failing)).rejects.toThrow('401 from the service');
  });
});
