import { describe, expect, test } from 'vitest';
import { mergeCapabilities, profileDefaults } from '../../src/scim/index.js';

describe('profileDefaults', () => {
  test('lightstep: users CRUD, read-only groups, cursor pagination, no ETags', () => {
    expect(profileDefaults('lightstep')).toEqual({
      patch: true,
      filter: true,
      etag: false,
      bulk: false,
      groupsWritable: false,
      usersDeletable: true,
      pagination: 'cursor',
      memberRemoval: 'path-filter',
      updateMethod: 'patch',
      maxMembersPerPatch: 100,
    });
  });

  test('generic: writable groups and index pagination', () => {
    expect(profileDefaults('generic')).toMatchObject({ groupsWritable: true, pagination: 'index', patch: true, filter: true });
  });
});

describe('mergeCapabilities: profile ← discovery ← configuration', () => {
  test.each([
    ['no discovery keeps the profile', { profile: 'generic' as const }, undefined, {}],
    ['discovery turns ETags on', { profile: 'generic' as const }, { etag: true }, { etag: true }],
    ['no PATCH means updates by PUT', { profile: 'generic' as const }, { patch: false }, { patch: false, updateMethod: 'put' }],
    ['maxResults is kept', { profile: 'generic' as const }, { maxResults: 50 }, { maxResults: 50 }],
    ['a cursor-only server', { profile: 'generic' as const }, { cursor: true, index: false }, { pagination: 'cursor' }],
    ['an index-only server', { profile: 'lightstep' as const }, { cursor: false, index: true }, { pagination: 'index' }],
    ['a generic server that prefers cursors', { profile: 'generic' as const }, { cursor: true, index: true, defaultPagination: 'cursor' as const }, { pagination: 'cursor' }],
    ['configuration wins over discovery', { profile: 'generic' as const, pagination: 'index' as const, updateMethod: 'patch' as const, memberRemoval: 'value-list' as const }, { patch: false, cursor: true, index: false }, { pagination: 'index', updateMethod: 'patch', memberRemoval: 'value-list', patch: false }],
    ['lightstep groups stay read-only whatever discovery says', { profile: 'lightstep' as const }, { patch: true, bulk: true }, { groupsWritable: false, bulk: true }],
  ])('%s', (_case, target, discovered, expected) => {
    expect(mergeCapabilities(target, discovered)).toEqual({ ...profileDefaults(target.profile), ...expected });
  });
});
