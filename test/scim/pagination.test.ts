import { describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import type { ListPage } from '../../src/scim/parse.js';
import { listAll, type PageRequest } from '../../src/scim/pagination.js';
import type { ListProgress } from '../../src/scim/types.js';

/** How a fake server pages through `size` users; each flag is a behaviour seen in the wild. */
interface Behaviour {
  size: number;
  /** The server never returns more than this many per page. */
  cap?: number;
  ignoresCount?: boolean;
  omitsTotal?: boolean;
  totalCappedAtCount?: boolean;
  /** Each page also repeats the last item of the page before (overlap). */
  overlaps?: boolean;
  /** Answers with RFC 9865 cursors (and ignores startIndex). */
  cursors?: boolean;
  /** Answers index pages even when asked with a cursor. */
  ignoresCursor?: boolean;
  /** Claims this many in totalResults, whatever it holds. */
  promises?: number;
}

function fakeServer(behaviour: Behaviour) {
  const items = Array.from({ length: behaviour.size }, (_, i) => ({ id: `u${i + 1}`, userName: `user${i + 1}@example.com` }));
  const requests: PageRequest[] = [];
  const fetchPage = async (request: PageRequest): Promise<ListPage> => {
    requests.push(request);
    let size = behaviour.ignoresCount ? items.length : request.count;
    if (behaviour.cap !== undefined) size = Math.min(size, behaviour.cap);
    if (behaviour.cursors && !(request.style === 'index' && behaviour.ignoresCursor)) {
      const offset = request.style === 'cursor' && request.cursor !== '' ? Number(request.cursor) : 0;
      const resources = items.slice(offset, offset + size);
      const next = offset + size;
      return { resources, ...(next < items.length ? { nextCursor: String(next) } : {}) };
    }
    const startIndex = request.style === 'index' ? request.startIndex : 1;
    const from = Math.max(0, startIndex - 1 - (behaviour.overlaps && startIndex > 1 ? 1 : 0));
    const resources = items.slice(from, startIndex - 1 + size);
    const page: ListPage = { resources, startIndex, itemsPerPage: resources.length };
    if (behaviour.promises !== undefined) page.totalResults = behaviour.promises;
    else if (behaviour.totalCappedAtCount) page.totalResults = Math.min(items.length, request.count);
    else if (!behaviour.omitsTotal) page.totalResults = items.length;
    return page;
  };
  return { items, requests, fetchPage };
}

const list = (server: ReturnType<typeof fakeServer>, style: 'index' | 'cursor', pageSize: number, forced = false, onProgress?: (p: ListProgress) => void) =>
  listAll({ resource: 'Users', style, forced, pageSize, concurrency: 3, fetchPage: server.fetchPage, onProgress });

describe('index pagination (RFC 7644 §3.4.2.4)', () => {
  test.each([
    // case, behaviour, pageSize, expected number of page requests
    ['exact multiple of the page size', { size: 300 }, 100, 3],
    ['an odd last page', { size: 257 }, 100, 3],
    ['one page', { size: 42 }, 100, 1],
    ['an empty collection', { size: 0 }, 100, 1],
    ['a page size of one', { size: 5 }, 1, 5],
    ['a server that caps count', { size: 257, cap: 50 }, 100, 6],
    ['a server that ignores count', { size: 257, ignoresCount: true }, 100, 1],
    ['overlapping pages', { size: 250, overlaps: true }, 100, 3],
    // Without totalResults the end is the first empty or short page.
    ['no totalResults, odd size', { size: 257, omitsTotal: true }, 100, 3],
    ['no totalResults, exact multiple', { size: 200, omitsTotal: true }, 100, 3],
    ['no totalResults and a count cap', { size: 120, omitsTotal: true, cap: 50 }, 100, 3],
    // totalResults capped at count cannot be trusted: read until a short page.
    ['totalResults capped at count', { size: 257, totalCappedAtCount: true }, 100, 3],
    ['totalResults capped at count, exact multiple', { size: 200, totalCappedAtCount: true }, 100, 3],
  ] as const)('%s: every user once, %#', async (_case, behaviour, pageSize, pages) => {
    const server = fakeServer(behaviour);
    const users = await list(server, 'index', pageSize);
    expect(users).toEqual(server.items);
    expect(server.requests).toHaveLength(pages);
  });

  test('a server that promises far more in totalResults than it holds is read to its end, not once per promised page', async () => {
    const server = fakeServer({ size: 30, cap: 10, promises: 10_000 });
    const users = await list(server, 'index', 10);
    expect(users).toEqual(server.items);
    // 3 full pages and the empty one that shows the end, plus at most one round of concurrent reads past it.
    expect(server.requests.length).toBeLessThanOrEqual(10);
  });

  test('with totalResults known, page starts follow the page size the server actually returns', async () => {
    const server = fakeServer({ size: 130, cap: 40 });
    await list(server, 'index', 100);
    expect(server.requests.map((r) => (r.style === 'index' ? r.startIndex : r.cursor))).toEqual([1, 41, 81, 121]);
    expect(server.requests.every((r) => r.count === 100)).toBe(true);
  });

  test('progress is reported after every page with the running count and the total', async () => {
    const server = fakeServer({ size: 250 });
    const progress: ListProgress[] = [];
    await list(server, 'index', 100, false, (p) => progress.push(p));
    expect(progress.map((p) => [p.pages, p.total])).toEqual([[1, 250], [2, 250], [3, 250]]);
    expect(progress.at(-1)).toEqual({ resource: 'Users', pages: 3, items: 250, total: 250 });
  });

  test('concurrent pages: the result keeps server order whatever finishes first, and progress only grows', async () => {
    const server = fakeServer({ size: 95 });
    const delays = [0, 9, 1, 7, 3, 5, 2, 8, 4, 6];
    const fetchPage = async (request: PageRequest) => {
      const page = await server.fetchPage(request);
      await new Promise((resolve) => setTimeout(resolve, delays[server.requests.length % delays.length]));
      return page;
    };
    const progress: ListProgress[] = [];
    const users = await listAll({ resource: 'Users', style: 'index', forced: false, pageSize: 10, concurrency: 4, fetchPage, onProgress: (p) => progress.push(p) });
    expect(users).toEqual(server.items);
    expect(progress.map((p) => p.pages)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const items = progress.map((p) => p.items);
    expect(items).toEqual([...items].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ resource: 'Users', pages: 10, items: 95, total: 95 });
  });

  test.each([
    ['overlapping pages', { size: 95, overlaps: true }],
    ['pages without overlap', { size: 95 }],
  ])('concurrent %s, the last arriving first: each user once, in server order', async (_case, behaviour) => {
    const server = fakeServer(behaviour);
    const fetchPage = async (request: PageRequest) => {
      const page = await server.fetchPage(request);
      // Later pages answer sooner, so an overlap is seen on the later page before the earlier one arrives.
      await new Promise((resolve) => setTimeout(resolve, request.style === 'index' ? Math.max(0, 30 - request.startIndex / 4) : 0));
      return page;
    };
    const users = await listAll({ resource: 'Users', style: 'index', forced: false, pageSize: 10, concurrency: 10, fetchPage });
    expect(users).toEqual(server.items);
  });

  test('a collection that grew while its pages were read concurrently is read on to its new end, each user once', async () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ id: `u${i + 1}` }));
    let known = 35;
    const fetchPage = async (request: PageRequest): Promise<ListPage> => {
      const start = request.style === 'index' ? request.startIndex : 1;
      const page = { resources: items.slice(start - 1, Math.min(start - 1 + request.count, known)), totalResults: known };
      known = 60; // users added after the first page was read
      return page;
    };
    const users = await listAll({ resource: 'Users', style: 'index', forced: false, pageSize: 10, concurrency: 3, fetchPage });
    expect(users).toEqual(items);
  });

  test('a server that answers an index request with a nextCursor is followed by cursor', async () => {
    const server = fakeServer({ size: 250, cursors: true });
    expect(await list(server, 'index', 100)).toEqual(server.items);
    expect(server.requests.map((r) => r.style)).toEqual(['index', 'cursor', 'cursor']);
  });
});

describe('cursor pagination (RFC 9865)', () => {
  test.each([
    ['several pages', { size: 250, cursors: true }, 100, 3],
    ['an exact multiple', { size: 200, cursors: true }, 100, 2],
    ['an empty collection', { size: 0, cursors: true }, 100, 1],
    ['a server that caps count', { size: 120, cursors: true, cap: 25 }, 100, 5],
  ] as const)('%s', async (_case, behaviour, pageSize, pages) => {
    const server = fakeServer(behaviour);
    expect(await list(server, 'cursor', pageSize)).toEqual(server.items);
    expect(server.requests).toHaveLength(pages);
    expect(server.requests[0]).toEqual({ style: 'cursor', cursor: '', count: pageSize });
  });

  test('a server that ignores cursors is read by index when its totalResults shows more', async () => {
    const server = fakeServer({ size: 250 });
    expect(await list(server, 'cursor', 100)).toEqual(server.items);
    expect(server.requests.map((r) => r.style)).toEqual(['cursor', 'index', 'index']);
  });

  test('a forced cursor style does not switch', async () => {
    const server = fakeServer({ size: 250 });
    expect(await list(server, 'cursor', 100, true)).toHaveLength(100);
  });

  test('the same cursor twice is refused instead of looping forever', async () => {
    const fetchPage = async (request: PageRequest): Promise<ListPage> => ({
      resources: [{ id: request.style === 'cursor' ? `id-${request.cursor}` : 'x' }],
      nextCursor: 'again',
    });
    await expect(listAll({ resource: 'Users', style: 'cursor', forced: false, pageSize: 10, concurrency: 1, fetchPage })).rejects.toThrow(
      /same cursor twice/,
    );
  });

  test('new cursors that never bring new users are refused', async () => {
    let n = 0;
    const fetchPage = async (): Promise<ListPage> => ({ resources: [{ id: 'same' }], nextCursor: `c${++n}` });
    const error = await listAll({ resource: 'Groups', style: 'cursor', forced: false, pageSize: 10, concurrency: 1, fetchPage }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as Error).message).toMatch(/listing \/Groups did not terminate: 3 pages in a row added no new resources/);
    expect(n).toBe(4);
  });
});

describe('a server that never ends its list is refused after 100,000 pages', () => {
  test.each([
    // case, starting style, what each page carries besides a new user
    ['a fresh nextCursor on every page', 'cursor', (n: number) => ({ nextCursor: `c${n}` }), /100,000 pages were read and the last still gives a nextCursor/],
    ['full index pages without totalResults', 'index', () => ({}), /100,000 pages were read and each brought new resources, with no totalResults/],
  ] as const)('%s', async (_case, style, extra, message) => {
    let n = 0;
    const fetchPage = async (): Promise<ListPage> => {
      n++;
      return { resources: [{ id: `u${n}` }], ...extra(n) };
    };
    const error = await listAll({ resource: 'Users', style, forced: true, pageSize: 1, concurrency: 1, fetchPage }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as Error).message).toMatch(/^listing \/Users did not terminate: /);
    expect((error as Error).message).toMatch(message);
    expect((error as ScimformError).hint).toMatch(/check that the target url points at the SCIM service/);
    expect(n).toBe(100_000);
  });
});

test('an index page that makes no progress ends the listing', async () => {
  let calls = 0;
  const fetchPage = async (): Promise<ListPage> => {
    calls++;
    return { resources: [{ id: 'a' }, { id: 'b' }] }; // the same page whatever startIndex says
  };
  expect(await listAll({ resource: 'Users', style: 'index', forced: false, pageSize: 2, concurrency: 1, fetchPage })).toEqual([{ id: 'a' }, { id: 'b' }]);
  expect(calls).toBe(2);
});
