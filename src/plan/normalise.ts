/**
 * What "the same" means when a desired user is compared with a live one. Only attributes the
 * YAML manages are compared (an absent key is unmanaged), after normalising the forms servers
 * are known to rewrite (SPEC §4, §5a).
 *
 * - `userName` is compared case-insensitively (RFC 7643 §4.1.1: caseExact false); servers
 *   lower-case it, so a case-only difference is not a change.
 * - `emails` are compared as a set of (value, type, primary), value and type without case,
 *   `primary` absent read as false; order and duplicates do not matter.
 * - Every other string (`externalId`, `displayName`, `name.*`) is compared exactly, without
 *   trimming: scimform sends values as written, so comparing them as written keeps plan and
 *   apply agreeing; stray whitespace is for `validate` to point out, not for the diff to hide.
 * - `active` absent in the YAML means true; absent on the wire is read as true by the client.
 * - Server-added attributes (`meta`, `groups`, `schemas`, `name.formatted`, …) are never compared.
 */
import type { DesiredUser, Email, LiveUser } from '../model.js';
import type { AttributeChange } from './types.js';

/** The paths scimform manages on a user, in the order changes are listed and sent. */
export const USER_PATHS = ['userName', 'externalId', 'displayName', 'name', 'name.givenName', 'name.familyName', 'emails', 'active'] as const;

/** One canonical string per email, so sets of emails compare by value. */
function emailKey(email: Email): string {
  return JSON.stringify([email.value.toLowerCase(), (email.type ?? '').toLowerCase(), email.primary === true]);
}

/** Whether two emails have the same `emailKey`, without building the keys. */
function sameEmail(a: Email, b: Email): boolean {
  return (
    (a.primary === true) === (b.primary === true) &&
    (a.value === b.value || a.value.toLowerCase() === b.value.toLowerCase()) &&
    (a.type === b.type || (a.type ?? '').toLowerCase() === (b.type ?? '').toLowerCase())
  );
}

/** The emails as a sorted set of canonical keys; `null`, absent and `[]` are all "no emails". */
export function normaliseEmails(emails: readonly Email[] | null | undefined): string[] {
  return [...new Set((emails ?? []).map(emailKey))].sort();
}

export function sameEmails(a: readonly Email[] | null | undefined, b: readonly Email[] | null | undefined): boolean {
  // The common case, one email on each side: equal keys, without building the sets.
  if (a?.length === 1 && b?.length === 1) return sameEmail(a[0]!, b[0]!);
  const left = normaliseEmails(a);
  const right = normaliseEmails(b);
  return left.length === right.length && left.every((key, index) => key === right[index]);
}

export function sameUserName(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/** An email as it goes on the wire: only the keys that are set. */
export function wireEmail(email: Email): Email {
  const { value, type, primary } = email;
  if (type !== undefined && primary !== undefined) return { value, type, primary };
  const wire: Email = { value };
  if (type !== undefined) wire.type = type;
  if (primary !== undefined) wire.primary = primary;
  return wire;
}

/** The default for a user created without `emails` (SPEC §2): the userName, work, primary. */
export function defaultEmails(userName: string): Email[] {
  return [{ value: userName, type: 'work', primary: true }];
}

function hasValue(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * Whether `change` is part of a rename of `desired`: the userName itself, or the email that follows
 * it when emails are not declared (the only emails change `diffUser` makes for such a user).
 */
export function partOfRename(change: AttributeChange, desired: DesiredUser): boolean {
  return change.path === 'userName' || (change.path === 'emails' && desired.emails === undefined);
}

/**
 * The attribute changes that make `live` match `desired`, one per path, in `USER_PATHS` order.
 * `new` absent means "remove". An empty list means the user has converged.
 */
export function diffUser(desired: DesiredUser, live: LiveUser): AttributeChange[] {
  const changes: AttributeChange[] = [];
  const scalar = (path: 'externalId' | 'displayName', want: string | null | undefined, have: string | undefined): void => {
    if (want === undefined) return;
    if (want === null) {
      if (hasValue(have)) changes.push({ path, old: have });
    } else if (want !== have) {
      changes.push(have === undefined ? { path, new: want } : { path, old: have, new: want });
    }
  };

  if (!sameUserName(desired.userName, live.userName)) changes.push({ path: 'userName', old: live.userName, new: desired.userName });
  scalar('externalId', desired.externalId, live.externalId);
  scalar('displayName', desired.displayName, live.displayName);

  const liveName = live.name ?? {};
  if (desired.name === null) {
    // `name: null` removes the whole complex attribute; `formatted` alone is server-made and does not count.
    if (hasValue(liveName.givenName) || hasValue(liveName.familyName)) {
      changes.push({ path: 'name', old: pickName(liveName) });
    }
  } else if (desired.name !== undefined) {
    for (const part of ['givenName', 'familyName'] as const) {
      const want = desired.name[part];
      const have = liveName[part];
      const path = `name.${part}`;
      if (want === undefined) continue;
      if (want === null) {
        if (hasValue(have)) changes.push({ path, old: have });
      } else if (want !== have) {
        changes.push(have === undefined ? { path, new: want } : { path, old: have, new: want });
      }
    }
  }

  if (desired.emails === undefined) {
    // Emails are unmanaged, but an address that was the old userName follows a rename: on
    // services where the userName is the login email (Lightstep), leaving it behind would keep
    // the person's mail going to the old address.
    const have = live.emails ?? [];
    const only = have[0];
    if (have.length === 1 && only && !sameUserName(desired.userName, live.userName) && sameUserName(only.value, live.userName)) {
      changes.push({ path: 'emails', old: have.map(wireEmail), new: [wireEmail({ ...only, value: desired.userName })] });
    }
  } else {
    const want = desired.emails ?? [];
    const have = live.emails ?? [];
    if (!sameEmails(want, have)) {
      const old = have.length > 0 ? { old: have.map(wireEmail) } : {};
      // An empty list is sent as a removal: several servers reject `replace emails []`.
      changes.push(want.length > 0 ? { path: 'emails', ...old, new: want.map(wireEmail) } : { path: 'emails', ...old });
    }
  }

  const active = desired.active ?? true;
  if (active !== live.active) changes.push({ path: 'active', old: live.active, new: active });
  return changes;
}

function pickName(name: { givenName?: string; familyName?: string }): { givenName?: string; familyName?: string } {
  return {
    ...(name.givenName === undefined ? {} : { givenName: name.givenName }),
    ...(name.familyName === undefined ? {} : { familyName: name.familyName }),
  };
}
