/**
 * The wire format of every write a plan may send (RFC 7644 §3.3, §3.5.1, §3.5.2), in the form
 * the strictest servers accept (SPEC §5a): a `schemas` array on every body, lowercase `op`, a
 * `path` on every PatchOp operation, JSON booleans.
 */
import type { Capabilities, DesiredUser, LiveGroup, LiveUser } from '../model.js';
import { escapeFilterValue } from '../scim/filter.js';
import { defaultEmails, wireEmail } from './normalise.js';
import type { AttributeChange, MemberRef, WriteRequest } from './types.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

export interface PatchOpBody {
  schemas: [typeof PATCH_OP_SCHEMA];
  Operations: PatchOperation[];
}

/** The key of the operation that creates a user; `WriteRequest.refs` point at it. */
export function createUserKey(userName: string): string {
  return `user:${userName.toLowerCase()}`;
}

export function userPath(id: string): string {
  return `/Users/${encodeURIComponent(id)}`;
}

export function groupPath(id: string): string {
  return `/Groups/${encodeURIComponent(id)}`;
}

function ifMatch(capabilities: Capabilities, live: { version?: string }): { ifMatch?: string } {
  return capabilities.etag && live.version ? { ifMatch: live.version } : {};
}

/** One PatchOp operation per changed path: `replace` with the new value, `remove` when it must be absent. */
export function patchOperations(changes: readonly AttributeChange[]): PatchOperation[] {
  return changes.map((change) =>
    change.new === undefined ? { op: 'remove', path: change.path } : { op: 'replace', path: change.path, value: change.new },
  );
}

export function patchBody(operations: PatchOperation[]): PatchOpBody {
  return { schemas: [PATCH_OP_SCHEMA], Operations: operations };
}

/**
 * The body of `POST /Users`: only what is declared, nulls omitted, `emails` defaulted from
 * userName. Attributes in a fixed order (the plan's JSON and the request depend on it). Built
 * key by key rather than by spreads: a plan of 100,000 creates builds one per user.
 */
export function createUserBody(user: DesiredUser): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [USER_SCHEMA], userName: user.userName };
  const givenName = user.name?.givenName;
  const familyName = user.name?.familyName;
  if (typeof givenName === 'string' || typeof familyName === 'string') {
    const name: Record<string, string> = {};
    if (typeof givenName === 'string') name.givenName = givenName;
    if (typeof familyName === 'string') name.familyName = familyName;
    body.name = name;
  }
  const emails = user.emails === undefined ? defaultEmails(user.userName) : (user.emails ?? []).map(wireEmail);
  if (emails.length > 0) body.emails = emails;
  if (user.active !== undefined) body.active = user.active;
  if (typeof user.externalId === 'string') body.externalId = user.externalId;
  if (typeof user.displayName === 'string') body.displayName = user.displayName;
  return body;
}

const NAME_PATHS: Record<string, string> = { givenName: 'name.givenName', familyName: 'name.familyName' };

/** What a create sets, as changes from nothing: one per attribute of its body, `name` by part. */
export function createChanges(body: Record<string, unknown>): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const key of Object.keys(body)) {
    if (key === 'schemas') continue;
    const value = body[key];
    if (key === 'name') {
      const name = value as Record<string, unknown>;
      for (const part of Object.keys(name)) changes.push({ path: NAME_PATHS[part] ?? `name.${part}`, new: name[part] });
    } else {
      changes.push({ path: key, new: value });
    }
  }
  return changes;
}

/** Server-managed attributes that a PUT must not send back (RFC 7643 §3.1, §4.1.2). */
const READ_ONLY = ['meta', 'groups'];

/** Sets (or, with `undefined`, removes) a dotted attribute path in a resource copy. */
function setPath(resource: Record<string, unknown>, path: string, value: unknown): void {
  const [head, sub] = path.split('.') as [string, string | undefined];
  if (sub === undefined) {
    if (value === undefined) delete resource[head];
    else resource[head] = value;
    return;
  }
  const parent = typeof resource[head] === 'object' && resource[head] !== null ? { ...(resource[head] as Record<string, unknown>) } : {};
  if (value === undefined) delete parent[sub];
  else parent[sub] = value;
  if (Object.keys(parent).length === 0) delete resource[head];
  else resource[head] = parent;
}

/** A full replacement (RFC 7644 §3.5.1) for targets without PATCH: the live resource with the changes made. */
export function replacementBody(resource: Record<string, unknown>, changes: readonly AttributeChange[], schema: string): Record<string, unknown> {
  const body: Record<string, unknown> = structuredClone(resource);
  for (const key of READ_ONLY) delete body[key];
  if (!Array.isArray(body.schemas) || body.schemas.length === 0) body.schemas = [schema];
  for (const change of changes) setPath(body, change.path, change.new);
  return body;
}

/**
 * The resource a PUT starts from. The client keeps it as read on targets without PATCH; a live
 * value built without it (package API callers) is written from what the model holds.
 */
function userResource(live: LiveUser): Record<string, unknown> {
  if (live.resource) return live.resource;
  const { id, userName, externalId, displayName, name, emails, active } = live;
  const attributes = Object.entries({ userName, externalId, displayName, name, emails, active }).filter(([, value]) => value !== undefined);
  return { schemas: [USER_SCHEMA], id, ...Object.fromEntries(attributes) };
}

function groupResource(live: LiveGroup): Record<string, unknown> {
  if (live.resource) return live.resource;
  const { id, displayName, externalId, members } = live;
  return { schemas: [GROUP_SCHEMA], id, displayName, ...(externalId === undefined ? {} : { externalId }), members: members.map((value) => ({ value })) };
}

/** The one request that changes a live user: a PATCH, or a PUT when the target cannot PATCH. */
export function updateUserRequest(live: LiveUser, changes: readonly AttributeChange[], capabilities: Capabilities): WriteRequest {
  if (capabilities.updateMethod === 'put') {
    return { method: 'PUT', path: userPath(live.id), body: replacementBody(userResource(live), changes, USER_SCHEMA), ...ifMatch(capabilities, live) };
  }
  return { method: 'PATCH', path: userPath(live.id), body: patchBody(patchOperations(changes)), ...ifMatch(capabilities, live) };
}

export function deleteRequest(path: string, live: { version?: string }, capabilities: Capabilities): WriteRequest {
  return { method: 'DELETE', path, ...ifMatch(capabilities, live) };
}

type Refs = NonNullable<WriteRequest['refs']>;

/**
 * `{ value: id }` entries for members; a user this plan creates is written as its userName and
 * listed in `refs`, so apply puts the id in before sending (see `WriteRequest`).
 */
function memberValues(members: readonly MemberRef[], pointerOf: (index: number) => string, refs: Refs): { value: string }[] {
  return members.map((member, index) => {
    if (member.id !== undefined) return { value: member.id };
    refs.push({ pointer: pointerOf(index), operation: createUserKey(member.userName) });
    return { value: member.userName };
  });
}

export function createGroupRequest(displayName: string, externalId: string | undefined, members: readonly MemberRef[]): WriteRequest {
  const refs: Refs = [];
  const values = memberValues(members, (index) => `/members/${index}/value`, refs);
  const body = {
    schemas: [GROUP_SCHEMA],
    displayName,
    ...(externalId === undefined ? {} : { externalId }),
    ...(values.length > 0 ? { members: values } : {}),
  };
  return { method: 'POST', path: '/Groups', body, ...(refs.length > 0 ? { refs } : {}) };
}

/**
 * The PATCHes that change a group: attribute changes and the first members in the first
 * request, then further requests of at most `maxMembersPerPatch` member values each, adds
 * before removes so the group is never emptied on the way. Only the first request carries
 * `If-Match`: the version it names is gone once that request succeeds.
 */
export function updateGroupRequests(
  live: LiveGroup,
  changes: readonly AttributeChange[],
  add: readonly MemberRef[],
  remove: readonly MemberRef[],
  capabilities: Capabilities,
): WriteRequest[] {
  const size = Math.max(1, capabilities.maxMembersPerPatch);
  type Item = { op: 'add' | 'remove'; member: MemberRef };
  const items: Item[] = [...add.map((member) => ({ op: 'add' as const, member })), ...remove.map((member) => ({ op: 'remove' as const, member }))];
  const chunks: Item[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  if (chunks.length === 0) chunks.push([]);

  return chunks.map((chunk, index) => {
    const operations: PatchOperation[] = index === 0 ? patchOperations(changes) : [];
    const refs: Refs = [];
    const adds = chunk.filter((item) => item.op === 'add').map((item) => item.member);
    const removes = chunk.filter((item) => item.op === 'remove').map((item) => item.member);
    if (adds.length > 0) {
      const at = operations.length;
      operations.push({ op: 'add', path: 'members', value: memberValues(adds, (i) => `/Operations/${at}/value/${i}/value`, refs) });
    }
    if (removes.length > 0) {
      if (capabilities.memberRemoval === 'path-filter') {
        // RFC 7644 §3.5.2.2: a value filter selects the member to remove.
        for (const member of removes) operations.push({ op: 'remove', path: `members[value eq "${escapeFilterValue(member.id ?? '')}"]` });
      } else {
        operations.push({ op: 'remove', path: 'members', value: removes.map((member) => ({ value: member.id ?? '' })) });
      }
    }
    return {
      method: 'PATCH' as const,
      path: groupPath(live.id),
      body: patchBody(operations),
      ...(index === 0 ? ifMatch(capabilities, live) : {}),
      ...(refs.length > 0 ? { refs } : {}),
    };
  });
}

/**
 * The one PUT that changes a group on a target without PATCH: the live group with its
 * attributes changed and its member list rewritten (members scimform leaves alone are kept).
 */
export function replaceGroupRequest(
  live: LiveGroup,
  changes: readonly AttributeChange[],
  add: readonly MemberRef[],
  remove: readonly MemberRef[],
  capabilities: Capabilities,
): WriteRequest {
  const resource = groupResource(live);
  const body = replacementBody(resource, changes, GROUP_SCHEMA);
  const removed = new Set(remove.map((member) => member.id));
  const liveMembers = Array.isArray(resource.members) ? (resource.members as unknown[]) : live.members.map((value) => ({ value }));
  const kept = liveMembers.filter((entry) => !removed.has(memberId(entry)));
  const refs: Refs = [];
  const added = memberValues(add, (index) => `/members/${kept.length + index}/value`, refs);
  body.members = [...kept, ...added];
  return { method: 'PUT', path: groupPath(live.id), body, ...ifMatch(capabilities, live), ...(refs.length > 0 ? { refs } : {}) };
}

function memberId(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry === 'object' && entry !== null && typeof (entry as { value?: unknown }).value === 'string') return (entry as { value: string }).value;
  return undefined;
}
