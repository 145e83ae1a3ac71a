/** 100,000 users and 1,000 groups in memory: a userName lookup is O(1) and a page is O(page). */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { client } from './http.js';

const USERS = 100_000;
const GROUPS = 1_000;
let emulator: RunningEmulator;
let scim: ReturnType<typeof client>;
let seeded = 0;

beforeAll(async () => {
  const started = performance.now();
  const users = Array.from({ length: USERS }, (_, i) => ({ id: `u${i}`, userName: `user${i}@example.com`, externalId: `E${i}`, emails: [{ value: `user${i}@example.com`, primary: true }] }));
  const groups = Array.from({ length: GROUPS }, (_, g) => ({ displayName: `group ${g}`, members: Array.from({ length: 20 }, (_, m) => ({ value: `u${(g * 97 + m * 4_999) % USERS}` })) }));
  emulator = await startEmulator({ profile: 'generic', initial: { users, groups } });
  seeded = performance.now() - started;
  scim = client(emulator.url);
}, 60_000);
afterAll(() => emulator.close());

/** Runs a request and returns its response with the store work it caused. */
async function measured(path: string) {
  const before = emulator.stats();
  const started = performance.now();
  const response = await scim.get(path);
  const after = emulator.stats();
  return { response, examined: after.examined - before.examined, scans: after.scans - before.scans, ms: performance.now() - started };
}

describe('at 100,000 users', () => {
  test('seeding takes seconds, not minutes', () => {
    expect(seeded).toBeLessThan(30_000);
  });

  test.each([
    ['userName eq', 'userName eq "USER77777@example.com"', 'user77777@example.com'],
    ['externalId eq', 'externalId eq "E99999"', 'user99999@example.com'],
    ['userName eq and active eq', 'userName eq "user5@example.com" and active eq true', 'user5@example.com'],
  ])('a %s filter looks at one user, through the index', async (_name, filter, userName) => {
    const { response, examined, scans, ms } = await measured(`/Users?filter=${encodeURIComponent(filter)}`);
    expect(response.body.Resources.map((u: { userName: string }) => u.userName)).toEqual([userName]);
    expect(examined).toBe(1);
    expect(scans).toBe(0);
    expect(ms).toBeLessThan(1_000);
  });

  test('an index page deep in the list renders only that page', async () => {
    const { response, examined, scans } = await measured('/Users?startIndex=90001&count=100');
    expect(response.body.totalResults).toBe(USERS);
    expect(response.body.Resources[0].userName).toBe('user90000@example.com');
    expect(response.body.Resources).toHaveLength(100);
    expect(examined).toBe(100);
    expect(scans).toBe(0);
  });

  test('a filter no index can answer scans once, and says so', async () => {
    const { response, scans } = await measured(`/Users?filter=${encodeURIComponent('userName co "99999"')}`);
    expect(response.body.totalResults).toBe(1);
    expect(scans).toBe(1);
  });

  test("a user's groups come from the membership index", async () => {
    const group = (await scim.get(`/Groups?filter=${encodeURIComponent('displayName eq "group 3"')}`)).body.Resources[0];
    expect(group.members).toHaveLength(20);
    const member = (await scim.get(`/Users/${group.members[0].value}`)).body;
    expect(member.groups.map((g: { value: string }) => g.value)).toContain(group.id);
  });
});

describe('cursor pages at 100,000 users', () => {
  test('a cursor page deep in the list renders only that page', async () => {
    const users = Array.from({ length: USERS }, (_, i) => ({ userName: `c${i}@example.com`, emails: [{ value: `c${i}@example.com` }] }));
    const cursorEmulator = await startEmulator({ profile: 'lightstep', initial: { users } });
    try {
      const api = client(cursorEmulator.url);
      let page = (await api.get('/Users?cursor=&count=1000')).body;
      for (let i = 0; i < 60; i++) page = (await api.get(`/Users?cursor=${page.nextCursor}&count=1000`)).body;
      const before = cursorEmulator.stats().examined;
      const next = (await api.get(`/Users?cursor=${page.nextCursor}&count=100`)).body;
      expect(next.Resources[0].userName).toBe('c61000@example.com');
      expect(cursorEmulator.stats().examined - before).toBe(100);
    } finally {
      await cursorEmulator.close();
    }
  }, 60_000);
});
