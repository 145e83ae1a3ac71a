import { describe, expect, test } from 'vitest';
import { assertPlanFresh, checkFingerprints } from '../../src/apply/stale.js';
import { ScimformError } from '../../src/errors.js';
import type { LiveGroup, LiveUser } from '../../src/model.js';
import { fingerprintOf } from '../../src/plan/fingerprint.js';
import type { Operation, SavedPlan } from '../../src/plan/types.js';
import { acceptAll, fakeScim, liveUser, op, targetPlan } from './fakes.js';

/** An update planned against `user` as it is now. */
function updateOf(user: LiveUser): Operation {
  const operation = op.updateUser(user.id, user.userName);
  return { ...operation, fingerprint: fingerprintOf(user) } as Operation;
}

const jane = liveUser('u1', 'jane@example.com');
const bob = liveUser('u2', 'bob@example.com');
const admins: LiveGroup = { id: 'g1', displayName: 'Admins', members: [], resource: { id: 'g1', displayName: 'Admins' } };

describe('checkFingerprints', () => {
  test.each([
    { name: 'nothing changed', live: [jane, bob], operations: [updateOf(jane), op.createUser('new@example.com')], stale: [] },
    {
      name: 'an attribute changed live',
      live: [{ ...jane, resource: { ...jane.resource, displayName: 'J' } }, bob],
      operations: [updateOf(jane), updateOf(bob)],
      stale: [['user:jane@example.com', 'changed on the server since the plan']],
    },
    { name: 'the user is gone', live: [bob], operations: [updateOf(jane)], stale: [['user:jane@example.com', 'no longer exists on the server (id u1)']] },
    {
      name: 'a user to create now exists (any case)',
      live: [jane, liveUser('u9', 'New@Example.com')],
      operations: [op.createUser('new@example.com')],
      stale: [['user:new@example.com', 'now exists on the server (id u9)']],
    },
    { name: 'only meta changed: not stale (meta is outside the hash)', live: [{ ...jane, resource: { ...jane.resource, meta: { lastModified: 'now' } } }], operations: [updateOf(jane)], stale: [] },
  ])('$name', async ({ live, operations, stale }) => {
    const fake = fakeScim(acceptAll(), { users: live });
    const items = await checkFingerprints(targetPlan(operations), fake.client);
    expect(items.map((item) => [item.key, item.reason])).toEqual(stale);
    expect(fake.reads).toEqual(['listUsers']);
  });

  test('with version fingerprints and few operations, one request per operation is cheaper than the listing', async () => {
    const v1 = { ...jane, version: 'W/"1"' };
    const fake = fakeScim(acceptAll(), { users: [{ ...v1, version: 'W/"2"' }, bob] });
    const plan = targetPlan([{ ...op.updateUser('u1', 'jane@example.com'), fingerprint: { kind: 'version', value: 'W/"1"' } } as Operation, op.createUser('x@example.com')], {
      users: 5000,
      pages: 50,
    });
    const items = await checkFingerprints(plan, fake.client);
    expect(fake.reads).toEqual(['getUser u1', 'findUserByUserName x@example.com']);
    expect(items).toEqual([{ key: 'user:jane@example.com', subject: 'user jane@example.com', reason: 'changed on the server since the plan' }]);
  });

  test('hash fingerprints always use the listing the plan was made from', async () => {
    const fake = fakeScim(acceptAll(), { users: [jane] });
    await checkFingerprints(targetPlan([updateOf(jane)], { users: 5000, pages: 50 }), fake.client);
    expect(fake.reads).toEqual(['listUsers']);
  });

  test('groups are read only when the plan touches groups, and a group to create must still be absent', async () => {
    const fake = fakeScim(acceptAll(), { users: [jane], groups: [admins] });
    const items = await checkFingerprints(targetPlan([op.createGroup('admins', []), op.createUser('new@example.com')]), fake.client);
    expect(fake.reads).toEqual(['listUsers', 'listGroups']);
    expect(items).toEqual([{ key: 'group:admins', subject: 'group admins', reason: 'now exists on the server (id g1)' }]);
  });
});

describe('assertPlanFresh', () => {
  const saved = (operations: Operation[]): SavedPlan => ({
    formatVersion: 1,
    scimformVersion: '0.1.0',
    createdAt: '2026-01-01T00:00:00Z',
    digest: 'abc',
    config: 'scimform.yaml',
    targets: [targetPlan(operations)],
  });

  test('refuses a plan made from other files without reading the target', async () => {
    const fake = fakeScim(acceptAll(), { users: [jane] });
    const error = await assertPlanFresh(saved([updateOf(jane)]), { digest: 'def' }, () => fake.client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as ScimformError).message).toBe('saved plan is stale: the config or identity files changed since it was made, re-run plan');
    expect(fake.reads).toEqual([]);
    expect(fake.writes).toEqual([]);
  });

  test('names the files that changed when the saved plan lists them', async () => {
    const fake = fakeScim(acceptAll());
    const plan = {
      ...saved([]),
      files: [
        { path: 'identities/eng.yaml', sha256: '1' },
        { path: 'identities/old.yaml', sha256: '2' },
        { path: 'scimform.yaml', sha256: '3' },
      ],
    };
    const current = {
      digest: 'def',
      files: [
        { path: 'identities/eng.yaml', sha256: '9' },
        { path: 'identities/new.yaml', sha256: '4' },
        { path: 'scimform.yaml', sha256: '3' },
      ],
    };
    await expect(assertPlanFresh(plan, current, () => fake.client)).rejects.toThrow(
      'saved plan is stale: identities/eng.yaml changed, identities/new.yaml added, identities/old.yaml removed, re-run plan',
    );
  });

  test('refuses a plan whose resources changed live, naming them', async () => {
    const fake = fakeScim(acceptAll(), { users: [bob] });
    await expect(assertPlanFresh(saved([updateOf(jane)]), { digest: 'abc' }, () => fake.client)).rejects.toThrow(
      'saved plan is stale: test: user jane@example.com no longer exists on the server (id u1), re-run plan',
    );
    expect(fake.writes).toEqual([]);
  });

  test('accepts a fresh plan', async () => {
    const fake = fakeScim(acceptAll(), { users: [jane] });
    await expect(assertPlanFresh(saved([updateOf(jane)]), { digest: 'abc' }, () => fake.client)).resolves.toBeUndefined();
  });
});
