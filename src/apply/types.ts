/** The values apply produces: per-operation outcomes, the report of one target, audit entries. Plain data. */
import type { OperationKind } from '../plan/types.js';

/**
 * What became of one operation.
 * - `done`: every request was accepted. `adopted`: a create found the resource already there (a
 *   lost response or a 409) and took it over instead of making a duplicate.
 * - `stale`: the resource changed since the plan (412, or it is gone); not forced.
 * - `partial`: a group create or update sent without the members whose create left no id (it
 *   failed, or was not made); everything else it holds was accepted.
 * - `skipped`: not sent because an operation it depends on did not succeed.
 * - `unknown`: sent, but whether the server applied it could not be learnt: no answer came, and
 *   the look-up that would tell could not be made (or apply ended while it was in flight).
 * - `manual`: never sent by design (SPEC §4). `not-started`: apply was interrupted first.
 */
export type OutcomeStatus = 'done' | 'adopted' | 'partial' | 'failed' | 'unknown' | 'skipped' | 'stale' | 'manual' | 'not-started';

export interface OperationOutcome {
  key: string;
  kind: OperationKind;
  status: OutcomeStatus;
  /** Why, for anything but `done`: the server's detail, the members left out, the stale reason. */
  message?: string;
  /** The last HTTP status seen for this operation, when there was one. */
  httpStatus?: number;
  /** The id of the user or group a create made or adopted. */
  createdId?: string;
  /** userNames a group operation left out of its members because their create left no id (`partial`, or `skipped` when that was all it had to do). */
  notAdded?: string[];
}

export interface ApplyCounts {
  created: number;
  updated: number;
  deactivated: number;
  deleted: number;
  failed: number;
  unknown: number;
  skipped: number;
  stale: number;
  manual: number;
  notStarted: number;
}

export interface ApplyReport {
  target: string;
  /** In the order the operations appear in the plan. */
  outcomes: OperationOutcome[];
  counts: ApplyCounts;
  /** True when a signal stopped apply before every operation had run. */
  interrupted: boolean;
  /**
   * Why apply started no further write, when something other than a signal made it stop (the
   * service rejected the token, the audit log could not be written): what to print after `Stopped: `.
   */
  stopped?: string;
  /** Write calls made (each `ScimWriter.write`, the client's own retries not counted). */
  writes: number;
  durationMs: number;
}

export interface ApplyProgress {
  done: number;
  total: number;
  failed: number;
  skipped: number;
  inFlight: number;
}

/**
 * One line of `--audit-log`: one per write call. Carries no request or response body (names and
 * emails stay out of the log, SPEC §5) and never the token; `userName` is the only personal datum.
 */
export interface AuditEntry {
  time: string;
  target: string;
  /** The operation key, e.g. `user:jane@example.com`, `group:Admins`. */
  operation: string;
  kind: OperationKind;
  method: string;
  path: string;
  status: number | 'error';
  durationMs: number;
  /**
   * `applied`, `conflict`, `stale`, `not-found`, `unknown` (outcome not known; also the line of a
   * write still unanswered when an interrupted apply ended), `failed`; and `adopted`: a later
   * line for a create whose resource a lookup found on the server (no write).
   */
  outcome: string;
  userName?: string;
}

export interface ApplyOptions {
  /** Operations in flight at once within a phase (`target.concurrency`). */
  concurrency: number;
  /** When it fires, nothing new starts; in-flight requests get `drainTimeoutMs` to finish. */
  signal?: AbortSignal;
  /** How long to wait for in-flight requests after an interruption (default 15 s). */
  drainTimeoutMs?: number;
  /**
   * When it fires (a second SIGINT/SIGTERM), in-flight requests are no longer waited for: apply
   * ends at once and reports them as unknown, with their audit lines.
   */
  stop?: AbortSignal;
  onProgress?: (progress: ApplyProgress) => void;
  /**
   * Called once per write call with its outcome; the CLI appends these as JSON lines. When it
   * throws, the write's outcome stands, no further write is started (as after a signal, what is in
   * flight finishes), it is not called again, and the report's `stopped` says why.
   */
  audit?: (entry: AuditEntry) => void;
  /** Milliseconds clock, for tests. */
  now?: () => number;
}

/** An operation of a saved plan that no longer fits the live service. */
export interface StaleItem {
  key: string;
  /** e.g. `user jane@example.com`, `group Admins`. */
  subject: string;
  reason: string;
}
