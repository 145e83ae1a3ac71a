/** readState: what import and ids read, with a fake reader. */
import { describe, expect, test } from 'vitest';
import { readState } from '../../src/import/live.js';
import { ScimHttpError } from '../../src/scim/errors.js';
import type { LiveGroup, LiveUser } from '../../src/model.js';
import type { ScimReader } from '../../src/scim/types.js';

const users: LiveUser[] = [{ id: '1', userName: 'a@x.example', active: true, resource: {} }];
const groups: LiveGroup[] = [{ id: 'g', displayName: 'G', members: ['1'], resource: {} }];

function reader(listGroups: () => Promise<LiveGroup[]>): ScimReader & { groupReads: number } {
  const fake = {
    groupReads: 0,
    capabilities: () => Promise.reject(new Error('not needed')),
    listUsers: () => Promise.resolve(users),
    listGroups: () => {
      fake.groupReads += 1;
      return listGroups();
    },
    getUser: () => Promise.resolve(undefined),
    getGroup: () => Promise.resolve(undefined),
    findUserByUserName: () => Promise.resolve(undefined),
    findUserByExternalId: () => Promise.resolve(undefined),
    stats: () => ({ requests: {}, pages: 0, retries: 0 }),
  };
  return fake;
}

const httpError = (status: number) => new ScimHttpError(`GET /Groups: ${status}`, { status, method: 'GET', path: '/Groups' });

describe('readState', () => {
  test('users only when groups are not asked for: /Groups is not read', async () => {
    const fake = reader(() => Promise.resolve(groups));
    const state = await readState(fake, { includeGroups: false });
    expect(state.live).toEqual({ users, groups: [] });
    expect(fake.groupReads).toBe(0);
  });

  test('users and groups when asked for', async () => {
    const state = await readState(reader(() => Promise.resolve(groups)), { includeGroups: true });
    expect(state).toMatchObject({ live: { users, groups }, groupsUnavailable: false, fetch: { users: 1, groups: 1 } });
  });

  test.each([404, 405, 501])('a server that answers %i for /Groups has no groups: users only, and it says so', async (status) => {
    const state = await readState(reader(() => Promise.reject(httpError(status))), { includeGroups: true });
    expect(state).toMatchObject({ live: { users, groups: [] }, groupsUnavailable: true });
  });

  test.each([403, 500])('any other failure (%i) to read /Groups is an error, not an empty list', async (status) => {
    await expect(readState(reader(() => Promise.reject(httpError(status))), { includeGroups: true })).rejects.toThrow(`GET /Groups: ${status}`);
  });
});
