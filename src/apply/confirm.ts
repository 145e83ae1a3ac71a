/**
 * Whether an update already holds on the server. A PATCH whose answer was lost (a timeout, a
 * reset) may have landed; its retry then meets a 412 (the version moved) or a 400 `noTarget`
 * (the member is already gone). Reading the resource back tells a landed write from a real
 * conflict, as a lookup does for a create whose outcome is unknown (SPEC §5).
 */
import type { LiveGroup, LiveUser } from '../model.js';
import type { AttributeChange, UpdateGroupMembers, UpdateUser } from '../plan/types.js';
import { sameEmails, sameUserName } from '../plan/index.js';
import type { ScimReader } from '../scim/types.js';
import type { Email } from '../model.js';

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Whether the live user shows `want` at the change's path (undefined: the attribute is absent). */
function userHolds(user: LiveUser, change: AttributeChange, want: unknown): boolean {
  switch (change.path) {
    case 'userName':
      return typeof want === 'string' && sameUserName(want, user.userName);
    case 'externalId':
    case 'displayName':
      return want === undefined ? !present(user[change.path]) : user[change.path] === want;
    case 'name.givenName':
    case 'name.familyName': {
      const have = user.name?.[change.path === 'name.givenName' ? 'givenName' : 'familyName'];
      return want === undefined ? !present(have) : have === want;
    }
    case 'name':
      return want === undefined && !present(user.name?.givenName) && !present(user.name?.familyName);
    case 'emails':
      return sameEmails((want as Email[] | undefined) ?? [], user.emails ?? []);
    case 'active':
      return user.active === want;
    default:
      return false;
  }
}

export function userUpdateHolds(operation: UpdateUser, user: LiveUser | undefined): boolean {
  return user !== undefined && operation.changes.every((change) => userHolds(user, change, change.new));
}

/**
 * Whether the live user still is what the plan changed: the same userName, and every attribute the
 * update changes still at the value it replaces. A PATCH sets only those attributes, so it makes
 * the same change on such a user whatever else moved its version.
 */
export function userUpdateStillApplies(operation: UpdateUser, user: LiveUser | undefined): boolean {
  if (user === undefined) return false;
  const renames = operation.changes.some((change) => change.path === 'userName');
  return (renames || sameUserName(operation.userName, user.userName)) && operation.changes.every((change) => userHolds(user, change, change.old));
}

/**
 * `idOf` gives the id of a member this plan created (by its create's key), when known. `upTo`: how
 * many member changes to check, the adds then the removes, for the first requests of an update sent
 * in several (default all).
 */
export function groupUpdateHolds(operation: UpdateGroupMembers, group: LiveGroup | undefined, idOf: (userName: string) => string | undefined, upTo = Infinity): boolean {
  if (!group) return false;
  const members = new Set(group.members);
  const added = operation.add.slice(0, upTo).every((member) => {
    const id = member.id ?? idOf(member.userName);
    return id !== undefined && members.has(id);
  });
  const removed = operation.remove.slice(0, Math.max(0, upTo - operation.add.length)).every((member) => member.id === undefined || !members.has(member.id));
  const changes = operation.changes.every((change) => (change.path === 'displayName' || change.path === 'externalId' ? (change.new === undefined ? !present(group[change.path]) : group[change.path] === change.new) : false));
  return added && removed && changes;
}

/**
 * Reads the resource back and says whether the update already holds; a failed read says no. The
 * read goes even after SIGINT: it tells what a write already sent did.
 */
export async function updateLanded(reader: ScimReader, operation: UpdateUser | UpdateGroupMembers, idOf: (userName: string) => string | undefined, upTo?: number): Promise<boolean> {
  const read = { evenIfInterrupted: true };
  try {
    return operation.kind === 'updateGroupMembers'
      ? groupUpdateHolds(operation, await reader.getGroup(operation.id, read), idOf, upTo)
      : userUpdateHolds(operation, await reader.getUser(operation.id, read));
  } catch {
    return false;
  }
}
