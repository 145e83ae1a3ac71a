import { describe, expect, test } from 'vitest';
import { checkGuards, computePlan } from '../../src/plan/index.js';
import type { LiveUser, Policy, RemovalLimit } from '../../src/model.js';
import type { Plan } from '../../src/plan/types.js';
import { desired, generic, group, liveGroup, liveUser, policy, user } from './builders.js';

const percent25: RemovalLimit = { kind: 'percent', value: 25, text: '25%' };
const count3: RemovalLimit = { kind: 'count', value: 3, text: '3' };

function liveUsers(n: number): LiveUser[] {
  return Array.from({ length: n }, (_, i) => liveUser(`u${String(i).padStart(3, '0')}`, `user${i}@example.com`));
}

/** A plan with the given removal numbers, as computePlan would report them. */
function planWith(removals: number, liveUsersInScope: number, limit: RemovalLimit, emptiedGroups: string[] = []): Plan {
  return { operations: [], summary: { create: 0, update: 0, deactivate: 0, delete: 0, manual: 0 }, removals: { removals, liveUsersInScope, limit }, emptiedGroups };
}

const someone = desired([user('someone@example.com')]);

describe('checkGuards', () => {
  test.each([
    ['percent: below the limit', percent25, 2, 12, []],
    ['percent: at the limit (3 of 12 is 25%)', percent25, 3, 12, []],
    ['percent: above the limit', percent25, 4, 12, ['maxRemovals']],
    ['percent: above the limit but fewer than 10 users in scope (the floor)', percent25, 9, 9, []],
    ['percent: above the limit with exactly 10 users in scope', percent25, 3, 10, ['maxRemovals']],
    ['count: below', count3, 2, 100, []],
    ['count: at', count3, 3, 100, []],
    ['count: above', count3, 4, 100, ['maxRemovals']],
  ] as const)('maxRemovals, %s', (_name, limit, removals, inScope, expected) => {
    const rules = policy({ maxRemovals: limit });
    const guards = checkGuards(planWith(removals, inScope, limit), rules, someone, { users: [], groups: [] }, { allowMassRemoval: false });
    expect(guards.map((violation) => violation.guard)).toEqual(expected);
    expect(checkGuards(planWith(removals, inScope, limit), rules, someone, { users: [], groups: [] }, { allowMassRemoval: true })).toEqual([]);
  });

  test('the maxRemovals message names the guard, the numbers, where the limit is set and how to override', () => {
    const rules = policy({ maxRemovals: percent25 });
    const [violation] = checkGuards(planWith(40, 120, percent25), rules, someone, { users: [], groups: [] }, { allowMassRemoval: false });
    expect(violation).toEqual({
      guard: 'maxRemovals',
      overridable: true,
      message:
        'refusing to remove 40 of 120 live users in scope (33%), above maxRemovals 25% (policy, scimform.yaml:15): review the plan, then re-run with --allow-mass-removal to override',
    });
  });

  test('a percentage just above the limit is not rounded down onto it', () => {
    const shown = (removals: number, base: number): string | undefined =>
      checkGuards(planWith(removals, base, percent25), policy(), someone, { users: [], groups: [] }, { allowMassRemoval: false })[0]?.message.match(/\(([\d.]+%)\), above/)?.[1];
    expect(shown(101, 400)).toBe('25.3%');
    expect(shown(1001, 4000)).toBe('25.02%');
    expect(shown(51, 200)).toBe('26%');
  });

  test('removals computed from a real plan: deactivations and group-member removals both count', () => {
    const users = liveUsers(12);
    const declared = users.slice(0, 10).map((live) => user(live.userName));
    const rules = policy({ unmanagedUsers: 'deactivate' });
    // 2 deactivations + 2 member removals = 4 of 12 > 25%.
    const state = desired(declared, [group('G', ['user0@example.com'])]);
    const groups = [liveGroup('g1', 'G', ['u000', 'u001', 'u002'])];
    const computed = computePlan(state, { users, groups }, rules, generic());
    expect(computed.removals.removals).toBe(4);
    expect(checkGuards(computed, rules, state, { users, groups }, { allowMassRemoval: false }).map((v) => v.guard)).toEqual(['maxRemovals']);
  });

  test.each([
    ['no users declared against live users in scope', desired([]), 3, ['emptyDesiredState']],
    ['no users declared against an empty target', desired([]), 0, []],
    ['one user declared', someone, 3, []],
  ])('empty desired state: %s', (_name, state, inScope, expected) => {
    const guards = checkGuards(planWith(0, inScope, percent25), policy(), state, { users: [], groups: [] }, { allowMassRemoval: false });
    expect(guards.map((violation) => violation.guard)).toEqual(expected);
    expect(checkGuards(planWith(0, inScope, percent25), policy(), state, { users: [], groups: [] }, { allowMassRemoval: true })).toEqual([]);
  });

  test('an empty desired state is refused even under unmanagedUsers: ignore and the removal floor', () => {
    const users = liveUsers(2);
    const computed = computePlan(desired([]), { users, groups: [] }, policy(), generic());
    expect(computed.operations).toEqual([]);
    const [violation] = checkGuards(computed, policy(), desired([]), { users, groups: [] }, { allowMassRemoval: false });
    expect(violation).toMatchObject({ guard: 'emptyDesiredState', overridable: true });
    expect(violation?.message).toContain('2 live users in scope');
    expect(violation?.message).toContain('--allow-mass-removal');
  });

  test.each([
    ['only a protected user', [user('breakglass@example.com')], { protectedUsers: ['BreakGlass@example.com'] }, 'the one user declared is protected or outside scope, so no user is managed'],
    ['only users outside scope', [user('a@other.example'), user('b@other.example')], { scope: '*@example.com' }, 'all 2 users declared are protected or outside scope, so no user is managed'],
  ] as [string, ReturnType<typeof user>[], Partial<Policy>, string][])('a desired state is empty when it declares %s', (_name, declared, fields, reason) => {
    // Below the floor of maxRemovals: without this guard, every live user in scope is deactivated.
    const users = liveUsers(3);
    const rules = policy({ unmanagedUsers: 'deactivate', ...fields });
    const state = desired(declared);
    const computed = computePlan(state, { users, groups: [] }, rules, generic());
    expect(computed.summary.deactivate).toBe(3);
    const guards = checkGuards(computed, rules, state, { users, groups: [] }, { allowMassRemoval: false });
    expect(guards).toEqual([
      {
        guard: 'emptyDesiredState',
        overridable: true,
        message: `refusing to plan from an empty desired state: ${reason}, but the target has 3 live users in scope: check the desired globs in the config, then re-run with --allow-mass-removal to override`,
      },
    ]);
    expect(checkGuards(computed, rules, state, { users, groups: [] }, { allowMassRemoval: true })).toEqual([]);
  });

  test('an empty desired state against one live user says so in the singular', () => {
    const users = liveUsers(1);
    const [violation] = checkGuards(computePlan(desired([]), { users, groups: [] }, policy(), generic()), policy(), desired([]), { users, groups: [] }, { allowMassRemoval: false });
    expect(violation?.message).toContain('but the target has 1 live user in scope:');
  });

  test.each([
    ['every member removed', ['u000', 'u001'], [], ['emptiesGroup']],
    ['one member left', ['u000', 'u001'], ['user0@example.com'], []],
    ['already empty', [], [], []],
  ])('a plan that empties a non-empty group: %s', (_name, liveMembers, members, expected) => {
    const users = liveUsers(2);
    const state = desired(users.map((live) => user(live.userName)), [group('Admins', members)]);
    const live = { users, groups: [liveGroup('g1', 'Admins', liveMembers)] };
    const computed = computePlan(state, live, policy(), generic());
    const guards = checkGuards(computed, policy(), state, live, { allowMassRemoval: false });
    expect(guards.map((violation) => violation.guard)).toEqual(expected);
    if (expected.length > 0) expect(guards[0]!.message).toBe('refusing to remove every member of group Admins (2 live members): review the plan, then re-run with --allow-mass-removal to override');
    expect(checkGuards(computed, policy(), state, live, { allowMassRemoval: true })).toEqual([]);
  });

  test.each([
    ['with members', ['u000', 'u001'], ['emptiesGroup']],
    ['already empty', [], []],
  ])('a group deleted under unmanagedGroups: delete is emptied too: %s', (_name, liveMembers, expected) => {
    const users = liveUsers(2);
    const state = desired(users.map((live) => user(live.userName)));
    const live = { users, groups: [liveGroup('g1', 'Admins', liveMembers)] };
    const rules = policy({ unmanagedGroups: 'delete', allowDelete: true });
    const computed = computePlan(state, live, rules, generic());
    expect(computed.operations.map((op) => op.kind)).toEqual(['deleteGroup']);
    // Below the floor of maxRemovals: only this guard stands between the plan and the DELETE.
    const guards = checkGuards(computed, rules, state, live, { allowMassRemoval: false });
    expect(guards.map((violation) => violation.guard)).toEqual(expected);
    if (expected.length > 0) {
      expect(guards[0]!.message).toBe(
        'refusing to delete group Admins, which has 2 live members (policy unmanagedGroups: delete): review the plan, then re-run with --allow-mass-removal to override',
      );
    }
    expect(checkGuards(computed, rules, state, live, { allowMassRemoval: true })).toEqual([]);
  });

  test.each([
    ['unmanagedUsers: delete without allowDelete', { unmanagedUsers: 'delete', allowDelete: false }, ['deleteNotAllowed']],
    ['unmanagedGroups: delete without allowDelete', { unmanagedGroups: 'delete', allowDelete: false }, ['deleteNotAllowed']],
    ['both, without allowDelete', { unmanagedUsers: 'delete', unmanagedGroups: 'delete', allowDelete: false }, ['deleteNotAllowed', 'deleteNotAllowed']],
    ['delete with allowDelete', { unmanagedUsers: 'delete', unmanagedGroups: 'delete', allowDelete: true }, []],
    ['deactivate', { unmanagedUsers: 'deactivate', allowDelete: false }, []],
  ] as [string, Partial<Policy>, string[]][])('deleteNotAllowed, %s, is not overridden by --allow-mass-removal', (_name, fields, expected) => {
    const rules = policy(fields);
    const guards = checkGuards(planWith(0, 0, percent25), rules, someone, { users: [], groups: [] }, { allowMassRemoval: true });
    expect(guards.map((violation) => violation.guard)).toEqual(expected);
    expect(guards.every((violation) => !violation.overridable)).toBe(true);
  });

  test('the deleteNotAllowed message says where the policy is set and what to change', () => {
    const [violation] = checkGuards(planWith(0, 0, percent25), policy({ unmanagedUsers: 'delete' }), someone, { users: [], groups: [] }, { allowMassRemoval: false });
    expect(violation?.message).toBe(
      'policy unmanagedUsers is delete but allowDelete is false (policy, scimform.yaml:12): set allowDelete: true to allow DELETE, or choose deactivate or ignore',
    );
  });
});
