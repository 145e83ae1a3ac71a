/**
 * The contract between scimform and a live SCIM service. Planning needs only the reading half
 * (`ScimReader`); apply needs the writing half too. Each function takes the smallest interface
 * it needs, so fakes in unit tests stay small.
 */
import type { Capabilities, LiveGroup, LiveUser } from '../model.js';
import type { WriteRequest } from '../plan/types.js';
import type { RetryState } from './retry.js';

export interface ListProgress {
  resource: 'Users' | 'Groups';
  pages: number;
  items: number;
  /** `totalResults` when the server gives it. */
  total?: number;
}

export interface ClientStats {
  /** Requests sent by method (retries included). */
  requests: Record<string, number>;
  pages: number;
  retries: number;
}

export interface ReadOptions {
  /**
   * Read even after the client's signal fired, each request once, bounded by the request
   * timeout: apply's look-up of what its own write did (a create whose answer was lost) is
   * finishing work in flight, not starting new work (SPEC §5).
   */
  evenIfInterrupted?: boolean | undefined;
}

export interface ScimReader {
  capabilities(): Promise<Capabilities>;
  listUsers(onProgress?: (progress: ListProgress) => void, options?: ReadOptions): Promise<LiveUser[]>;
  listGroups(onProgress?: (progress: ListProgress) => void, options?: ReadOptions): Promise<LiveGroup[]>;
  getUser(id: string, options?: ReadOptions): Promise<LiveUser | undefined>;
  getGroup(id: string, options?: ReadOptions): Promise<LiveGroup | undefined>;
  /** `filter=userName eq "…"` (value escaped per RFC 7644 §3.4.2.2); userName compared case-insensitively. */
  findUserByUserName(userName: string, options?: ReadOptions): Promise<LiveUser | undefined>;
  findUserByExternalId(externalId: string, options?: ReadOptions): Promise<LiveUser | undefined>;
  stats(): ClientStats;
}

export interface WriteResult {
  status: number;
  /** Parsed JSON body, when there was one (201/200); undefined for 204. */
  body?: unknown;
  /** The ETag response header, when sent. */
  etag?: string;
}

/** How a wait before a retry ended: `retry`, or no further attempt because the policy's attempts or time are spent, or the signal fired. */
export type RetryWait = 'retry' | 'exhausted' | 'interrupted';

export interface WriteOptions {
  /** The retries of an earlier send of the same request to continue (from its `OutcomeUnknownError`), so they share one bound. */
  retry?: RetryState;
}

export interface ScimWriter {
  /**
   * Sends one planned request. Retries per SPEC §5 for PATCH/PUT/DELETE; a POST is never retried
   * blindly: an ambiguous failure throws `OutcomeUnknownError` so the caller can look the
   * resource up first.
   */
  write(request: WriteRequest, options?: WriteOptions): Promise<WriteResult>;
  /**
   * Waits before a POST whose outcome was unknown is looked up and sent again, as every retry
   * waits (SPEC §5): the server's `Retry-After`, else exponential backoff with full jitter; then
   * says whether it may be sent (`retry`) or not: the policy's attempts or time are spent
   * (`exhausted`), or the client's signal or `signal` fired (`interrupted`).
   */
  waitToRetry(state: RetryState, signal?: AbortSignal): Promise<RetryWait>;
}

export interface ScimClient extends ScimReader, ScimWriter {
  /**
   * Makes a read-only client writable. `apply` plans through a read-only client and, once the
   * plan is approved, writes through the same one: its connections and what discovery learnt
   * are reused, and nothing could be written before the approval.
   */
  allowWrites(): void;
  /** Ends the connection pool once its requests are answered; with `abort`, at once, cutting them off. */
  close(options?: { abort?: boolean }): Promise<void>;
}
