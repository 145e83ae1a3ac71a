/** Small builders of plain inputs for planning tests: every field defaults to something dull. */
import type { Capabilities, DesiredGroup, DesiredState, DesiredUser, LiveGroup, LiveUser, Policy } from '../../src/model.js';
import { profileDefaults } from '../../src/scim/capabilities.js';

export function at(line: number, file = 'identities/people.yaml'): { file: string; line: number; column: number } {
  return { file, line, column: 5 };
}

export function user(userName: string, fields: Partial<Omit<DesiredUser, 'userName'>> = {}): DesiredUser {
  return { userName, source: at(1), ...fields };
}

export function group(displayName: string, members: string[] = [], fields: Partial<Omit<DesiredGroup, 'displayName' | 'members'>> = {}): DesiredGroup {
  return { displayName, members, memberSources: members.map((_, index) => at(20 + index, 'identities/groups.yaml')), source: at(19, 'identities/groups.yaml'), ...fields };
}

export function desired(users: DesiredUser[], groups: DesiredGroup[] = []): DesiredState {
  return { users, groups, files: [] };
}

/** A live user as the client would read it: `resource` is the SCIM JSON it came from. */
/** A live value with the resource the client keeps on a target without PATCH. */
export type WithResource<T> = T & { resource: Record<string, unknown> };

export function liveUser(id: string, userName: string, fields: Partial<Omit<LiveUser, 'id' | 'userName' | 'resource'>> = {}): WithResource<LiveUser> {
  const { version, ...attributes } = { active: true, ...fields };
  const resource: Record<string, unknown> = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    id,
    userName,
    ...attributes,
    meta: { resourceType: 'User', ...(version ? { version } : {}) },
  };
  return { id, userName, ...attributes, ...(version ? { version } : {}), resource };
}

export function liveGroup(
  id: string,
  displayName: string,
  members: string[] = [],
  fields: Partial<Pick<LiveGroup, 'externalId' | 'version'>> = {},
): WithResource<LiveGroup> {
  const resource: Record<string, unknown> = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    id,
    displayName,
    ...(fields.externalId === undefined ? {} : { externalId: fields.externalId }),
    members: members.map((value) => ({ value })),
    meta: { resourceType: 'Group', ...(fields.version ? { version: fields.version } : {}) },
  };
  return { id, displayName, members, ...fields, resource };
}

export function policy(fields: Partial<Policy> = {}): Policy {
  return {
    unmanagedUsers: 'ignore',
    unmanagedGroups: 'ignore',
    allowDelete: false,
    maxRemovals: { kind: 'percent', value: 25, text: '25%' },
    protectedUsers: [],
    sources: {
      unmanagedUsers: { file: 'scimform.yaml', line: 12, column: 3 },
      unmanagedGroups: { file: 'scimform.yaml', line: 13, column: 3 },
      allowDelete: { file: 'scimform.yaml', line: 14, column: 3 },
      maxRemovals: { file: 'scimform.yaml', line: 15, column: 3 },
    },
    ...fields,
  };
}

/** A generic RFC 7644 target: PATCH, writable groups, member removal by path filter. */
export function generic(fields: Partial<Capabilities> = {}): Capabilities {
  return { ...profileDefaults('generic'), ...fields };
}

/** The lightstep profile: groups read-only. */
export function lightstep(fields: Partial<Capabilities> = {}): Capabilities {
  return { ...profileDefaults('lightstep'), ...fields };
}
