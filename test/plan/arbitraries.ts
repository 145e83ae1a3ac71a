/** Random inputs shared by the property tests of planning (in memory) and of plan and apply (over HTTP). */
import fc from 'fast-check';
import type { DesiredGroup, DesiredUser, Email, Policy } from '../../src/model.js';
import { at } from './builders.js';

/** absent (unmanaged), null (must be absent), or a value. */
export function managed<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> {
  return fc.oneof(fc.constant(undefined), fc.constant(null), value);
}

/** `items` without those whose key an earlier one has; items without a key are all kept. */
export function unique<T>(items: T[], key: (item: T) => string | undefined): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (k === undefined) return true;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Up to three groups named from `names`, with distinct names and externalIds, whose members are
 * some of `users`, written in either case (members are matched without case).
 */
export function desiredGroupsOf(users: readonly DesiredUser[], names: readonly string[]): fc.Arbitrary<DesiredGroup[]> {
  const userNames = users.map((user) => user.userName);
  return fc
    .array(
      fc.record({
        displayName: fc.constantFrom(...names),
        externalId: fc.option(fc.constantFrom('G1', 'G2'), { nil: undefined }),
        members: userNames.length > 0 ? fc.uniqueArray(fc.constantFrom(...userNames), { maxLength: userNames.length }) : fc.constant([] as string[]),
        upper: fc.boolean(),
      }),
      { maxLength: 3 },
    )
    .map((groups) =>
      unique(unique(groups, (group) => group.displayName), (group) => group.externalId).map(({ upper, ...group }, index) => ({
        ...group,
        members: group.members.map((member) => (upper ? member.toUpperCase() : member)),
        memberSources: group.members.map((_, i) => at(50 + index * 10 + i, 'identities/groups.yaml')),
        source: at(49 + index * 10, 'identities/groups.yaml'),
      })),
    );
}

/** Up to six declared users from these pools, with distinct userNames (without case) and externalIds. */
export function desiredUsersOf(pools: {
  userName: fc.Arbitrary<string>;
  word: fc.Arbitrary<string>;
  emails: fc.Arbitrary<Email[] | null | undefined>;
}): fc.Arbitrary<DesiredUser[]> {
  return fc
    .array(
      fc.record({
        userName: pools.userName,
        externalId: managed(fc.constantFrom('E1', 'E2', 'E3', 'E4')),
        displayName: managed(pools.word),
        name: managed(fc.record({ givenName: managed(pools.word), familyName: managed(pools.word) })),
        emails: pools.emails,
        active: fc.option(fc.boolean(), { nil: undefined }),
      }),
      { maxLength: 6 },
    )
    .map((users) =>
      unique(unique(users, (user) => user.userName.toLowerCase()), (user) => (typeof user.externalId === 'string' ? user.externalId : undefined)).map((user, index) => ({
        ...user,
        source: at(index + 1),
      })),
    );
}

/** The policy choices the property tests vary: the unmanaged rules, deletes, a scope (`scoped`) and a protected user (`protect`). */
export const policyChoices = fc.record({
  unmanagedUsers: fc.constantFrom('ignore', 'deactivate', 'delete') as fc.Arbitrary<Policy['unmanagedUsers']>,
  unmanagedGroups: fc.constantFrom('ignore', 'delete') as fc.Arbitrary<Policy['unmanagedGroups']>,
  allowDelete: fc.boolean(),
  scoped: fc.boolean(),
  protect: fc.boolean(),
});
