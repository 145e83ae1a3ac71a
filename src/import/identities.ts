/**
 * From live state to declarations: which live users and groups `import` writes, and with which
 * attributes, so that the files pass `validate` and a plan right after the import is empty.
 *
 * Pure and deterministic: the same live state and policy give the same declarations, sorted,
 * whatever order the server listed them in.
 *
 * Decisions:
 * - Only the attributes scimform manages are written (userName, externalId, displayName,
 *   name.givenName/familyName, emails, active). An attribute that cannot be written validly is
 *   left out, which makes it unmanaged: plan then leaves it as it is live, so the round trip
 *   stays empty.
 * - `active` is written only when false; `emails` only when they differ from what scimform
 *   would create by default (the userName, work, primary), to keep the files short.
 * - Users outside the policy `scope` are skipped: `validate` refuses declarations outside it,
 *   and plan never touches those users anyway. Protected users are kept: declaring them is
 *   allowed, plan leaves them alone, and groups can then list them as members.
 * - A userName that is not an email address gets its emails declared, `[]` when it has none: a
 *   user declared without them gets its userName as its email, which validate refuses.
 * - A user in scope that cannot be declared (a userName `validate` would refuse, a domain not in
 *   `allowedEmailDomains`, a userName that is not an email address with emails that cannot be
 *   declared, a second account whose userName differs only in case) is skipped with a warning:
 *   plan will treat it as an undeclared user (`unmanagedUsers`).
 * - Group members are written by userName and only for imported users; other members (out of
 *   scope, nested groups, unknown ids) are left out, and plan never removes those.
 */
import type { DesiredGroup, DesiredUser, Email, LiveGroup, LiveState, LiveUser, Policy } from '../model.js';
import { inScope } from '../config/scope.js';
import { EMAIL_ADDRESS } from '../config/identities.js';
import { defaultEmails, sameEmails } from '../plan/normalise.js';

/** A user as import writes it: the managed attributes only, no provenance. */
export type ImportedUser = Omit<DesiredUser, 'source'>;
/** A group as import writes it: members by userName. */
export type ImportedGroup = Omit<DesiredGroup, 'source' | 'memberSources'>;

export interface ImportSkip {
  kind: 'user' | 'group';
  /** userName or displayName as live. */
  name: string;
  id: string;
  reason: string;
  /** true when plan will act on the skipped resource (an undeclared user in scope): worth a warning. */
  affectsPlan: boolean;
}

export interface ImportSelection {
  users: ImportedUser[];
  groups: ImportedGroup[];
  skipped: ImportSkip[];
  /** Attributes left out of an imported user or group (they become unmanaged), one line each. */
  notes: string[];
  /** Users outside the policy `scope`, not written. */
  outOfScope: number;
}

// The patterns of schemas/identities.schema.json: what is written must pass validate.
const TRIMMED = /^[^\s\x00-\x1f\x7f]([^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$/;

const lower = (value: string): string => value.toLowerCase();
const compareText = (a: string, b: string): number => {
  const x = lower(a);
  const y = lower(b);
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
};
const compareIds = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  return at > 0 ? lower(address.slice(at + 1)) : undefined;
}

/** Why the live emails cannot be declared as they are, if they cannot. */
function emailProblem(user: LiveUser, allowed: Set<string> | undefined): string | undefined {
  const emails = user.emails ?? [];
  const invalid = emails.find((email) => !EMAIL_ADDRESS.test(email.value));
  if (invalid) return `email ${JSON.stringify(invalid.value)} is not an address validate accepts`;
  const foreign = allowed ? emails.find((email) => !allowed.has(domainOf(email.value) ?? '')) : undefined;
  if (foreign) return `email ${JSON.stringify(foreign.value)} is not in an allowed email domain`;
  const primaries = emails.filter((email) => email.primary === true);
  if (primaries.length > 1) return 'more than one email is marked primary';
  const primary = primaries[0];
  if (primary && lower(primary.value) !== lower(user.userName)) return `the primary email ${JSON.stringify(primary.value)} differs from the userName`;
  return undefined;
}

function importedEmails(emails: readonly Email[]): Email[] {
  return emails.map((email) => ({
    value: email.value,
    // An empty type compares as no type (plan normalises both to ''); the schema refuses ''.
    ...(email.type === undefined || email.type === '' ? {} : { type: email.type }),
    ...(email.primary === undefined ? {} : { primary: email.primary }),
  }));
}

/** An empty value, which validate refuses: plan keeps it as it is live. */
function emptyLeftOut(resource: string, attribute: string): string {
  return `${resource}: ${attribute} is empty live, which validate refuses, so it is left out (unmanaged)`;
}

function importUser(user: LiveUser, allowed: Set<string> | undefined, externalIdUsable: boolean, notes: string[]): ImportedUser {
  const result: ImportedUser = { userName: user.userName };
  if (user.externalId === '') notes.push(emptyLeftOut(`user ${user.userName}`, 'externalId'));
  else if (user.externalId !== undefined) {
    if (externalIdUsable) result.externalId = user.externalId;
    else notes.push(`user ${user.userName}: externalId ${JSON.stringify(user.externalId)} is also held by another live user, so it is left out (unmanaged)`);
  }
  if (user.displayName === '') notes.push(emptyLeftOut(`user ${user.userName}`, 'displayName'));
  else if (user.displayName !== undefined) result.displayName = user.displayName;
  const name: { givenName?: string; familyName?: string } = {};
  if (typeof user.name?.givenName === 'string') name.givenName = user.name.givenName;
  if (typeof user.name?.familyName === 'string') name.familyName = user.name.familyName;
  if (Object.keys(name).length > 0) result.name = name;
  const emails = user.emails ?? [];
  if (emails.length > 0 && !sameEmails(emails, defaultEmails(user.userName))) {
    const problem = emailProblem(user, allowed);
    if (problem) notes.push(`user ${user.userName}: emails left out (unmanaged): ${problem}`);
    else result.emails = importedEmails(emails);
  } else if (emails.length === 0 && !EMAIL_ADDRESS.test(user.userName)) {
    // Left out, the emails would be derived from a userName that is no address: "none" is what is live.
    result.emails = [];
  }
  if (!user.active) result.active = false;
  return result;
}

/** Values held by more than one resource: such an externalId cannot be declared (validate wants them unique, plan would match the wrong one). */
function shared(values: readonly (string | undefined)[]): Set<string> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const value of values) {
    if (value === undefined || value === '') continue;
    if (seen.has(value)) twice.add(value);
    seen.add(value);
  }
  return twice;
}

/** `emailsRequiredBy`: a target (profile lightstep) that requires an email address as userName and emails on every user, as validate does. */
export function selectIdentities(live: LiveState, policy: Pick<Policy, 'scope' | 'allowedEmailDomains'>, emailsRequiredBy?: string): ImportSelection {
  const skipped: ImportSkip[] = [];
  const notes: string[] = [];
  const allowed = policy.allowedEmailDomains ? new Set(policy.allowedEmailDomains.map(lower)) : undefined;
  let outOfScope = 0;

  // Lowest id first, as plan breaks ties between userNames that differ only in case.
  const candidates: LiveUser[] = [];
  const taken = new Map<string, LiveUser>();
  for (const user of [...live.users].sort(compareIds)) {
    const skip = (reason: string, affectsPlan = true) => skipped.push({ kind: 'user', name: user.userName, id: user.id, reason, affectsPlan });
    if (!inScope(policy, user.userName)) {
      outOfScope += 1;
      continue;
    }
    if (!TRIMMED.test(user.userName)) {
      skip('the userName is empty, starts or ends with white space, or holds a control character, which validate refuses');
      continue;
    }
    if (allowed && !allowed.has(domainOf(user.userName) ?? '')) {
      skip(`the userName is not in an allowed email domain (${[...allowed].join(', ')})`);
      continue;
    }
    if (emailsRequiredBy !== undefined && !EMAIL_ADDRESS.test(user.userName)) {
      skip(`the userName is not an email address, which target ${emailsRequiredBy} (profile lightstep) requires`);
      continue;
    }
    // Declared without emails, the user's email would be its userName, which validate then checks as one.
    const emailsProblem = EMAIL_ADDRESS.test(user.userName) ? undefined : emailProblem(user, allowed);
    if (emailsProblem) {
      skip(`the userName is not an email address, and its emails cannot be declared in its place (${emailsProblem})`);
      continue;
    }
    const holder = taken.get(lower(user.userName));
    if (holder) {
      skip(`live user ${holder.id} has the same userName but for case (${holder.userName}); userNames are unique without case`);
      continue;
    }
    taken.set(lower(user.userName), user);
    candidates.push(user);
  }

  // Over every live user, not just the imported ones: plan matches externalIds against all of
  // them, so one also held by an out-of-scope user would match that user instead.
  const sharedUserIds = shared(live.users.map((user) => user.externalId));
  // Sorted before the notes are made, so the notes come in the order of the files.
  const users = [...candidates]
    .sort((a, b) => compareText(a.userName, b.userName))
    .map((user) => importUser(user, allowed, !sharedUserIds.has(user.externalId ?? ''), notes));
  const userNameOf = new Map(candidates.map((user) => [user.id, user.userName]));

  const groupCandidates: LiveGroup[] = [];
  const groupNames = new Map<string, LiveGroup>();
  for (const group of [...live.groups].sort(compareIds)) {
    const skip = (reason: string) => skipped.push({ kind: 'group', name: group.displayName, id: group.id, reason, affectsPlan: false });
    if (!TRIMMED.test(group.displayName)) {
      skip('the displayName is empty, starts or ends with white space, or holds a control character, which validate refuses');
      continue;
    }
    const holder = groupNames.get(lower(group.displayName));
    if (holder) {
      skip(`live group ${holder.id} has the same displayName but for case (${holder.displayName}); group names must be unique without case`);
      continue;
    }
    groupNames.set(lower(group.displayName), group);
    groupCandidates.push(group);
  }
  const sharedGroupIds = shared(live.groups.map((group) => group.externalId));
  const liveUserIds = new Set(live.users.map((user) => user.id));
  const groupNameOf = new Map(live.groups.map((group) => [group.id, group.displayName]));
  const groups = [...groupCandidates]
    .sort((a, b) => compareText(a.displayName, b.displayName))
    .map((group): ImportedGroup => {
      const members = [...new Set(group.members.flatMap((id) => (userNameOf.has(id) ? [userNameOf.get(id)!] : [])))].sort(compareText);
      // Members that are no user: plan leaves them as they are here, but a target the files are
      // applied to (a migration) will not have them, so they are named.
      const nested = group.members.flatMap((id) => (groupNameOf.has(id) ? [groupNameOf.get(id)!] : []));
      const unknown = group.members.filter((id) => !liveUserIds.has(id) && !groupNameOf.has(id));
      if (nested.length > 0 || unknown.length > 0) {
        const what = [
          ...(nested.length > 0 ? [`${nested.length === 1 ? 'the nested group' : 'the nested groups'} ${nested.map((name) => JSON.stringify(name)).join(', ')}`] : []),
          ...(unknown.length > 0 ? [`${unknown.length === 1 ? 'the member id' : 'the member ids'} ${unknown.map((id) => JSON.stringify(id)).join(', ')} (no live user or group)`] : []),
        ];
        const them = nested.length + unknown.length === 1 ? 'it' : 'them';
        notes.push(`group ${group.displayName}: left out, as members are declared as users only: ${what.join('; ')}. This target keeps ${them}; another target the files are applied to will not have ${them}`);
      }
      const result: ImportedGroup = { displayName: group.displayName, members };
      if (group.externalId === '') notes.push(emptyLeftOut(`group ${group.displayName}`, 'externalId'));
      else if (group.externalId !== undefined) {
        if (sharedGroupIds.has(group.externalId)) notes.push(`group ${group.displayName}: externalId ${JSON.stringify(group.externalId)} is also held by another live group, so it is left out (unmanaged)`);
        else result.externalId = group.externalId;
      }
      return result;
    });

  return { users, groups, skipped, notes, outOfScope };
}
