/**
 * Reading what servers send into the model (SPEC §5a: accept every deviation seen in the wild).
 * Pure functions over parsed JSON.
 */
import { ScimformError } from '../errors.js';
import type { DesiredUser, Email, LiveGroup, LiveUser } from '../model.js';
import { safeText } from '../render/format.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Looks a key up case-insensitively (SCIM attribute names are case-insensitive, RFC 7643 §2.1). */
export function getAttribute(record: Json, name: string): unknown {
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(record)) if (key.toLowerCase() === lower) return record[key];
  return undefined;
}

/** `active` as a boolean, or the strings "true"/"false" in any case (Entra sends "False"); absent is true. */
export function parseActive(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'false') return false;
    if (text === 'true') return true;
  }
  return true;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function versionOf(resource: Json, etag: string | undefined): string | undefined {
  const meta = getAttribute(resource, 'meta');
  const version = isObject(meta) ? optionalString(getAttribute(meta, 'version')) : undefined;
  return version ?? etag;
}

function malformed(kind: string, what: string, resource: unknown): ScimformError {
  // JSON escapes the C0 controls; safeText the rest (C1 and bidi controls).
  const shown = safeText(JSON.stringify(resource)?.slice(0, 120) ?? String(resource));
  return new ScimformError(`the SCIM service returned a ${kind} without ${what}: ${shown}`, {
    hint: 'The server is not speaking SCIM 2.0 as scimform expects; check the target url and profile.',
  });
}

/** What to keep of a resource beyond the modelled attributes. */
export interface ParseOptions {
  /** Keep the resource as read whatever its version: a PUT (a target without PATCH) sends it back. */
  keepResource?: boolean;
  /**
   * The user declared with exactly this userName, if any. A live value equal to the declared one
   * becomes the declared string (or name, email, list of emails): most live users are as
   * declared, and at 1,000,000 users the second copies were ~300 MB.
   */
  declared?: (userName: string) => DesiredUser | undefined;
}

/** `value`, or the declared string when they are equal. */
function shared(value: string | undefined, declared: string | null | undefined): string | undefined {
  return value !== undefined && value === declared ? declared : value;
}

/**
 * `built`, or the declared object when it has the same keys in the same order with the same
 * values, so it reads the same whichever side it came from (neither side is changed once read).
 */
function sharedObject<T extends object>(built: T, declared: object | null | undefined): T {
  if (declared === null || declared === undefined) return built;
  const keys = Object.keys(built);
  let i = 0;
  for (const key in declared) {
    if (key !== keys[i] || (declared as Record<string, unknown>)[key] !== (built as Record<string, unknown>)[key]) return built;
    i++;
  }
  return i === keys.length ? (declared as T) : built;
}

/**
 * The version, and the resource when it is needed: for a PUT, or as the fingerprint of a server
 * without versions. Hashing every resource as it is read would cost ~9 ms per 1,000 users
 * whether or not the plan changes them; the hash is taken for the few it does change.
 */
function identify<T extends { version?: string; resource?: Record<string, unknown> }>(target: T, resource: Json, etag: string | undefined, options: ParseOptions): T {
  const version = versionOf(resource, etag);
  if (version !== undefined) target.version = version;
  if (options.keepResource || !version) target.resource = resource;
  return target;
}

export function parseUser(resource: unknown, etag?: string, options: ParseOptions = {}): LiveUser {
  if (!isObject(resource)) throw malformed('user', 'a JSON object', resource);
  const id = idOf(getAttribute(resource, 'id'));
  if (id === undefined) throw malformed('user', 'an id', resource);
  const read = optionalString(getAttribute(resource, 'userName'));
  if (read === undefined) throw malformed('user', 'a userName', resource);
  const twin = options.declared?.(read);
  const userName = twin?.userName ?? read;

  const active = parseActive(getAttribute(resource, 'active'));
  const externalId = shared(optionalString(getAttribute(resource, 'externalId')), twin?.externalId);
  const displayName = shared(optionalString(getAttribute(resource, 'displayName')), twin?.displayName);
  const nameValue = getAttribute(resource, 'name');
  let name: LiveUser['name'];
  if (isObject(nameValue)) {
    const givenName = shared(optionalString(getAttribute(nameValue, 'givenName')), twin?.name?.givenName);
    const familyName = shared(optionalString(getAttribute(nameValue, 'familyName')), twin?.name?.familyName);
    const formatted = optionalString(getAttribute(nameValue, 'formatted'));
    if (givenName !== undefined && familyName !== undefined && formatted === undefined) {
      name = { givenName, familyName };
    } else {
      name = {};
      if (givenName !== undefined) name.givenName = givenName;
      if (familyName !== undefined) name.familyName = familyName;
      if (formatted !== undefined) name.formatted = formatted;
    }
    name = sharedObject(name, twin?.name);
  }
  const emailValues = getAttribute(resource, 'emails');
  let emails: Email[] | undefined;
  if (Array.isArray(emailValues)) {
    const list: Email[] = [];
    for (const entry of emailValues) {
      const address = isObject(entry) ? optionalString(getAttribute(entry, 'value')) : undefined;
      if (address === undefined) continue;
      // The primary email is usually the userName: share that string rather than keep a second copy.
      const value = address === userName ? userName : address;
      const type = shared(optionalString(getAttribute(entry, 'type')), twin?.emails?.[list.length]?.type);
      const primary = getAttribute(entry, 'primary');
      const isPrimary = primary === true || (typeof primary === 'string' && primary.toLowerCase() === 'true');
      // Built as one literal when complete: keys added later would sit in a separate property array.
      let email: Email;
      if (type !== undefined && primary !== undefined) {
        email = { value, type, primary: isPrimary };
      } else {
        email = { value };
        if (type !== undefined) email.type = type;
        if (primary !== undefined) email.primary = isPrimary;
      }
      list.push(sharedObject(email, twin?.emails?.[list.length]));
    }
    const declared = twin?.emails;
    // An array filled by push keeps room for 16 more: at 100,000 users that room was ~15 MB.
    emails = declared && declared.length === list.length && list.every((email, i) => email === declared[i]) ? declared : list.slice();
  }
  // The usual user as one literal (V8 keeps a literal's keys inside the object; keys added one
  // by one go to a separate property array, ~60 bytes more per user).
  const version = versionOf(resource, etag);
  if (externalId !== undefined && displayName !== undefined && name !== undefined && emails !== undefined && version !== undefined && !options.keepResource) {
    return { id, userName, active, externalId, displayName, name, emails, version };
  }
  const user: LiveUser = { id, userName, active };
  if (externalId !== undefined) user.externalId = externalId;
  if (displayName !== undefined) user.displayName = displayName;
  if (name !== undefined) user.name = name;
  if (emails !== undefined) user.emails = emails;
  return identify(user, resource, etag, options);
}

export function parseGroup(resource: unknown, etag?: string, options: ParseOptions = {}): LiveGroup {
  if (!isObject(resource)) throw malformed('group', 'a JSON object', resource);
  const id = idOf(getAttribute(resource, 'id'));
  if (id === undefined) throw malformed('group', 'an id', resource);
  const displayName = optionalString(getAttribute(resource, 'displayName'));
  if (displayName === undefined) throw malformed('group', 'a displayName', resource);
  const members = getAttribute(resource, 'members');
  const group: LiveGroup = {
    id,
    displayName,
    members: Array.isArray(members) ? members.flatMap((m) => (isObject(m) ? (idOf(getAttribute(m, 'value')) ?? []) : [])).slice() : [],
  };
  const externalId = optionalString(getAttribute(resource, 'externalId'));
  if (externalId !== undefined) group.externalId = externalId;
  return identify(group, resource, etag, options);
}

/** One page of an RFC 7644 §3.4.2 ListResponse, with the RFC 9865 cursor fields. */
export interface ListPage {
  resources: unknown[];
  totalResults?: number;
  startIndex?: number;
  itemsPerPage?: number;
  nextCursor?: string;
}

function optionalCount(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 ? number : undefined;
}

/** Reads a list response; `Resources` in any case, absent when there are no results. */
export function parseListPage(body: unknown): ListPage {
  if (!isObject(body)) {
    throw new ScimformError('the SCIM service answered a list request with something other than a JSON object', {
      hint: 'Check the url of the target: it should be the SCIM base (for example …/scim/v2).',
    });
  }
  const resources = getAttribute(body, 'Resources');
  if (resources !== undefined && resources !== null && !Array.isArray(resources)) {
    throw new ScimformError('the SCIM service answered a list request with a `Resources` that is not an array', {
      hint: 'The server is not speaking SCIM 2.0 as scimform expects; check the target url and profile.',
    });
  }
  const page: ListPage = { resources: Array.isArray(resources) ? resources : [] };
  const totalResults = optionalCount(getAttribute(body, 'totalResults'));
  if (totalResults !== undefined) page.totalResults = totalResults;
  const startIndex = optionalCount(getAttribute(body, 'startIndex'));
  if (startIndex !== undefined) page.startIndex = startIndex;
  const itemsPerPage = optionalCount(getAttribute(body, 'itemsPerPage'));
  if (itemsPerPage !== undefined) page.itemsPerPage = itemsPerPage;
  const nextCursor = getAttribute(body, 'nextCursor');
  if (typeof nextCursor === 'string' && nextCursor !== '') page.nextCursor = nextCursor;
  return page;
}

/** What `/ServiceProviderConfig` (RFC 7643 §5, RFC 9865 §4) says; a field is absent when the server does not say. */
export interface DiscoveredCapabilities {
  patch?: boolean;
  filter?: boolean;
  maxResults?: number;
  etag?: boolean;
  bulk?: boolean;
  cursor?: boolean;
  index?: boolean;
  defaultPagination?: 'index' | 'cursor';
  maxPageSize?: number;
}

export function parseServiceProviderConfig(body: unknown): DiscoveredCapabilities {
  if (!isObject(body)) return {};
  const supported = (name: string): boolean | undefined => {
    const section = getAttribute(body, name);
    if (!isObject(section)) return undefined;
    const value = getAttribute(section, 'supported');
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') return value.toLowerCase() === 'true';
    return undefined;
  };
  const result: DiscoveredCapabilities = {};
  for (const name of ['patch', 'filter', 'etag', 'bulk'] as const) {
    const value = supported(name);
    if (value !== undefined) result[name] = value;
  }
  const filter = getAttribute(body, 'filter');
  const maxResults = isObject(filter) ? optionalCount(getAttribute(filter, 'maxResults')) : undefined;
  if (maxResults !== undefined && maxResults > 0) result.maxResults = maxResults;
  const pagination = getAttribute(body, 'pagination');
  if (isObject(pagination)) {
    const cursor = getAttribute(pagination, 'cursor');
    if (typeof cursor === 'boolean') result.cursor = cursor;
    const index = getAttribute(pagination, 'index');
    if (typeof index === 'boolean') result.index = index;
    const method = getAttribute(pagination, 'defaultPaginationMethod');
    if (method === 'cursor' || method === 'index') result.defaultPagination = method;
    const maxPageSize = optionalCount(getAttribute(pagination, 'maxPageSize'));
    if (maxPageSize !== undefined && maxPageSize > 0) result.maxPageSize = maxPageSize;
  }
  return result;
}
