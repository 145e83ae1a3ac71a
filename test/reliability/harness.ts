/**
 * The pipeline `scimform apply --auto-approve` runs for one target — read live, computePlan,
 * guards, applyAndVerify, plan again — over loopback to an emulator with faults and quirks,
 * and the checks every reliability test makes of it: no write outside the plan, no user twice.
 */
import { expect } from 'vitest';
import { applyAndVerify, type TargetApplyResult } from '../../src/apply/index.js';
import type { ApplyOptions } from '../../src/apply/index.js';
import { startEmulator, type EmulatorOptions, type LoggedRequest, type RunningEmulator } from '../../src/emulator/index.js';
import type { DesiredGroup, DesiredState, DesiredUser, Policy, ProfileName, TargetConfig } from '../../src/model.js';
import { checkGuards, computePlan } from '../../src/plan/index.js';
import type { TargetPlan, WriteRequest } from '../../src/plan/types.js';
import { createScimClient, type ScimClient } from '../../src/scim/index.js';

export const TOKEN = 'reliability-token-3c9e51';

export const POLICY: Policy = {
  unmanagedUsers: 'deactivate',
  unmanagedGroups: 'ignore',
  allowDelete: false,
  maxRemovals: { kind: 'percent', value: 100, text: '100%' },
  scope: '*@example.com',
  protectedUsers: [],
  sources: {},
};

export interface Resources {
  emulator(options?: EmulatorOptions): Promise<RunningEmulator>;
  client(emu: RunningEmulator, options?: ClientSettings): ScimClient;
  closeAll(): Promise<void>;
}

export interface ClientSettings {
  concurrency?: number;
  timeoutSeconds?: number;
  maxAttempts?: number;
  profile?: ProfileName;
  pageSize?: number;
  pagination?: 'index' | 'cursor';
}

export function targetFor(emu: RunningEmulator, settings: ClientSettings = {}): TargetConfig {
  return {
    name: 'emu',
    url: emu.url,
    tokenEnv: 'EMU_TOKEN',
    profile: settings.profile ?? 'generic',
    concurrency: settings.concurrency ?? 4,
    timeoutSeconds: settings.timeoutSeconds ?? 5,
    ...(settings.pageSize === undefined ? {} : { pageSize: settings.pageSize }),
    ...(settings.pagination === undefined ? {} : { pagination: settings.pagination }),
    source: { file: 'scimform.yaml', line: 4, column: 3 },
  };
}

/** Emulators and clients closed together after each test. */
export function resources(): Resources {
  const open: { close(): Promise<void> }[] = [];
  return {
    async emulator(options = {}) {
      const emu = await startEmulator({ profile: 'generic', token: TOKEN, ...options });
      open.push(emu);
      return emu;
    },
    client(emu, settings = {}) {
      const client = createScimClient(targetFor(emu, settings), {
        token: TOKEN,
        readOnly: false,
        retry: { baseDelayMs: 1, maxDelayMs: 5, ...(settings.maxAttempts === undefined ? {} : { maxAttempts: settings.maxAttempts }) },
      });
      open.push(client);
      return client;
    },
    closeAll: async () => {
      await Promise.all(open.splice(0).map((resource) => resource.close()));
    },
  };
}

/** What `scimform plan` computes for one target (the reading half of the client). */
export async function planFor(emu: RunningEmulator, client: ScimClient, desired: DesiredState, policy: Policy = POLICY): Promise<TargetPlan> {
  const capabilities = await client.capabilities();
  const live = { users: await client.listUsers(), groups: await client.listGroups() };
  const plan = computePlan(desired, live, policy, capabilities);
  return {
    target: { name: 'emu', url: emu.url, profile: 'generic' },
    capabilities,
    fetch: { users: live.users.length, groups: live.groups.length, pages: 1, requests: 1, durationMs: 1 },
    plan,
    violations: checkGuards(plan, policy, desired, live, { allowMassRemoval: false }),
  };
}

export const isWrite = (request: LoggedRequest) => request.method !== 'GET';

/**
 * Every write the server received must be one the plan holds: same method and path, and the same
 * body unless the planned request refers to ids made during apply (then only method and path).
 * Retries of a planned request are allowed; anything else is a write nobody reviewed.
 */
export function unplannedWrites(plan: TargetPlan, writes: LoggedRequest[]): LoggedRequest[] {
  const planned: WriteRequest[] = plan.plan.operations.flatMap((operation) => operation.requests);
  return writes.filter((write) => {
    const matches = planned.filter((request) => request.method === write.method && request.path === write.path);
    return !matches.some((request) => (request.refs !== undefined && request.refs.length > 0) || JSON.stringify(request.body ?? null) === JSON.stringify(write.body ?? null));
  });
}

/** userNames that occur more than once (case-insensitively) among SCIM user resources. */
export function duplicatesIn(users: Record<string, unknown>[]): string[] {
  const seen = new Map<string, number>();
  for (const user of users) {
    const name = String(user.userName).toLowerCase();
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([name]) => name);
}

/** userNames the emulator holds more than once. */
export const duplicateUsers = (emu: RunningEmulator): string[] => duplicatesIn(emu.users());

export interface Round {
  plan: TargetPlan;
  result: TargetApplyResult;
  writes: LoggedRequest[];
}

/** Plans, checks the guards, applies and reads back; asserts no unplanned write and no duplicate user. */
export async function applyRound(
  emu: RunningEmulator,
  client: ScimClient,
  desired: DesiredState,
  options: Partial<ApplyOptions> & { policy?: Policy } = {},
): Promise<Round> {
  const policy = options.policy ?? POLICY;
  const plan = await planFor(emu, client, desired, policy);
  expect(plan.violations).toEqual([]);
  const mark = emu.requests.length;
  const result = await applyAndVerify(plan, client, desired, policy, { concurrency: 4, ...options });
  const writes = emu.requests.slice(mark).filter(isWrite);
  expect(unplannedWrites(plan, writes)).toEqual([]);
  expect(duplicateUsers(emu)).toEqual([]);
  return { plan, result, writes };
}

/** A re-run against a calm server plans nothing and writes nothing. */
export async function expectCleanRerun(emu: RunningEmulator, client: ScimClient, desired: DesiredState, policy: Policy = POLICY): Promise<void> {
  emu.setFaults(undefined);
  const mark = emu.requests.length;
  const plan = await planFor(emu, client, desired, policy);
  expect(plan.plan.operations).toEqual([]);
  expect(emu.requests.slice(mark).filter(isWrite)).toEqual([]);
}

const here = (file: string) => ({ file, line: 1, column: 3 });

export function person(i: number, extra: Partial<DesiredUser> = {}): DesiredUser {
  const userName = `user${String(i).padStart(3, '0')}@example.com`;
  return { userName, name: { givenName: `User${i}`, familyName: 'Example' }, source: here('identities/people.yaml'), ...extra };
}

export const people = (n: number, from = 0): DesiredUser[] => Array.from({ length: n }, (_, i) => person(from + i));

export function group(displayName: string, members: string[]): DesiredGroup {
  return { displayName, members, memberSources: members.map(() => here('identities/groups.yaml')), source: here('identities/groups.yaml') };
}

export function desired(users: DesiredUser[], groups: DesiredGroup[] = []): DesiredState {
  return { users, groups, files: [] };
}

/** The users the emulator holds, as `userName → active`, for exact comparisons with the desired state. */
export function liveUsers(emu: RunningEmulator): Record<string, boolean> {
  return Object.fromEntries(emu.users().map((user) => [String(user.userName).toLowerCase(), user.active !== false]));
}
