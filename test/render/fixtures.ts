/**
 * Plans as plain values, covering every operation kind, both provenance kinds, a rename, a
 * reactivation, refused guards, an empty plan and several targets. Shared by the renderer and
 * saved-plan tests.
 */
import type { Capabilities } from '../../src/model.js';
import type { Operation, TargetPlan } from '../../src/plan/types.js';
import { profileDefaults } from '../../src/scim/capabilities.js';
import { summarise } from '../../src/plan/compute.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const lightstepCapabilities: Capabilities = profileDefaults('lightstep');

export const genericCapabilities: Capabilities = {
  ...lightstepCapabilities,
  etag: true,
  maxResults: 200,
  groupsWritable: true,
  pagination: 'index',
};

const at = (file: string, line: number, column = 5) => ({ kind: 'declaration' as const, location: { file, line, column } });

/** Counts the operations as plans do. */
export const summarize = summarise;

export function createUser(userName: string, givenName: string, familyName: string, line: number): Operation {
  return {
    kind: 'createUser',
    key: `user:${userName.toLowerCase()}`,
    userName,
    provenance: at('identities/eng.yaml', line),
    changes: [
      { path: 'userName', new: userName },
      { path: 'name.givenName', new: givenName },
      { path: 'name.familyName', new: familyName },
      { path: 'emails', new: [{ value: userName, type: 'work', primary: true }] },
    ],
    requests: [
      {
        method: 'POST',
        path: '/Users',
        body: {
          schemas: [USER_SCHEMA],
          userName,
          name: { givenName, familyName },
          emails: [{ value: userName, type: 'work', primary: true }],
          active: true,
        },
      },
    ],
  };
}

export function updateFamilyName(id: string, userName: string, from: string, to: string, line: number): Operation {
  return {
    kind: 'updateUser',
    key: `user:${userName.toLowerCase()}`,
    id,
    userName,
    provenance: at('identities/eng.yaml', line),
    changes: [{ path: 'name.familyName', old: from, new: to }],
    fingerprint: { kind: 'hash', value: 'c0ffee'.repeat(10) + 'c0ff' },
    requests: [
      {
        method: 'PATCH',
        path: `/Users/${id}`,
        body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.familyName', value: to }] },
      },
    ],
  };
}

/** The SPEC §4 example: Lightstep, read-only groups, one of each of +, ~ (twice), - and !. */
export function lightstepPlan(): TargetPlan {
  const operations: Operation[] = [
    createUser('new.hire@example.com', 'New', 'Hire', 41),
    updateFamilyName('8f2c61d0-3b1e-4c2a-9d7e-0a1b2c3d4e5f', 'jane@example.com', 'Doe', 'Smith', 12),
    {
      kind: 'updateUser',
      key: 'user:b@example.com',
      id: '77aa03c4-5d6e-4f70-8192-a3b4c5d6e7f8',
      userName: 'b@example.com',
      renamedFrom: 'a@example.com',
      externalId: 'E9',
      provenance: at('identities/ops.yaml', 7),
      changes: [{ path: 'userName', old: 'a@example.com', new: 'b@example.com' }],
      fingerprint: { kind: 'hash', value: 'ab'.repeat(32) },
      requests: [
        {
          method: 'PATCH',
          path: '/Users/77aa03c4-5d6e-4f70-8192-a3b4c5d6e7f8',
          body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'b@example.com' }] },
        },
      ],
    },
    {
      kind: 'deactivateUser',
      key: 'user:old@example.com',
      id: '19be44f2-0000-4000-8000-000000000019',
      userName: 'old@example.com',
      provenance: { kind: 'policy', rule: 'unmanagedUsers', value: 'deactivate' },
      changes: [{ path: 'active', old: true, new: false }],
      fingerprint: { kind: 'hash', value: '19'.repeat(32) },
      requests: [
        {
          method: 'PATCH',
          path: '/Users/19be44f2-0000-4000-8000-000000000019',
          body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] },
        },
      ],
    },
    {
      kind: 'manual',
      key: 'manual:1',
      subject: 'group Admins: add jane@example.com',
      reason: "this target's groups are read-only",
      provenance: at('identities/groups.yaml', 3, 15),
      requests: [],
    },
  ];
  return {
    target: { name: 'lightstep', url: 'https://api.lightstep.com/scim/v2', profile: 'lightstep' },
    capabilities: lightstepCapabilities,
    fetch: { users: 1204, groups: 12, pages: 13, requests: 14, durationMs: 2100 },
    plan: {
      operations,
      summary: summarize(operations),
      removals: { removals: 1, liveUsersInScope: 1204, limit: { kind: 'percent', value: 25, text: '25%' } },
      emptiedGroups: [],
    },
    violations: [],
  };
}

/**
 * A generic SCIM service with writable groups and deletion allowed: a reactivation, group create
 * and membership changes, deletes by policy (with the config location), and refused guards.
 */
export function genericPlan(): TargetPlan {
  const operations: Operation[] = [
    {
      kind: 'reactivateUser',
      key: 'user:back@example.com',
      id: '4411',
      userName: 'back@example.com',
      provenance: at('identities/eng.yaml', 30),
      changes: [{ path: 'active', old: false, new: true }],
      fingerprint: { kind: 'version', value: 'W/"3"' },
      requests: [
        {
          method: 'PATCH',
          path: '/Users/4411',
          ifMatch: 'W/"3"',
          body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] },
        },
      ],
    },
    {
      kind: 'createGroup',
      key: 'group:SRE On-call',
      displayName: 'SRE On-call',
      externalId: 'G-7',
      members: [{ userName: 'back@example.com', id: '4411' }, { userName: 'new.hire@example.com' }],
      provenance: at('identities/groups.yaml', 20),
      requests: [
        {
          method: 'POST',
          path: '/Groups',
          body: {
            schemas: [GROUP_SCHEMA],
            displayName: 'SRE On-call',
            externalId: 'G-7',
            members: [{ value: '4411' }, { value: 'new.hire@example.com' }],
          },
          refs: [{ pointer: '/members/1/value', operation: 'user:new.hire@example.com' }],
        },
      ],
    },
    {
      kind: 'updateGroupMembers',
      key: 'group:Platform',
      id: 'a1b2c3d4e5f6',
      displayName: 'Platform',
      changes: [{ path: 'displayName', old: 'Platform Team', new: 'Platform' }],
      add: [{ userName: 'back@example.com', id: '4411' }],
      remove: [{ userName: 'gone@example.com', id: '5512' }],
      provenance: at('identities/groups.yaml', 4),
      fingerprint: { kind: 'version', value: 'W/"12"' },
      requests: [
        {
          method: 'PATCH',
          path: '/Groups/a1b2c3d4e5f6',
          ifMatch: 'W/"12"',
          body: {
            schemas: [PATCH_OP],
            Operations: [
              { op: 'replace', path: 'displayName', value: 'Platform' },
              { op: 'add', path: 'members', value: [{ value: '4411' }] },
              { op: 'remove', path: 'members[value eq "5512"]' },
            ],
          },
        },
      ],
    },
    {
      kind: 'deleteUser',
      key: 'user:gone@example.com',
      id: '5512',
      userName: 'gone@example.com',
      provenance: { kind: 'policy', rule: 'unmanagedUsers', value: 'delete', location: { file: 'scimform.yaml', line: 14, column: 19 } },
      fingerprint: { kind: 'version', value: 'W/"8"' },
      requests: [{ method: 'DELETE', path: '/Users/5512', ifMatch: 'W/"8"' }],
    },
    {
      kind: 'deleteGroup',
      key: 'group:Legacy',
      id: 'ffee0011aa',
      displayName: 'Legacy',
      provenance: { kind: 'policy', rule: 'unmanagedGroups', value: 'delete', location: { file: 'scimform.yaml', line: 15, column: 20 } },
      fingerprint: { kind: 'version', value: 'W/"1"' },
      requests: [{ method: 'DELETE', path: '/Groups/ffee0011aa', ifMatch: 'W/"1"' }],
    },
  ];
  return {
    target: { name: 'okta-staging', url: 'http://127.0.0.1:8080/scim/v2', profile: 'generic' },
    capabilities: genericCapabilities,
    fetch: { users: 12, groups: 3, pages: 1, requests: 3, durationMs: 140 },
    plan: {
      operations,
      summary: summarize(operations),
      removals: { removals: 2, liveUsersInScope: 12, limit: { kind: 'count', value: 1, text: '1' } },
      emptiedGroups: [],
      notes: ['user breakglass@example.com is protected: left alone'],
    },
    violations: [
      {
        guard: 'maxRemovals',
        message: 'okta-staging: 2 removals exceed maxRemovals 1 (of 12 live users in scope); pass --allow-mass-removal if this is intended.',
        overridable: true,
      },
    ],
  };
}

/** A target that already matches the files. */
export function emptyPlan(): TargetPlan {
  return {
    target: { name: 'staging', url: 'http://127.0.0.1:9000/scim/v2', profile: 'generic' },
    capabilities: genericCapabilities,
    fetch: { users: 1, groups: 0, pages: 1, requests: 2, durationMs: 35 },
    plan: {
      operations: [],
      summary: { create: 0, update: 0, deactivate: 0, delete: 0, manual: 0 },
      removals: { removals: 0, liveUsersInScope: 1, limit: { kind: 'percent', value: 25, text: '25%' } },
      emptiedGroups: [],
    },
    violations: [],
  };
}

/** `count` operations alternating creates and updates, for size and speed tests. */
export function largePlan(name: string, count: number): TargetPlan {
  const operations: Operation[] = [];
  for (let index = 0; index < count; index += 1) {
    const userName = `user${String(index).padStart(5, '0')}@example.com`;
    operations.push(
      index % 2 === 0
        ? createUser(userName, 'Given', `Family${index}`, index + 1)
        : updateFamilyName(`id-${index}-0000-0000`, userName, `Old${index}`, `New${index}`, index + 1),
    );
  }
  return {
    target: { name, url: `https://${name}.example.com/scim/v2`, profile: 'generic' },
    capabilities: genericCapabilities,
    fetch: { users: count * 2, groups: 0, pages: Math.ceil((count * 2) / 100), requests: Math.ceil((count * 2) / 100), durationMs: 12_345 },
    plan: {
      operations,
      summary: summarize(operations),
      removals: { removals: 0, liveUsersInScope: count * 2, limit: { kind: 'percent', value: 25, text: '25%' } },
      emptiedGroups: [],
    },
    violations: [],
  };
}
