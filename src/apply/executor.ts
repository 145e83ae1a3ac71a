/**
 * The apply executor: sends a target plan's requests in the order of SPEC §5, a bounded number at
 * a time, and records what became of every operation. It never throws for a failed write: a
 * failure is an outcome, and the operations that do not depend on it still run.
 */
import type { CreateGroup, CreateUser, Operation, OperationKind, TargetPlan, UpdateGroupMembers, UpdateUser, WriteRequest } from '../plan/types.js';
import { createUserKey } from '../plan/index.js';
import type { RetryState } from '../scim/retry.js';
import type { ScimReader, ScimWriter, WriteResult } from '../scim/types.js';
import { updateLanded, userUpdateStillApplies } from './confirm.js';
import { classifyFailure, describeFailure, describeReadFailure, notSent, rejectsToken, type WriteFailure } from './failure.js';
import { resolveRefs } from './refs.js';
import type { ApplyCounts, ApplyOptions, ApplyReport, AuditEntry, OperationOutcome } from './types.js';

/**
 * SPEC §5: create users → update/reactivate users → create groups → membership → deactivate →
 * delete, groups before users within the deletes: a deleted user leaves every group it was in,
 * which gives each a new version, so a group DELETE sent after it would meet 412 on the If-Match
 * it was planned with.
 */
export const APPLY_PHASES: readonly (readonly OperationKind[])[] = [
  ['createUser'],
  ['updateUser', 'reactivateUser'],
  ['createGroup'],
  ['updateGroupMembers'],
  ['deactivateUser'],
  ['deleteGroup'],
  ['deleteUser'],
];

const DEFAULT_DRAIN_TIMEOUT_MS = 15_000;
/** Why writes stop after a 401, and what to do: the failed write's own message names the variable and the hint. */
const REFUSED = 'the service rejected the token on an earlier request (HTTP 401) and would reject this one too';
const FIX_TOKEN = 'fix the token (see the 401 above) and run apply again';
/** Why writes stop once the audit log cannot take a line: an operator who asked for a trail gets no write it does not record. */
const UNRECORDED = 'the audit log could not be written, and apply starts no write it cannot record';

type Client = ScimReader & ScimWriter;

interface Run {
  plan: TargetPlan;
  client: Client;
  options: ApplyOptions;
  now: () => number;
  outcomes: Map<string, OperationOutcome>;
  /** Operation key of a create → the id of the resource it made or adopted. */
  createdIds: Map<string, string>;
  inFlight: Set<string>;
  writes: number;
  progress: { done: number; total: number; failed: number; skipped: number };
  /** Set when the signal stopped an operation part-way (a create not resent, a chunk not sent). */
  cut: boolean;
  /** Operation key → the write it is waiting for: what the audit log records if apply ends first. */
  sending: Map<string, { operation: Operation; request: WriteRequest; started: number }>;
  /** Set once the report is made: a write that answers later is not audited a second time. */
  closed: boolean;
  /** Set when the service rejected the token (401): every further write would be rejected too, so none is started. */
  refused: boolean;
  /** Why the audit log could not take a line: no further write is started, and no more lines are attempted. */
  auditFailure: string | undefined;
  /** Operation keys whose audit lines were not written, from the one that failed on. */
  unaudited: Set<string>;
  /** Ids of live users a group write of this apply that was taken, or may have been, adds or removes (see `movedByGroupWrite`). */
  regrouped: Set<string>;
}

/** Why no further write is started (the token was rejected, the audit log failed), or undefined while writes go on. */
function stopping(run: Run): string | undefined {
  return run.refused ? REFUSED : run.auditFailure !== undefined ? UNRECORDED : undefined;
}

/** A write call's end: answered, failed, or never sent (interrupted while it waited for a slot or the rate limit). */
type Sent = { ok: true; result: WriteResult } | { ok: false; failure: WriteFailure } | { ok: 'not-sent' };

const NOT_STARTED = 'not started: apply was interrupted';

/** The status a failed write got, for its outcome: none when no answer came. */
function httpStatusOf(failure: WriteFailure): Pick<OperationOutcome, 'httpStatus'> {
  return failure.kind !== 'other' && failure.status !== undefined ? { httpStatus: failure.status } : {};
}

/** An operation of several requests stopped part-way by the signal. */
const cutAfter = (sent: number, total: number): string => `interrupted after request ${sent} of ${total}; the rest were not sent (a re-run converges)`;

/** How a create whose outcome was unknown ended without being made: `sent 2 times, and the user x is not on the server`. */
function notOnServer(operation: CreateUser | CreateGroup, sends: number, interrupted: boolean): string {
  return `sent ${sends} ${sends === 1 ? 'time' : 'times'}, and the ${subjectOf(operation)} is not on the server${interrupted ? ' (not sent again: apply was interrupted)' : ''}`;
}

export async function applyPlan(plan: TargetPlan, client: Client, options: ApplyOptions): Promise<ApplyReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const operations = plan.plan.operations;
  const total = operations.filter((operation) => operation.kind !== 'manual').length;
  const run: Run = {
    plan,
    client,
    options,
    now,
    outcomes: new Map(),
    createdIds: new Map(),
    inFlight: new Set(),
    writes: 0,
    progress: { done: 0, total, failed: 0, skipped: 0 },
    cut: false,
    sending: new Map(),
    closed: false,
    refused: false,
    auditFailure: undefined,
    unaudited: new Set(),
    regrouped: new Set(),
  };

  for (const operation of operations) {
    if (operation.kind === 'manual') {
      recordOutcome(run, { key: operation.key, kind: operation.kind, status: 'manual', message: `${operation.subject}: ${operation.reason}` });
    }
  }
  reportProgress(run);

  const halted = () => options.signal?.aborted === true || stopping(run) !== undefined;
  for (const kinds of APPLY_PHASES) {
    const phase = operations.filter((operation) => kinds.includes(operation.kind));
    if (phase.length === 0) continue;
    if (halted()) break;
    const drained = await untilDrained(
      runPool(phase, Math.max(1, options.concurrency), halted, (operation) => runOperation(run, operation)),
      options.signal,
      options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      options.stop,
    );
    if (!drained || halted()) break;
  }

  // A write still unanswered when the drain time ran out, or apply was told to stop: the log says its outcome is unknown.
  for (const { operation, request, started: sentAt } of run.sending.values()) {
    audit(run, operation, { method: request.method, path: request.path, status: 'error', durationMs: now() - sentAt, outcome: 'unknown' });
  }
  run.closed = true;
  const outcomes = operations.map(
    (operation): OperationOutcome =>
      run.outcomes.get(operation.key) ??
      (run.inFlight.has(operation.key)
        ? {
            key: operation.key,
            kind: operation.kind,
            status: 'unknown',
            message: 'interrupted while its request was in flight: its outcome is unknown (a re-run finds out and converges)',
          }
        : { key: operation.key, kind: operation.kind, status: 'not-started', message: stopping(run) ? `not started: ${stopping(run)}` : NOT_STARTED }),
  );
  // A signal after the last operation finished interrupted nothing.
  const notStarted = outcomes.some((outcome) => outcome.status === 'not-started');
  const interrupted = run.cut || run.inFlight.size > 0 || (notStarted && stopping(run) === undefined);
  const stopped = run.refused
    ? `the service rejected the token (HTTP 401), so no further write was started; ${FIX_TOKEN}`
    : run.auditFailure !== undefined
      ? `${run.auditFailure}, so no further write was started; the log has no line for ${[...run.unaudited].join(', ')}, ` +
        'whose outcomes this report gives. Run apply again once the log can be written (it converges)'
      : undefined;
  return {
    target: plan.target.name,
    outcomes,
    counts: countOutcomes(outcomes),
    interrupted,
    ...(stopped === undefined ? {} : { stopped }),
    writes: run.writes,
    durationMs: now() - started,
  };
}

export function countOutcomes(outcomes: readonly OperationOutcome[]): ApplyCounts {
  const counts: ApplyCounts = { created: 0, updated: 0, deactivated: 0, deleted: 0, failed: 0, unknown: 0, skipped: 0, stale: 0, manual: 0, notStarted: 0 };
  for (const outcome of outcomes) {
    switch (outcome.status) {
      case 'done':
      case 'adopted':
      case 'partial':
        if (outcome.kind === 'createUser' || outcome.kind === 'createGroup') counts.created++;
        else if (outcome.kind === 'deactivateUser') counts.deactivated++;
        else if (outcome.kind === 'deleteUser' || outcome.kind === 'deleteGroup') counts.deleted++;
        else counts.updated++;
        break;
      case 'failed':
        counts.failed++;
        break;
      case 'skipped':
        counts.skipped++;
        break;
      case 'stale':
        counts.stale++;
        break;
      case 'manual':
        counts.manual++;
        break;
      case 'not-started':
        counts.notStarted++;
        break;
      case 'unknown':
        counts.unknown++;
        break;
    }
  }
  return counts;
}

/** Runs `work` over `items` with at most `limit` at once; stops taking new items once `halted` says so. */
async function runPool<T>(items: readonly T[], limit: number, halted: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !halted()) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Resolves true when `work` finishes, or false when `signal` fired and `drainMs` passed before it
 * did, or `stop` fired: then what is in flight is not waited for.
 */
function untilDrained(work: Promise<void>, signal: AbortSignal | undefined, drainMs: number, stop: AbortSignal | undefined): Promise<boolean> {
  if (!signal && !stop) return work.then(() => true);
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      timer = setTimeout(() => resolve(false), drainMs);
    };
    const onStop = (): void => resolve(false);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
    work
      .then(() => resolve(true), reject)
      .finally(() => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        stop?.removeEventListener('abort', onStop);
      });
  });
}

function reportProgress(run: Run): void {
  run.options.onProgress?.({ ...run.progress, inFlight: run.inFlight.size });
}

/** Counts kept as outcomes arrive: progress is reported after every operation, so it must not rescan them. */
function recordOutcome(run: Run, outcome: OperationOutcome): void {
  run.outcomes.set(outcome.key, outcome);
  if (outcome.status === 'manual') return;
  run.progress.done++;
  if (outcome.status === 'failed' || outcome.status === 'stale') run.progress.failed++;
  if (outcome.status === 'skipped') run.progress.skipped++;
}

async function runOperation(run: Run, operation: Operation): Promise<void> {
  run.inFlight.add(operation.key);
  reportProgress(run);
  let outcome: OperationOutcome;
  try {
    outcome = await executeOperation(run, operation);
  } catch (error) {
    // A read on the way (the look-up after a 409, a read-back) failed: that is this operation's failure.
    noteReadFailure(run, error);
    outcome = { key: operation.key, kind: operation.kind, status: 'failed', message: describeReadFailure(error) };
  }
  // A group write confirmed by reading it back, or a group adopted: its members moved as well.
  if (outcome.status === 'done' || outcome.status === 'adopted' || outcome.status === 'partial' || outcome.status === 'unknown') regroup(run, operation);
  recordOutcome(run, outcome);
  run.inFlight.delete(operation.key);
  reportProgress(run);
}

function outcomeOf(operation: Operation, status: OperationOutcome['status'], extra: Partial<OperationOutcome> = {}): OperationOutcome {
  return { key: operation.key, kind: operation.kind, status, ...extra };
}

async function executeOperation(run: Run, operation: Operation): Promise<OperationOutcome> {
  switch (operation.kind) {
    case 'manual':
      return outcomeOf(operation, 'manual', { message: `${operation.subject}: ${operation.reason}` });
    case 'createUser':
    case 'createGroup':
      return createResource(run, operation);
    case 'deleteUser':
    case 'deleteGroup':
      return sendRequests(run, operation, operation.requests, 'done');
    default:
      return sendRequests(run, operation, operation.requests, 'stale');
  }
}

/** Why a create this plan depends on left no id, e.g. `its create failed`. */
function whyNoId(run: Run, dependency: string): string {
  const outcome = run.outcomes.get(dependency);
  if (outcome === undefined) {
    return run.plan.plan.operations.some((operation) => operation.key === dependency) ? 'its create has not run' : 'its create is not in this plan';
  }
  switch (outcome.status) {
    case 'failed':
      return 'its create failed';
    case 'skipped':
      return 'its create was skipped';
    case 'not-started':
      return 'its create was not started';
    case 'unknown':
      return 'the outcome of its create is unknown';
    default:
      return 'its create left no id to refer to';
  }
}

/** The userName a member ref stands for: the group's member whose create is `dependency`. */
function memberName(operation: Operation, dependency: string): string {
  const members = operation.kind === 'createGroup' ? operation.members : operation.kind === 'updateGroupMembers' ? operation.add : [];
  return members.find((member) => member.id === undefined && createUserKey(member.userName) === dependency)?.userName ?? dependency.replace(/^user:/, '');
}

/**
 * The outcome of a group operation some of whose members were left out because their create left
 * no id (SPEC §5: only what depends on a failed create is held back): `partial` when the rest was
 * sent, `skipped` when adding them was all it had to do.
 */
function withoutMembers(run: Run, operation: Operation, sent: OperationOutcome, dropped: ReadonlySet<string>, anySent: boolean): OperationOutcome {
  if (dropped.size === 0 || (sent.status !== 'done' && sent.status !== 'adopted')) return sent;
  const members = [...dropped].map((dependency) => ({ userName: memberName(operation, dependency), why: whyNoId(run, dependency) }));
  const notAdded = members.map((member) => member.userName);
  // `newbie@example.com (its create failed), …`
  const listed = members.map((member) => `${member.userName} (${member.why})`).join(', ');
  if (!anySent) return outcomeOf(operation, 'skipped', { notAdded, message: `not sent: its only change was adding ${listed}` });
  const message = `not added: ${listed}; the group's other changes were sent, and a re-run adds the missing members once they exist`;
  // An adoption (a create whose answer was lost) keeps saying so.
  return { ...sent, status: 'partial', notAdded, message: sent.status === 'adopted' && sent.message ? `${sent.message}; ${message}` : message };
}

/** One write call, with its audit entry; `retry` continues the retries of an earlier call for the same create. */
async function send(run: Run, operation: Operation, request: WriteRequest, retry?: RetryState): Promise<Sent> {
  const started = run.now();
  run.writes++;
  run.sending.set(operation.key, { operation, request, started });
  let sent: Sent;
  try {
    const result = await run.client.write(request, retry === undefined ? undefined : { retry });
    sent = { ok: true, result };
  } catch (error) {
    if (notSent(error)) {
      // Nothing left for the server: no write to count, no line for the audit log.
      run.writes--;
      return { ok: 'not-sent' };
    }
    sent = { ok: false, failure: classifyFailure(error, request.method) };
  } finally {
    run.sending.delete(operation.key);
  }
  if (!sent.ok) run.refused ||= rejectsToken(sent.failure);
  // Only a group write the server took, or may have taken, moves its members; a refusal (a 412, a 400) moves none.
  if (sent.ok || sent.failure.kind !== 'http' || sent.failure.status >= 500) regroup(run, operation);
  const status = sent.ok ? sent.result.status : 'status' in sent.failure && sent.failure.status !== undefined ? sent.failure.status : 'error';
  audit(run, operation, { method: request.method, path: request.path, status, durationMs: run.now() - started, outcome: sent.ok ? 'applied' : auditOutcome(sent.failure) });
  return sent;
}

/**
 * Notes the live users a group operation adds or removes, once one of its writes was taken or may
 * have been: a server may have given them new versions (see `movedByGroupWrite`).
 */
function regroup(run: Run, operation: Operation): void {
  const members = operation.kind === 'createGroup' ? operation.members : operation.kind === 'updateGroupMembers' ? [...operation.add, ...operation.remove] : [];
  for (const member of members) if (member.id !== undefined) run.regrouped.add(member.id);
}

/** A read that met a 401 stops the writes as a write's 401 does: the token is what the service rejected. */
function noteReadFailure(run: Run, error: unknown): void {
  run.refused ||= rejectsToken(classifyFailure(error, 'GET'));
}

/**
 * One audit line for an operation: what was sent (or found) and how it ended. A line that cannot
 * be written (a full disk) changes nothing of the write's outcome, which the server decided; it
 * stops apply from starting more writes, as an interruption does, and no more lines are tried.
 */
function audit(run: Run, operation: Operation, entry: Pick<AuditEntry, 'method' | 'path' | 'status' | 'durationMs' | 'outcome'>): void {
  if (!run.options.audit || run.closed) return;
  if (run.auditFailure !== undefined) {
    run.unaudited.add(operation.key);
    return;
  }
  const userName = 'userName' in operation ? operation.userName : undefined;
  try {
    run.options.audit({
      time: new Date(run.now()).toISOString(),
      target: run.plan.target.name,
      operation: operation.key,
      kind: operation.kind,
      ...entry,
      ...(userName === undefined ? {} : { userName }),
    });
  } catch (error) {
    run.auditFailure = error instanceof Error ? error.message : String(error);
    run.unaudited.add(operation.key);
  }
}

function auditOutcome(failure: WriteFailure): string {
  if (failure.kind === 'unknown') return 'unknown';
  if (failure.kind === 'http') {
    if (failure.status === 409) return 'conflict';
    if (failure.status === 412) return 'stale';
    if (failure.status === 404) return 'not-found';
  }
  return 'failed';
}

/** The version a successful write left the resource at, so the next chunk of the same operation can carry it as If-Match. */
function versionAfter(result: WriteResult): string | undefined {
  if (result.etag) return result.etag;
  const meta = (result.body as { meta?: { version?: unknown } } | undefined)?.meta;
  return typeof meta?.version === 'string' ? meta.version : undefined;
}

/**
 * An update whose answer was lost may have landed before its retry failed: a 412 (the version
 * moved), a 400 `noTarget` (the member is already gone), or no answer at all. Worth a read.
 */
function mayHaveLanded(operation: Operation, failure: WriteFailure): operation is UpdateUser | UpdateGroupMembers {
  if (operation.kind !== 'updateUser' && operation.kind !== 'reactivateUser' && operation.kind !== 'deactivateUser' && operation.kind !== 'updateGroupMembers') return false;
  if (failure.kind !== 'http') return true;
  return failure.status === 412 || (failure.status === 400 && failure.scimType === 'noTarget');
}

/**
 * The version to send a user's PATCH again with, when its 412 may come from this apply's own
 * group write: some servers give a user a new version when it joins or leaves a group (its
 * `groups` is a user attribute, RFC 7643 §4.1.2), and SPEC §5 runs membership before deactivation.
 * The user is read back; only when it still is what the plan changed (`userUpdateStillApplies`)
 * does the PATCH go again, once, with the version read. Otherwise the 412 stands: stale.
 */
async function movedByGroupWrite(run: Run, operation: Operation, request: WriteRequest, failure: WriteFailure): Promise<string | undefined> {
  if (failure.kind !== 'http' || failure.status !== 412 || request.method !== 'PATCH' || request.ifMatch === undefined) return undefined;
  if (operation.kind !== 'updateUser' && operation.kind !== 'reactivateUser' && operation.kind !== 'deactivateUser') return undefined;
  if (!run.regrouped.has(operation.id) || stopping(run) !== undefined) return undefined;
  const user = await run.client.getUser(operation.id, READ_BACK).catch((error: unknown) => void noteReadFailure(run, error));
  if (!user?.version || user.version === request.ifMatch || !userUpdateStillApplies(operation, user)) return undefined;
  return user.version;
}

/** How a user's PATCH sent again by `movedByGroupWrite` ended, for the report. */
const RESENT =
  "its PATCH met 412 after this apply's group write gave the user a new version; the user still had what the plan changed, so it was sent once more with the version read back";

/**
 * Sends an operation's requests in order, stopping at the first failure. `notFound` says what a
 * 404 means: done for a delete (the resource is already gone), stale for an update.
 */
async function sendRequests(
  run: Run,
  operation: Operation,
  requests: readonly WriteRequest[],
  notFound: 'done' | 'stale',
  extra: Partial<OperationOutcome> = {},
): Promise<OperationOutcome> {
  const tally: Tally = { dropped: new Set(), applied: 0 };
  const outcome = await sendInOrder(run, operation, requests, notFound, extra, tally);
  return withoutMembers(run, operation, outcome, tally.dropped, tally.applied > 0 || extra.createdId !== undefined);
}

/** How far `sendInOrder` got: requests the server accepted, creates whose members were left out. */
interface Tally {
  dropped: Set<string>;
  applied: number;
}

async function sendInOrder(
  run: Run,
  operation: Operation,
  requests: readonly WriteRequest[],
  notFound: 'done' | 'stale',
  extra: Partial<OperationOutcome>,
  tally: Tally,
): Promise<OperationOutcome> {
  let httpStatus: number | undefined;
  let version: string | undefined;
  // The If-Match of a request left with nothing to send goes with the first one that is sent.
  let carried: string | undefined;
  let resent: string | undefined;
  for (const [index, planned] of requests.entries()) {
    if (index > 0 && run.options.signal?.aborted) {
      run.cut = true;
      return outcomeOf(operation, 'failed', { ...extra, message: cutAfter(index, requests.length) });
    }
    if (index > 0 && stopping(run)) {
      return outcomeOf(operation, 'failed', { ...extra, message: `stopped after request ${index} of ${requests.length}, as ${stopping(run)}` });
    }
    const resolved = resolveRefs(planned, run.createdIds);
    if (!resolved.ok) return outcomeOf(operation, 'skipped', { ...extra, message: `depends on ${resolved.operation}, which left no id to refer to` });
    for (const dependency of resolved.dropped) tally.dropped.add(dependency);
    if (resolved.request === undefined) {
      if (tally.applied === 0) carried ??= planned.ifMatch;
      continue;
    }
    // The plan saw one version; after our own first chunk the resource has the version we made.
    let request = resolved.request;
    if (version !== undefined && request.ifMatch !== undefined) request = { ...request, ifMatch: version };
    else if (tally.applied === 0 && carried !== undefined && request.ifMatch === undefined) request = { ...request, ifMatch: carried };
    let sent = await send(run, operation, request);
    const fresh = sent.ok === false ? await movedByGroupWrite(run, operation, request, sent.failure) : undefined;
    if (fresh !== undefined) {
      const again = await send(run, operation, { ...request, ifMatch: fresh });
      // Cut off before it left: the 412 the first attempt met is what happened to the operation.
      if (again.ok !== 'not-sent') sent = again;
      if (again.ok === true) resent = RESENT;
    }
    if (sent.ok === 'not-sent') {
      run.cut = true;
      if (tally.applied === 0) return outcomeOf(operation, 'not-started', { ...extra, message: NOT_STARTED });
      return outcomeOf(operation, 'failed', { ...extra, message: cutAfter(index, requests.length) });
    }
    if (sent.ok) {
      tally.applied++;
      httpStatus = sent.result.status;
      version = versionAfter(sent.result);
      continue;
    }
    const failure = sent.failure;
    // A group update in chunks: only what the requests so far change can hold yet (chunked as the plan
    // chunks them: the adds, then the removes, `maxMembersPerPatch` to a request).
    const more = operation.kind === 'updateGroupMembers' && index < requests.length - 1;
    const upTo = more ? Math.max(1, run.plan.capabilities.maxMembersPerPatch) * (index + 1) : undefined;
    if (mayHaveLanded(operation, failure) && (await updateLanded(run.client, operation, (userName) => run.createdIds.get(createUserKey(userName)), upTo))) {
      tally.applied++;
      if (more) continue;
      return outcomeOf(operation, 'done', { ...extra, message: 'an earlier attempt landed (its answer was lost): confirmed by reading it back' });
    }
    const applied = tally.applied;
    const where = requests.length > 1 ? ` (request ${index + 1} of ${requests.length}${applied > 0 ? `; the first ${applied} were applied` : ''})` : '';
    const status = httpStatusOf(failure);
    if (failure.kind === 'http' && failure.status === 412) {
      return outcomeOf(operation, 'stale', { ...extra, ...status, message: `changed on the server since the plan (HTTP 412), not forced; re-run plan${where}` });
    }
    if (failure.kind === 'http' && failure.status === 404) {
      if (notFound === 'done') return outcomeOf(operation, 'done', { ...extra, ...status, message: 'already gone' });
      return outcomeOf(operation, 'stale', { ...extra, ...status, message: `no longer exists on the server (HTTP 404); re-run plan${where}` });
    }
    return outcomeOf(operation, 'failed', { ...extra, ...status, message: `${describeFailure(failure)}${where}` });
  }
  return outcomeOf(operation, 'done', { ...extra, ...(httpStatus === undefined ? {} : { httpStatus }), ...(resent === undefined ? {} : { message: resent }) });
}

interface Found {
  id: string;
  userName?: string;
  displayName?: string;
  externalId?: string;
}

function bodyField(request: WriteRequest | undefined, field: string): string | undefined {
  const value = (request?.body as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Reads apply makes to learn what its own writes did. They are sent even after SIGINT: they finish
 * work in flight (a create whose answer was lost), so that its outcome is known (SPEC §5).
 */
const READ_BACK = { evenIfInterrupted: true } as const;

/** Looks for the resource a create may already have made: by userName / displayName, then (for a 409) by externalId. */
async function findExisting(run: Run, operation: CreateUser | CreateGroup, externalId: string | undefined, byExternalId: boolean): Promise<Found | undefined> {
  if (operation.kind === 'createUser') {
    const byName = await run.client.findUserByUserName(operation.userName, READ_BACK);
    if (byName) return byName;
    return byExternalId && externalId !== undefined ? run.client.findUserByExternalId(externalId, READ_BACK) : undefined;
  }
  // No group filter in ScimReader: a listing, paid only after a failed or ambiguous group create.
  const groups = await run.client.listGroups(undefined, READ_BACK);
  const wanted = operation.displayName.toLowerCase();
  return (
    groups.find((group) => group.displayName.toLowerCase() === wanted) ??
    (byExternalId && externalId !== undefined ? groups.find((group) => group.externalId === externalId) : undefined)
  );
}

function subjectOf(operation: CreateUser | CreateGroup): string {
  return operation.kind === 'createUser' ? `user ${operation.userName}` : `group ${operation.displayName}`;
}

/**
 * A create that is safe to retry (SPEC §5): after an ambiguous failure, wait as every retry waits,
 * look, and adopt what is there; send again only when nothing is, within the retry policy's
 * attempts and time. A 409 is resolved the same way, and reported with the server's detail when
 * no lookup explains it (SPEC §5a).
 */
async function createResource(run: Run, operation: CreateUser | CreateGroup): Promise<OperationOutcome> {
  const [planned, ...rest] = operation.requests;
  if (!planned) return outcomeOf(operation, 'failed', { message: 'the plan holds no request for this create' });
  const resolved = resolveRefs(planned, run.createdIds);
  if (!resolved.ok) return outcomeOf(operation, 'skipped', { message: `depends on ${resolved.operation}, which left no id to refer to` });
  const dropped = new Set(resolved.dropped);
  if (resolved.request === undefined) return withoutMembers(run, operation, outcomeOf(operation, 'done'), dropped, false);
  const outcome = await createWith(run, operation, resolved.request, rest);
  return withoutMembers(run, operation, outcome, dropped, true);
}

async function createWith(run: Run, operation: CreateUser | CreateGroup, request: WriteRequest, rest: readonly WriteRequest[]): Promise<OperationOutcome> {
  const externalId = bodyField(request, 'externalId');

  const adopt = (found: Found, reason: string): OperationOutcome => {
    if (externalId !== undefined && found.externalId !== undefined && found.externalId !== externalId) {
      return outcomeOf(operation, 'failed', {
        message: `${reason}, but the ${subjectOf(operation)} on the server (id ${found.id}) has externalId ${JSON.stringify(found.externalId)}, not ${JSON.stringify(externalId)}; not adopted`,
      });
    }
    run.createdIds.set(operation.key, found.id);
    // The write's own audit line said `unknown` or `conflict`: this one says how it ended.
    audit(run, operation, { method: request.method, path: `${request.path}/${found.id}`, status: 200, durationMs: 0, outcome: 'adopted' });
    return outcomeOf(operation, 'adopted', { createdId: found.id, message: `${reason}: adopted the existing ${subjectOf(operation)} (id ${found.id})` });
  };

  const lookUp = (byExternalId: boolean): Promise<{ found: Found | undefined } | { error: unknown }> =>
    findExisting(run, operation, externalId, byExternalId).then(
      (found) => ({ found }),
      (error: unknown) => {
        noteReadFailure(run, error);
        return { error };
      },
    );
  // Sent, and the look-up that would tell whether it was applied could not be made: neither done nor failed.
  const unknown = (failure: WriteFailure, error: unknown): OperationOutcome => {
    const why = describeReadFailure(error);
    return outcomeOf(operation, 'unknown', {
      ...httpStatusOf(failure),
      message: `${describeFailure(failure)}; the look-up that would tell failed too (${why}), so whether the ${subjectOf(operation)} exists is unknown: a re-run looks again and converges`,
    });
  };

  // Where the create stands in its retries once an attempt's outcome was unknown, and that outcome.
  let retry: RetryState | undefined;
  let last: Extract<WriteFailure, { kind: 'unknown' }> | undefined;
  const firstSentAt = Date.now();
  for (;;) {
    const sent = await send(run, operation, request, retry);
    if (sent.ok === 'not-sent') {
      run.cut = true;
      // A create sent again after a look-up and cut off before it left: the earlier attempts were looked up, and missed.
      if (retry === undefined || last === undefined) return outcomeOf(operation, 'not-started', { message: NOT_STARTED });
      return outcomeOf(operation, 'failed', { ...httpStatusOf(last), message: `${describeFailure(last)}; ${notOnServer(operation, retry.attempts, true)}` });
    }
    if (sent.ok) {
      // The create is done whatever a failed look-up for its id says.
      const id = bodyField({ ...request, body: sent.result.body }, 'id') ?? (await findExisting(run, operation, externalId, false).catch(() => undefined))?.id;
      if (id === undefined) return outcomeOf(operation, 'done', { httpStatus: sent.result.status, message: 'created, but the server returned no id' });
      run.createdIds.set(operation.key, id);
      if (rest.length > 0) return sendRequests(run, operation, rest, 'stale', { createdId: id });
      return outcomeOf(operation, 'done', { httpStatus: sent.result.status, createdId: id });
    }
    const failure = sent.failure;
    if (failure.kind === 'unknown') {
      last = failure;
      // A writer that does not say where the POST stands: each write call was one attempt.
      retry = failure.retry ?? { attempts: (retry?.attempts ?? 0) + 1, startedAt: retry?.startedAt ?? firstSentAt };
      const next = await run.client.waitToRetry(retry, run.options.signal);
      const looked = await lookUp(false);
      if ('error' in looked) return unknown(failure, looked.error);
      const found = looked.found;
      if (found) return adopt(found, `the outcome of the create was unknown (${failure.status === undefined ? 'no response' : `HTTP ${failure.status}`})`);
      if (next === 'retry' && !stopping(run)) continue;
      if (next === 'retry') {
        return outcomeOf(operation, 'failed', { ...httpStatusOf(failure), message: `${describeFailure(failure)}; not sent again, as ${stopping(run)}` });
      }
      const interrupted = next === 'interrupted';
      run.cut ||= interrupted;
      return outcomeOf(operation, 'failed', {
        ...httpStatusOf(failure),
        message: `${describeFailure(failure)}; ${notOnServer(operation, retry.attempts, interrupted)}`,
      });
    }
    if (failure.kind === 'http' && failure.status === 409) {
      // After an earlier attempt whose outcome was unknown, the conflict may be that attempt's own user.
      const looked = await lookUp(true);
      if ('error' in looked) {
        if (retry !== undefined) return unknown(failure, looked.error);
        throw looked.error;
      }
      const found = looked.found;
      if (found) return adopt(found, 'HTTP 409 on create');
      return outcomeOf(operation, 'failed', {
        httpStatus: 409,
        message: `${describeFailure(failure)} (no ${operation.kind === 'createUser' ? 'user' : 'group'} with this ${operation.kind === 'createUser' ? 'userName' : 'displayName'} or externalId exists, so the conflict is on another attribute)`,
      });
    }
    return outcomeOf(operation, 'failed', { ...httpStatusOf(failure), message: describeFailure(failure) });
  }
}
