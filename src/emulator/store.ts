/**
 * The emulator's data: users and groups in insertion order, with the indices a real service
 * keeps (userName case-insensitively, externalId, group displayName), group membership in both
 * directions, and versions for ETags. Every write goes through here; nothing here knows HTTP.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { badRequest, notFound, ScimError } from './errors.js';
import { checkFilter, indexTerms, matchesFilter, namesAttribute, type Filter, type IndexedAttribute } from './filter.js';
import { OrderedIds } from './ordered.js';
import { applyPatch, attributesFromBody, type Attributes } from './patch.js';
import { resourceSchema, schemaIdsOf, type ResourceKind, type ResourceSchema } from './schemas.js';

export interface StoreOptions {
  /** Enterprise extension on users (generic profile). */
  enterpriseExtension: boolean;
  /** `emails` required on create, as Lightstep documents. */
  emailsRequired: boolean;
  /** `userName` must be an email address, as Lightstep documents. */
  userNameIsEmail?: boolean;
}

/** An address with a local part, an `@` and a dotted domain: what a service that logs people in by email accepts. */
const EMAIL_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/u;

interface Collection {
  kind: ResourceKind;
  schema: ResourceSchema;
  byId: Map<string, Attributes>;
  positionOf: Map<string, number>;
  order: OrderedIds;
  /** Lower-cased unique key (userName / group displayName) → id. */
  uniqueKey: Map<string, string>;
  /** externalId (case-exact, RFC 7643 §3.1) → ids. */
  externalIds: Map<string, Set<string>>;
}

export interface ListQuery {
  filter?: Filter;
}

/** What a listing cost, for the scale checks: resources looked at, whether a full scan was needed. */
export interface WorkCounter {
  examined: number;
  scans: number;
}

const isObject = (value: unknown): value is Attributes => value !== null && typeof value === 'object' && !Array.isArray(value);

function newCollection(kind: ResourceKind, schema: ResourceSchema): Collection {
  return { kind, schema, byId: new Map(), positionOf: new Map(), order: new OrderedIds(), uniqueKey: new Map(), externalIds: new Map() };
}

export class Store {
  readonly users: Collection;
  readonly groups: Collection;
  /** Group ids each user (or nested group) belongs to; the source of a user's read-only `groups`. */
  private readonly memberOf = new Map<string, Set<string>>();
  private versionCounter = 0;
  readonly work: WorkCounter = { examined: 0, scans: 0 };

  constructor(private readonly options: StoreOptions) {
    this.users = newCollection('User', resourceSchema('User', options.enterpriseExtension));
    this.groups = newCollection('Group', resourceSchema('Group', false));
  }

  collection(kind: ResourceKind): Collection {
    return kind === 'User' ? this.users : this.groups;
  }

  get(kind: ResourceKind, id: string): Attributes {
    const resource = this.collection(kind).byId.get(id);
    if (!resource) throw notFound(`${kind} ${id} not found`);
    return resource;
  }

  groupsOf(id: string): Attributes[] {
    const groups: Attributes[] = [];
    for (const groupId of this.memberOf.get(id) ?? []) {
      const group = this.groups.byId.get(groupId);
      if (group) groups.push(group);
    }
    return groups;
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  create(kind: ResourceKind, body: unknown, now: string, imported?: Attributes): Attributes {
    const collection = this.collection(kind);
    const attributes = this.prepare(collection, attributesFromBody(body, collection.schema), undefined);
    const id = imported && typeof imported.id === 'string' && imported.id !== '' ? imported.id : randomUUID();
    if (collection.byId.has(id)) throw new ScimError(409, `${kind} id ${id} already exists`, 'uniqueness');
    if (kind === 'User' && attributes.active === undefined) attributes.active = true;
    const importedMeta = imported && isObject(imported.meta) ? imported.meta : undefined;
    const resource: Attributes = { id, ...attributes, meta: this.meta(kind, id, importedMeta, now) };
    this.insert(collection, resource);
    return resource;
  }

  replace(kind: ResourceKind, id: string, body: unknown, now: string): Attributes {
    const collection = this.collection(kind);
    const current = this.get(kind, id);
    const attributes = this.prepare(collection, attributesFromBody(body, collection.schema), id);
    // PUT replaces every attribute the body can set; an absent `active` would otherwise read as "unassigned".
    if (kind === 'User' && attributes.active === undefined) attributes.active = true;
    return this.update(collection, current, attributes, now);
  }

  patch(kind: ResourceKind, id: string, body: unknown, now: string): Attributes {
    const collection = this.collection(kind);
    const current = this.get(kind, id);
    const { id: _id, meta: _meta, ...attributes } = current;
    const patched = applyPatch(attributes, body, collection.schema);
    return this.update(collection, current, this.prepare(collection, patched, id), now);
  }

  /**
   * A new version and lastModified for a resource whose attributes did not change: a server that
   * counts a user's group memberships as part of the user (quirk `membershipChangesUserVersion`).
   */
  touch(kind: ResourceKind, id: string, now: string): void {
    const collection = this.collection(kind);
    const current = collection.byId.get(id);
    if (current) collection.byId.set(id, { ...current, meta: this.bump(current.meta as Attributes, now) });
  }

  delete(kind: ResourceKind, id: string, now: string): void {
    const collection = this.collection(kind);
    const resource = this.get(kind, id);
    this.unindex(collection, resource);
    collection.byId.delete(id);
    collection.order.remove(collection.positionOf.get(id)!);
    collection.positionOf.delete(id);
    if (kind === 'Group') this.setMembership(id, memberIds(resource), []);
    // A deleted user (or group) leaves every group it was in.
    for (const group of this.groupsOf(id)) {
      const members = (group.members as Attributes[]).filter((member) => member.value !== id);
      const next: Attributes = { ...group };
      if (members.length > 0) next.members = members;
      else delete next.members;
      next.meta = this.bump(next.meta as Attributes, now);
      this.groups.byId.set(group.id as string, next);
    }
    this.memberOf.delete(id);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  /** Ids matching a filter, in insertion order; uses an index when the filter allows it. */
  matching(kind: ResourceKind, filter: Filter): { positions: number[] } {
    const collection = this.collection(kind);
    checkFilter(filter, collection.schema);
    // `schemas` and a user's `groups` are derived, not stored: a filter on them sees them as the
    // resource is returned (RFC 7644 §3.4.2.2 lets clients "query by schema or schema extensions").
    const withSchemas = namesAttribute(filter, 'schemas');
    const withGroups = kind === 'User' && namesAttribute(filter, 'groups');
    const subject = (resource: Attributes): Attributes =>
      withSchemas || withGroups ? { ...resource, ...(withSchemas ? { schemas: schemaIdsOf(kind, resource) } : {}), ...(withGroups ? this.groupsAttribute(resource) : {}) } : resource;
    const indexed: IndexedAttribute[] = kind === 'User' ? ['id', 'userName', 'externalId'] : ['id', 'displayName', 'externalId'];
    const terms = indexTerms(filter, collection.schema, indexed);
    if (terms) {
      const candidates = new Set<string>();
      for (const term of terms) for (const id of this.lookup(collection, term.attr, term.value)) candidates.add(id);
      const positions: number[] = [];
      for (const id of candidates) {
        this.work.examined++;
        if (matchesFilter(filter, subject(collection.byId.get(id)!), collection.schema)) positions.push(collection.positionOf.get(id)!);
      }
      return { positions: positions.sort((a, b) => a - b) };
    }
    this.work.scans++;
    const positions: number[] = [];
    for (let position = 0; position < collection.order.end; position++) {
      const id = collection.order.idAt(position);
      if (id === undefined) continue;
      this.work.examined++;
      if (matchesFilter(filter, subject(collection.byId.get(id)!), collection.schema)) positions.push(position);
    }
    return { positions };
  }

  /** A user's `groups`, as the service returns it (RFC 7643 §4.1.2), `$ref` aside; none when it is in none. */
  groupsAttribute(user: Attributes): { groups?: Attributes[] } {
    const groups = this.groupsOf(user.id as string).map((group) => ({ value: group.id, display: group.displayName, type: 'direct' }));
    return groups.length > 0 ? { groups } : {};
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  snapshot(): { users: Attributes[]; groups: Attributes[] } {
    const all = (collection: Collection) => collection.order.slice(0, collection.order.size).map((p) => collection.byId.get(collection.order.idAt(p)!)!);
    return { users: all(this.users), groups: all(this.groups) };
  }

  /** Loads resources as they were saved or given (`id` and `meta` kept when present). Groups after users, so members resolve. */
  load(data: { users?: unknown[]; groups?: unknown[] }, now: string): void {
    for (const user of data.users ?? []) this.create('User', user, now, isObject(user) ? user : undefined);
    for (const group of data.groups ?? []) this.create('Group', group, now, isObject(group) ? group : undefined);
  }

  // -------------------------------------------------------------------------------------------

  private lookup(collection: Collection, attr: IndexedAttribute, value: string): string[] {
    if (attr === 'id') return collection.byId.has(value) ? [value] : [];
    if (attr === 'externalId') return [...(collection.externalIds.get(value) ?? [])];
    const id = collection.uniqueKey.get(value.toLowerCase());
    return id ? [id] : [];
  }

  /** Checks and server-side rewrites shared by create, replace and patch. */
  private prepare(collection: Collection, attributes: Attributes, selfId: string | undefined): Attributes {
    const key = collection.kind === 'User' ? 'userName' : 'displayName';
    const value = attributes[key];
    if (typeof value !== 'string' || value.trim() === '') throw badRequest(`${key} is required`, 'invalidValue');
    const holder = collection.uniqueKey.get(value.toLowerCase());
    if (holder !== undefined && holder !== selfId) {
      throw new ScimError(409, `${collection.kind === 'User' ? 'a user' : 'a group'} with ${key} "${value}" already exists`, 'uniqueness');
    }
    if (collection.kind === 'User') {
      // Checked on every write that sets it, so a rename to a non-address is refused as a create is.
      if (this.options.userNameIsEmail && !EMAIL_ADDRESS.test(value)) {
        throw badRequest(`userName "${value}" is not an email address; this service logs users in by email, so userName must be one`, 'invalidValue');
      }
      if (this.options.emailsRequired && selfId === undefined && !Array.isArray(attributes.emails)) {
        throw badRequest('emails is required when creating a user', 'invalidValue');
      }
      // Servers in the wild store email addresses lower-cased; clients must compare case-insensitively.
      if (Array.isArray(attributes.emails)) {
        attributes.emails = (attributes.emails as Attributes[]).map((email) =>
          typeof email.value === 'string' ? { ...email, value: email.value.toLowerCase() } : email,
        );
      }
      for (const [key, value] of Object.entries(attributes)) if (Array.isArray(value)) attributes[key] = onePrimary(value as Attributes[]);
      if (isObject(attributes.name)) {
        const name = attributes.name;
        const formatted = [name.honorificPrefix, name.givenName, name.middleName, name.familyName, name.honorificSuffix].filter((part) => typeof part === 'string' && part !== '').join(' ');
        if (formatted !== '') attributes.name = { ...name, formatted };
      }
    } else {
      attributes.members = this.resolveMembers(attributes.members, selfId);
      if ((attributes.members as unknown[]).length === 0) delete attributes.members;
    }
    return attributes;
  }

  /**
   * Members must name existing users or groups: an unknown id is 400 invalidValue (a reference
   * to a missing resource is an invalid value, RFC 7644 §3.12), never silently dropped, so a
   * client learns at once that it sent a wrong id. `display`, `$ref` and `type` are the server's.
   */
  private resolveMembers(raw: unknown, selfId: string | undefined): Attributes[] {
    const members: Attributes[] = [];
    const seen = new Set<string>();
    for (const member of Array.isArray(raw) ? (raw as Attributes[]) : []) {
      const value = member.value;
      if (typeof value !== 'string' || value === '') throw badRequest('every member needs a "value" (the member\'s id)', 'invalidValue');
      if (seen.has(value)) continue;
      seen.add(value);
      const user = this.users.byId.get(value);
      const group = user ? undefined : this.groups.byId.get(value);
      if (!user && !group) throw badRequest(`member ${value} is not a known user or group`, 'invalidValue');
      if (value === selfId) throw badRequest('a group cannot be a member of itself', 'invalidValue');
      const display = user ? (user.displayName ?? user.userName) : group!.displayName;
      members.push({ value, display, $ref: `../${user ? 'Users' : 'Groups'}/${encodeURIComponent(value)}`, type: user ? 'User' : 'Group' });
    }
    return members;
  }

  private update(collection: Collection, current: Attributes, attributes: Attributes, now: string): Attributes {
    const id = current.id as string;
    // A write that leaves the resource as it was changes neither its version nor lastModified
    // (RFC 7644 §3.5.2.1: an add of a value already there "SHALL NOT change the modify timestamp").
    const { meta: _meta, ...before } = current;
    if (isDeepStrictEqual(before, { id, ...attributes })) return current;
    const next: Attributes = { id, ...attributes, meta: this.bump(current.meta as Attributes, now) };
    this.unindex(collection, current);
    collection.byId.set(id, next);
    this.index(collection, next);
    if (collection.kind === 'Group') this.setMembership(id, memberIds(current), memberIds(next));
    else if (current.userName !== next.userName || current.displayName !== next.displayName) this.refreshMemberDisplay(id, next);
    return next;
  }

  private refreshMemberDisplay(userId: string, user: Attributes): void {
    for (const group of this.groupsOf(userId)) {
      const members = (group.members as Attributes[]).map((member) => (member.value === userId ? { ...member, display: user.displayName ?? user.userName } : member));
      this.groups.byId.set(group.id as string, { ...group, members });
    }
  }

  private insert(collection: Collection, resource: Attributes): void {
    const id = resource.id as string;
    collection.byId.set(id, resource);
    collection.positionOf.set(id, collection.order.append(id));
    this.index(collection, resource);
    if (collection.kind === 'Group') this.setMembership(id, [], memberIds(resource));
  }

  private index(collection: Collection, resource: Attributes): void {
    const id = resource.id as string;
    const key = collection.kind === 'User' ? resource.userName : resource.displayName;
    if (typeof key === 'string') collection.uniqueKey.set(key.toLowerCase(), id);
    if (typeof resource.externalId === 'string') {
      const ids = collection.externalIds.get(resource.externalId) ?? new Set<string>();
      ids.add(id);
      collection.externalIds.set(resource.externalId, ids);
    }
  }

  private unindex(collection: Collection, resource: Attributes): void {
    const id = resource.id as string;
    const key = collection.kind === 'User' ? resource.userName : resource.displayName;
    if (typeof key === 'string' && collection.uniqueKey.get(key.toLowerCase()) === id) collection.uniqueKey.delete(key.toLowerCase());
    if (typeof resource.externalId === 'string') {
      const ids = collection.externalIds.get(resource.externalId);
      ids?.delete(id);
      if (ids?.size === 0) collection.externalIds.delete(resource.externalId);
    }
  }

  private setMembership(groupId: string, before: string[], after: string[]): void {
    const kept = new Set(after);
    for (const member of before) if (!kept.has(member)) this.memberOf.get(member)?.delete(groupId);
    for (const member of after) {
      const groups = this.memberOf.get(member) ?? new Set<string>();
      groups.add(groupId);
      this.memberOf.set(member, groups);
    }
  }

  private meta(kind: ResourceKind, id: string, imported: Attributes | undefined, now: string): Attributes {
    const importedVersion = typeof imported?.version === 'string' ? /(\d+)/.exec(imported.version)?.[1] : undefined;
    if (importedVersion !== undefined) this.versionCounter = Math.max(this.versionCounter, Number(importedVersion));
    const version = importedVersion !== undefined && imported ? (imported.version as string) : this.nextVersion();
    const created = typeof imported?.created === 'string' ? imported.created : now;
    const lastModified = typeof imported?.lastModified === 'string' ? imported.lastModified : now;
    return { resourceType: kind, created, lastModified, version, location: `${kind === 'User' ? 'Users' : 'Groups'}/${encodeURIComponent(id)}` };
  }

  private bump(meta: Attributes, now: string): Attributes {
    return { ...meta, lastModified: now, version: this.nextVersion() };
  }

  private nextVersion(): string {
    return `W/"${++this.versionCounter}"`;
  }
}

/**
 * RFC 7643 §2.4: `primary: true` appears at most once in a multi-valued attribute. When a POST
 * or PUT body has several, the last one keeps it (a PATCH has already settled it, patch.ts).
 */
function onePrimary(values: Attributes[]): Attributes[] {
  const last = values.map((value) => value.primary === true).lastIndexOf(true);
  if (last === -1) return values;
  return values.map((value, i) => (value.primary === true && i !== last ? { ...value, primary: false } : value));
}

export function memberIds(group: Attributes): string[] {
  return Array.isArray(group.members) ? (group.members as Attributes[]).map((member) => member.value as string) : [];
}
