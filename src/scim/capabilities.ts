/** What each profile assumes a target can do, and how discovery and the config refine it (SPEC §4, §5a). */
import type { Capabilities, ProfileName, TargetConfig } from '../model.js';
import type { DiscoveredCapabilities } from './parse.js';

const DEFAULT_MAX_MEMBERS_PER_PATCH = 100;

/** RFC 7644 as most servers implement it: PATCH and filters, no ETags or bulk, index pagination. */
const RFC_DEFAULTS: Capabilities = {
  patch: true,
  filter: true,
  etag: false,
  bulk: false,
  groupsWritable: true,
  usersDeletable: true,
  pagination: 'index',
  memberRemoval: 'path-filter',
  updateMethod: 'patch',
  maxMembersPerPatch: DEFAULT_MAX_MEMBERS_PER_PATCH,
};

export function profileDefaults(profile: ProfileName): Capabilities {
  switch (profile) {
    case 'lightstep':
      // Lightstep documents user CRUD, read-only groups and cursor pagination; no ETags.
      return { ...RFC_DEFAULTS, groupsWritable: false, pagination: 'cursor' };
    case 'generic':
      // What a server that publishes no /ServiceProviderConfig most likely does.
      return { ...RFC_DEFAULTS };
  }
}

/** Profile defaults ← discovery ← the target's explicit overrides. */
export function mergeCapabilities(target: Pick<TargetConfig, 'profile' | 'pagination' | 'memberRemoval' | 'updateMethod'>, discovered: DiscoveredCapabilities | undefined): Capabilities {
  const capabilities = profileDefaults(target.profile);
  if (discovered) {
    for (const key of ['patch', 'filter', 'etag', 'bulk'] as const) {
      const value = discovered[key];
      if (value !== undefined) capabilities[key] = value;
    }
    if (discovered.maxResults !== undefined) capabilities.maxResults = discovered.maxResults;
    if (discovered.patch === false) capabilities.updateMethod = 'put';
    // RFC 9865 §4: a server says which pagination it supports; prefer the profile's own when both are.
    if (discovered.cursor === true && discovered.index === false) capabilities.pagination = 'cursor';
    else if (discovered.index === true && discovered.cursor === false) capabilities.pagination = 'index';
    else if (discovered.cursor === true && discovered.index === true && discovered.defaultPagination && target.profile === 'generic') {
      capabilities.pagination = discovered.defaultPagination;
    }
  }
  if (target.pagination) capabilities.pagination = target.pagination;
  if (target.memberRemoval) capabilities.memberRemoval = target.memberRemoval;
  if (target.updateMethod) capabilities.updateMethod = target.updateMethod;
  return capabilities;
}
