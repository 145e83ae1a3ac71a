/** A few-line SCIM service for unit tests of apply: scripted write answers, fixed live state, every call recorded. */
import type { Capabilities, DesiredGroup, DesiredState, DesiredUser, LiveGroup, LiveUser, Policy } from '../../src/model.js';
import type { Operation, TargetPlan, WriteRequest } from '../../src/plan/types.js';
import type { RetryState } from '../../src/scim/retry.js';
import type { ScimReader, ScimWriter, WriteResult } from '../../src/scim/types.js';
import { profileDefaults } from '../../src/scim/capabilities.js';

export const CAPABILITIES: Capabilities = profileDefaults('generic');

export function liveUser(id: string, userName: string, extra: Partial<LiveUser> = {}): LiveUser {
  return { id, userName, active: true, resource: { id, userName, active: true }, ...extra };
}

export function targetPlan(operations: Operation[], fetch: Partial<TargetPlan['fetch']> = {}): TargetPlan {
  return {
    target: { name: 'test', url: 'http://127.0.0.1:1/scim/v2', profile: 'generic' },
    capabilities: CAPABILITIES,
    fetch: { users: 0, groups: 0, pages: 1, requests: 1, durationMs: 1, ...fetch },
    plan: {
      operations,
      summary: { create: 0, update: 0, deactivate: 0, delete: 0, manual: 0 },
      removals: { removals: 0, liveUsersInScope: 0, limit: { kind: 'percent', value: 25, text: '25%' } },
      emptiedGroups: [],
    },
    violations: [],
  };
}

const here = { kind: 'declaration' as const, location: { file: 'identities/a.yaml', line: 1, column: 3 } };
const fp = { kind: 'hash' as const, value: 'h' };

export const op = {
  createUser: (userName: string, extra: { externalId?: string } = {}): Operation => ({
    kind: 'createUser',
    key: `user:${userName.toLowerCase()}`,
    userName,
    provenance: here,
    changes: [{ path: 'userName', new: userName }],
    requests: [{ method: 'POST', path: '/Users', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, ...extra } }],
  }),
  updateUser: (id: string, userName: string, kind: 'updateUser' | 'reactivateUser' | 'deactivateUser' = 'updateUser', ifMatch?: string): Operation => ({
    kind,
    key: `user:${userName.toLowerCase()}`,
    id,
    userName,
    provenance: here,
    changes: [{ path: 'active', old: true, new: kind !== 'deactivateUser' }],
    fingerprint: ifMatch ? { kind: 'version', value: ifMatch } : fp,
    requests: [
      {
        method: 'PATCH',
        path: `/Users/${id}`,
        body: { Operations: [{ op: 'replace', path: 'active', value: kind !== 'deactivateUser' }] },
        ...(ifMatch ? { ifMatch } : {}),
      },
    ],
  }),
  deleteUser: (id: string, userName: string): Operation => ({
    kind: 'deleteUser',
    key: `user:${userName.toLowerCase()}`,
    id,
    userName,
    provenance: here,
    fingerprint: fp,
    requests: [{ method: 'DELETE', path: `/Users/${id}` }],
  }),
  deleteGroup: (id: string, displayName: string): Operation => ({
    kind: 'deleteGroup',
    key: `group:${displayName}`,
    id,
    displayName,
    provenance: { kind: 'policy', rule: 'unmanagedGroups', value: 'delete' },
    fingerprint: fp,
    requests: [{ method: 'DELETE', path: `/Groups/${id}` }],
  }),
  createGroup: (displayName: string, members: string[]): Operation => ({
    kind: 'createGroup',
    key: `group:${displayName}`,
    displayName,
    members: members.map((userName) => ({ userName })),
    provenance: here,
    requests: [
      {
        method: 'POST',
        path: '/Groups',
        body: { displayName, members: members.map((userName) => ({ value: userName })) },
        refs: members.map((userName, index) => ({ pointer: `/members/${index}/value`, operation: `user:${userName.toLowerCase()}` })),
      },
    ],
  }),
  updateGroupMembers: (id: string, displayName: string, requests: WriteRequest[]): Operation => ({
    kind: 'updateGroupMembers',
    key: `group:${displayName}`,
    id,
    displayName,
    changes: [],
    add: [],
    remove: [],
    provenance: here,
    fingerprint: fp,
    requests,
  }),
  manual: (n: number, subject: string): Operation => ({
    kind: 'manual',
    key: `manual:${n}`,
    subject,
    reason: "this target's groups are read-only",
    provenance: here,
    requests: [],
  }),
};

export type Responder = (request: WriteRequest, attempt: number) => WriteResult | Promise<WriteResult>;

export interface FakeScim {
  client: ScimReader & ScimWriter;
  writes: WriteRequest[];
  reads: string[];
  /** For each write, the retries it was asked to continue (`WriteOptions.retry`). */
  continued: (RetryState | undefined)[];
  /** Every `waitToRetry` call, with the state it was given. */
  waits: RetryState[];
  /** Writes (`POST /Users`), reads and waits (`wait 1`) in the order they happened. */
  log: string[];
  /** The most write calls that were pending at the same time. */
  maxInFlight: () => number;
}

/**
 * `respond` answers each write (throw to fail it); `attempt` counts earlier writes to the same
 * method + path. `waitToRetry` waits for nothing, allows `maxAttempts` sends (default 3) and
 * stops at the signal.
 */
export function fakeScim(respond: Responder, live: { users?: LiveUser[]; groups?: LiveGroup[]; maxAttempts?: number } = {}): FakeScim {
  const writes: WriteRequest[] = [];
  const log: string[] = [];
  const waits: RetryState[] = [];
  const continued: (RetryState | undefined)[] = [];
  const reads: string[] = [];
  const read = (entry: string) => (reads.push(entry), log.push(entry));
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let most = 0;
  const users = live.users ?? [];
  const groups = live.groups ?? [];
  const client: ScimReader & ScimWriter = {
    capabilities: async () => CAPABILITIES,
    listUsers: async () => (read('listUsers'), users),
    listGroups: async () => (read('listGroups'), groups),
    getUser: async (id) => (read(`getUser ${id}`), users.find((user) => user.id === id)),
    getGroup: async (id) => (read(`getGroup ${id}`), groups.find((group) => group.id === id)),
    findUserByUserName: async (userName) => (
      read(`findUserByUserName ${userName}`), users.find((user) => user.userName.toLowerCase() === userName.toLowerCase())
    ),
    findUserByExternalId: async (externalId) => (read(`findUserByExternalId ${externalId}`), users.find((user) => user.externalId === externalId)),
    stats: () => ({ requests: {}, pages: 0, retries: 0 }),
    waitToRetry: async (state, signal) => {
      waits.push(state);
      log.push(`wait ${state.attempts}`);
      if (state.attempts >= (live.maxAttempts ?? 3)) return 'exhausted';
      return signal?.aborted ? 'interrupted' : 'retry';
    },
    write: async (request, options) => {
      continued.push(options?.retry);
      const sendKey = `${request.method} ${request.path}`;
      const attempt = (attempts.get(sendKey) ?? 0) + 1;
      attempts.set(sendKey, attempt);
      writes.push(request);
      log.push(sendKey);
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await respond(request, attempt);
      } finally {
        inFlight--;
      }
    },
  };
  return { client, writes, reads, continued, waits, log, maxInFlight: () => most };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A server that accepts everything: 201 with a fresh id for POST, 200 for PATCH, 204 for DELETE. */
export function acceptAll(): Responder {
  let next = 0;
  return (request) => {
    if (request.method === 'POST') return { status: 201, body: { ...(request.body as object), id: `new-${++next}` } };
    if (request.method === 'DELETE') return { status: 204 };
    return { status: 200, body: {} };
  };
}

export const POLICY: Policy = {
  unmanagedUsers: 'deactivate',
  unmanagedGroups: 'ignore',
  allowDelete: false,
  maxRemovals: { kind: 'percent', value: 25, text: '25%' },
  protectedUsers: [],
  sources: {},
};

export function desiredUser(userName: string, extra: Partial<DesiredUser> = {}): DesiredUser {
  return { userName, source: { file: 'identities/people.yaml', line: 1, column: 3 }, ...extra };
}

export function desiredGroup(displayName: string, members: string[]): DesiredGroup {
  const source = { file: 'identities/groups.yaml', line: 1, column: 3 };
  return { displayName, members, memberSources: members.map(() => source), source };
}

export function desiredState(users: DesiredUser[], groups: DesiredGroup[] = []): DesiredState {
  return { users, groups, files: [] };
}
