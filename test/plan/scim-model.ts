/**
 * A tiny in-memory SCIM service provider, written from RFC 7644 for the property tests of
 * planning: it executes planned `WriteRequest`s (POST, PATCH with add/replace/remove and
 * `members[value eq "…"]` filters, PUT, DELETE, If-Match) and hands its state back as a
 * `LiveState`. Strict where real servers are strict: lowercase `op`, a `path` on every
 * operation, unique userNames (case-insensitive), 412 on a stale If-Match. Like many servers,
 * it may lower-case email values.
 */
import type { LiveGroup, LiveState, LiveUser } from '../../src/model.js';
import type { Plan, WriteRequest } from '../../src/plan/types.js';

type Resource = Record<string, unknown>;

export interface ScimModel {
  users: Map<string, Resource>;
  groups: Map<string, Resource>;
  nextId: number;
  lowerCaseEmails: boolean;
}

export interface Outcome {
  status: number;
  id?: string;
  detail?: string;
}

/** The resource of a live value built by `liveStateOf` or the builders, which always keep it. */
function resourceOf(live: { id: string; resource?: Record<string, unknown> }): Resource {
  if (!live.resource) throw new Error(`live ${live.id} was built without its resource`);
  return structuredClone(live.resource);
}

export function modelFrom(live: LiveState, options: { lowerCaseEmails?: boolean } = {}): ScimModel {
  return {
    users: new Map(live.users.map((user) => [user.id, resourceOf(user)])),
    groups: new Map(live.groups.map((group) => [group.id, resourceOf(group)])),
    nextId: 1,
    lowerCaseEmails: options.lowerCaseEmails ?? false,
  };
}

export function liveStateOf(model: ScimModel): LiveState {
  const users: LiveUser[] = [...model.users.entries()].map(([id, resource]) => {
    const version = (resource.meta as { version?: string } | undefined)?.version;
    return {
      id,
      userName: resource.userName as string,
      ...(typeof resource.externalId === 'string' ? { externalId: resource.externalId } : {}),
      ...(typeof resource.displayName === 'string' ? { displayName: resource.displayName } : {}),
      ...(resource.name ? { name: resource.name as LiveUser['name'] } : {}),
      ...(Array.isArray(resource.emails) ? { emails: resource.emails as LiveUser['emails'] } : {}),
      active: resource.active !== false,
      ...(version ? { version } : {}),
      resource: structuredClone(resource),
    };
  });
  const groups: LiveGroup[] = [...model.groups.entries()].map(([id, resource]) => {
    const version = (resource.meta as { version?: string } | undefined)?.version;
    return {
      id,
      displayName: resource.displayName as string,
      ...(typeof resource.externalId === 'string' ? { externalId: resource.externalId } : {}),
      members: ((resource.members as { value: string }[] | undefined) ?? []).map((member) => member.value),
      ...(version ? { version } : {}),
      resource: structuredClone(resource),
    };
  });
  return { users, groups };
}

function stamp(resource: Resource, kind: 'User' | 'Group'): void {
  const previous = Number(((resource.meta as { version?: string } | undefined)?.version ?? 'W/"0"').replace(/\D/g, '') || 0);
  resource.meta = { resourceType: kind, version: `W/"${previous + 1}"` };
}

function userNameTaken(model: ScimModel, userName: unknown, except?: string): boolean {
  if (typeof userName !== 'string') return true;
  return [...model.users.entries()].some(([id, user]) => id !== except && (user.userName as string).toLowerCase() === userName.toLowerCase());
}

function normaliseUser(model: ScimModel, resource: Resource): void {
  if (model.lowerCaseEmails && Array.isArray(resource.emails)) {
    resource.emails = (resource.emails as { value: string }[]).map((email) => ({ ...email, value: email.value.toLowerCase() }));
  }
  if (resource.active === undefined) resource.active = true;
}

/** RFC 6901 pointer write, for the userName stand-ins apply replaces with ids. */
function setPointer(body: unknown, pointer: string, value: string): void {
  const parts = pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = body as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  node[parts[parts.length - 1]!] = value;
}

const FILTER = /^members\[value eq "((?:[^"\\]|\\.)*)"\]$/;

/** RFC 7644 §3.5.2: one operation on a copy of the resource. Returns an error detail, or undefined. */
function patchOne(resource: Resource, operation: { op?: unknown; path?: unknown; value?: unknown }): string | undefined {
  const { op, path, value } = operation;
  if (op !== 'add' && op !== 'replace' && op !== 'remove') return `bad op ${String(op)}`;
  if (typeof path !== 'string') return 'operation without path';
  const filter = FILTER.exec(path);
  if (filter) {
    if (op !== 'remove') return 'filter only for remove here';
    const id = filter[1]!.replace(/\\(.)/g, '$1');
    resource.members = ((resource.members as { value: string }[] | undefined) ?? []).filter((member) => member.value !== id);
    return undefined;
  }
  if (path === 'members') {
    const current = (resource.members as { value: string }[] | undefined) ?? [];
    const values = (value as { value: string }[] | undefined) ?? [];
    if (op === 'add') resource.members = [...current, ...values.filter((entry) => !current.some((member) => member.value === entry.value))];
    else if (op === 'remove') resource.members = value === undefined ? [] : current.filter((member) => !values.some((entry) => entry.value === member.value));
    else resource.members = values;
    return undefined;
  }
  const [head, sub] = path.split('.') as [string, string | undefined];
  if (sub === undefined) {
    if (op === 'remove') delete resource[head];
    else resource[head] = structuredClone(value);
    return undefined;
  }
  const parent = { ...((resource[head] as Resource | undefined) ?? {}) };
  if (op === 'remove') delete parent[sub];
  else parent[sub] = structuredClone(value);
  if (Object.keys(parent).length === 0) delete resource[head];
  else resource[head] = parent;
  return undefined;
}

/** Executes one request; `created` maps operation keys to the ids of users created so far. */
export function send(model: ScimModel, planned: WriteRequest, created: Map<string, string>): Outcome {
  const request = structuredClone(planned);
  for (const ref of request.refs ?? []) {
    const id = created.get(ref.operation);
    if (id === undefined) return { status: 424, detail: `no id for ${ref.operation}` };
    setPointer(request.body, ref.pointer, id);
  }
  const [, collection, rawId] = request.path.split('/') as [string, string, string | undefined];
  const store = collection === 'Users' ? model.users : collection === 'Groups' ? model.groups : undefined;
  if (!store) return { status: 404, detail: request.path };
  const kind = collection === 'Users' ? 'User' : 'Group';
  const body = request.body as Resource | undefined;

  if (request.method === 'POST') {
    if (rawId !== undefined || !body || !Array.isArray(body.schemas)) return { status: 400, detail: 'bad create' };
    if (kind === 'User' && userNameTaken(model, body.userName)) return { status: 409, detail: `userName ${String(body.userName)} exists` };
    const id = `m${model.nextId++}`;
    const resource: Resource = { ...structuredClone(body), id };
    if (kind === 'User') normaliseUser(model, resource);
    stamp(resource, kind);
    store.set(id, resource);
    return { status: 201, id };
  }

  const id = decodeURIComponent(rawId ?? '');
  const current = store.get(id);
  if (!current) return { status: 404, detail: `${kind} ${id}` };
  const version = (current.meta as { version?: string } | undefined)?.version;
  if (request.ifMatch !== undefined && request.ifMatch !== version) return { status: 412, detail: `${kind} ${id} changed` };

  if (request.method === 'DELETE') {
    store.delete(id);
    if (kind === 'User') for (const group of model.groups.values()) group.members = ((group.members as { value: string }[] | undefined) ?? []).filter((member) => member.value !== id);
    return { status: 204 };
  }

  let next: Resource;
  if (request.method === 'PUT') {
    if (!body || !Array.isArray(body.schemas)) return { status: 400, detail: 'PUT without schemas' };
    next = { ...structuredClone(body), id, meta: current.meta };
  } else {
    const patch = body as { schemas?: unknown; Operations?: unknown } | undefined;
    if (!patch || !Array.isArray(patch.schemas) || patch.schemas[0] !== 'urn:ietf:params:scim:api:messages:2.0:PatchOp' || !Array.isArray(patch.Operations)) {
      return { status: 400, detail: 'not a PatchOp' };
    }
    next = structuredClone(current);
    for (const operation of patch.Operations as Record<string, unknown>[]) {
      const error = patchOne(next, operation);
      if (error) return { status: 400, detail: error };
    }
  }
  if (kind === 'User') {
    if (userNameTaken(model, next.userName, id)) return { status: 409, detail: `userName ${String(next.userName)} exists` };
    normaliseUser(model, next);
  }
  stamp(next, kind);
  store.set(id, next);
  return { status: 200 };
}

/** Sends every request of the plan in order, as apply would; returns the failures. */
export function applyToModel(model: ScimModel, plan: Plan): string[] {
  const created = new Map<string, string>();
  const failures: string[] = [];
  for (const operation of plan.operations) {
    for (const request of operation.requests) {
      const outcome = send(model, request, created);
      if (outcome.status >= 300) failures.push(`${operation.key}: ${request.method} ${request.path} → ${outcome.status} ${outcome.detail ?? ''}`);
      else if (operation.kind === 'createUser' && outcome.id) created.set(operation.key, outcome.id);
    }
  }
  return failures;
}
