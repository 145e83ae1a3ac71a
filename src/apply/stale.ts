/**
 * Refusing stale saved plans (SPEC §4): before anything is written, the files must be the ones the
 * plan was made from and every resource an operation touches must still look as it did.
 */
import { ScimformError } from '../errors.js';
import type { IdentityFile, LiveGroup, LiveState, LiveUser } from '../model.js';
import { canonicalJson, fingerprintOf } from '../plan/fingerprint.js';
import type { Fingerprint, Operation, SavedPlan, TargetPlan } from '../plan/types.js';
import type { ScimReader } from '../scim/types.js';
import type { StaleItem } from './types.js';

type Checked =
  | { check: 'user'; operation: Operation & { id: string; fingerprint: Fingerprint }; subject: string }
  | { check: 'group'; operation: Operation & { id: string; fingerprint: Fingerprint }; subject: string }
  | { check: 'absentUser'; operation: Operation; userName: string; subject: string }
  | { check: 'absentGroup'; operation: Operation; displayName: string; subject: string };

function checksOf(operations: readonly Operation[]): Checked[] {
  return operations.flatMap((operation): Checked[] => {
    switch (operation.kind) {
      case 'updateUser':
      case 'reactivateUser':
      case 'deactivateUser':
      case 'deleteUser':
        return [{ check: 'user', operation, subject: `user ${operation.userName}` }];
      case 'updateGroupMembers':
      case 'deleteGroup':
        return [{ check: 'group', operation, subject: `group ${operation.displayName}` }];
      case 'createUser':
        return [{ check: 'absentUser', operation, userName: operation.userName, subject: `user ${operation.userName}` }];
      case 'createGroup':
        return [{ check: 'absentGroup', operation, displayName: operation.displayName, subject: `group ${operation.displayName}` }];
      case 'manual':
        return [];
    }
  });
}

function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.kind === b.kind && a.value === b.value;
}

function judge(item: Checked, live: LiveUser | LiveGroup | undefined): StaleItem | undefined {
  const stale = (reason: string): StaleItem => ({ key: item.operation.key, subject: item.subject, reason });
  switch (item.check) {
    case 'user':
    case 'group':
      if (!live) return stale(`no longer exists on the server (id ${item.operation.id})`);
      return sameFingerprint(fingerprintOf(live), item.operation.fingerprint) ? undefined : stale('changed on the server since the plan');
    case 'absentUser':
    case 'absentGroup':
      return live ? stale(`now exists on the server (id ${live.id})`) : undefined;
  }
}

/**
 * Pages a listing is expected to take, apportioned from the plan's own read. A guess is enough:
 * it only chooses between one listing and one request per operation.
 */
function expectedPages(plan: TargetPlan, resource: 'users' | 'groups'): number {
  const { pages, users, groups } = plan.fetch;
  const share = (resource === 'users' ? users : groups) / Math.max(1, users + groups);
  return Math.max(1, Math.round(pages * share));
}

/** The items judged against listings of the live resources. */
function judgeListed(checks: readonly Checked[], users: readonly LiveUser[], groups: readonly LiveGroup[]): StaleItem[] {
  const usersById = new Map(users.map((user) => [user.id, user]));
  const usersByUserName = new Map(users.map((user) => [user.userName.toLowerCase(), user]));
  const groupsById = new Map(groups.map((group) => [group.id, group]));
  const groupsByDisplayName = new Map(groups.map((group) => [group.displayName.toLowerCase(), group]));
  return checks.flatMap((item) => {
    const live =
      item.check === 'user'
        ? usersById.get(item.operation.id)
        : item.check === 'absentUser'
          ? usersByUserName.get(item.userName.toLowerCase())
          : item.check === 'group'
            ? groupsById.get(item.operation.id)
            : groupsByDisplayName.get(item.displayName.toLowerCase());
    const found = judge(item, live);
    return found ? [found] : [];
  });
}

/** In the order of the plan's operations. */
function inPlanOrder(plan: TargetPlan, stale: StaleItem[]): StaleItem[] {
  const order = new Map(plan.plan.operations.map((operation, index) => [operation.key, index]));
  return stale.sort((a, b) => (order.get(a.key) ?? 0) - (order.get(b.key) ?? 0));
}

/**
 * The operations whose resource changed since the plan: updates and removals whose live
 * fingerprint differs (or whose resource is gone), creates whose resource now exists.
 *
 * Reads with one listing of users (and of groups when the plan touches groups), unless a request
 * per operation is cheaper. That shortcut needs version fingerprints: a hash was taken over a
 * listed resource, and some servers return more attributes for a single GET than in a listing.
 */
export async function checkFingerprints(plan: TargetPlan, reader: ScimReader): Promise<StaleItem[]> {
  const checks = checksOf(plan.plan.operations);
  const userChecks = checks.filter((item) => item.check === 'user' || item.check === 'absentUser');
  const groupChecks = checks.filter((item) => item.check === 'group' || item.check === 'absentGroup');
  const stale: StaleItem[] = [];

  if (userChecks.length > 0) {
    const oneByOne = userChecks.every((item) => item.check !== 'user' || item.operation.fingerprint.kind === 'version') && userChecks.length < expectedPages(plan, 'users');
    if (oneByOne) {
      for (const item of userChecks) {
        const live = item.check === 'user' ? await reader.getUser(item.operation.id) : item.check === 'absentUser' ? await reader.findUserByUserName(item.userName) : undefined;
        const found = judge(item, live);
        if (found) stale.push(found);
      }
    } else {
      stale.push(...judgeListed(userChecks, await reader.listUsers(), []));
    }
  }

  if (groupChecks.length > 0) {
    // There is no group lookup by displayName in ScimReader, so a create needs the listing.
    const oneByOne =
      groupChecks.every((item) => item.check === 'group' && item.operation.fingerprint.kind === 'version') && groupChecks.length < expectedPages(plan, 'groups');
    if (oneByOne) {
      for (const item of groupChecks) {
        if (item.check !== 'group') continue;
        const found = judge(item, await reader.getGroup(item.operation.id));
        if (found) stale.push(found);
      }
    } else {
      stale.push(...judgeListed(groupChecks, [], await reader.listGroups()));
    }
  }

  return inPlanOrder(plan, stale);
}

/**
 * `checkFingerprints` against a live state already read in full (the one a plan made now was
 * computed from), so checking a saved plan costs no read of its own.
 */
export function staleAgainst(plan: TargetPlan, live: LiveState): StaleItem[] {
  return inPlanOrder(plan, judgeListed(checksOf(plan.plan.operations), live.users, live.groups));
}

const LISTED_STALE_ITEMS = 5;

/** `lightstep: user jane@example.com changed on the server since the plan; …`, the first few items. */
export function describeStale(target: string, items: readonly StaleItem[]): string {
  const shown = items.slice(0, LISTED_STALE_ITEMS).map((item) => `${item.subject} ${item.reason}`);
  const more = items.length > LISTED_STALE_ITEMS ? `; and ${items.length - LISTED_STALE_ITEMS} more` : '';
  return `${target}: ${shown.join('; ')}${more}`;
}

/** What each kind of operation does, as the stale message says it. */
const ACTIONS: Record<Exclude<Operation['kind'], 'manual'>, string> = {
  createUser: 'create user',
  updateUser: 'update user',
  reactivateUser: 'reactivate user',
  deactivateUser: 'deactivate user',
  deleteUser: 'delete user',
  createGroup: 'create group',
  updateGroupMembers: 'update group',
  deleteGroup: 'delete group',
};

/** An operation as the stale message names it: `deactivate user jane@example.com (id u1)`. */
function describeOperation(operation: Operation): string {
  if (operation.kind === 'manual') return `manual item "${operation.subject}"`;
  const name = 'userName' in operation ? operation.userName : operation.displayName;
  const id = 'id' in operation ? ` (id ${operation.id})` : '';
  return `${ACTIONS[operation.kind]} ${name}${id}`;
}

/**
 * How a saved plan's operations differ from those a plan made now calls for, or undefined when
 * they are the same: the first operation only the plan made now holds (the live state changed
 * where the saved plan touches nothing, such as a user created by hand), else the first only the
 * saved plan holds, else the first both hold differently. `rewritten` is true in the last case,
 * which the live state rarely explains (fingerprints cover what an operation touches): an edited
 * plan, or one made by another version.
 */
export function describeChangedOperations(
  target: string,
  saved: readonly Operation[],
  current: readonly Operation[],
): { reason: string; rewritten: boolean } | undefined {
  if (canonicalJson(saved) === canonicalJson(current)) return undefined;
  const before = new Map(saved.map((operation) => [operation.key, operation]));
  const after = new Map(current.map((operation) => [operation.key, operation]));
  const added = current.filter((operation) => !before.has(operation.key));
  const removed = saved.filter((operation) => !after.has(operation.key));
  const changed = saved.filter((operation) => after.has(operation.key) && canonicalJson(operation) !== canonicalJson(after.get(operation.key)));
  const count = added.length + removed.length + changed.length;
  const more = count > 1 ? ` (and ${count - 1} more ${count === 2 ? 'difference' : 'differences'})` : '';
  if (added[0]) {
    return { reason: `${target}: the files and the live state now call for ${describeOperation(added[0])}, which the plan does not hold${more}`, rewritten: false };
  }
  if (removed[0]) {
    return { reason: `${target}: the plan holds ${describeOperation(removed[0])}, which the files and the live state no longer call for${more}`, rewritten: false };
  }
  // The same operations, one written differently (or all in another order).
  const what = changed[0] ? `the plan's ${describeOperation(changed[0])} is` : "the plan's operations are";
  return { reason: `${target}: ${what} not what the files and the live state call for now${more}`, rewritten: true };
}

/** `identities/eng.yaml changed, identities/new.yaml added`: which files differ, when both sides list them. */
export function describeChangedFiles(saved: readonly IdentityFile[], current: readonly IdentityFile[]): string | undefined {
  const before = new Map(saved.map((file) => [file.path, file.sha256]));
  const after = new Map(current.map((file) => [file.path, file.sha256]));
  const changes = [
    ...current.filter((file) => before.has(file.path) && before.get(file.path) !== file.sha256).map((file) => `${file.path} changed`),
    ...current.filter((file) => !before.has(file.path)).map((file) => `${file.path} added`),
    ...saved.filter((file) => !after.has(file.path)).map((file) => `${file.path} removed`),
  ];
  if (changes.length === 0) return undefined;
  const shown = changes.slice(0, LISTED_STALE_ITEMS).join(', ');
  return changes.length > LISTED_STALE_ITEMS ? `${shown} and ${changes.length - LISTED_STALE_ITEMS} more` : shown;
}

/**
 * Throws "saved plan is stale: …, re-run plan" when the files differ from those the plan was made
 * from (`current` is the digest, and when known the per-file hashes, of the working tree's config
 * and identity files), or when any operation's resource changed live. The digest is checked first,
 * so a plan made from other files is refused without reading the target at all. Nothing is
 * written either way.
 */
export async function assertPlanFresh(
  saved: SavedPlan,
  current: { digest: string; files?: readonly IdentityFile[] },
  readerFor: (target: TargetPlan['target']) => ScimReader,
): Promise<void> {
  const hint = 'Run `scimform plan --out <file>` again and apply the new plan, or run `scimform apply` without a plan file.';
  if (saved.digest !== current.digest) {
    const files = saved.files && current.files ? describeChangedFiles(saved.files, current.files) : undefined;
    throw new ScimformError(`saved plan is stale: ${files ?? 'the config or identity files changed since it was made'}, re-run plan`, { hint });
  }
  const reasons: string[] = [];
  for (const target of saved.targets) {
    const items = await checkFingerprints(target, readerFor(target.target));
    if (items.length > 0) reasons.push(describeStale(target.target.name, items));
  }
  if (reasons.length > 0) throw new ScimformError(`saved plan is stale: ${reasons.join('; ')}, re-run plan`, { hint });
}
