/**
 * From schema-valid identity documents to the desired state, and the checks that span files:
 * unique userNames and group names, declared members, primary emails, allowed domains, scope.
 * Pure: the caller has read and parsed the files.
 */
import { formatLocation } from '../errors.js';
import type { DesiredGroup, DesiredUser, Email, Name, Policy } from '../model.js';
import { show, type PendingIssue } from './issues.js';
import { scopeMatcher } from './scope.js';
import type { FileLocator, YamlFile } from './yaml.js';

/** An identity file as the schema guarantees it. */
export interface IdentityDocument {
  users?: UserDocument[];
  groups?: GroupDocument[];
}

/** A user as the file writes it: the model's user without its location. */
type UserDocument = Omit<DesiredUser, 'source'>;

interface GroupDocument {
  displayName: string;
  externalId?: string | null;
  members?: string[];
}

/** A declaration together with where it came from, so a check can point at any of its attributes. */
export interface Declared<T> {
  value: T;
  file: FileLocator;
  index: number;
}

export function readIdentities(document: IdentityDocument, file: YamlFile): { users: Declared<DesiredUser>[]; groups: Declared<DesiredGroup>[] } {
  const { locator } = file;
  const users = (document.users ?? []).map((entry, index) => ({ value: toUser(entry, file.itemLocation(document.users!, index)), file: locator, index }));
  const groups = (document.groups ?? []).map((entry, index) => {
    const members = entry.members ?? [];
    const group: DesiredGroup = {
      displayName: entry.displayName,
      members,
      memberSources: file.itemLocations(members),
      source: file.itemLocation(document.groups!, index),
    };
    if (entry.externalId !== undefined) group.externalId = entry.externalId;
    if (entry.members === undefined) group.membersUnmanaged = true;
    return { value: group, file: locator, index };
  });
  return { users, groups };
}

const CANONICAL_EMAIL_TYPES = new Map(['work', 'home', 'other'].map((type) => [type, type]));

/** Copies only the attributes the file sets: an absent key stays absent (unmanaged). */
function toUser(entry: UserDocument, source: DesiredUser['source']): DesiredUser {
  const { userName, externalId, displayName, name, emails, active } = entry;
  // The primary email is usually the userName: share that string rather than keep a second copy.
  // Likewise the canonical types (RFC 7643 §4.1.2): one string each, not one per email.
  if (emails) {
    for (const email of emails) {
      if (email.value === userName) email.value = userName;
      if (email.type !== undefined) email.type = CANONICAL_EMAIL_TYPES.get(email.type) ?? email.type;
    }
  }
  // The usual declaration as one literal: V8 keeps a literal's keys inside the object, while keys
  // added one by one go to a separate property array (~65 bytes more per user).
  if (externalId !== undefined && displayName !== undefined && name !== undefined && emails !== undefined) {
    return active === undefined
      ? { userName, source, externalId, displayName, name, emails }
      : { userName, source, externalId, displayName, name, emails, active };
  }
  const user: DesiredUser = { userName, source };
  if (externalId !== undefined) user.externalId = externalId;
  if (displayName !== undefined) user.displayName = displayName;
  if (name !== undefined) user.name = name;
  if (emails !== undefined) user.emails = emails;
  if (active !== undefined) user.active = active;
  return user;
}

/**
 * The pattern schemas/identities.schema.json gives an email `value` (a test holds them equal): a
 * userName that becomes an email must pass what an email written out passes.
 */
export const EMAIL_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/u;

/** What the identity checks need from the configuration. */
export type IdentityRules = Partial<Pick<Policy, 'scope' | 'allowedEmailDomains'>> & {
  /** The name of a target whose profile requires emails on every user and an email address as userName (lightstep), if any. */
  emailsRequiredBy?: string;
};

const DOMAIN_ADVICE = 'use an address in one of them, or add its domain to `allowedEmailDomains`';

export function checkIdentities(
  users: readonly Declared<DesiredUser>[],
  groups: readonly Declared<DesiredGroup>[],
  policy: IdentityRules,
  /** Lower-cased userNames declared in files that have other problems: members may name them. */
  alsoDeclared: ReadonlySet<string> = new Set(),
): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const userPath = (d: Declared<unknown>, ...rest: (string | number)[]) => ['users', d.index, ...rest];
  const groupPath = (d: Declared<unknown>, ...rest: (string | number)[]) => ['groups', d.index, ...rest];

  const byUserName = new Map<string, Declared<DesiredUser>>();
  const byUserExternalId = new Map<string, Declared<DesiredUser>>();
  let inScope: ((userName: string) => boolean) | undefined;
  try {
    inScope = policy.scope === undefined ? undefined : scopeMatcher(policy.scope);
  } catch {
    inScope = undefined; // reported with the configuration
  }
  const allowedDomains = policy.allowedEmailDomains ? new Set(policy.allowedEmailDomains.map((d) => d.toLowerCase())) : undefined;
  const domainAllowed = (address: string) => {
    const at = address.lastIndexOf('@');
    return at > 0 && allowedDomains!.has(address.slice(at + 1).toLowerCase());
  };

  // Filled from the last user to the first, so each key is left holding its first declaration,
  // with one map operation per user (1,000,000 users each cost a cache miss or two); a size that
  // did not grow marks a key declared again, and only those are looked up below.
  const repeatedNames = new Set<string>();
  const repeatedIds = new Set<string>();
  for (let i = users.length - 1; i >= 0; i--) {
    const declared = users[i]!;
    const { userName, externalId } = declared.value;
    const key = userName.toLowerCase();
    let size = byUserName.size;
    byUserName.set(key, declared);
    if (byUserName.size === size) repeatedNames.add(key);
    if (typeof externalId !== 'string') continue;
    size = byUserExternalId.size;
    byUserExternalId.set(externalId, declared);
    if (byUserExternalId.size === size) repeatedIds.add(externalId);
  }

  for (const declared of users) {
    const user = declared.value;
    const key = user.userName.toLowerCase();
    const first = repeatedNames.size > 0 && repeatedNames.has(key) ? byUserName.get(key) : undefined;
    if (first && first !== declared) {
      const sameCase = first.value.userName === user.userName;
      issues.push({
        file: declared.file,
        path: userPath(declared, 'userName'),
        message: `userName ${show(user.userName)} is declared twice${sameCase ? '' : ` (userNames are compared case-insensitively: ${show(first.value.userName)})`}; first at ${formatLocation(first.value.source)}`,
      });
    }
    if (typeof user.externalId === 'string') {
      const other = repeatedIds.size > 0 && repeatedIds.has(user.externalId) ? byUserExternalId.get(user.externalId) : undefined;
      if (other && other !== declared) {
        issues.push({
          file: declared.file,
          path: userPath(declared, 'externalId'),
          message: `externalId ${show(user.externalId)} is used by two users (${show(other.value.userName)} at ${formatLocation(other.value.source)} and ${show(user.userName)}): each must be unique`,
        });
      }
    }
    // SPEC §1: Lightstep's userName is the email address people log in with, and every user has
    // emails; a user without either cannot be provisioned there.
    const userNameIsEmail = EMAIL_ADDRESS.test(user.userName);
    if (policy.emailsRequiredBy && !userNameIsEmail) {
      issues.push({
        file: declared.file,
        path: userPath(declared, 'userName'),
        message: `userName ${show(user.userName)} is not an email address, but target ${show(policy.emailsRequiredBy)} (profile lightstep) requires one: Lightstep logs people in by their email, so use the person's address as the userName`,
      });
    } else if (policy.emailsRequiredBy && (user.emails === null || (Array.isArray(user.emails) && user.emails.length === 0))) {
      issues.push({
        file: declared.file,
        path: userPath(declared, 'emails'),
        message: `user ${show(user.userName)} declares no emails, but target ${show(policy.emailsRequiredBy)} (profile lightstep) requires them: remove \`emails:\` to use the userName, or list one`,
      });
    }
    if (inScope && !inScope(user.userName)) {
      issues.push({
        file: declared.file,
        path: userPath(declared, 'userName'),
        message: `user ${show(user.userName)} is outside the policy \`scope\` ${show(policy.scope)}, so it would never be created or updated (widen the scope or remove the user)`,
      });
    }
    // SPEC §2: a user declared without `emails` gets its userName as its email, on every profile
    // (sent on create, and carried along by a rename), so the userName is checked as that email.
    const derived = user.emails === undefined;
    if (derived && !userNameIsEmail) {
      // A lightstep target has said so already, about the userName itself.
      if (!policy.emailsRequiredBy) {
        issues.push({
          file: declared.file,
          path: userPath(declared, 'userName'),
          message: `userName ${show(user.userName)} is not an email address, but the user declares no \`emails\`, so its email would be derived from the userName: fix the userName, or declare the user's addresses under \`emails:\`, or \`emails: null\` for a user with none`,
        });
      }
    } else if (allowedDomains && !domainAllowed(user.userName)) {
      issues.push({
        file: declared.file,
        path: userPath(declared, 'userName'),
        message: `userName ${show(user.userName)} is not in an allowed email domain (${[...allowedDomains].join(', ')})${derived ? ", and the user's email would be derived from it (no `emails` declared)" : ''}: ${DOMAIN_ADVICE}`,
      });
    }
    let primary: number | undefined;
    (user.emails ?? []).forEach((email, e) => {
      if (allowedDomains && !domainAllowed(email.value)) {
        issues.push({
          file: declared.file,
          path: userPath(declared, 'emails', e, 'value'),
          message: `email ${show(email.value)} is not in an allowed email domain (${[...allowedDomains].join(', ')}): ${DOMAIN_ADVICE}`,
        });
      }
      if (email.primary !== true) return;
      if (primary !== undefined) {
        issues.push({ file: declared.file, path: userPath(declared, 'emails', e, 'primary'), message: `user ${show(user.userName)} has more than one primary email: mark only one \`primary: true\`` });
        return;
      }
      primary = e;
      // SPEC §1: the primary email should equal userName; Lightstep provisions by it.
      // A userName that is not an address cannot equal one; a lightstep target has refused it already.
      if (email.value.toLowerCase() !== user.userName.toLowerCase() && (userNameIsEmail || !policy.emailsRequiredBy)) {
        issues.push({
          file: declared.file,
          path: userPath(declared, 'emails', e, 'value'),
          message: userNameIsEmail
            ? `the primary email ${show(email.value)} differs from userName ${show(user.userName)}: make them the same address`
            : `the primary email ${show(email.value)} differs from userName ${show(user.userName)}, which is not an email address: use the address as the userName, or remove \`primary: true\` from the email`,
        });
      }
    });
  }

  const byDisplayName = new Map<string, Declared<DesiredGroup>>();
  const byGroupExternalId = new Map<string, Declared<DesiredGroup>>();
  for (const declared of groups) {
    const group = declared.value;
    const key = group.displayName.toLowerCase();
    const first = byDisplayName.get(key);
    if (first) {
      issues.push({
        file: declared.file,
        path: groupPath(declared, 'displayName'),
        message: `group ${show(group.displayName)} is declared twice${first.value.displayName === group.displayName ? '' : ` (group names are compared case-insensitively: ${show(first.value.displayName)})`}; first at ${formatLocation(first.value.source)}`,
      });
    } else {
      byDisplayName.set(key, declared);
    }
    if (typeof group.externalId === 'string') {
      const other = byGroupExternalId.get(group.externalId);
      if (other) {
        issues.push({
          file: declared.file,
          path: groupPath(declared, 'externalId'),
          message: `externalId ${show(group.externalId)} is used by two groups (${show(other.value.displayName)} at ${formatLocation(other.value.source)} and ${show(group.displayName)}): each must be unique`,
        });
      } else {
        byGroupExternalId.set(group.externalId, declared);
      }
    }
    const seen = new Map<string, string>();
    group.members.forEach((member, m) => {
      const memberKey = member.toLowerCase();
      const first = seen.get(memberKey);
      if (first !== undefined) {
        issues.push({
          file: declared.file,
          path: groupPath(declared, 'members', m),
          message: `${show(member)} is listed twice in the members of group ${show(group.displayName)}${first === member ? '' : ` (userNames are compared case-insensitively: ${show(first)})`}: remove this entry`,
        });
        return;
      }
      seen.set(memberKey, member);
      const user = byUserName.get(memberKey);
      // A member written as its user's userName becomes that same string: one copy in memory, and
      // a plan's lookups by it compare by reference rather than by content.
      if (user) {
        if (user.value.userName === member) group.members[m] = user.value.userName;
      } else if (!alsoDeclared.has(memberKey)) {
        issues.push({
          file: declared.file,
          path: groupPath(declared, 'members', m),
          message: `member ${show(member)} of group ${show(group.displayName)} is not a declared user: declare it under \`users:\` in an identity file, or remove it`,
        });
      }
    });
  }
  return issues;
}
