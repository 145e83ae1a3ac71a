/**
 * Listing a whole collection: RFC 7644 §3.4.2.4 index pagination and RFC 9865 cursor
 * pagination, whichever the server turns out to speak. The page fetcher is injected, so this
 * module holds only the decisions: where the next page starts, when to stop, what is a loop.
 */
import { ScimformError } from '../errors.js';
import type { PaginationStyle } from '../model.js';
import type { ListProgress } from './types.js';
import type { ListPage } from './parse.js';
import { getAttribute } from './parse.js';

export type PageRequest = { style: 'index'; startIndex: number; count: number } | { style: 'cursor'; cursor: string; count: number };

export interface ListOptions {
  resource: ListProgress['resource'];
  /** The style to start with; the first response may show that the server speaks the other. */
  style: PaginationStyle;
  /** Set when the configuration chose the style: then no switching. */
  forced: boolean;
  pageSize: number;
  /** How many index pages to fetch at once once `totalResults` is known. */
  concurrency: number;
  fetchPage(request: PageRequest): Promise<ListPage>;
  onProgress?: ((progress: ListProgress) => void) | undefined;
}

/** Consecutive cursor pages that add nothing new before the listing is declared stuck. */
const MAX_IDLE_CURSOR_PAGES = 3;

function stuck(resource: string, what: string): ScimformError {
  return new ScimformError(`listing /${resource} did not terminate: ${what}`, {
    hint: 'The server paginates inconsistently; set `pagination: index` (or `cursor`) on the target to choose the other style, or a different pageSize.',
  });
}

/**
 * Runs `task` over `items` with at most `limit` in flight; results in input order. Nothing new
 * starts once a task has failed or `done()` says so (the results not fetched stay undefined).
 */
async function mapBounded<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>, done: () => boolean = () => false): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed && !done()) {
      const index = next++;
      try {
        results[index] = await task(items[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The `id` a resource is de-duplicated by, when it has one. */
function keyOf(item: unknown): string | undefined {
  const id = item !== null && typeof item === 'object' ? getAttribute(item as Record<string, unknown>, 'id') : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** More pages than any directory needs (50,000,000 users at 500 a page): a larger promise is a broken server. */
const MAX_PAGES = 100_000;

/** A listing that has read MAX_PAGES pages and is still told there are more. */
function endless(resource: string, what: string): ScimformError {
  return new ScimformError(`listing /${resource} did not terminate: ${MAX_PAGES.toLocaleString('en-US')} pages were read and ${what}`, {
    hint: 'No directory needs that many pages: check that the target url points at the SCIM service, or set `pagination: index` (or `cursor`) on the target to choose the other style.',
  });
}

/** Index listings that saw the collection change, read again from the start before giving up. */
const MAX_INDEX_READS = 4;

/**
 * Every resource of the collection once (de-duplicated by `id`, first occurrence kept), in server
 * order. Index pages are positions in a list that others may change meanwhile: when a deletion
 * shifts it, a resource moves onto a page already read and is missed without a trace but a
 * different `totalResults`. Such a listing is read again, and refused when it keeps changing,
 * because a plan made from it would re-create or forget users that exist.
 */
export async function listAll(options: ListOptions): Promise<unknown[]> {
  for (let read = 1; ; read++) {
    const { items, changed } = await listOnce(options);
    if (!changed) return items;
    if (read >= MAX_INDEX_READS) {
      throw new ScimformError(`listing /${options.resource} was not consistent: the collection changed while it was read, ${read} times in a row`, {
        hint: 'Run again when nothing else is changing the target, or set `pagination: cursor` on the target if the server supports it (cursors are not shifted by changes).',
      });
    }
  }
}

async function listOnce(options: ListOptions): Promise<{ items: unknown[]; changed: boolean }> {
  const { resource, pageSize: count } = options;
  const byId = new Map<string, unknown>();
  /**
   * Pages read concurrently whose ids were all new, in page order after `byId`: they need no
   * de-duplication, so no map entry each (at 1,000,000 users a map of every id was ~60 MB).
   */
  let unique: unknown[][] = [];
  let uniqueCount = 0;
  const withoutId: unknown[] = [];
  let pages = 0;
  let total: number | undefined;
  let reported = -1;
  const report = (items: number) => {
    reported = items;
    options.onProgress?.({ resource, pages, items, ...(total === undefined ? {} : { total }) });
  };
  const itemCount = () => byId.size + uniqueCount + withoutId.length;
  // A later totalResults below the first page's means deletions shifted the list under the reading
  // (growth only appends or shifts forward, which de-duplication absorbs).
  let firstTotal: number | undefined;
  // A resource without an id fails the listing anyway: no further page is read.
  let broken = false;
  let shrank = false;
  let byIndex = false;
  const arrived = (page: ListPage) => {
    if (pages === 0) firstTotal = page.totalResults;
    else if (page.totalResults !== undefined && firstTotal !== undefined && page.totalResults < firstTotal) shrank = true;
    pages++;
    if (page.totalResults !== undefined) total = page.totalResults;
  };

  /** Adds a page's resources in order; returns how many were new. */
  const insert = (page: ListPage): number => {
    if (uniqueCount > 0) {
      for (const items of unique) for (const item of items) byId.set(keyOf(item)!, item);
      unique = [];
      uniqueCount = 0;
    }
    let added = 0;
    for (const item of page.resources) {
      const key = keyOf(item);
      if (key === undefined) {
        withoutId.push(item); // the parser reports it, so reading on would be wasted
        broken = true;
        added++;
      } else if (!byId.has(key)) {
        byId.set(key, item);
        added++;
      }
    }
    return added;
  };
  /** A page read in sequence: counted, added, reported. */
  const take = (page: ListPage): number => {
    arrived(page);
    const added = insert(page);
    report(itemCount());
    return added;
  };

  const followCursors = async (first: ListPage): Promise<void> => {
    const used = new Set<string>();
    let idle = 0;
    let cursor = first.nextCursor;
    while (cursor !== undefined && !broken) {
      if (used.has(cursor)) throw stuck(resource, 'the server returned the same cursor twice');
      if (pages >= MAX_PAGES) throw endless(resource, 'the last still gives a nextCursor');
      used.add(cursor);
      const page = await options.fetchPage({ style: 'cursor', cursor, count });
      idle = take(page) === 0 ? idle + 1 : 0;
      if (idle >= MAX_IDLE_CURSOR_PAGES && page.nextCursor !== undefined) throw stuck(resource, `${idle} pages in a row added no new resources`);
      cursor = page.nextCursor;
    }
  };

  /**
   * Continues index pagination after a first page that started at 1. With a trustworthy
   * `totalResults`, every remaining page is known up front and fetched concurrently; without
   * one, pages are read one after another until one is empty, adds nothing, or is shorter
   * than the pages before it (the server's real page size).
   */
  const followIndex = async (first: ListPage): Promise<void> => {
    byIndex = true;
    const step = first.resources.length;
    // Some servers cap `totalResults` at `count` (SPEC §5a): a full first page whose total equals
    // the count asked for may not be the end, so that one case is verified with one more page.
    const trusted = first.totalResults !== undefined && !(first.totalResults === count && step === count);
    let start = 1 + step;
    let longest = step;
    if (step === 0 || broken) return;
    if (trusted) {
      const known = first.totalResults!;
      // A count no service holds would make a list of pages to ask for that does not fit in memory.
      if (!Number.isSafeInteger(known) || (known - start) / step > MAX_PAGES) {
        throw stuck(resource, `the first page says there are ${known} resources (totalResults), more than ${MAX_PAGES.toLocaleString('en-US')} pages of ${step}`);
      }
      const starts: number[] = [];
      for (let s = start; s <= known; s += step) starts.push(s);
      // Progress is reported as pages arrive; resources are added in page order, so the result
      // does not depend on which request finished first.
      let inFlight = 0;
      const before = itemCount();
      // A server whose totalResults promises more than its pages hold must not cost a request per
      // promised page: an empty page ends the listing, and pages that only repeat what was read
      // mean it is stuck.
      const seen = new Set(byId.keys());
      let repeated = false;
      let idle = 0;
      let ended = false;
      const fetched = await mapBounded(
        starts,
        options.concurrency,
        async (startIndex) => {
          const page = await options.fetchPage({ style: 'index', startIndex, count });
          arrived(page);
          inFlight += page.resources.length;
          report(Math.min(before + inFlight, total ?? known));
          if (page.resources.length === 0) ended = true;
          let fresh = 0;
          for (const item of page.resources) {
            const key = keyOf(item);
            if (key === undefined) {
              ended = true;
              repeated = true;
              fresh++;
              continue;
            }
            // One set operation per id: a size that did not grow means the id was seen.
            const size = seen.size;
            seen.add(key);
            if (seen.size === size) repeated = true;
            else fresh++;
          }
          idle = fresh === 0 && page.resources.length > 0 ? idle + 1 : 0;
          if (idle >= MAX_IDLE_CURSOR_PAGES) throw stuck(resource, `${idle} pages in a row added no new resources, although totalResults is ${known}`);
          return page;
        },
        () => ended,
      );
      for (const page of fetched) {
        if (!page) continue;
        if (repeated) {
          insert(page);
        } else {
          unique.push(page.resources);
          uniqueCount += page.resources.length;
        }
      }
      if (itemCount() !== reported) report(itemCount());
      if (ended) return;
      const lastStart = starts.at(-1);
      const last = fetched.at(-1);
      // Done unless the collection grew while it was read.
      if (lastStart === undefined || last === undefined || itemCount() >= (total ?? known) || last.resources.length === 0) return;
      start = lastStart + last.resources.length;
    }
    for (;;) {
      if (pages >= MAX_PAGES) throw endless(resource, 'each brought new resources, with no totalResults to tell where the list ends');
      const page = await options.fetchPage({ style: 'index', startIndex: start, count });
      const length = page.resources.length;
      const added = take(page);
      if (length === 0 || added === 0 || length < longest || broken) return;
      if (page.totalResults !== undefined && page.totalResults !== count && start + length > page.totalResults) return;
      longest = Math.max(longest, length);
      start += length;
    }
  };

  if (options.style === 'cursor') {
    const first = await options.fetchPage({ style: 'cursor', cursor: '', count });
    take(first);
    // A server that ignores `cursor` answers with an index page and no nextCursor.
    if (first.nextCursor === undefined && !options.forced && first.totalResults !== undefined && first.totalResults > first.resources.length) {
      await followIndex(first);
    } else {
      await followCursors(first);
    }
  } else {
    const first = await options.fetchPage({ style: 'index', startIndex: 1, count });
    take(first);
    if (first.nextCursor !== undefined && !options.forced) await followCursors(first);
    else await followIndex(first);
  }
  const items: unknown[] = new Array(itemCount());
  let at = 0;
  for (const item of byId.values()) items[at++] = item;
  for (const page of unique) for (const item of page) items[at++] = item;
  for (const item of withoutId) items[at++] = item;
  return { items, changed: byIndex && shrank };
}
