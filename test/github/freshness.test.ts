/**
 * When a merge may apply the reviewed plan: the answer is a value naming why not, never a thrown
 * "stale" error, so the workflow can tell "apply a fresh plan" from a real failure.
 */
import { describe, expect, test } from 'vitest';
import { checkFreshness } from '../../src/github/freshness.js';
import { computeDigest } from '../../src/plan/saved.js';
import { VERSION } from '../../src/version.js';
import type { SavedPlan } from '../../src/plan/types.js';
import type { LiveUser } from '../../src/model.js';
import { liveUser, op, targetPlan } from '../apply/fakes.js';

const files = [
  { path: 'scimform.yaml', sha256: 'a'.repeat(64) },
  { path: 'identities/a.yaml', sha256: 'b'.repeat(64) },
];

const reviewed = [op.updateUser('u1', 'jane@example.com', 'updateUser', 'W/"1"')];
const jane = liveUser('u1', 'jane@example.com', { version: 'W/"1"' });

/** A plan made now, from these live users, that holds these operations; `planned` counts the targets planned. */
function replanning(users: LiveUser[], operations = reviewed) {
  const planned: string[] = [];
  const replan = (target: { name: string }) => {
    planned.push(target.name);
    return Promise.resolve({ operations, live: { users, groups: [] } });
  };
  return { replan, planned };
}

function saved(operations = reviewed, scimformVersion = VERSION): SavedPlan {
  return {
    formatVersion: 1,
    scimformVersion,
    createdAt: '2026-01-01T00:00:00Z',
    digest: computeDigest(files),
    config: 'scimform.yaml',
    files,
    targets: [targetPlan(operations)],
  } as SavedPlan;
}

describe('checkFreshness', () => {
  test.each([
    { name: 'same files, same live versions', files, live: [jane], targets: ['test'], expected: { fresh: true } },
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
    expect(await checkFreshness(saved(), { files: current, targets, replan: replanning(live).replan })).toEqual(expected);
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
    expect(await checkFreshness(saved(), { files, targets: ['test'], replan: replanning([jane], now).replan })).toEqual(expected);
  });

  test('a reviewed plan made by another version whose operations differ says so, rather than blame the live state', async () => {
    const now = [...reviewed, op.updateUser('u9', 'by.hand@example.com', 'deactivateUser')];
    expect(await checkFreshness(saved(reviewed, '0.0.9'), { files, targets: ['test'], replan: replanning([jane], now).replan })).toEqual({
      fresh: false,
      reason: `the reviewed plan, made by scimform 0.0.9, is not what a plan of this commit by scimform ${VERSION} holds (test: the files and the live state now call for deactivate user by.hand@example.com (id u9), which the plan does not hold)`,
    });
    // The same operations: another version's plan still holds.
    expect(await checkFreshness(saved(reviewed, '0.0.9'), { files, targets: ['test'], replan: replanning([jane]).replan })).toEqual({ fresh: true });
  });

  test('changed files are found without reading the target', async () => {
    const { replan, planned } = replanning([jane]);
    await checkFreshness(saved(), { files: [files[0]!], targets: ['test'], replan });
    expect(planned).toEqual([]);
  });

  test('each selected target is read once, by the plan made now, even when its fingerprints show it changed', async () => {
    const plan = saved();
    plan.targets.push({ ...targetPlan(reviewed), target: { ...targetPlan(reviewed).target, name: 'backup' } });
    const stale = replanning([liveUser('u1', 'jane@example.com', { version: 'W/"2"' })]);
    expect(await checkFreshness(plan, { files, targets: ['test', 'backup'], replan: stale.replan })).toEqual({
      fresh: false,
      reason: 'the live state changed after the review (test: user jane@example.com changed on the server since the plan; backup: user jane@example.com changed on the server since the plan)',
    });
    expect(stale.planned).toEqual(['test', 'backup']);
    const fresh = replanning([jane]);
    expect(await checkFreshness(plan, { files, targets: ['backup'], replan: fresh.replan })).toEqual({ fresh: true });
    expect(fresh.planned).toEqual(['backup']);
  });

  test('a failure to read the target is thrown, not reported as staleness', async () => {
    const replan = () => Promise.reject(new Error('401 from the service'));
    await expect(checkFreshness(saved(), { files, targets: ['test'], replan })).rejects.toThrow('401 from the service');
  });
});
