/** The public shape of the emulator, for `startEmulator` callers and the CLI. */

export interface EmulatorFaults {
  /** Added to every response (of the methods faults apply to). */
  latencyMs?: number;
  /** 0..1 fraction of requests answered 429. */
  rate429?: number;
  /** When set, 429s carry `Retry-After: N`; absent = no header (as Lightstep documents). */
  retryAfterSeconds?: number;
  /** 0..1 fraction answered 503 with a SCIM error body. */
  rate5xx?: number;
  /** 0..1 fraction whose socket is destroyed before any response; the change is NOT applied. */
  rateReset?: number;
  /** 0..1 fraction of writes (POST/PATCH/PUT/DELETE) applied, then the socket destroyed. */
  rateLostResponse?: number;
  /** Seed of the PRNG behind every rate above; the same seed and requests give the same faults. */
  seed?: number;
  /** Restrict faults (latency included) to these methods, e.g. `['POST']`; default all. */
  onlyMethods?: string[];
}

/**
 * Ways real servers deviate from RFC 7644 (SPEC §1, §5a), for reliability tests. Each one is
 * off unless set.
 */
export interface EmulatorQuirks {
  /** Every list page holds this many resources, whatever `count` asks: a server that ignores `count`. */
  fixedPageSize?: number;
  /** Each index page after the first starts this many resources before the one asked for: overlapping pages. */
  overlap?: number;
  /** `filter` is ignored: a filtered list is answered as the unfiltered list. */
  ignoreFilters?: boolean;
  /**
   * Users whose userName ends with one of these domains are answered 201 and then not kept, as
   * Lightstep does with an email domain the organisation does not allow (SPEC §1).
   */
  dropDomains?: string[];
  /**
   * Before each later page of an unfiltered /Users listing, the first stored user whose userName
   * ends with this suffix is deleted: another administrator at work while the list is read.
   */
  removeWhileListing?: string;
  /**
   * A user who joins or leaves a group gets a new version and lastModified, as servers do that
   * count a user's `groups` as part of the user (RFC 7643 §4.1.2 makes it a user attribute).
   */
  membershipChangesUserVersion?: boolean;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default `generic`. `lightstep`: groups read-only, no PUT, `userName` an email address, `emails` required on create, cursor pagination. */
  profile?: 'lightstep' | 'generic';
  /** Default: lightstep → cursor, generic → index. */
  pagination?: 'cursor' | 'index';
  /** Caps `count`; default 1000. */
  maxPageSize?: number;
  /** Bearer token required on every request; undefined = no auth check. */
  token?: string;
  /** JSON persistence: loaded at start when present, saved atomically after each write. */
  dataFile?: string;
  /** SCIM resources to start with; `id` optional (assigned when absent); group members as `[{ value: userId }]`. */
  initial?: { users?: Record<string, unknown>[]; groups?: Record<string, unknown>[] };
  faults?: EmulatorFaults;
  quirks?: EmulatorQuirks;
  /** Append one JSON line per request to this file. */
  requestLogFile?: string;
  /**
   * Keep every request, body included, in `RunningEmulator.requests` (default true). `scimform
   * emulate` keeps none: nothing in its process reads them, and a long-running emulator would
   * grow by every request it serves.
   */
  keepRequests?: boolean;
  /** Default: generic → true, lightstep → false (Lightstep documents none). false = no ETag header and no `meta.version` (a server without versions). */
  etags?: boolean;
}

export interface LoggedRequest {
  method: string;
  /** Path below the SCIM base, e.g. `/Users/2819c223`. */
  path: string;
  query: Record<string, string>;
  /** Status sent, or that would have been sent for a lost response; 0 for a reset connection. */
  status: number;
  /** The request body, parsed, when there was one. */
  body?: unknown;
  /** When the request arrived (ISO 8601). */
  time: string;
  /** `reset`, `429`, `503` or `lostResponse` when a fault was injected. */
  fault?: string;
}

/** How much work the store did; lets tests check that lookups are indexed and pages are O(page). */
export interface EmulatorStats {
  /** Resources looked at by filters and listings. */
  examined: number;
  /** Listings that had to scan every resource (a filter no index could answer). */
  scans: number;
}

export interface RunningEmulator {
  /** Base URL including the SCIM prefix, e.g. `http://127.0.0.1:PORT/scim/v2` (no trailing slash). */
  url: string;
  /** In-process request log, appended as requests complete; stays empty with `keepRequests: false`. */
  requests: LoggedRequest[];
  setFaults(faults: EmulatorFaults | undefined): void;
  setQuirks(quirks: EmulatorQuirks | undefined): void;
  /** Snapshot of stored users as SCIM resources (for assertions). */
  users(): Record<string, unknown>[];
  groups(): Record<string, unknown>[];
  stats(): EmulatorStats;
  close(): Promise<void>;
}
