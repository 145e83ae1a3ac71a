/**
 * `computePlan`: the difference between git and a live SCIM service, as the fewest writes that
 * close it (SPEC §4). Pure and synchronous: no I/O, no clock, no randomness; the same inputs
 * give the same plan, operations ordered by `OPERATION_ORDER` then by userName / displayName.
 *
 * Decisions where the specification leaves room, so a reviewer can predict the plan:
 * - Users match by `externalId` first (exact, RFC 7643 §3.1 caseExact) over all desired users,
 *   then by `userName` without case among the live users still unmatched. A desired user that
 *   is protected or outside `scope`, or whose match is, is left alone entirely (a note says so).
 * - Servers need not keep `externalId` unique. When several live users share the declared one,
 *   the one whose userName is also the declared one (without case; exact case, then the lowest
 *   id) is the match, and a note names the others. When none is, which account is meant is for
 *   a person to say: a manual item names them all, and none of them is renamed, created again,
 *   matched by another declaration's userName, deactivated, deleted or removed from a group.
 * - Two live users whose userNames differ only in case (a dirty target): the one whose case
 *   equals the declaration wins, else the lowest id; the other is an unmanaged user.
 * - A rename onto a userName another live user holds would be refused by the server (409), so
 *   it is never sent: it becomes a manual item, and the holder is left alone (a person decides
 *   which account is the right one). When the holder is itself renamed away by this plan, the
 *   item says to apply and plan again, and carries `followUp`; the same goes for a create whose
 *   userName is still held by a user this plan renames (creates run before updates), and for
 *   each link of a chain of renames this plan starts. A swap, a cycle, or a holder the plan
 *   leaves alone needs a person.
 * - Groups match by `externalId`, then by exact `displayName`, then by `displayName` without
 *   case when exactly one unmatched live group fits (then the case is corrected by a rename).
 *   Exact first because RFC 7643 does not make group names unique, and two live groups may
 *   differ only in case. Many servers keep them unique all the same, so a rename or a create
 *   onto a name another live group has now is a manual item; when this plan deletes or renames
 *   the holder away (or starts a chain that does), it carries `followUp` and the next plan makes
 *   it. A swap of names needs a person.
 * - Live members scimform does not manage (unknown ids, nested groups, protected or
 *   out-of-scope users) are never removed. A group holding such members is never deleted.
 * - Removals (for `maxRemovals`) count one per deactivated or deleted user, one per member
 *   removed from a group, and for a deleted group one per member it had (at least one).
 * - `emptiedGroups` names every non-empty live group the plan leaves without members: one whose
 *   last members it removes, and one it deletes.
 */
import type { Capabilities, DesiredGroup, DesiredState, DesiredUser, LiveGroup, LiveState, LiveUser, Policy } from '../model.js';
import type { SourceLocation } from '../errors.js';
import { unpackLocation } from '../config/fast-yaml.js';
import { fingerprintOf } from './fingerprint.js';
import { diffUser, partOfRename, sameUserName } from './normalise.js';
import {
  createGroupRequest,
  createChanges,
  createUserBody,
  createUserKey,
  deleteRequest,
  groupPath,
  replaceGroupRequest,
  updateGroupRequests,
  updateUserRequest,
  userPath,
} from './requests.js';
import { scopeRules, type ScopeRules } from './scope.js';
import { lookalikeNotes } from './lookalike.js';
import {
  OPERATION_ORDER,
  type AttributeChange,
  type ManualAction,
  type MemberRef,
  type Operation,
  type Plan,
  type PlanSummary,
  type Provenance,
} from './types.js';

const READ_ONLY_GROUPS = "this target's groups are read-only";

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function lower(value: string): string {
  return value.toLowerCase();
}

function declared(location: SourceLocation): Provenance {
  return { kind: 'declaration', location };
}

function policyRule(policy: Policy, rule: 'unmanagedUsers' | 'unmanagedGroups'): Provenance {
  const location = policy.sources[rule];
  return { kind: 'policy', rule, value: policy[rule], ...(location ? { location } : {}) };
}

/** Stable sort by a string key computed once per item (not once per comparison). */
function sortByKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ item, key: key(item) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((entry) => entry.item);
}

/**
 * Items by key, in input order. Almost every key holds one item, so the first item of each key
 * is kept alone and only the rare others go in a list: no array per key at 100,000 users.
 */
interface Grouped<T> {
  first: Map<string, T>;
  /** The second and later items of keys held by more than one, in input order. */
  more: Map<string, T[]>;
}

/** Groups `items` by `key`, holding `value(item, position)` for each: the item, or its position. */
function groupWith<T, V>(items: readonly T[], key: (item: T) => string | undefined, value: (item: T, position: number) => V): Grouped<V> {
  const first = new Map<string, V>();
  // One map operation per item (these maps hold 100,000 keys, and each lookup is a cache miss):
  // set in reverse order, so the value left under a key is its first item's; a size that did not
  // grow marks a key held more than once, whose other items are gathered after (a rare case).
  const repeated = new Set<string>();
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    const k = key(item);
    if (k === undefined) continue;
    const size = first.size;
    first.set(k, value(item, i));
    if (first.size === size) repeated.add(k);
  }
  const more = new Map<string, V[]>();
  if (repeated.size === 0) return { first, more };
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined || !repeated.has(k)) return;
    const v = value(item, i);
    if (first.get(k) === v) return;
    const list = more.get(k);
    if (list) list.push(v);
    else more.set(k, [v]);
  });
  return { first, more };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Grouped<T> {
  return groupWith(items, key, (item) => item);
}

/** Like `groupBy`, holding positions in `items` rather than the items: a position can index an array, where an item needs a hash lookup. */
function groupPositions<T>(items: readonly T[], key: (item: T) => string | undefined): Grouped<number> {
  return groupWith(items, key, (_, position) => position);
}

/** Every item under `key`, in input order. */
function groupOf<T>(grouped: Grouped<T>, key: string): T[] {
  const first = grouped.first.get(key);
  if (first === undefined) return [];
  const more = grouped.more.get(key);
  return more ? [first, ...more] : [first];
}

/** The first item under `key` that `accept` takes, without building the list. */
function firstOf<T>(grouped: Grouped<T>, key: string, accept: (item: T) => boolean): T | undefined {
  const first = grouped.first.get(key);
  if (first === undefined) return undefined;
  if (accept(first)) return first;
  return grouped.more.get(key)?.find(accept);
}

/** Mutable state while one plan is built; never escapes `computePlan`. */
interface Work {
  operations: Operation[];
  notes: string[];
  removals: number;
  emptiedGroups: string[];
  keys: Set<string>;
}

function uniqueKey(work: Work, key: string, id: string): string {
  const unique = work.keys.has(key) ? `${key}#${id}` : key;
  work.keys.add(unique);
  return unique;
}

function manual(work: Work, subject: string, reason: string, provenance: Provenance, followUp?: ManualAction['followUp']): void {
  const op: ManualAction = {
    kind: 'manual',
    key: uniqueKey(work, `manual:${subject}`, String(work.operations.length)),
    subject,
    reason,
    ...(followUp ? { followUp } : {}),
    provenance,
    requests: [],
  };
  work.operations.push(op);
}

/** A desired user whose userName only live users this plan means to rename away hold. */
interface Waiting {
  subject: string;
  user: DesiredUser;
  /** Positions of the holders in the sorted live users. */
  holders: number[];
  /** The live user the desired user is matched to (a rename), absent for a create. */
  self?: string;
}

/** Where a chain of waiting renames leads: a rename this plan sends, an item for a person, or round in a cycle. */
type ChainEnd = 'sent' | 'person' | 'cycle';

/** A desired user and its live match, if any, with its lower-cased userName. */
interface UserEntry {
  desired: DesiredUser;
  live: LiveUser | undefined;
  name: string;
  /**
   * Positions of the live users that share the declared externalId, when several do: with `live`,
   * the others (for a note); without, the users a person must choose between.
   */
  sharing?: number[];
}

/** How the desired users map onto live users. */
interface UserMatching {
  /** Desired users scimform may act on, each with its live match (if any) and its lower-cased userName. */
  matched: UserEntry[];
  /**
   * The desired user that claimed each live user (manageable or not), by position in the
   * sorted live users: an array read, where a map by id cost ~60 MB at 1,000,000 users.
   */
  claimer: (DesiredUser | undefined)[];
  /** How many live users are claimed. */
  claims: number;
  /** Live ids matched by a declaration that is left alone: they are left alone too, groups included. */
  leftAlone: Set<string>;
}

/**
 * The live users by lower-cased userName, in `liveUsers` order, and the ids of those outside
 * scope or protected (usually few, so asking that set is cheaper than matching the glob again).
 */
interface LiveIndex {
  /** Positions in the sorted live users. */
  byUserName: Grouped<number>;
  unmanageable: Set<string>;
}

function matchUsers(desired: readonly DesiredUser[], liveUsers: readonly LiveUser[], index: LiveIndex, rules: ScopeRules, work: Work): UserMatching {
  // Each userName is lower-cased once, here, and the result reused for every lookup below; each
  // entry becomes the user's match (`live` set as it is found), so no second list is built.
  const sorted: UserEntry[] = desired.map((user) => ({ desired: user, live: undefined, name: lower(user.userName) }));
  sorted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // stable: equal names keep file order
  const byExternalId = groupPositions(liveUsers, (user) => user.externalId);
  const { byUserName } = index;
  const claimer = new Array<DesiredUser | undefined>(liveUsers.length).fill(undefined);
  let claims = 0;
  const unclaimedAt = (position: number): boolean => claimer[position] === undefined;
  const liveManageable = index.unmanageable.size === 0 ? () => true : (user: LiveUser): boolean => !index.unmanageable.has(user.id);

  /** Live users sharing a declared externalId, none with the declared userName: left for a person, so no declaration takes them by userName either. */
  const contested = new Set<number>();
  /** Of `positions` (sorted in place), the exact case first, then the lowest id: deterministic on a target holding case-only duplicates. */
  const bestFor = (user: DesiredUser, positions: number[]): number | undefined => {
    if (positions.length < 2) return positions[0];
    const exact = (position: number): number => Number(liveUsers[position]!.userName === user.userName);
    return positions.sort((a, b) => exact(b) - exact(a) || byId(liveUsers[a]!, liveUsers[b]!))[0];
  };

  // Live users are known by position: whether one is claimed is an array read.
  for (const entry of sorted) {
    const user = entry.desired;
    if (typeof user.externalId !== 'string') continue;
    let position: number | undefined;
    if (!byExternalId.more.has(user.externalId)) {
      position = firstOf(byExternalId, user.externalId, unclaimedAt);
    } else {
      // The server need not keep externalIds unique: of several live users sharing it, the one that
      // also has the declared userName is the match; without one, which is meant is for a person.
      const sharing = groupOf(byExternalId, user.externalId).filter(unclaimedAt);
      position = bestFor(user, sharing.filter((at) => lower(liveUsers[at]!.userName) === entry.name)) ?? (sharing.length === 1 ? sharing[0] : undefined);
      if (sharing.length > 1) entry.sharing = sharing;
      if (position === undefined) for (const at of sharing) contested.add(at);
    }
    if (position === undefined) continue;
    claimer[position] = user;
    claims++;
    entry.live = liveUsers[position]!;
  }
  const free = contested.size === 0 ? unclaimedAt : (position: number): boolean => unclaimedAt(position) && !contested.has(position);
  for (const entry of sorted) {
    if (entry.live || entry.sharing) continue;
    const user = entry.desired;
    const candidates = groupOf(byUserName, entry.name).filter(free);
    const position = bestFor(user, candidates);
    if (position === undefined) continue;
    claimer[position] = user;
    claims++;
    entry.live = liveUsers[position]!;
  }

  // Only names held more than once: the rest need no note.
  for (const name of byUserName.more.keys()) {
    if (!rules.isManageable(name)) continue;
    const holders = groupOf(byUserName, name);
    const matched = holders.find((position) => claimer[position] !== undefined && lower(claimer[position]!.userName) === name);
    const ids = holders.map((position) => liveUsers[position]!.id).join(', ');
    work.notes.push(
      matched !== undefined
        ? `live users ${ids} share userName ${name} (differing only in case): matched id ${liveUsers[matched]!.id}, the others are treated as unmanaged`
        : `live users ${ids} share userName ${name} (differing only in case)`,
    );
  }

  // The entries kept are moved to the front of `sorted`, which becomes the result: no second array of every user.
  let kept = 0;
  const leftAlone = new Set<string>();
  const idsAt = (positions: readonly number[]): string[] => positions.map((position) => liveUsers[position]!.id);
  for (const entry of sorted) {
    const { desired: user, live, sharing } = entry;
    if (sharing && !live) {
      // No rename, no create, and no removal of any of them: which account is meant is for a person to say.
      const ids = idsAt(sharing);
      for (const id of ids) leftAlone.add(id);
      if (!rules.isManageable(user.userName)) {
        work.notes.push(`user ${user.userName} is ${rules.isProtected(user.userName) ? 'protected' : 'outside scope'}: left alone (live users ${ids.join(', ')} share its externalId)`);
        continue;
      }
      const reason =
        `live users ${ids.slice(0, -1).join(', ')} and ${ids.at(-1)} share externalId ${user.externalId}, and ${ids.length === 2 ? 'neither' : 'none'} has this userName, so which one is meant is for a person to say: ` +
        "on the server, change or remove the externalId of every account but this user's (or correct the declared externalId), then plan again";
      manual(work, `user ${user.userName}: match by externalId`, reason, declared(user.source));
      continue;
    }
    // The same string gets the same answer: most matches spare the glob.
    const manageable = live !== undefined && live.userName === user.userName ? liveManageable(live) : rules.isManageable(user.userName);
    if (live && !(manageable && liveManageable(live))) leftAlone.add(live.id);
    if (!manageable) {
      // Declaring a protected account in git is normal (it documents the account): say so only when the declaration asks for something not done.
      const differences = live ? diffUser(user, live).map((change) => change.path) : [];
      if (!live || differences.length > 0) {
        const why = live ? `its declared ${differences.join(', ')} not applied` : 'not created';
        work.notes.push(`user ${user.userName} is ${rules.isProtected(user.userName) ? 'protected' : 'outside scope'}: left alone (${why})`);
      }
      continue;
    }
    if (live && !liveManageable(live)) {
      work.notes.push(
        `user ${user.userName} matches live user ${live.userName} (id ${live.id}) by externalId, which is ${rules.isProtected(live.userName) ? 'protected' : 'outside scope'}: left alone`,
      );
      continue;
    }
    if (sharing && live) {
      const others = idsAt(sharing.filter((position) => liveUsers[position] !== live)).join(', ');
      work.notes.push(`live users ${idsAt(sharing).join(', ')} share externalId ${user.externalId}: matched id ${live.id}, which has the declared userName; ${others} not matched by externalId`);
    }
    sorted[kept++] = entry;
  }
  sorted.length = kept;
  return { matched: sorted, claimer, claims, leftAlone };
}

interface PlannedUsers {
  /** Declared userName (lower-cased) → the member a group should hold. */
  members: Map<string, MemberRef>;
  untouchable: Set<string>;
  /** A live user's id → the userName it is known by in this plan; undefined for an id no live user has. */
  identityOf: (id: string) => string | undefined;
  /** The live users whose lower-cased userName is `name`, in id order. */
  holdersOf: (name: string) => LiveUser[];
  liveUsersInScope: number;
}

function planUsers(
  desired: DesiredState,
  live: LiveState,
  policy: Policy,
  capabilities: Capabilities,
  rules: ScopeRules,
  work: Work,
): PlannedUsers {
  const liveUsers = [...live.users].sort(byId);
  const unmanageable = liveUsers.filter((user) => !rules.isManageable(user.userName));
  const index: LiveIndex = { byUserName: groupPositions(liveUsers, (user) => lower(user.userName)), unmanageable: new Set(unmanageable.map((user) => user.id)) };
  const { matched, claimer, claims, leftAlone } = matchUsers(desired.users, liveUsers, index, rules, work);
  const holdersAt = (name: string): number[] => groupOf(index.byUserName, name);
  /** Declared userName (lower-cased) → the member a group should hold: a live user by id, or one this plan creates. */
  const members: PlannedUsers['members'] = new Map();
  /** Live users nobody may touch in this plan: protected, out of scope, or holding a contested userName. */
  const untouchable = new Set([...leftAlone, ...index.unmanageable]);
  /** Live id → the userName it is known by in this plan (the declared one when matched). */
  let identities: Map<string, string> | undefined;
  // Built on first use: only removals and undeclared groups ask, so a plan without them skips it.
  const identityOf = (id: string): string | undefined => {
    identities ??= new Map(liveUsers.map((user, position) => [user.id, claimer[position]?.userName ?? user.userName]));
    return identities.get(id);
  };

  /** The declared userName a contested holder is being renamed to by this same plan, if any. */
  const renamedTo = (position: number): string | undefined => {
    const owner = claimer[position];
    const holder = liveUsers[position]!;
    return owner && rules.isManageable(owner.userName) && !sameUserName(owner.userName, holder.userName) ? owner.userName : undefined;
  };
  /**
   * Desired users whose userName is held only by live users this plan means to rename away: the
   * item for each is made once every rename of the plan is known (below the loop).
   */
  const waiting: Waiting[] = [];
  /** Live users whose rename this plan sends. */
  const renamedNow = new Set<string>();
  /**
   * The manual item for a desired user whose userName the live users at `positions` hold: why it
   * cannot be taken now, and what the person should do.
   */
  const held = (subject: string, user: DesiredUser, positions: number[], self?: LiveUser): void => {
    const provenance = declared(user.source);
    const partner = self && positions.find((position) => {
      const target = renamedTo(position);
      return target !== undefined && sameUserName(target, self.userName);
    });
    if (self && partner !== undefined) {
      const reason = `live users ${self.id} and ${liveUsers[partner]!.id} would swap userNames, which cannot be done one PATCH at a time: rename one of them to a temporary userName by hand, then plan again`;
      manual(work, subject, reason, provenance);
      return;
    }
    const stays = positions.find((position) => renamedTo(position) === undefined);
    if (stays !== undefined) {
      const holder = liveUsers[stays]!;
      const reason = `userName is held by another live user (id ${holder.id}${holder.externalId ? `, externalId ${holder.externalId}` : ''}): resolve the conflict by hand, then plan again`;
      manual(work, subject, reason, provenance);
      return;
    }
    waiting.push({ subject, user, holders: positions, ...(self ? { self: self.id } : {}) });
  };
  /** Positions of the live users holding `name`, but `self`. */
  const heldBy = (name: string, self?: LiveUser): number[] => holdersAt(name).filter((position) => liveUsers[position]!.id !== self?.id);

  for (const { desired: user, live: match, name } of matched) {
    if (!match) {
      const holders = heldBy(name);
      if (holders.length > 0) {
        held(`user ${user.userName}: create`, user, holders);
        continue;
      }
      const body = createUserBody(user);
      const changes = createChanges(body);
      const key = uniqueKey(work, createUserKey(user.userName), user.userName);
      work.operations.push({ kind: 'createUser', key, userName: user.userName, provenance: declared(user.source), changes, requests: [{ method: 'POST', path: '/Users', body }] });
      members.set(name, { userName: user.userName });
      continue;
    }

    members.set(name, { userName: user.userName, id: match.id });
    let changes = diffUser(user, match);
    const rename = changes.find((change) => change.path === 'userName');
    if (rename) {
      const holders = heldBy(name, match);
      if (holders.length > 0) {
        // The rename waits, and so does the email that follows it when emails are not declared
        // (the holder may still use that address).
        changes = changes.filter((change) => !partOfRename(change, user));
        // An unclaimed holder is left alone: which of the two accounts is right is for a person to say.
        for (const other of holders) if (claimer[other] === undefined) untouchable.add(liveUsers[other]!.id);
        held(`user ${user.userName}: rename from ${match.userName}`, user, holders, match);
      }
    }
    if (changes.length === 0) continue;
    const activeChange = changes.find((change) => change.path === 'active');
    const renamed = rename !== undefined && changes.includes(rename);
    if (renamed) renamedNow.add(match.id);
    const externalId = typeof user.externalId === 'string' ? user.externalId : user.externalId === null ? undefined : match.externalId;
    work.operations.push({
      kind: activeChange === undefined ? 'updateUser' : activeChange.new === false ? 'deactivateUser' : 'reactivateUser',
      key: uniqueKey(work, createUserKey(user.userName), match.id),
      id: match.id,
      userName: renamed ? user.userName : match.userName,
      ...(renamed ? { renamedFrom: match.userName } : {}),
      ...(externalId === undefined ? {} : { externalId }),
      changes,
      fingerprint: fingerprintOf(match),
      provenance: declared(user.source),
      requests: [updateUserRequest(match, changes, capabilities)],
    });
    if (activeChange?.new === false) work.removals += 1;
  }

  // Each waiting user's item, now that the renames this plan sends are known. A holder that keeps
  // its userName after this plan is followed to the user whose rename it waits for in turn: the
  // chain ends at a rename this plan sends (later plans finish it), at an item a person must
  // resolve, or comes back round (a cycle).
  const waitingOf = new Map(waiting.filter((entry) => entry.self !== undefined).map((entry) => [entry.self!, entry]));
  const keepsName = (position: number) => !renamedNow.has(liveUsers[position]!.id);
  // Where each entry's chain ends, once known: a long chain is followed once, not once per link.
  const ends = new Map<Waiting, ChainEnd>();
  const worse = (a: ChainEnd, b: ChainEnd): ChainEnd => (a === 'cycle' || b === 'cycle' ? 'cycle' : a === 'person' || b === 'person' ? 'person' : 'sent');
  /**
   * Depth first, without recursion (a chain may be as long as the users are many): every holder
   * that keeps the name must be freed, and the worst of their chains decides.
   */
  const chainEnd = (start: Waiting): ChainEnd => {
    const known = ends.get(start);
    if (known !== undefined) return known;
    const stack: { entry: Waiting; next: number; end: ChainEnd }[] = [{ entry: start, next: 0, end: 'sent' }];
    const onPath = new Set([start]);
    let finished: ChainEnd = 'sent';
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.end === 'cycle' || frame.next === frame.entry.holders.length) {
        stack.pop();
        onPath.delete(frame.entry);
        ends.set(frame.entry, frame.end);
        finished = frame.end;
        const parent = stack[stack.length - 1];
        if (parent) parent.end = worse(parent.end, frame.end);
        continue;
      }
      const position = frame.entry.holders[frame.next++]!;
      if (!keepsName(position)) continue;
      const next = waitingOf.get(liveUsers[position]!.id);
      if (next === undefined) frame.end = worse(frame.end, 'person');
      else if (onPath.has(next)) frame.end = 'cycle';
      else if (ends.has(next)) frame.end = worse(frame.end, ends.get(next)!);
      else {
        stack.push({ entry: next, next: 0, end: 'sent' });
        onPath.add(next);
      }
    }
    return finished;
  };
  /** Where the chain of the holder at `position` ends, once `chainEnd` has followed it. */
  const endOf = (position: number): ChainEnd => {
    const next = waitingOf.get(liveUsers[position]!.id);
    return next === undefined ? 'person' : (ends.get(next) ?? 'sent');
  };
  for (const entry of waiting) {
    const { subject, user, holders } = entry;
    const provenance = declared(user.source);
    const keptAt = holders.find(keepsName);
    const followUp = { userName: user.userName };
    if (keptAt === undefined) {
      const first = holders[0]!;
      const reason = `userName is still held by live user ${liveUsers[first]!.id}, which this plan renames to ${renamedTo(first)}: apply this plan, then plan again`;
      manual(work, subject, reason, provenance, followUp);
      continue;
    }
    const end = chainEnd(entry);
    // The reason names a holder whose chain ends as the entry's does.
    const holder = liveUsers[holders.find((position) => keepsName(position) && endOf(position) === end) ?? keptAt]!.id;
    if (end === 'sent') {
      const reason = `userName is still held by live user ${holder}, whose own rename waits for a chain of renames this plan starts: apply and plan again until the chain is done`;
      manual(work, subject, reason, provenance, followUp);
    } else if (end === 'cycle') {
      const reason = `userName is still held by live user ${holder}, and the renames waiting for each other go round in a cycle: rename one of these users to a temporary userName by hand, then plan again`;
      manual(work, subject, reason, provenance);
    } else {
      const reason = `userName is still held by live user ${holder}, whose own rename needs a person (see its item): plan again once it is made`;
      manual(work, subject, reason, provenance);
    }
  }

  // Live users in scope that git does not declare: per `unmanagedUsers`.
  // When every live user is claimed by a declaration, none is unmanaged: no pass is needed.
  const unmanagedPossible = policy.unmanagedUsers !== 'ignore' && claims < liveUsers.length;
  for (let position = 0; unmanagedPossible && position < liveUsers.length; position++) {
    const user = liveUsers[position]!;
    if (claimer[position] !== undefined || untouchable.has(user.id)) continue;
    const provenance = policyRule(policy, 'unmanagedUsers');
    const key = (): string => uniqueKey(work, createUserKey(user.userName), user.id);
    if (policy.unmanagedUsers === 'deactivate') {
      if (!user.active) continue;
      const changes: AttributeChange[] = [{ path: 'active', old: true, new: false }];
      work.operations.push({
        kind: 'deactivateUser',
        key: key(),
        id: user.id,
        userName: user.userName,
        ...(user.externalId === undefined ? {} : { externalId: user.externalId }),
        changes,
        fingerprint: fingerprintOf(user),
        provenance,
        requests: [updateUserRequest(user, changes, capabilities)],
      });
      work.removals += 1;
    } else if (policy.allowDelete) {
      // Without allowDelete nothing is planned: the `deleteNotAllowed` guard refuses the plan.
      if (capabilities.usersDeletable) {
        work.operations.push({
          kind: 'deleteUser',
          key: key(),
          id: user.id,
          userName: user.userName,
          fingerprint: fingerprintOf(user),
          provenance,
          requests: [deleteRequest(userPath(user.id), user, capabilities)],
        });
      } else {
        manual(work, `user ${user.userName}: delete`, 'this target cannot delete users', provenance);
      }
      work.removals += 1;
    }
  }
  const holdersOf = (name: string): LiveUser[] => holdersAt(name).map((position) => liveUsers[position]!);
  return { members, untouchable, identityOf, holdersOf, liveUsersInScope: liveUsers.length - unmanageable.length };
}

interface GroupMatch {
  desired: DesiredGroup;
  live: LiveGroup | undefined;
}

function matchGroups(desired: readonly DesiredGroup[], liveGroups: readonly LiveGroup[]): { matched: GroupMatch[]; claimed: Set<string> } {
  const groups = sortByKey(desired, (group) => group.displayName);
  const claimed = new Set<string>();
  const matchOf = new Map<DesiredGroup, LiveGroup>();
  const claim = (group: DesiredGroup, live: LiveGroup | undefined): void => {
    if (!live) return;
    claimed.add(live.id);
    matchOf.set(group, live);
  };
  // Indexed in live order, so "the first unclaimed one" is the same as a scan of every live group.
  const byExternalId = groupBy(liveGroups, (live) => live.externalId);
  const byName = groupBy(liveGroups, (live) => live.displayName);
  const byLowerName = groupBy(liveGroups, (live) => lower(live.displayName));
  const unclaimed = (live: LiveGroup): boolean => !claimed.has(live.id);

  for (const group of groups) {
    if (typeof group.externalId === 'string') claim(group, firstOf(byExternalId, group.externalId, unclaimed));
  }
  for (const group of groups) {
    if (!matchOf.has(group)) claim(group, firstOf(byName, group.displayName, unclaimed));
  }
  for (const group of groups) {
    if (matchOf.has(group)) continue;
    const candidates = groupOf(byLowerName, lower(group.displayName)).filter(unclaimed);
    if (candidates.length === 1) claim(group, candidates[0]);
  }
  return { matched: groups.map((group) => ({ desired: group, live: matchOf.get(group) })), claimed };
}

function groupChanges(desired: DesiredGroup, live: LiveGroup): AttributeChange[] {
  const changes: AttributeChange[] = [];
  if (desired.displayName !== live.displayName) changes.push({ path: 'displayName', old: live.displayName, new: desired.displayName });
  if (typeof desired.externalId === 'string' && desired.externalId !== live.externalId) {
    changes.push(live.externalId === undefined ? { path: 'externalId', new: desired.externalId } : { path: 'externalId', old: live.externalId, new: desired.externalId });
  } else if (desired.externalId === null && live.externalId !== undefined && live.externalId !== '') {
    changes.push({ path: 'externalId', old: live.externalId });
  }
  return changes;
}

function describeGroupChange(change: AttributeChange): string {
  if (change.path === 'displayName') return `rename from ${String(change.old)}`;
  return change.new === undefined ? `remove ${change.path}` : `set ${change.path} ${String(change.new)}`;
}

/** Where member `index` of `group` is written. */
function memberSource(group: DesiredGroup, index: number): SourceLocation {
  const sources = group.memberSources;
  if ('positions' in sources) {
    const position = sources.positions[index];
    return position === undefined ? group.source : unpackLocation(sources.file, position);
  }
  return sources[index] ?? group.source;
}

/**
 * A group's declared members as the plan should hold them: one `MemberRef` per declared user,
 * ordered by lower-cased userName, with the index in `members` of its first writing (for its
 * source); and the names that resolve to no user this plan manages or creates.
 */
function wantedMembers(group: DesiredGroup, members: ReadonlyMap<string, MemberRef>): { refs: MemberRef[]; written: number[]; unresolved: string[] } {
  const keys: string[] = [];
  const found: MemberRef[] = [];
  const at: number[] = [];
  const unresolved: string[] = [];
  let sorted = true;
  group.members.forEach((name, index) => {
    // The members map is keyed by lower-cased userName, so a key also orders its MemberRef.
    const key = lower(name);
    const ref = members.get(key);
    if (!ref) {
      unresolved.push(name);
      return;
    }
    if (sorted && keys.length > 0 && keys[keys.length - 1]! > key) sorted = false;
    keys.push(key);
    found.push(ref);
    at.push(index);
  });
  // Files often list members in order: then no sort is needed. Ties keep file order (stable).
  const order = keys.map((_, i) => i);
  if (!sorted) order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
  // One key is one user, so after sorting a user written twice is adjacent: keep its first writing.
  const refs: MemberRef[] = [];
  const written: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const o = order[i]!;
    if (i > 0 && keys[order[i - 1]!] === keys[o]) continue;
    refs.push(found[o]!);
    written.push(at[o]!);
  }
  return { refs, written, unresolved };
}

function planGroups(
  desired: DesiredState,
  live: LiveState,
  policy: Policy,
  capabilities: Capabilities,
  users: PlannedUsers,
  work: Work,
): void {
  const liveGroups = [...live.groups].sort(byId);
  /** Members scimform may remove: live users it manages. Everything else in `members` is left alone. */
  const touchable = (id: string): boolean => users.identityOf(id) !== undefined && !users.untouchable.has(id);
  const { matched, claimed } = matchGroups(desired.groups, liveGroups);
  const writable = capabilities.groupsWritable;
  /**
   * Many servers keep group names unique (409 uniqueness), as they do userNames. Renames run in
   * parallel, and creates before them (SPEC §5), so a rename or a create onto a name another live
   * group has now is not sent: it waits for the next plan.
   */
  const renames = matched.filter(({ desired: group, live: match }) => match !== undefined && lower(match.displayName) !== lower(group.displayName));
  const renameOf = new Map(renames.map(({ desired: group, live: match }) => [match!.id, group]));
  const byName = new Map<string, LiveGroup[]>();
  for (const live of liveGroups) {
    const name = lower(live.displayName);
    const holders = byName.get(name);
    if (holders) holders.push(live);
    else byName.set(name, [live]);
  }
  /** The live group other than `self` that holds `displayName` (without case) now. */
  const holderOf = (displayName: string, self: string | undefined): LiveGroup | undefined => byName.get(lower(displayName))?.find((live) => live.id !== self);
  const waits = (id: string): boolean => holderOf(renameOf.get(id)!.displayName, id) !== undefined;
  /** Whether this plan deletes an undeclared live group (deletes run last, SPEC §5). */
  const deletes = (live: LiveGroup): boolean =>
    writable && policy.unmanagedGroups === 'delete' && policy.allowDelete && !claimed.has(live.id) && live.members.every(touchable);
  /** How `holder` gives up its name: this plan deletes or renames it, a chain of renames that ends so, a cycle, or never. */
  const freed = (holder: LiveGroup, seen = new Set<string>()): 'deleted' | 'renamed' | 'chain' | 'cycle' | 'kept' => {
    if (deletes(holder)) return 'deleted';
    if (!renameOf.has(holder.id)) return 'kept';
    if (!waits(holder.id)) return 'renamed';
    if (seen.has(holder.id)) return 'cycle';
    seen.add(holder.id);
    const end = freed(holderOf(renameOf.get(holder.id)!.displayName, holder.id)!, seen);
    return end === 'deleted' || end === 'renamed' ? 'chain' : end;
  };

  for (const { desired: group, live: match } of matched) {
    const provenance = declared(group.source);
    // Desired members, resolved; undeclared, protected, out-of-scope or not-yet-creatable users are skipped.
    const { refs: wantedInOrder, written, unresolved } = wantedMembers(group, users.members);
    for (const name of unresolved) {
      // Only worth a note when the member is missing live: a protected user already in the group is as declared.
      const present = match !== undefined && users.holdersOf(lower(name)).some((holder) => match.members.includes(holder.id));
      if (!present) work.notes.push(`group ${group.displayName}: member ${name} is not a user this plan manages or creates now: not added`);
    }

    const renamed = match !== undefined && renameOf.has(match.id);
    const holder = !writable ? undefined : renamed ? holderOf(group.displayName, match.id) : match ? undefined : holderOf(group.displayName, undefined);
    const end = holder ? freed(holder) : undefined;
    if (holder) {
      const subject = `group ${group.displayName}: ${match ? `rename from ${match.displayName}` : 'create'}`;
      const held = `displayName is held by live group ${holder.id} (${holder.displayName})`;
      const followUp = { displayName: group.displayName };
      if (end === 'deleted') manual(work, subject, `${held}, which this plan deletes: apply this plan, then plan again`, provenance, followUp);
      else if (end === 'renamed') manual(work, subject, `${held}, which this plan renames to ${renameOf.get(holder.id)!.displayName}: apply this plan, then plan again`, provenance, followUp);
      else if (end === 'chain') manual(work, subject, `${held}, whose own rename waits for a chain of renames this plan starts: apply and plan again until the chain is done`, provenance, followUp);
      else if (end === 'cycle') manual(work, subject, `${held}, and the renames waiting for each other go round in a cycle: rename one of these groups to a temporary name by hand, then plan again`, provenance);
      else manual(work, subject, `${held}, which this plan leaves as it is: rename or delete that group by hand, then plan again`, provenance);
      continue;
    }

    if (!match) {
      if (writable) {
        const externalId = typeof group.externalId === 'string' ? group.externalId : undefined;
        work.operations.push({
          kind: 'createGroup',
          key: uniqueKey(work, `group:${group.displayName}`, group.displayName),
          displayName: group.displayName,
          ...(externalId === undefined ? {} : { externalId }),
          members: wantedInOrder,
          provenance,
          requests: [createGroupRequest(group.displayName, externalId, wantedInOrder)],
        });
      } else {
        const list = wantedInOrder.length > 0 ? ` with ${wantedInOrder.map((member) => member.userName).join(', ')}` : '';
        manual(work, `group ${group.displayName}: create${list}`, READ_ONLY_GROUPS, provenance);
      }
      continue;
    }

    // A server that keeps members in the order they were sent returns a group scimform filled
    // in the plan's order (by userName): then the group is as declared without a set of its members.
    const inOrder = wantedInOrder.length === match.members.length && wantedInOrder.every((ref, i) => ref.id === match.members[i]);
    const liveMembers = inOrder ? undefined : new Set(match.members);
    const addAt: number[] = [];
    for (let i = 0; liveMembers && i < wantedInOrder.length; i++) {
      const id = wantedInOrder[i]!.id;
      if (id === undefined || !liveMembers.has(id)) addAt.push(i);
    }
    const adds = addAt.map((i) => wantedInOrder[i]!);
    // Wanted members have distinct ids; when all are live and as many as the live members, they
    // are the live members, and nothing is removed (the converged case needs no set of them).
    const same = inOrder || (adds.length === 0 && wantedInOrder.length === liveMembers!.size);
    // A group declared without `members` leaves its membership as it is live (an absent key is unmanaged).
    let removes: MemberRef[] = [];
    if (!group.membersUnmanaged && !same) {
      const wantedIds = new Set<string>();
      for (const ref of wantedInOrder) if (ref.id !== undefined) wantedIds.add(ref.id);
      removes = sortByKey(
        // wantedIds first: a small set, and most live members are wanted.
        [...liveMembers!].filter((id) => !wantedIds.has(id) && touchable(id)).map((id) => ({ userName: users.identityOf(id) ?? id, id })),
        (member) => lower(member.userName),
      );
    }
    const changes = groupChanges(group, match);

    // The guards weigh what apply would send; manual items (read-only groups) are never sent.
    if (writable) {
      work.removals += removes.length;
      const liveCount = liveMembers ? liveMembers.size : match.members.length;
      if (liveCount > 0 && liveCount === removes.length && adds.length === 0) work.emptiedGroups.push(match.displayName);
    }
    if (changes.length === 0 && adds.length === 0 && removes.length === 0) continue;

    if (writable) {
      work.operations.push({
        kind: 'updateGroupMembers',
        key: uniqueKey(work, `group:${group.displayName}`, match.id),
        id: match.id,
        displayName: group.displayName,
        changes,
        add: adds,
        remove: removes,
        fingerprint: fingerprintOf(match),
        provenance,
        requests:
          capabilities.updateMethod === 'put'
            ? [replaceGroupRequest(match, changes, adds, removes, capabilities)]
            : updateGroupRequests(match, changes, adds, removes, capabilities),
      });
    } else {
      for (const change of changes) manual(work, `group ${group.displayName}: ${describeGroupChange(change)}`, READ_ONLY_GROUPS, provenance);
      for (const i of addAt) manual(work, `group ${group.displayName}: add ${wantedInOrder[i]!.userName}`, READ_ONLY_GROUPS, declared(memberSource(group, written[i]!)));
      for (const member of removes) manual(work, `group ${group.displayName}: remove ${member.userName}`, READ_ONLY_GROUPS, provenance);
    }
  }

  // Live groups git does not declare: per `unmanagedGroups`; DELETE only with allowDelete.
  if (policy.unmanagedGroups !== 'delete' || !policy.allowDelete) return;
  for (const group of liveGroups) {
    if (claimed.has(group.id)) continue;
    const provenance = policyRule(policy, 'unmanagedGroups');
    const foreign = group.members.filter((id) => !touchable(id));
    if (foreign.length > 0) {
      work.notes.push(`group ${group.displayName} (id ${group.id}) is not declared but holds ${foreign.length} member(s) scimform does not manage: not deleted`);
      continue;
    }
    if (writable) {
      work.operations.push({
        kind: 'deleteGroup',
        key: uniqueKey(work, `group:${group.displayName}`, group.id),
        id: group.id,
        displayName: group.displayName,
        fingerprint: fingerprintOf(group),
        provenance,
        requests: [deleteRequest(groupPath(group.id), group, capabilities)],
      });
    } else {
      manual(work, `group ${group.displayName}: delete`, READ_ONLY_GROUPS, provenance);
    }
    if (writable) {
      const members = new Set(group.members).size;
      work.removals += Math.max(1, members);
      // Deleting a group takes every member out of it: the guard on emptied groups holds for it too.
      if (members > 0) work.emptiedGroups.push(group.displayName);
    }
  }
}

function sortName(op: Operation): string {
  switch (op.kind) {
    case 'manual':
      return op.subject;
    case 'createGroup':
    case 'updateGroupMembers':
    case 'deleteGroup':
      return op.displayName;
    default:
      return lower(op.userName);
  }
}

/** `OPERATION_ORDER`, then the name, then the key; the order and name computed once per operation, not per comparison. */
function sortOperations(operations: readonly Operation[]): Operation[] {
  const keyed = operations.map((op) => ({ op, kind: OPERATION_ORDER.indexOf(op.kind), name: sortName(op) }));
  keyed.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind - b.kind;
    if (a.name !== b.name) return a.name < b.name ? -1 : 1;
    return a.op.key < b.op.key ? -1 : a.op.key > b.op.key ? 1 : 0;
  });
  return keyed.map((entry) => entry.op);
}

export function summarise(operations: readonly Operation[]): PlanSummary {
  const summary: PlanSummary = { create: 0, update: 0, deactivate: 0, delete: 0, manual: 0 };
  for (const op of operations) {
    switch (op.kind) {
      case 'createUser':
      case 'createGroup':
        summary.create += 1;
        break;
      case 'updateUser':
      case 'reactivateUser':
      case 'updateGroupMembers':
        summary.update += 1;
        break;
      case 'deactivateUser':
        summary.deactivate += 1;
        break;
      case 'deleteUser':
      case 'deleteGroup':
        summary.delete += 1;
        break;
      case 'manual':
        summary.manual += 1;
        break;
    }
  }
  return summary;
}

/** The plan that makes `live` match `desired` under `policy`, using only what `capabilities` allow. */
export function computePlan(desired: DesiredState, live: LiveState, policy: Policy, capabilities: Capabilities): Plan {
  const rules = scopeRules(policy);
  const work: Work = { operations: [], notes: [], removals: 0, emptiedGroups: [], keys: new Set() };
  const users = planUsers(desired, live, policy, capabilities, rules, work);
  planGroups(desired, live, policy, capabilities, users, work);

  const operations = sortOperations(work.operations);
  // One at a time: there can be a note per user created, too many to spread into arguments.
  for (const note of lookalikeNotes(operations)) work.notes.push(note);
  const plan: Plan = {
    operations,
    summary: summarise(operations),
    removals: {
      removals: work.removals,
      liveUsersInScope: users.liveUsersInScope,
      limit: policy.maxRemovals,
    },
    emptiedGroups: [...new Set(work.emptiedGroups)].sort(),
  };
  if (work.notes.length > 0) plan.notes = [...new Set(work.notes)].sort();
  return plan;
}
