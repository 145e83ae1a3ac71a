/**
 * The fault matrix (integration, over loopback): one realistic change set — creates, updates,
 * reactivations, deactivations, a group created with new members, a group's members changed —
 * applied through each kind of fault a SCIM service shows. For each: apply converges, no user
 * exists twice, every write the server saw is one the plan holds (or a retry of it), and a
 * re-run against the calm server plans nothing.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { EmulatorFaults, EmulatorOptions } from '../../src/emulator/index.js';
import type { Policy } from '../../src/model.js';
import { applyExitCode, renderVerification } from '../../src/apply/index.js';
import { ScimformError } from '../../src/errors.js';
import { applyRound, desired, duplicatesIn, expectCleanRerun, group, liveUsers, people, person, planFor, POLICY, resources, unplannedWrites, type ClientSettings } from './harness.js';

const res = resources();
afterEach(() => res.closeAll());

/** 30 users live (25–29 deactivated), group Ops with five members. */
function initial(extraUsers: Record<string, unknown>[] = []): EmulatorOptions['initial'] {
  const users = Array.from({ length: 30 }, (_, i) => ({
    id: `u${i}`,
    userName: person(i).userName,
    name: { givenName: `User${i}`, familyName: 'Example' },
    active: i < 25,
  }));
  return {
    users: [...extraUsers, ...users],
    groups: [{ displayName: 'Ops', members: [0, 1, 2, 3, 4].map((i) => ({ value: `u${i}` })) }],
  };
}

/**
 * Keeps 0–19 (odd ones renamed in displayName), reactivates 25–29, drops 20–24 (deactivated),
 * creates 30–44; Ops loses 3 and 4 and gains 30 and 31; Devs is new with 5 and 32.
 */
function changeSet() {
  const kept = people(20).map((user, i) => (i % 2 === 1 ? { ...user, displayName: `Person ${i}` } : user));
  const users = [...kept, ...people(5, 25), ...people(15, 30)];
  const name = (i: number) => person(i).userName;
  return desired(users, [group('Ops', [0, 1, 2, 30, 31].map(name)), group('Devs', [5, 32].map(name))]);
}

const expectedUsers = (deleted = false) =>
  Object.fromEntries(
    Array.from({ length: 45 }, (_, i) => [person(i).userName, !(i >= 20 && i < 25)] as const).filter(([, active]) => active || !deleted),
  );

const DELETE_POLICY: Policy = { ...POLICY, unmanagedUsers: 'delete', allowDelete: true };

interface Case {
  name: string;
  faults?: EmulatorFaults;
  quirks?: EmulatorOptions['quirks'];
  client?: ClientSettings;
  policy?: Policy;
  /** Bystanders outside the scope, for the quirk that deletes while listing. */
  bystanders?: number;
  pagination?: 'index' | 'cursor';
}

const cases: Case[] = [
  { name: '429 storm without Retry-After', faults: { rate429: 0.35, seed: 1 } },
  // Retry-After is waited in full: fewer 429s keep this case to a few seconds.
  { name: '429s with Retry-After', faults: { rate429: 0.1, retryAfterSeconds: 1, seed: 2 } },
  { name: '5xx burst', faults: { rate5xx: 0.3, seed: 3 } },
  { name: 'connection resets', faults: { rateReset: 0.3, seed: 4 } },
  { name: 'lost responses on POST (user and group creates)', faults: { rateLostResponse: 0.5, onlyMethods: ['POST'], seed: 5 } },
  { name: 'lost responses on PATCH (updates, (de)activations, members)', faults: { rateLostResponse: 0.5, onlyMethods: ['PATCH'], seed: 6 } },
  { name: 'lost responses on DELETE', faults: { rateLostResponse: 0.7, onlyMethods: ['DELETE'], seed: 7 }, policy: DELETE_POLICY },
  { name: 'lost responses on every write kind, cursor pagination', faults: { rateLostResponse: 0.3, seed: 8 }, policy: DELETE_POLICY, pagination: 'cursor' },
  { name: 'slow creates past the timeout', faults: { latencyMs: 250, onlyMethods: ['POST'] }, client: { timeoutSeconds: 0.15 } },
  { name: 'a server that ignores count', quirks: { fixedPageSize: 7 }, client: { pageSize: 10 } },
  { name: 'a server that ignores count, cursor pagination', quirks: { fixedPageSize: 7 }, client: { pageSize: 10 }, pagination: 'cursor' },
  { name: 'overlapping pages', quirks: { overlap: 3 }, client: { pageSize: 10 } },
  { name: 'a server that changes while it is listed (index)', quirks: { removeWhileListing: '@bystander.test' }, bystanders: 12, client: { pageSize: 8 } },
  {
    name: 'a server that changes while it is listed (cursor)',
    quirks: { removeWhileListing: '@bystander.test' },
    bystanders: 12,
    client: { pageSize: 8 },
    pagination: 'cursor',
  },
  { name: 'a server that ignores filters, with lost create responses', quirks: { ignoreFilters: true, fixedPageSize: 10 }, faults: { rateLostResponse: 0.5, onlyMethods: ['POST'], seed: 9 }, client: { pageSize: 10 } },
  { name: 'everything at once', faults: { rate429: 0.1, rate5xx: 0.1, rateReset: 0.1, rateLostResponse: 0.1, seed: 10 }, quirks: { overlap: 2 }, client: { pageSize: 10 } },
];

describe('apply through faults converges without duplicates or unplanned writes', () => {
  test.each(cases)('$name', async ({ faults, quirks, client: settings, policy = POLICY, bystanders = 0, pagination }) => {
    const extra = Array.from({ length: bystanders }, (_, i) => ({ userName: `b${i}@bystander.test` }));
    const emu = await res.emulator({ initial: initial(extra), ...(pagination ? { pagination } : {}) });
    const client = res.client(emu, { maxAttempts: 12, ...settings });
    const want = changeSet();
    // Faults and quirks start after the set-up, so they fall on the plan and the apply.
    if (faults) emu.setFaults(faults);
    if (quirks) emu.setQuirks(quirks);

    const { plan, result } = await applyRound(emu, client, want, { policy });
    expect(plan.plan.operations.length).toBeGreaterThan(0);
    expect(result.report.counts).toMatchObject({ failed: 0, skipped: 0, notStarted: 0 });
    expect(result.verification?.converged).toBe(true);

    emu.setQuirks(undefined);
    const bystandersLeft = Object.keys(liveUsers(emu)).filter((name) => name.endsWith('@bystander.test'));
    const inScope = Object.fromEntries(Object.entries(liveUsers(emu)).filter(([name]) => !name.endsWith('@bystander.test')));
    expect(inScope).toEqual(expectedUsers(policy.unmanagedUsers === 'delete'));
    expect(bystandersLeft.length).toBeLessThanOrEqual(bystanders);
    const ops = emu.groups().find((g) => g.displayName === 'Ops');
    const idOf = new Map(emu.users().map((user) => [user.id, String(user.userName)]));
    expect(((ops?.members ?? []) as { value: string }[]).map((m) => idOf.get(m.value)).sort()).toEqual([0, 1, 2, 30, 31].map((i) => person(i).userName));
    await expectCleanRerun(emu, client, want, policy);
  });
});

test('updates slower than the timeout: each is confirmed by reading it back or reported with what is known, and nothing is sent twice blindly', { timeout: 20_000 }, async () => {
  const emu = await res.emulator({ initial: initial() });
  const client = res.client(emu, { maxAttempts: 2, timeoutSeconds: 0.15 });
  const want = changeSet();
  emu.setFaults({ latencyMs: 250, onlyMethods: ['PATCH'] });
  const { plan, result, writes } = await applyRound(emu, client, want);
  const patched = plan.plan.operations.filter((operation) => operation.requests.some((request) => request.method === 'PATCH'));
  const outcomes = result.report.outcomes.filter((outcome) => patched.some((operation) => operation.key === outcome.key));
  expect(outcomes).toHaveLength(patched.length);
  for (const outcome of outcomes) {
    // A PATCH that landed while its answer was late is done (read back); one not yet visible says it may have been applied.
    if (outcome.status === 'done') expect(outcome.message).toBe('an earlier attempt landed (its answer was lost): confirmed by reading it back');
    else expect(outcome).toMatchObject({ status: 'failed', message: expect.stringMatching(/^PATCH \S+ timed out: no answer within 150 ms \(2 attempts\); it may have been applied$/) });
  }
  // Each PATCH is sent at most twice (one retry, guarded by If-Match), and the read-back finds every change in place.
  expect(writes.filter((write) => write.method === 'PATCH').length).toBeLessThanOrEqual(2 * patched.length);
  expect(result.verification?.converged).toBe(true);
  expect(applyExitCode([result])).toBe(outcomes.every((outcome) => outcome.status === 'done') ? 0 : 1);
  await expectCleanRerun(emu, client, want);
});

describe('faults that do not pass stop with a precise error and write nothing', () => {
  test.each([
    { name: 'every response slower than the timeout', faults: { latencyMs: 300 }, message: /timed out|did not answer|no answer/i },
    { name: 'a 503 on every request', faults: { rate5xx: 1 }, message: /503/ },
    { name: 'a 429 on every request', faults: { rate429: 1 }, message: /429/ },
    { name: 'every connection reset', faults: { rateReset: 1 }, message: /reset|closed|connection/i },
  ])('$name', async ({ faults, message }) => {
    const emu = await res.emulator({ initial: initial() });
    emu.setFaults({ ...faults, seed: 1 });
    const client = res.client(emu, { maxAttempts: 3, timeoutSeconds: 0.1 });
    const error = await planFor(emu, client, changeSet()).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    expect(emu.requests.filter((request) => request.method !== 'GET')).toEqual([]);
  });
});

test('an index listing that keeps shifting under deletions is refused, not trusted', async () => {
  const extra = Array.from({ length: 200 }, (_, i) => ({ userName: `b${i}@bystander.test` }));
  const emu = await res.emulator({ initial: initial(extra), quirks: { removeWhileListing: '@bystander.test' } });
  const client = res.client(emu, { pageSize: 8 });
  await expect(planFor(emu, client, changeSet())).rejects.toThrow('listing /Users was not consistent: the collection changed while it was read, 4 times in a row');
  expect(emu.requests.filter((request) => request.method !== 'GET')).toEqual([]);
});

test('a user the server answers 201 for but does not keep: apply exits 1 naming it, and never makes it twice', async () => {
  const emu = await res.emulator({ quirks: { dropDomains: ['refused.test'] } });
  const client = res.client(emu);
  const { scope: _scope, ...everyone } = POLICY;
  const refused = person(1, { userName: 'new.hire@refused.test' });
  const want = desired([person(0), refused]);
  const { result } = await applyRound(emu, client, want, { policy: everyone });
  expect(result.report.counts).toMatchObject({ created: 2, failed: 0 });
  expect(applyExitCode([result])).toBe(1);
  expect(renderVerification('emu', result.verification!, { outcomes: result.report.outcomes })).toBe(
    'emu: not converged, 1 difference remains after apply:\n  new.hire@refused.test: the server accepted the create but does not have the user\n',
  );
  expect(liveUsers(emu)).toEqual({ [person(0).userName]: true });
  // The next run asks again (one create), and the server still does not keep it.
  const again = await applyRound(emu, client, want, { policy: everyone });
  expect(again.writes.map((write) => `${write.method} ${write.path}`)).toEqual(['POST /Users']);
  expect(again.result.verification?.converged).toBe(false);
});

describe('the checks themselves catch what they are for', () => {
  test('a write nobody planned, or a planned path with another body, is reported; retries are not', async () => {
    const emu = await res.emulator({ initial: initial() });
    const client = res.client(emu);
    const plan = await planFor(emu, client, changeSet());
    const [first] = plan.plan.operations.filter((operation) => operation.kind === 'updateUser');
    const request = first!.requests[0]!;
    const logged = (method: string, path: string, body: unknown) => ({ method, path, query: {}, status: 200, body, time: '' });
    expect(unplannedWrites(plan, [logged(request.method, request.path, request.body), logged(request.method, request.path, request.body)])).toEqual([]);
    expect(unplannedWrites(plan, [logged('DELETE', request.path, undefined)])).toHaveLength(1);
    expect(unplannedWrites(plan, [logged(request.method, request.path, { Operations: [{ op: 'replace', path: 'active', value: false }] })])).toHaveLength(1);
    expect(unplannedWrites(plan, [logged('PATCH', '/Users/someone-else', request.body)])).toHaveLength(1);
  });

  test.each([
    [['a@example.com', 'b@example.com'], []],
    [['a@example.com', 'A@example.com', 'b@example.com'], ['a@example.com']],
  ])('users %j: duplicates %j', (names, expected) => {
    expect(duplicatesIn(names.map((userName) => ({ userName })))).toEqual(expected);
  });
});
