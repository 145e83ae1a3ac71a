/**
 * The domain data that flows between the layers: the configuration, the desired state read
 * from git, the live state read from a SCIM service, and what a target can do. Plain data only.
 */
import type { SourceLocation } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Configuration (scimform.yaml)

export type ProfileName = 'lightstep' | 'generic';
export type PaginationStyle = 'index' | 'cursor';
/** How a member is removed from a group: `members[value eq "id"]` path (RFC 7644 §3.5.2.2) or `remove members` with a value list. */
export type MemberRemovalStyle = 'path-filter' | 'value-list';
export type UpdateMethod = 'patch' | 'put';

export interface TargetConfig {
  name: string;
  /** Base URL without a trailing slash, e.g. `https://api.lightstep.com/scim/v2`. */
  url: string;
  /** Name of the environment variable that holds the bearer token. The token itself is never stored here. */
  tokenEnv: string;
  profile: ProfileName;
  pageSize?: number;
  /** Parallel write requests (default 4). */
  concurrency: number;
  /** Client-side rate limit over all requests to this target; absent = unlimited. */
  requestsPerSecond?: number;
  /** Per-request timeout (default 30). */
  timeoutSeconds: number;
  /** Overrides of what the profile or discovery chooses (SPEC §5a). */
  pagination?: PaginationStyle;
  memberRemoval?: MemberRemovalStyle;
  updateMethod?: UpdateMethod;
  /** Where the target is declared in the config file. */
  source: SourceLocation;
}

export type UnmanagedUsersPolicy = 'ignore' | 'deactivate' | 'delete';
export type UnmanagedGroupsPolicy = 'ignore' | 'delete';

/** `maxRemovals`: "20" (a count) or "25%" (of live users in scope). */
export type RemovalLimit = { kind: 'count'; value: number; text: string } | { kind: 'percent'; value: number; text: string };

export interface Policy {
  unmanagedUsers: UnmanagedUsersPolicy;
  unmanagedGroups: UnmanagedGroupsPolicy;
  allowDelete: boolean;
  maxRemovals: RemovalLimit;
  /** Glob on userName (case-insensitive); users outside it are never touched. Absent = every user. */
  scope?: string;
  /** userNames (lower-cased) never modified, deactivated or deleted. */
  protectedUsers: string[];
  /** Lower-cased domains; absent = any domain. */
  allowedEmailDomains?: string[];
  /** Where each policy key is set in the config file, for provenance of removals ("policy unmanagedUsers: deactivate"). */
  sources: Partial<Record<'unmanagedUsers' | 'unmanagedGroups' | 'allowDelete' | 'maxRemovals' | 'scope' | 'protectedUsers', SourceLocation>>;
}

export interface Config {
  /** Absolute path of the config file. */
  file: string;
  /** Absolute path of the folder that holds it; identity globs and every `SourceLocation.file` are relative to it. */
  dir: string;
  version: 1;
  desired: string[];
  targets: TargetConfig[];
  policy: Policy;
}

// ---------------------------------------------------------------------------------------------
// SCIM values

export interface Email {
  value: string;
  type?: string;
  primary?: boolean;
}

export interface Name {
  givenName?: string | null;
  familyName?: string | null;
}

// ---------------------------------------------------------------------------------------------
// Desired state (identity files)

/**
 * A user as declared in git. A key that is absent is *unmanaged* (left as it is live);
 * an explicit `null` means "must be absent" (PATCH remove). `active` absent means true.
 */
export interface DesiredUser {
  userName: string;
  externalId?: string | null;
  displayName?: string | null;
  name?: Name | null;
  emails?: Email[] | null;
  active?: boolean;
  /** Where the user's entry starts (the `- userName:` item). */
  source: SourceLocation;
}

/**
 * Where each item of a list is written: a location each, or, as identity files are read, the
 * file and each item's line and column packed into one number (`PackedPosition`). One number
 * rather than one object per group member: at 1,000,000 members the objects were ~56 MB.
 */
export type MemberSources = readonly SourceLocation[] | { file: string; positions: readonly number[] };

export interface DesiredGroup {
  displayName: string;
  externalId?: string | null;
  /** userNames as written in the file (matched case-insensitively). */
  members: string[];
  /** Where each member is written, parallel to `members`. */
  memberSources: MemberSources;
  /** Set when the file has no `members` key: membership is unmanaged, left as it is live (SPEC §2). */
  membersUnmanaged?: true;
  source: SourceLocation;
}

export interface IdentityFile {
  /** Relative to the config folder, `/`-separated. */
  path: string;
  /** sha256 hex of the file's bytes. */
  sha256: string;
}

export interface DesiredState {
  users: DesiredUser[];
  groups: DesiredGroup[];
  /** The config file and every identity file read, sorted by path: the input of the saved plan's digest. */
  files: IdentityFile[];
}

// ---------------------------------------------------------------------------------------------
// Live state (read from a SCIM service)

export interface LiveUser {
  id: string;
  userName: string;
  externalId?: string;
  displayName?: string;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  emails?: Email[];
  /** Absent on the wire is read as true. */
  active: boolean;
  /** `meta.version` or the ETag, when the server gives one. */
  version?: string;
  /**
   * The resource exactly as read, kept only when something needs it: a PUT sends it back with
   * the attributes scimform does not model (a target without PATCH), and without a version the
   * fingerprint is a hash of it (SPEC §5a), taken only for the resources a plan changes. At
   * 100,000 users it is most of the live state's memory.
   */
  resource?: Record<string, unknown>;
}

export interface LiveGroup {
  id: string;
  displayName: string;
  externalId?: string;
  /** Member ids (the `value` of each `members` entry), as listed on the group. */
  members: string[];
  version?: string;
  /** As on `LiveUser`: kept only for a PUT or a hash. */
  resource?: Record<string, unknown>;
}

export interface LiveState {
  users: LiveUser[];
  groups: LiveGroup[];
}

/** What a target can do: `/ServiceProviderConfig` merged with the profile's defaults and the config's overrides. */
export interface Capabilities {
  patch: boolean;
  filter: boolean;
  etag: boolean;
  bulk: boolean;
  /** `filter.maxResults`, when given. */
  maxResults?: number;
  groupsWritable: boolean;
  /** Whether DELETE /Users/{id} is available at all. */
  usersDeletable: boolean;
  pagination: PaginationStyle;
  memberRemoval: MemberRemovalStyle;
  updateMethod: UpdateMethod;
  /** Largest number of member values to put in one group PATCH before chunking. */
  maxMembersPerPatch: number;
}
