/** `dataFile`: state survives a restart, and the file is replaced atomically. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { client, GROUP, user } from './http.js';

const folder = () => mkdtempSync(join(tmpdir(), 'scimform-emulator-data-'));

describe('persistence', () => {
  test('users, groups, ids, versions and membership survive a restart', async () => {
    const dataFile = join(folder(), 'scim.json');
    const first = await startEmulator({ dataFile });
    const scim = client(first.url);
    const ann = (await scim.post('/Users', user('ann@example.com', { externalId: 'E-1' }))).body;
    const gone = (await scim.post('/Users', user('gone@example.com'))).body;
    const team = (await scim.post('/Groups', { schemas: [GROUP], displayName: 'Team', members: [{ value: ann.id }, { value: gone.id }] })).body;
    await scim.delete(`/Users/${gone.id}`);
    const patched = (await scim.patch(`/Users/${ann.id}`, [{ op: 'replace', path: 'active', value: false }])).body;
    const before = { users: first.users(), groups: first.groups() };
    await first.close();

    const second = await startEmulator({ dataFile });
    try {
      const after = { users: second.users(), groups: second.groups() };
      // Only the port in absolute URLs may differ.
      const portless = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/127\.0\.0\.1:\d+/g, 'HOST'));
      expect(portless(after)).toEqual(portless(before));
      const again = client(second.url);
      expect((await again.get(`/Users/${ann.id}`)).headers.get('etag')).toBe(patched.meta.version);
      expect((await again.get(`/Users/${ann.id}`)).body.groups).toEqual([expect.objectContaining({ value: team.id })]);
      expect((await again.get(`/Users/${gone.id}`)).status).toBe(404);
      // New writes continue the version sequence instead of reusing a version.
      const next = await again.patch(`/Users/${ann.id}`, [{ op: 'replace', path: 'active', value: true }]);
      expect(next.headers.get('etag')).not.toBe(patched.meta.version);
      expect([...readdirSync(join(dataFile, '..'))]).toEqual(['scim.json']);
    } finally {
      await second.close();
    }
  });

  test('a missing data file is created at start', async () => {
    const dataFile = join(folder(), 'new.json');
    const emulator = await startEmulator({ dataFile });
    await emulator.close();
    expect(JSON.parse(readFileSync(dataFile, 'utf8'))).toMatchObject({ users: [], groups: [] });
  });

  test.each([
    ['a duplicate userName', { users: [{ userName: 'a@example.com' }, { userName: 'A@example.com' }] }, /initial users and groups cannot be loaded: a user with userName "A@example.com" already exists/],
    ['a member that is not a user', { users: [], groups: [{ displayName: 'G', members: [{ value: 'nobody' }] }] }, /member nobody is not a known user or group/],
  ])('initial data with %s is refused with a clear error', async (_name, initial, message) => {
    await expect(startEmulator({ initial })).rejects.toThrow(message);
  });

  test('a data file that is not JSON is refused with a message that names it', async () => {
    const dataFile = join(folder(), 'broken.json');
    writeFileSync(dataFile, '{ not json');
    await expect(startEmulator({ dataFile })).rejects.toThrow(/broken\.json is not valid JSON/);
    expect(existsSync(dataFile)).toBe(true);
  });
});
