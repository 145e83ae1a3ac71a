/**
 * The emulator's quirks do what the fault matrix relies on them to do: raw HTTP over loopback,
 * no scimform client in between.
 */
import { afterEach, expect, test } from 'vitest';
import { startEmulator, type EmulatorQuirks, type RunningEmulator } from '../../src/emulator/index.js';

const open: RunningEmulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((emu) => emu.close()));
});

async function emulator(quirks: EmulatorQuirks, pagination: 'index' | 'cursor' = 'index'): Promise<RunningEmulator> {
  const users = Array.from({ length: 20 }, (_, i) => ({ id: `u${i}`, userName: `user${String(i).padStart(2, '0')}@example.com` }));
  const emu = await startEmulator({ quirks, pagination, initial: { users } });
  open.push(emu);
  return emu;
}

async function get(emu: RunningEmulator, query: string): Promise<{ status: number; body: { totalResults?: number; Resources?: { id: string; userName: string }[]; nextCursor?: string } }> {
  const response = await fetch(`${emu.url}/Users?${query}`);
  return { status: response.status, body: (await response.json()) as never };
}

const ids = (body: { Resources?: { id: string }[] }) => (body.Resources ?? []).map((resource) => resource.id);

test.each([
  ['count=3', ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']],
  ['count=50', ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']],
])('fixedPageSize: %s still gets 7', async (query, expected) => {
  const emu = await emulator({ fixedPageSize: 7 });
  expect(ids((await get(emu, query)).body)).toEqual(expected);
});

test('overlap: a later index page starts before the one asked for, and echoes the startIndex asked', async () => {
  const emu = await emulator({ overlap: 2 });
  const { body } = await get(emu, 'startIndex=6&count=3');
  expect(ids(body)).toEqual(['u3', 'u4', 'u5']);
  expect((body as { startIndex?: number }).startIndex).toBe(6);
  expect(ids((await get(emu, 'startIndex=1&count=3')).body)).toEqual(['u0', 'u1', 'u2']);
});

test('ignoreFilters: a filtered list is the unfiltered list', async () => {
  const emu = await emulator({ ignoreFilters: true });
  const { body } = await get(emu, `filter=${encodeURIComponent('userName eq "user05@example.com"')}&count=4`);
  expect(body.totalResults).toBe(20);
  expect(ids(body)).toEqual(['u0', 'u1', 'u2', 'u3']);
});

test('dropDomains: the create is answered 201 and the user is not kept', async () => {
  const emu = await emulator({ dropDomains: ['refused.test'] });
  const response = await fetch(`${emu.url}/Users`, {
    method: 'POST',
    headers: { 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'new@Refused.test' }),
  });
  expect(response.status).toBe(201);
  expect(((await response.json()) as { userName: string }).userName).toBe('new@Refused.test');
  expect(emu.users().map((user) => user.userName)).not.toContain('new@Refused.test');
});

test.each(['index', 'cursor'] as const)('removeWhileListing (%s): each later page of an unfiltered listing deletes one matching user first', async (pagination) => {
  const emu = await emulator({ removeWhileListing: '@example.com' }, pagination);
  const first = await get(emu, 'count=5');
  expect(emu.users()).toHaveLength(20);
  const next = pagination === 'index' ? 'startIndex=6&count=5' : `cursor=${encodeURIComponent(first.body.nextCursor!)}&count=5`;
  const second = await get(emu, next);
  expect(emu.users()).toHaveLength(19);
  expect(second.body.totalResults).toBe(19);
  // Index positions shift (u5 is skipped); cursors name a position, so nothing is skipped.
  expect(ids(second.body)).toEqual(pagination === 'index' ? ['u6', 'u7', 'u8', 'u9', 'u10'] : ['u5', 'u6', 'u7', 'u8', 'u9']);
  // A filtered lookup is not a listing: nothing is deleted.
  await get(emu, `filter=${encodeURIComponent('userName eq "user10@example.com"')}`);
  expect(emu.users()).toHaveLength(19);
});
