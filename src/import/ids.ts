/**
 * The id map of `scimform ids`: which live id each user has in a target, and with `--join`, the
 * id the same user has in another target (old id → new id), so systems keyed on a vendor's ids
 * can be re-keyed after a migration. Pure: tested with plain objects.
 *
 * Users are joined as plan matches them (SPEC §4): by `externalId` when both sides have the
 * same one (of several old users sharing it, the one with the same userName), else by `userName`
 * without case. A user found on one side only keeps an empty id
 * on the other, so nothing silently drops out of the map.
 */
import type { LiveUser } from '../model.js';
import { safeJson, safeText } from '../render/format.js';

export interface IdEntry {
  userName: string;
  externalId?: string;
  id: string;
}

export interface JoinedEntry {
  userName: string;
  externalId?: string;
  /** Id in the joined (old) target; absent when the user is not there. */
  oldId?: string;
  /** Id in the selected (new) target; absent when the user is not there. */
  newId?: string;
}

const lower = (value: string): string => value.toLowerCase();
const byUserName = (a: { userName: string; id?: string }, b: { userName: string; id?: string }): number => {
  const x = lower(a.userName);
  const y = lower(b.userName);
  if (x !== y) return x < y ? -1 : 1;
  return a.userName < b.userName ? -1 : a.userName > b.userName ? 1 : 0;
};

function entryOf(user: LiveUser): IdEntry {
  return { userName: user.userName, ...(user.externalId ? { externalId: user.externalId } : {}), id: user.id };
}

export function idMap(users: readonly LiveUser[]): IdEntry[] {
  return users.map(entryOf).sort((a, b) => byUserName(a, b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The users by `key`, in the order given; a user without a key is left out. */
function groupedBy(users: Iterable<LiveUser>, key: (user: LiveUser) => string | undefined): Map<string, LiveUser[]> {
  const groups = new Map<string, LiveUser[]>();
  for (const user of users) {
    const value = key(user);
    if (value === undefined) continue;
    const group = groups.get(value);
    if (group) group.push(user);
    else groups.set(value, [user]);
  }
  return groups;
}

/** Joins the users of the old target onto those of the new one; one row per user of either side. */
export function joinIds(oldUsers: readonly LiveUser[], newUsers: readonly LiveUser[]): JoinedEntry[] {
  const remaining = new Set(oldUsers);
  const oldByExternalId = groupedBy(oldUsers, (user) => user.externalId || undefined);
  const pairs: [LiveUser | undefined, LiveUser][] = [];
  const unpaired: LiveUser[] = [];

  // externalId first over every new user, then userName among what is left: a renamed user
  // keeps its externalId, and must not be claimed by a newcomer that took its old userName.
  for (const user of newUsers) {
    const sharing = (user.externalId ? (oldByExternalId.get(user.externalId) ?? []) : []).filter((old) => remaining.has(old));
    // A server need not keep externalIds unique: of several, the one with this userName, as plan
    // matches (spelt the same first: a server may hold userNames that differ only in case).
    const match =
      sharing.length === 1 ? sharing[0] : (sharing.find((old) => old.userName === user.userName) ?? sharing.find((old) => lower(old.userName) === lower(user.userName)));
    if (match) {
      remaining.delete(match);
      pairs.push([match, user]);
    } else {
      unpaired.push(user);
    }
  }
  // Then userName: spelt the same first, then without case. A server may hold userNames that
  // differ only in case, on both sides: each pairs with its own, so no user is listed twice.
  const oldByUserName = groupedBy(remaining, (user) => lower(user.userName));
  const candidates = (user: LiveUser) => (oldByUserName.get(lower(user.userName)) ?? []).filter((old) => remaining.has(old));
  const withoutCase: LiveUser[] = [];
  for (const user of unpaired) {
    const match = candidates(user).find((old) => old.userName === user.userName);
    if (match) {
      remaining.delete(match);
      pairs.push([match, user]);
    } else {
      withoutCase.push(user);
    }
  }
  for (const user of withoutCase) {
    const match = candidates(user)[0];
    if (match) remaining.delete(match);
    pairs.push([match, user]);
  }

  const rows: JoinedEntry[] = pairs.map(([old, user]) => ({
    userName: user.userName,
    ...(user.externalId ? { externalId: user.externalId } : old?.externalId ? { externalId: old.externalId } : {}),
    ...(old ? { oldId: old.id } : {}),
    newId: user.id,
  }));
  for (const old of remaining) rows.push({ userName: old.userName, ...(old.externalId ? { externalId: old.externalId } : {}), oldId: old.id });
  return rows.sort((a, b) => byUserName(a, b) || ((a.oldId ?? a.newId ?? '') < (b.oldId ?? b.newId ?? '') ? -1 : 1));
}

/** A CSV field as RFC 4180 quotes it: when it holds a comma, a quote, a line break or edge white space. */
export function csvField(value: string | undefined): string {
  const text = value ?? '';
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The map goes to a terminal or a CI log as often as to a file: names and ids are escaped as the
 * plan shows them (a control or invisible character as `\uXXXX`), so a crafted one cannot add a
 * row, a workflow command or a terminal escape. The JSON form keeps every value exact.
 */
function csv(header: string[], rows: (string | undefined)[][]): string {
  // Lines end in LF rather than RFC 4180's CRLF: the map is mostly read by shell tools and scripts.
  return [header, ...rows].map((row) => `${row.map((field) => csvField(field === undefined ? undefined : safeText(field))).join(',')}\n`).join('');
}

export function renderIdsCsv(entries: readonly IdEntry[]): string {
  return csv(['userName', 'externalId', 'id'], entries.map((entry) => [entry.userName, entry.externalId, entry.id]));
}

export function renderJoinedCsv(entries: readonly JoinedEntry[]): string {
  return csv(['userName', 'externalId', 'oldId', 'newId'], entries.map((entry) => [entry.userName, entry.externalId, entry.oldId, entry.newId]));
}

export function renderIdsJson(target: string, entries: readonly IdEntry[]): string {
  return `${safeJson(JSON.stringify({ target, users: entries }, null, 2))}\n`;
}

export function renderJoinedJson(from: string, to: string, entries: readonly JoinedEntry[]): string {
  return `${safeJson(JSON.stringify({ from, to, users: entries }, null, 2))}\n`;
}
