/**
 * The plan is a value: `computePlan` returns it, the guards inspect it, the renderers print it,
 * the saved-plan file serialises it and apply executes it. Every type here is plain JSON data.
 */
import type { SourceLocation } from '../errors.js';
import type { Capabilities, IdentityFile, ProfileName, RemovalLimit } from '../model.js';

/** Why an operation exists: the declaration that asks for it, or the policy rule behind a removal. */
export type Provenance =
  | { kind: 'declaration'; location: SourceLocation }
  | { kind: 'policy'; rule: 'unmanagedUsers' | 'unmanagedGroups'; value: string; location?: SourceLocation };

/** One changed attribute path. `old`/`new` absent means the attribute is absent (before / after). */
export interface AttributeChange {
  /** SCIM attribute path: `userName`, `externalId`, `displayName`, `name.givenName`, `name.familyName`, `emails`, `active`. */
  path: string;
  old?: unknown;
  new?: unknown;
}

/** What the live resource looked like when the plan was computed: `meta.version`/ETag, else a hash of the normalised resource. */
export interface Fingerprint {
  kind: 'version' | 'hash';
  value: string;
}

/**
 * A request exactly as apply sends it, relative to the target URL.
 * `refs` lists places in `body` (JSON pointers) that hold a userName standing in for the id of a
 * user that this same plan creates; apply substitutes the id the server returned before sending,
 * and skips the request when that create failed.
 */
export interface WriteRequest {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** The version the plan saw; sent as `If-Match` when the target supports ETags. */
  ifMatch?: string;
  refs?: { pointer: string; operation: string }[];
}

/** A group member: the live id when the user exists, absent when this plan creates the user. */
export interface MemberRef {
  userName: string;
  id?: string;
}

interface OperationBase {
  /** Unique within a target plan and stable across runs: `user:<userName lower-cased>`, `group:<displayName>`, `manual:<n>`. */
  key: string;
  provenance: Provenance;
  /** Requests in the order to send; empty only for `manual`. */
  requests: WriteRequest[];
}

export interface CreateUser extends OperationBase {
  kind: 'createUser';
  userName: string;
  /** Every attribute the new user gets (old absent). */
  changes: AttributeChange[];
}

/** A PATCH of a live user. `deactivateUser`/`reactivateUser` are the same shape, named for what a reviewer cares about. */
export interface UpdateUser extends OperationBase {
  kind: 'updateUser' | 'reactivateUser' | 'deactivateUser';
  id: string;
  userName: string;
  /** Set when the user was matched by externalId under another userName. */
  renamedFrom?: string;
  externalId?: string;
  changes: AttributeChange[];
  fingerprint: Fingerprint;
}

export interface DeleteUser extends OperationBase {
  kind: 'deleteUser';
  id: string;
  userName: string;
  fingerprint: Fingerprint;
}

export interface CreateGroup extends OperationBase {
  kind: 'createGroup';
  displayName: string;
  externalId?: string;
  members: MemberRef[];
}

export interface UpdateGroupMembers extends OperationBase {
  kind: 'updateGroupMembers';
  id: string;
  displayName: string;
  /** Other attribute changes (a rename by externalId), sent in the first request. */
  changes: AttributeChange[];
  add: MemberRef[];
  remove: MemberRef[];
  fingerprint: Fingerprint;
}

export interface DeleteGroup extends OperationBase {
  kind: 'deleteGroup';
  id: string;
  displayName: string;
  fingerprint: Fingerprint;
}

/**
 * A difference this plan cannot make (group membership on a read-only-groups profile, a userName
 * another live user holds). Never sent.
 */
export interface ManualAction extends OperationBase {
  kind: 'manual';
  /** e.g. `group Admins: add jane@example.com`. */
  subject: string;
  /** e.g. `this target's groups are read-only`. */
  reason: string;
  /**
   * Set when later plans can make the change without a person: the live users holding the
   * userName are renamed away by this plan, or by a chain of renames it starts. Apply's read-back
   * reports such a change as a follow-up, not as a difference the target refused. For a group:
   * the live group holding its displayName is deleted by this plan.
   */
  followUp?: { userName: string } | { displayName: string };
}

export type Operation =
  | CreateUser
  | UpdateUser
  | DeleteUser
  | CreateGroup
  | UpdateGroupMembers
  | DeleteGroup
  | ManualAction;

export type OperationKind = Operation['kind'];

/** Apply order (SPEC §5); operations of one kind are sorted by userName / displayName. */
export const OPERATION_ORDER: readonly OperationKind[] = [
  'createUser',
  'updateUser',
  'reactivateUser',
  'createGroup',
  'updateGroupMembers',
  'deactivateUser',
  'deleteUser',
  'deleteGroup',
  'manual',
];

export interface PlanSummary {
  create: number;
  /** Updates and reactivations of users, and group changes. */
  update: number;
  deactivate: number;
  delete: number;
  manual: number;
}

export interface RemovalCount {
  /** Deactivations + deletions + group-member removals (against live memberships). */
  removals: number;
  /** Live users in scope (not protected), the base of a percentage limit. */
  liveUsersInScope: number;
  limit: RemovalLimit;
}

/** The plan for one target: the output of `computePlan`. */
export interface Plan {
  operations: Operation[];
  summary: PlanSummary;
  removals: RemovalCount;
  /** Non-empty live groups this plan would leave without members, by removing them all or deleting the group (displayNames), for the guards. */
  emptiedGroups: string[];
  /**
   * Things a reviewer should know that are not operations: a dirty target (two live users whose
   * userNames differ only in case, and which one was matched), declared users left alone because
   * they are protected or outside `scope`, members skipped. Sorted; absent when there are none.
   */
  notes?: string[];
}

export type GuardName = 'maxRemovals' | 'emptyDesiredState' | 'emptiesGroup' | 'deleteNotAllowed';

/** A refused guard: which one, the numbers, and how to override. */
export interface GuardViolation {
  guard: GuardName;
  message: string;
  /** Whether `--allow-mass-removal` overrides it (`deleteNotAllowed` is config-only). */
  overridable: boolean;
}

/** Facts about reading the live state, shown in the plan header. */
export interface FetchStats {
  users: number;
  groups: number;
  pages: number;
  requests: number;
  durationMs: number;
}

export interface TargetPlan {
  target: { name: string; url: string; profile: ProfileName };
  capabilities: Capabilities;
  fetch: FetchStats;
  plan: Plan;
  violations: GuardViolation[];
}

/** The saved-plan document (`plan --out`), valid against `schemas/plan.schema.json`. Never holds the token. */
export interface SavedPlan {
  formatVersion: 1;
  scimformVersion: string;
  createdAt: string;
  /** sha256 over the config file and every identity file (paths and contents), see `DesiredState.files`. */
  digest: string;
  /** The config file, relative to the working directory. */
  config: string;
  /** The per-file hashes the digest was computed from, so a stale plan can name the files that changed. */
  files?: IdentityFile[];
  targets: TargetPlan[];
  /** Selected targets that could not be planned, so a reader knows they are missing; apply ignores them. */
  failedTargets?: { name: string; message: string }[];
}
