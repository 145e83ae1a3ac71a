/** Index pagination (RFC 7644 §3.4.2.4) and cursor pagination (RFC 9865), over HTTP. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { client, isScimError, user } from './http.js';

const TOTAL = 23;
const seed = Array.from({ length: TOTAL }, (_, i) => user(`user${String(i).padStart(2, '0')}@example.com`, { title: i % 3 === 0 ? 'three' : 'other' }));
const allNames = seed.map((u) => u.userName);

describe('index pagination', () => {
  let emulator: RunningEmulator;
  let scim: ReturnType<typeof client>;
  beforeAll(async () => {
    emulator = await startEmulator({ profile: 'generic', maxPageSize: 10, initial: { users: seed } });
    scim = client(emulator.url);
  });
  afterAll(() => emulator.close());

  async function readAll(count: number, filter?: string): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let pages = 0;
    for (let startIndex = 1; ; ) {
      const page = await scim.list('Users', { startIndex, count, ...(filter ? { filter } : {}) });
      expect(page.status).toBe(200);
      pages++;
      expect(page.body.startIndex).toBe(startIndex);
      expect(page.body.itemsPerPage).toBe(page.body.Resources.length);
      expect(page.body.nextCursor).toBeUndefined();
      names.push(...page.body.Resources.map((u: { userName: string }) => u.userName));
      startIndex += page.body.Resources.length;
      if (page.body.Resources.length === 0 || startIndex > page.body.totalResults) break;
    }
    return { names, pages };
  }

  test.each([
    [1, 23],
    [4, 6],
    [7, 4],
    [10, 3],
    [50, 3], // capped at maxPageSize 10
  ])('count=%i reads every user once in %i pages', async (count, pages) => {
    const result = await readAll(count);
    expect(result.names).toEqual(allNames);
    expect(result.pages).toBe(pages);
  });

  test('a filtered listing pages over the matches only', async () => {
    const result = await readAll(3, 'title eq "three"');
    expect(result.names).toEqual(allNames.filter((_, i) => i % 3 === 0));
  });

  test.each([
    ['startIndex below 1 is taken as 1', { startIndex: -5, count: 2 }, { startIndex: 1, itemsPerPage: 2, totalResults: TOTAL }],
    ['startIndex past the end gives an empty page', { startIndex: 100, count: 5 }, { startIndex: 100, itemsPerPage: 0, totalResults: TOTAL, Resources: [] }],
    ['the default count is the page size cap', {}, { startIndex: 1, itemsPerPage: 10 }],
    ['a negative count is taken as 0', { count: -1 }, { totalResults: TOTAL, itemsPerPage: 0 }],
  ])('%s', async (_name, params, expected) => {
    const page = await scim.list('Users', params);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject(expected);
  });

  test('count=0 returns totalResults and an empty Resources, which RFC 7644 §3.4.2 requires when totalResults is not 0', async () => {
    const page = await scim.list('Users', { count: 0 });
    expect(page.body).toMatchObject({ totalResults: TOTAL, itemsPerPage: 0, Resources: [] });
  });

  test.each([['count', 'ten'], ['startIndex', '1.5']])('a %s that is not an integer is 400 invalidValue', async (name, value) => {
    expect(isScimError(await scim.list('Users', { [name]: value }), 400, 'invalidValue')).toBe(true);
  });

  test('a deletion between pages shifts later users one place earlier, as index pagination does', async () => {
    const first = await scim.list('Users', { startIndex: 1, count: 5 });
    const victim = first.body.Resources[0].id;
    await scim.delete(`/Users/${victim}`);
    const second = await scim.list('Users', { startIndex: 6, count: 5 });
    expect(second.body.Resources[0].userName).toBe(allNames[6]);
    expect(second.body.totalResults).toBe(TOTAL - 1);
  });

  test('ServiceProviderConfig advertises index pagination and the page size cap', async () => {
    const config = (await scim.get('/ServiceProviderConfig')).body;
    expect(config.pagination).toMatchObject({ index: true, cursor: false, defaultPaginationMethod: 'index', maxPageSize: 10 });
    expect(config.filter).toEqual({ supported: true, maxResults: 10 });
  });
});

describe('cursor pagination (RFC 9865)', () => {
  let emulator: RunningEmulator;
  let scim: ReturnType<typeof client>;
  beforeAll(async () => {
    emulator = await startEmulator({ profile: 'lightstep', maxPageSize: 10, initial: { users: seed } });
    scim = client(emulator.url);
  });
  afterAll(() => emulator.close());

  async function readAll(count: number, filter?: string): Promise<{ names: string[]; pages: number }> {
    const names: string[] = [];
    let pages = 0;
    let cursor = '';
    for (;;) {
      const page = await scim.list('Users', { cursor, count, ...(filter ? { filter } : {}) });
      expect(page.status).toBe(200);
      pages++;
      expect(page.body.startIndex).toBeUndefined();
      names.push(...page.body.Resources.map((u: { userName: string }) => u.userName));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    return { names, pages };
  }

  test.each([
    [1, 23],
    [4, 6],
    [7, 4],
    [23, 3], // capped at maxPageSize 10
  ])('count=%i reads every user once in %i pages', async (count, pages) => {
    const result = await readAll(count);
    expect(result.names).toEqual(allNames);
    expect(result.pages).toBe(pages);
  });

  test('a filtered listing follows cursors over the matches only', async () => {
    expect((await readAll(2, 'title eq "three"')).names).toEqual(allNames.filter((_, i) => i % 3 === 0));
  });

  test('count=0 returns totalResults and an empty Resources', async () => {
    const page = await scim.list('Users', { cursor: '', count: 0 });
    expect(page.body).toMatchObject({ totalResults: TOTAL, itemsPerPage: 0, Resources: [] });
  });

  test('a request without cursor gets the first page and a nextCursor', async () => {
    const page = await scim.list('Users', { count: 5 });
    expect(page.body.Resources).toHaveLength(5);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect(page.body.previousCursor).toBeUndefined();
  });

  test('previousCursor leads back to the page before', async () => {
    const first = await scim.list('Users', { cursor: '', count: 4 });
    const second = await scim.list('Users', { cursor: first.body.nextCursor, count: 4 });
    const third = await scim.list('Users', { cursor: second.body.nextCursor, count: 4 });
    const back = await scim.list('Users', { cursor: third.body.previousCursor, count: 4 });
    expect(back.body.Resources).toEqual(second.body.Resources);
  });

  test('a cursor stays valid when users before it, and the user it points at, are deleted', async () => {
    const own = await startEmulator({ profile: 'lightstep', initial: { users: seed } });
    try {
      const api = client(own.url);
      const first = await api.list('Users', { cursor: '', count: 5 });
      for (const resource of first.body.Resources) expect((await api.delete(`/Users/${resource.id}`)).status).toBe(204);
      const second = await api.list('Users', { cursor: first.body.nextCursor, count: 5 });
      expect(second.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(allNames.slice(5, 10));
    } finally {
      await own.close();
    }
  });

  test.each([
    ['garbage', { cursor: 'not-a-cursor' }],
    ['a cursor from another filter', { cursor: 'FROM_OTHER_FILTER', filter: 'title eq "three"' }],
    ['a position beyond anything issued', { cursor: Buffer.from('999999.0').toString('base64url') }],
  ])('%s is 400 invalidCursor', async (_name, params) => {
    const issued = (await scim.list('Users', { cursor: '', count: 2 })).body.nextCursor as string;
    const query = { ...params, cursor: params.cursor === 'FROM_OTHER_FILTER' ? issued : params.cursor };
    expect(isScimError(await scim.list('Users', query), 400, 'invalidCursor')).toBe(true);
  });

  test.each([
    ['startIndex beyond the first page', { startIndex: 11 }],
    ['startIndex together with a cursor', { startIndex: 1, cursor: '' }],
  ])('%s is 400 invalidValue: this service pages by cursor only', async (_name, params) => {
    expect(isScimError(await scim.list('Users', params), 400, 'invalidValue')).toBe(true);
  });

  test('startIndex=1 alone is answered with the first cursor page', async () => {
    const page = await scim.list('Users', { startIndex: 1, count: 3 });
    expect(page.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(allNames.slice(0, 3));
    expect(page.body.nextCursor).toEqual(expect.any(String));
  });

  test('ServiceProviderConfig advertises cursor pagination', async () => {
    expect((await scim.get('/ServiceProviderConfig')).body.pagination).toMatchObject({ cursor: true, index: false, defaultPaginationMethod: 'cursor', maxPageSize: 10 });
  });
});
