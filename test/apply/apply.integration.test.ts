/**
 * apply end to end, over loopback: the emulator, the real client, the real planner. Every test
 * counts the writes the emulator received: they must equal the requests of the operations that
 * ran plus the retries the injected faults caused, and nothing more.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { applyAndVerify, applyExitCode, applyPlan, assertPlanFresh, openAuditLog, renderApplyReport, renderTargetResult, renderVerification, verifyConverged } from '../../src/apply/index.js';
import type { ApplyOptions, ApplyReport, AuditEntry } from '../../src/apply/index.js';
import { loadConfig, loadDesiredState } from '../../src/config/index.js';
import { startEmulator, type EmulatorOptions, type LoggedRequest, type RunningEmulator } from '../../src/emulator/index.js';
import type { Capabilities, DesiredState, DesiredUser, ProfileName, TargetConfig } from '../../src/model.js';
import { checkGuards, computePlan } from '../../src/plan/index.js';
import { computeDigest } from '../../src/plan/saved.js';
import type { SavedPlan, TargetPlan } from '../../src/plan/types.js';
import { createScimClient, type ScimClient } from '../../src/scim/index.js';
import { desiredGroup, desiredState, desiredUser, POLICY } from './fakes.js';

const TOKEN = 'integration-token-7f3a';
const running: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((resource) => resource.close()));
});

async function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const emu = await startEmulator({ profile: 'generic', token: TOKEN, ...options });
  running.push(emu);
  return emu;
}

function targetFor(emu: RunningEmulator, concurrency = 4, profile: ProfileName = 'generic'): TargetConfig {
  return { name: 'emu', url: emu.url, tokenEnv: 'EMU_TOKEN', profile, concurrency, timeoutSeconds: 5, source: { file: 'scimform.yaml', line: 4, column: 3 } };
}

function clientFor(emu: RunningEmulator, concurrency = 4, retry: { maxAttempts?: number } = {}, profile: ProfileName = 'generic'): ScimClient {
  const client = createScimClient(targetFor(emu, concurrency, profile), { token: TOKEN, readOnly: false, retry: { baseDelayMs: 1, maxDelayMs: 5, ...retry }, random: () => 0.5 });
  running.push(client);
  return client;
}

/** What `scimform plan` computes for one target. */
async function planTarget(emu: RunningEmulator, client: ScimClient, desired: DesiredState, overrides: Partial<Capabilities> = {}): Promise<TargetPlan> {
  const capabilities = { ...(await client.capabilities()), ...overrides };
  const live = { users: await client.listUsers(), groups: await client.listGroups() };
  const plan = computePlan(desired, live, POLICY, capabilities);
  return {
    target: { name: 'emu', url: emu.url, profile: 'generic' },
    capabilities,
    fetch: { users: live.users.length, groups: live.groups.length, pages: 2, requests: 3, durationMs: 1 },
    plan,
    violations: checkGuards(plan, POLICY, desired, live, { allowMassRemoval: false }),
  };
}

const isWrite = (request: LoggedRequest) => request.method !== 'GET';
const writesSince = (emu: RunningEmulator, mark: number) => emu.requests.slice(mark).filter(isWrite);
const requestsOf = (plan: TargetPlan) => plan.plan.operations.reduce((sum, operation) => sum + operation.requests.length, 0);

/** Plans, applies, reads back: the whole of `scimform apply --auto-approve` for one target. */
async function planAndApply(emu: RunningEmulator, client: ScimClient, desired: DesiredState, options: Partial<ApplyOptions> = {}) {
  const plan = await planTarget(emu, client, desired);
  expect(plan.violations).toEqual([]);
  const mark = emu.requests.length;
  const report = await applyPlan(plan, client, { concurrency: 4, ...options });
  const writes = writesSince(emu, mark);
  const verification = await verifyConverged(desired, POLICY, plan.capabilities, client, plan.plan.operations);
  return { plan, report, writes, verification };
}

const people = (n: number): DesiredUser[] =>
  Array.from({ length: n }, (_, i) => desiredUser(`user${String(i).padStart(2, '0')}@example.com`, { name: { givenName: `User${i}`, familyName: 'Example' } }));

function liveUserNames(emu: RunningEmulator): string[] {
  return emu.users().map((user) => String(user.userName).toLowerCase()).sort();
}

function expectClean(report: ApplyReport): void {
  expect(report.counts).toMatchObject({ failed: 0, skipped: 0, stale: 0, notStarted: 0 });
  expect(report.interrupted).toBe(false);
}

describe('apply against the emulator', () => {
  test('bootstraps an empty target: one write per operation, group members by their new ids, converged', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const desired = desiredState(people(5), [desiredGroup('Admins', ['user00@example.com', 'user03@example.com'])]);
    const { plan, report, writes, verification } = await planAndApply(emu, client, desired);

    expectClean(report);
    expect(report.counts.created).toBe(6);
    expect(writes.map((w) => `${w.method} ${w.path}`).sort()).toEqual([...Array(5).fill('POST /Users'), 'POST /Groups'].sort());
    expect(writes).toHaveLength(requestsOf(plan));
    expect(report.writes).toBe(writes.length);
    expect(liveUserNames(emu)).toEqual(people(5).map((user) => user.userName));
    const ids = new Map(emu.users().map((user) => [user.userName, user.id]));
    const [admins] = emu.groups();
    expect((admins?.members as { value: string }[]).map((member) => member.value).sort()).toEqual([ids.get('user00@example.com'), ids.get('user03@example.com')].sort());
    expect(verification.converged).toBe(true);
    expect(renderVerification('emu', verification)).toBe('emu: converged.\n');
  });

  test('re-applying the same desired state writes nothing', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const desired = desiredState(people(4), [desiredGroup('Ops', ['user01@example.com'])]);
    await planAndApply(emu, client, desired);
    const again = await planAndApply(emu, client, desired);
    expect(again.plan.plan.operations).toEqual([]);
    expect(again.writes).toEqual([]);
    expect(again.report.writes).toBe(0);
    expect(again.verification.converged).toBe(true);
  });

  test('one changed attribute is exactly one PATCH with one operation', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const users = people(3);
    await planAndApply(emu, client, desiredState(users));
    const changed = users.map((user, i) => (i === 1 ? { ...user, name: { givenName: 'User1', familyName: 'Smith' } } : user));
    const { report, writes, verification } = await planAndApply(emu, client, desiredState(changed));
    expectClean(report);
    expect(writes).toHaveLength(1);
    const [patch] = writes;
    expect(patch?.method).toBe('PATCH');
    expect((patch?.body as { Operations: unknown[] }).Operations).toEqual([{ op: 'replace', path: 'name.familyName', value: 'Smith' }]);
    expect(report.counts).toMatchObject({ updated: 1, created: 0 });
    expect(verification.converged).toBe(true);
  });

  test('a user removed from git is deactivated with PATCH active false, never DELETEd', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const users = people(3);
    await planAndApply(emu, client, desiredState(users));
    const { report, writes, verification } = await planAndApply(emu, client, desiredState(users.slice(0, 2)));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ method: 'PATCH', body: { Operations: [{ op: 'replace', path: 'active', value: false }] } });
    expect(emu.requests.some((request) => request.method === 'DELETE')).toBe(false);
    expect(report.counts).toMatchObject({ deactivated: 1 });
    expect(emu.users().find((user) => user.userName === 'user02@example.com')?.active).toBe(false);
    expect(verification.converged).toBe(true);
  });

  test('a member whose id holds a control character is removed by a members[value eq "…"] path the server can parse', async () => {
    const id = 'u\tx';
    const emu = await emulator({
      initial: {
        users: [{ id, userName: 'tab@example.com' }, { id: 'b', userName: 'b@example.com' }],
        groups: [{ id: 'g', displayName: 'Ops', members: [{ value: id }, { value: 'b' }] }],
      },
    });
    const client = clientFor(emu);
    const desired = desiredState([desiredUser('tab@example.com'), desiredUser('b@example.com')], [desiredGroup('Ops', ['b@example.com'])]);
    const { report, writes, verification } = await planAndApply(emu, client, desired);
    expect(writes.map((write) => (write.body as { Operations: unknown[] }).Operations)).toEqual([[{ op: 'remove', path: 'members[value eq "u\\tx"]' }]]);
    expectClean(report);
    expect(emu.groups()[0]?.members).toEqual([expect.objectContaining({ value: 'b' })]);
    expect(verification.converged).toBe(true);
  });

  describe('a server that gives a user a new version when its groups change', () => {
    /** user00 and user01 in group Ops, applied; then the state that takes user01 out of Ops and deactivates it. */
    async function opsOfTwo() {
      const emu = await emulator({ quirks: { membershipChangesUserVersion: true } });
      const client = clientFor(emu);
      const users = people(2);
      await planAndApply(emu, client, desiredState(users, [desiredGroup('Ops', ['user00@example.com', 'user01@example.com'])]));
      const id = String(emu.users().find((user) => user.userName === 'user01@example.com')?.id);
      return { emu, client, id, withoutUser01: desiredState([users[0]!], [desiredGroup('Ops', ['user00@example.com'])]) };
    }

    test('a member removed from a group and then deactivated is not reported stale for the version apply itself moved', async () => {
      const { emu, client, withoutUser01 } = await opsOfTwo();
      const { plan, report, writes, verification } = await planAndApply(emu, client, withoutUser01);
      expect(plan.plan.operations.map((operation) => operation.kind)).toEqual(expect.arrayContaining(['updateGroupMembers', 'deactivateUser']));
      expectClean(report);
      expect(report.counts).toMatchObject({ updated: 1, deactivated: 1 });
      // The 412 the group write caused, then the deactivation with the version read back.
      expect(writes.map((write) => `${write.method} ${write.status}`)).toEqual(['PATCH 200', 'PATCH 412', 'PATCH 200']);
      // The report says the 412 was met and why the PATCH went again.
      const deactivation = report.outcomes.find((outcome) => outcome.key === 'user:user01@example.com');
      expect(deactivation).toMatchObject({ status: 'done', httpStatus: 200 });
      expect(deactivation?.message).toMatch(/met 412 after this apply's group write .* sent once more with the version read back/);
      expect(renderApplyReport(report, { color: false, verbose: true })).toContain('sent once more with the version read back');
      expect(emu.users().find((user) => user.userName === 'user01@example.com')?.active).toBe(false);
      expect(verification.converged).toBe(true);
    });

    test('a user someone else renamed meanwhile is still stale, and not forced', async () => {
      const { emu, client, withoutUser01, id } = await opsOfTwo();
      const plan = await planTarget(emu, client, withoutUser01);
      // The plan deactivates user01 as no longer declared; under its new userName it is someone else's call.
      await clientFor(emu).write({ method: 'PATCH', path: `/Users/${id}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'userName', value: 'renamed@example.com' }] } });
      const report = await applyPlan(plan, client, { concurrency: 2 });
      expect(report.outcomes).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'user:user01@example.com', status: 'stale', httpStatus: 412 })]));
      expect(emu.users().find((user) => user.id === id)).toMatchObject({ active: true, userName: 'renamed@example.com' });
    });

    test('a user changed by someone else is still stale when the group write that would have moved its version was refused', async () => {
      const { emu, client, withoutUser01, id } = await opsOfTwo();
      const plan = await planTarget(emu, client, withoutUser01);
      const groupId = String(emu.groups()[0]?.id);
      // Someone else edits the group (its PATCH meets 412, so no membership moves) and the user.
      const other = clientFor(emu);
      await other.write({ method: 'PATCH', path: `/Groups/${groupId}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'externalId', value: 'ops-1' }] } });
      await other.write({ method: 'PATCH', path: `/Users/${id}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Someone Else' }] } });
      const mark = emu.requests.length;
      const report = await applyPlan(plan, client, { concurrency: 2 });
      expect(report.outcomes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'updateGroupMembers', status: 'stale', httpStatus: 412 }),
          expect.objectContaining({ key: 'user:user01@example.com', status: 'stale', httpStatus: 412 }),
        ]),
      );
      expect(writesSince(emu, mark).map((write) => `${write.method} ${write.status}`)).toEqual(['PATCH 412', 'PATCH 412']);
      expect(emu.users().find((user) => user.id === id)).toMatchObject({ active: true, displayName: 'Someone Else' });
    });
  });

  test('a saved plan whose resource changed live is refused with zero writes', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const users = people(2);
    await planAndApply(emu, client, desiredState(users));
    const desired = desiredState([users[0]!, { ...users[1]!, displayName: 'Planned' }]);
    const plan = await planTarget(emu, client, desired);
    const saved: SavedPlan = { formatVersion: 1, scimformVersion: '0.1.0', createdAt: new Date().toISOString(), digest: 'd', config: 'scimform.yaml', targets: [plan] };

    // Someone edits the user between plan and apply.
    const id = String(emu.users().find((user) => user.userName === 'user01@example.com')?.id);
    await clientFor(emu).write({ method: 'PATCH', path: `/Users/${id}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Someone Else' }] } });

    const mark = emu.requests.length;
    await expect(assertPlanFresh(saved, { digest: 'd' }, () => client)).rejects.toThrow(
      'saved plan is stale: emu: user user01@example.com changed on the server since the plan, re-run plan',
    );
    expect(writesSince(emu, mark)).toEqual([]);
    // Version fingerprints and one operation: one GET is cheaper than listing every user.
    expect(emu.requests.slice(mark).map((request) => `${request.method} ${request.path}`)).toEqual([`GET /Users/${id}`]);
  });

  test('a saved plan made before an identity file was edited is refused before the target is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scimform-apply-'));
    const emu = await emulator();
    writeFileSync(
      join(dir, 'scimform.yaml'),
      `version: 1\ndesired:\n  - identities/*.yaml\ntargets:\n  emu:\n    url: ${emu.url}\n    tokenEnv: EMU_TOKEN\n`,
    );
    mkdirSync(join(dir, 'identities'));
    const identity = join(dir, 'identities', 'people.yaml');
    writeFileSync(identity, 'users:\n  - userName: jane@example.com\n');
    const config = await loadConfig(join(dir, 'scimform.yaml'));
    const before = await loadDesiredState(config);
    const client = clientFor(emu);
    const plan = await planTarget(emu, client, before);
    const saved: SavedPlan = {
      formatVersion: 1,
      scimformVersion: '0.1.0',
      createdAt: new Date().toISOString(),
      digest: computeDigest(before.files),
      config: 'scimform.yaml',
      files: before.files,
      targets: [plan],
    };

    writeFileSync(identity, 'users:\n  - userName: jane@example.com\n  - userName: bob@example.com\n');
    const after = await loadDesiredState(config);
    const mark = emu.requests.length;
    await expect(assertPlanFresh(saved, { digest: computeDigest(after.files), files: after.files }, () => client)).rejects.toThrow(
      'saved plan is stale: identities/people.yaml changed, re-run plan',
    );
    expect(emu.requests.length).toBe(mark);
    // Unchanged files: the same plan passes.
    writeFileSync(identity, 'users:\n  - userName: jane@example.com\n');
    const restored = await loadDesiredState(config);
    await expect(assertPlanFresh(saved, { digest: computeDigest(restored.files) }, () => client)).resolves.toBeUndefined();
  });

  test('a PATCH refused with 412 is reported stale and not forced', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const users = people(2);
    await planAndApply(emu, client, desiredState(users));
    const plan = await planTarget(emu, client, desiredState([users[0]!, { ...users[1]!, displayName: 'Planned' }]));
    expect(plan.plan.operations[0]?.requests[0]?.ifMatch).toBeDefined();
    const id = String(emu.users().find((user) => user.userName === 'user01@example.com')?.id);
    await clientFor(emu).write({ method: 'PATCH', path: `/Users/${id}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Someone Else' }] } });

    const mark = emu.requests.length;
    const report = await applyPlan(plan, client, { concurrency: 2 });
    expect(report.outcomes).toEqual([expect.objectContaining({ key: 'user:user01@example.com', status: 'stale', httpStatus: 412 })]);
    expect(writesSince(emu, mark)).toHaveLength(1);
    expect(emu.users().find((user) => user.id === id)?.displayName).toBe('Someone Else');
  });

  test.each([
    { name: '429 storm', faults: { rate429: 0.4 } },
    { name: '503 storm', faults: { rate5xx: 0.3 } },
    { name: 'connection-reset storm', faults: { rateReset: 0.3 } },
    { name: 'mixed storm with Retry-After', faults: { rate429: 0.15, retryAfterSeconds: 0, rate5xx: 0.1, rateReset: 0.1 } },
  ])('a $name converges; writes = operations + the retries the faults caused', async ({ faults }) => {
    const emu = await emulator({ faults: { ...faults, seed: 7 } });
    // One at a time, so the seeded faults fall on the same requests in every run.
    const client = clientFor(emu, 1, { maxAttempts: 8 });
    const users = people(8);
    const first = await planAndApply(emu, client, desiredState(users, [desiredGroup('Admins', ['user00@example.com', 'user05@example.com'])]), { concurrency: 1 });
    expectClean(first.report);
    const faulted = first.writes.filter((write) => write.fault !== undefined).length;
    expect(faulted).toBeGreaterThan(0);
    expect(first.writes).toHaveLength(requestsOf(first.plan) + faulted);
    expect(first.verification.converged).toBe(true);
    expect(liveUserNames(emu)).toEqual(users.map((user) => user.userName));

    // Changes and a removal through the same storm.
    const changed = users.slice(0, 7).map((user, i) => (i % 2 === 0 ? { ...user, displayName: `Person ${i}` } : user));
    const second = await planAndApply(emu, client, desiredState(changed, [desiredGroup('Admins', ['user00@example.com', 'user02@example.com'])]), { concurrency: 1 });
    expectClean(second.report);
    expect(second.writes).toHaveLength(requestsOf(second.plan) + second.writes.filter((write) => write.fault !== undefined).length);
    expect(second.verification.converged).toBe(true);
  });

  test('"write applied but response lost" on creates never yields a duplicate', async () => {
    const emu = await emulator({ faults: { rateLostResponse: 0.5, onlyMethods: ['POST'], seed: 3 } });
    const client = clientFor(emu, 4);
    const users = people(10);
    const { plan, report, writes, verification } = await planAndApply(emu, client, desiredState(users, [desiredGroup('Admins', ['user00@example.com', 'user09@example.com'])]));
    const lost = writes.filter((write) => write.fault === 'lostResponse').length;
    expect(lost).toBeGreaterThan(0);
    expectClean(report);
    // A lost response is found by the lookup and adopted: no second POST, so no extra write.
    expect(writes).toHaveLength(requestsOf(plan));
    expect(report.outcomes.filter((outcome) => outcome.status === 'adopted')).toHaveLength(lost);
    expect(liveUserNames(emu)).toEqual(users.map((user) => user.userName));
    expect(emu.groups()).toHaveLength(1);
    expect(verification.converged).toBe(true);
  });

  test.each([
    ['a user update (its retry meets 412)', (users: DesiredUser[]) => desiredState(users.map((user, i) => (i === 1 ? { ...user, name: { givenName: 'User1', familyName: 'Smith' } } : user)))],
    [
      'a group member removal (its retry meets 400 noTarget)',
      (users: DesiredUser[]) => desiredState(users, [desiredGroup('Admins', ['user00@example.com'])]),
    ],
  ])('"write applied but response lost" on %s is confirmed by reading it back: done, not stale', async (_name, next) => {
    const emu = await emulator();
    const client = clientFor(emu);
    const users = people(3);
    await planAndApply(emu, client, desiredState(users, [desiredGroup('Admins', ['user00@example.com', 'user02@example.com'])]));
    emu.setFaults({ rateLostResponse: 1, onlyMethods: ['PATCH'], seed: 1 });
    const { report, writes, verification } = await planAndApply(emu, client, next(users));
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes.every((write) => write.method === 'PATCH')).toBe(true);
    expect(report.outcomes).toEqual([expect.objectContaining({ status: 'done', message: 'an earlier attempt landed (its answer was lost): confirmed by reading it back' })]);
    expect(report.counts).toMatchObject({ failed: 0, stale: 0 });
    expect(verification.converged).toBe(true);
  });

  test('a partial failure reports each outcome, leaves out of the group only the users not created, and a re-run converges', async () => {
    const emu = await emulator({ faults: { rate5xx: 0.5, onlyMethods: ['POST'], seed: 11 } });
    // One attempt per request, creates included: each 503 becomes a failed operation.
    const client = clientFor(emu, 1, { maxAttempts: 1 });
    const users = people(6);
    const desired = desiredState(users, [desiredGroup('Everyone', users.map((user) => user.userName))]);
    const entries: AuditEntry[] = [];
    const { plan, report, writes, verification } = await planAndApply(emu, client, desired, { concurrency: 1, audit: (entry) => entries.push(entry) });

    const failed = report.outcomes.filter((outcome) => outcome.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    // The audit log has the server's answer, not just "error".
    expect(entries.filter((entry) => entry.method === 'POST' && entry.outcome === 'unknown').map((entry) => entry.status)).toEqual(failed.map(() => 503));
    expect(report.counts.created).toBeGreaterThan(0);
    for (const outcome of failed) {
      expect(outcome.message).toMatch(/^POST \/Users may or may not have been applied: the server answered 503 .*; sent 1 time, and the user \S+ is not on the server$/);
    }
    const notCreated = failed.map((outcome) => outcome.key.slice('user:'.length));
    // The group is created with the members that exist, and says which were left out and why.
    expect(report.outcomes.find((outcome) => outcome.key === 'group:Everyone')).toMatchObject({
      status: 'partial',
      notAdded: notCreated,
      message: `not added: ${notCreated.map((userName) => `${userName} (its create failed)`).join(', ')}; the group's other changes were sent, and a re-run adds the missing members once they exist`,
    });
    expect(writes).toHaveLength(requestsOf(plan));
    expect(renderVerification('emu', verification, { outcomes: report.outcomes })).toContain(`group Everyone: members not added, as their create did not succeed: ${notCreated.join(', ')}`);
    expect(report.counts.skipped).toBe(0);
    expect(verification.converged).toBe(false);
    expect(renderVerification('emu', verification, { outcomes: report.outcomes })).toContain('not on the server (its operation failed)');
    expect(renderApplyReport(report, { color: false })).toContain(`${report.counts.failed} failed, 0 skipped`);

    emu.setFaults(undefined);
    const rerun = await planAndApply(emu, client, desired, { concurrency: 1 });
    expectClean(rerun.report);
    expect(rerun.writes).toHaveLength(requestsOf(rerun.plan));
    expect(rerun.report.counts.created).toBe(failed.length);
    expect(rerun.verification.converged).toBe(true);
  });

  describe('a create that fails holds back only its own member adds', () => {
    // Alice, bob and dave exist, Ops holds alice and dave. Git adds bob and abby (new) to Ops,
    // drops dave, and declares Fresh with bob and abby. Abby's create fails: between plan and
    // apply someone else made abby@example.com with another externalId, so it is not adopted.
    // Abby sorts first, so with one member per PATCH the first chunk holds only her.
    const live = {
      users: ['alice', 'bob', 'dave'].map((name) => ({ id: `${name}-id`, userName: `${name}@example.com` })),
      groups: [{ displayName: 'Ops', members: [{ value: 'alice-id' }, { value: 'dave-id' }] }],
    };
    const desired = desiredState(
      [desiredUser('alice@example.com'), desiredUser('bob@example.com'), desiredUser('abby@example.com', { externalId: 'E-ABBY' })],
      [desiredGroup('Ops', ['alice@example.com', 'bob@example.com', 'abby@example.com']), desiredGroup('Fresh', ['bob@example.com', 'abby@example.com'])],
    );
    test.each<{ name: string; capabilities: Partial<Capabilities>; groupWrites: string[] }>([
      { name: 'one PATCH per group', capabilities: {}, groupWrites: ['PATCH /Groups/{Ops}', 'POST /Groups'] },
      { name: 'PATCHes of one member each', capabilities: { maxMembersPerPatch: 1 }, groupWrites: ['PATCH /Groups/{Ops}', 'PATCH /Groups/{Ops}', 'POST /Groups'] },
      { name: 'a PUT where the target cannot PATCH', capabilities: { updateMethod: 'put' }, groupWrites: ['PUT /Groups/{Ops}', 'POST /Groups'] },
    ])('$name: the other adds, the removal and the new group are sent, and the report names who was not added', async ({ capabilities, groupWrites }) => {
      const emu = await emulator({ initial: live });
      const client = clientFor(emu);
      const plan = await planTarget(emu, client, desired, capabilities);
      expect(plan.violations).toEqual([]);
      const ops = String(emu.groups().find((group) => group.displayName === 'Ops')?.id);
      await clientFor(emu).write({ method: 'POST', path: '/Users', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'abby@example.com', externalId: 'E-OTHER' } });

      const mark = emu.requests.length;
      const report = await applyPlan(plan, client, { concurrency: 2 });
      const writes = writesSince(emu, mark);
      expect(report.outcomes.map((outcome) => [outcome.key, outcome.status])).toEqual([
        ['user:abby@example.com', 'failed'],
        ['group:Fresh', 'partial'],
        ['group:Ops', 'partial'],
        ['user:dave@example.com', 'done'],
      ]);
      expect(report.outcomes[0]?.message).toMatch(/has externalId "E-OTHER", not "E-ABBY"; not adopted$/);
      for (const group of report.outcomes.slice(1, 3)) {
        expect(group).toMatchObject({
          notAdded: ['abby@example.com'],
          message: "not added: abby@example.com (its create failed); the group's other changes were sent, and a re-run adds the missing members once they exist",
        });
      }
      const groupWritesSent = writes.filter((write) => write.path.startsWith('/Groups'));
      expect(groupWritesSent.map((write) => `${write.method} ${write.path.replace(ops, '{Ops}')}`).sort()).toEqual(groupWrites.sort());
      expect(groupWritesSent.every((write) => write.status < 300)).toBe(true);
      const members = (name: string) =>
        ((emu.groups().find((group) => group.displayName === name)?.members ?? []) as { value: string }[]).map((member) => member.value).sort();
      expect(members('Ops')).toEqual(['alice-id', 'bob-id']);
      expect(members('Fresh')).toEqual(['bob-id']);
      expect(renderApplyReport(report, { color: false })).toContain(
        "  partial     group:Ops (updateGroupMembers): not added: abby@example.com (its create failed); the group's other changes were sent, and a re-run adds the missing members once they exist",
      );

      // The read-back lists the member left out as what remains, and why.
      const verification = await verifyConverged(desired, POLICY, plan.capabilities, client, plan.plan.operations);
      expect(verification.converged).toBe(false);
      const lines = renderVerification('emu', verification, { outcomes: report.outcomes });
      expect(lines).toContain('  group Ops: members not added, as their create did not succeed: abby@example.com\n');
      expect(lines).toContain('  group Fresh: members not added, as their create did not succeed: abby@example.com\n');
    });
  });

  describe('a create whose outcome stays unknown is retried as every request is', () => {
    const alice = { id: 'alice-id', userName: 'alice@example.com' };
    test.each([
      { resource: 'user', path: '/Users', desired: desiredState([desiredUser('alice@example.com'), desiredUser('new@example.com')]), lookup: 'GET /Users?filter' },
      {
        resource: 'group',
        path: '/Groups',
        desired: desiredState([desiredUser('alice@example.com')], [desiredGroup('Ops', ['alice@example.com'])]),
        lookup: 'GET /Groups?startIndex',
      },
    ])('a $resource: backoff with full jitter before each look-up and resend, within the attempts of the retry policy', async ({ path, desired, lookup }) => {
      const emu = await emulator({ initial: { users: [alice] } });
      // random 0.99: each wait is just under its ceiling of 40·2^n ms.
      const client = createScimClient(targetFor(emu), { token: TOKEN, readOnly: false, retry: { maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 1_000, maxTotalMs: 10_000 }, random: () => 0.99 });
      running.push(client);
      const plan = await planTarget(emu, client, desired);
      emu.setFaults({ rate5xx: 1, onlyMethods: ['POST'] });
      const mark = emu.requests.length;
      const report = await applyPlan(plan, client, { concurrency: 1 });

      const requests = emu.requests.slice(mark);
      const sent = requests.map((request) => `${request.method} ${request.path}?${Object.keys(request.query)[0] ?? ''}`.replace(/\?$/, ''));
      expect(sent).toEqual(Array.from({ length: 4 }, () => [`POST ${path}`, lookup]).flat());
      const posts = requests.filter((request) => request.method === 'POST').map((request) => Date.parse(request.time));
      const gaps = posts.slice(1).map((at, i) => at - posts[i]!);
      // Timestamps are whole milliseconds: allow one for rounding.
      [39, 79, 158].forEach((wait, i) => expect(gaps[i]).toBeGreaterThanOrEqual(wait - 1));
      expect(report.outcomes[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(/the server answered 503 .*; sent 4 times, and the \S+ \S+ is not on the server$/) });
    });
  });

  describe('interrupted after a create whose answer was lost: the look-up is still made, so the outcome is known', () => {
    const adopted = {
      status: 'adopted',
      message: /^the outcome of the create was unknown \(no response\): adopted the existing user user00@example\.com \(id \S+\)$/,
      counts: /^Apply emu: 1 created, 0 updated, 0 deactivated, 0 deleted, 0 failed, 0 skipped, 1 not started /,
      audited: ['unknown', 'adopted'],
    };
    test.each([
      { name: 'the user is adopted (discovery already read, as after planning)', fresh: false, lookUpFails: false, ...adopted },
      { name: 'the user is adopted (discovery read by the look-up itself)', fresh: true, lookUpFails: false, ...adopted },
      {
        name: 'the look-up cannot be made: the outcome is unknown, not failed',
        fresh: false,
        lookUpFails: true,
        status: 'unknown',
        message: /^POST \/Users may or may not have been applied: .*; the look-up that would tell failed too \(.*\), so whether the user user00@example\.com exists is unknown: a re-run looks again and converges$/,
        counts: /^Apply emu: 0 created, 0 updated, 0 deactivated, 0 deleted, 0 failed, 0 skipped, 1 unknown, 1 not started /,
        audited: ['unknown'],
      },
    ])('$name', async ({ fresh, lookUpFails, status, message, counts, audited }) => {
      const emu = await emulator();
      const controller = new AbortController();
      // SIGINT reaches both, as in the CLI: the client's requests and waits, and apply's pool.
      const client = createScimClient(targetFor(emu, 1), { token: TOKEN, readOnly: false, signal: controller.signal, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
      running.push(client);
      const plan = await planTarget(emu, fresh ? clientFor(emu) : client, desiredState(people(2)));
      emu.setFaults({ rateLostResponse: 1, onlyMethods: ['POST'] });
      const entries: AuditEntry[] = [];
      const mark = emu.requests.length;
      const report = await applyPlan(plan, client, {
        concurrency: 1,
        signal: controller.signal,
        audit: (entry) => {
          entries.push(entry);
          if (entry.outcome !== 'unknown') return;
          controller.abort();
          if (lookUpFails) emu.setFaults({ rateReset: 1, onlyMethods: ['GET'] });
        },
      });

      // The look-up is sent once, after the signal; nothing else is.
      const sent = emu.requests.slice(mark).map((request) => `${request.method} ${request.path}${request.query.filter ? ' (filter)' : ''}`);
      expect(sent).toEqual(['POST /Users', ...(fresh ? ['GET /ServiceProviderConfig'] : []), 'GET /Users (filter)']);
      expect(emu.users()).toHaveLength(1);
      expect(report.outcomes.map((outcome) => outcome.status)).toEqual([status, 'not-started']);
      expect(report.outcomes[0]?.message).toMatch(message);
      expect(report.interrupted).toBe(true);
      expect(renderApplyReport(report, { color: false })).toMatch(counts);
      expect(entries.map((entry) => entry.outcome)).toEqual(audited);
    });

    test('SIGINT during the look-up before a create is sent again: the resend never leaves, and is neither counted nor logged', async () => {
      const emu = await emulator();
      const controller = new AbortController();
      const real = createScimClient(targetFor(emu, 1), { token: TOKEN, readOnly: false, signal: controller.signal, retry: { baseDelayMs: 1, maxDelayMs: 5 }, random: () => 0.5 });
      running.push(real);
      const plan = await planTarget(emu, real, desiredState(people(1)));
      emu.setFaults({ rate5xx: 1, onlyMethods: ['POST'] });
      // The signal arrives while the create is looked up.
      const client: ScimClient = {
        ...real,
        findUserByUserName: (userName, options) => {
          controller.abort();
          return real.findUserByUserName(userName, options);
        },
      };
      const entries: AuditEntry[] = [];
      const mark = emu.requests.length;
      const report = await applyPlan(plan, client, { concurrency: 1, signal: controller.signal, audit: (entry) => entries.push(entry) });
      expect(emu.requests.slice(mark).map((request) => request.method)).toEqual(['POST', 'GET']);
      expect(entries.map((entry) => [entry.method, entry.status, entry.outcome])).toEqual([['POST', 503, 'unknown']]);
      expect(report.writes).toBe(1);
      expect(report.interrupted).toBe(true);
      expect(report.outcomes[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(/sent 1 time, and the user user00@example\.com is not on the server \(not sent again: apply was interrupted\)$/) });
    });

    test('SIGINT during the wait before a create is sent again ends the wait; the look-up is made and the create not resent', async () => {
      const emu = await emulator();
      const controller = new AbortController();
      // A wait of about ten seconds, were it not cut short.
      const client = createScimClient(targetFor(emu, 1), {
        token: TOKEN,
        readOnly: false,
        signal: controller.signal,
        retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 },
        random: () => 0.99,
      });
      running.push(client);
      const plan = await planTarget(emu, client, desiredState(people(1)));
      emu.setFaults({ rate5xx: 1, onlyMethods: ['POST'] });
      const mark = emu.requests.length;
      const started = Date.now();
      const report = await applyPlan(plan, client, {
        concurrency: 1,
        signal: controller.signal,
        audit: () => setTimeout(() => controller.abort(), 30),
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(emu.requests.slice(mark).map((request) => request.method)).toEqual(['POST', 'GET']);
      expect(report.outcomes[0]).toMatchObject({ status: 'failed', message: expect.stringMatching(/; sent 1 time, and the user user00@example\.com is not on the server \(not sent again: apply was interrupted\)$/) });
      expect(report.interrupted).toBe(true);
    });
  });

  test('an interruption mid-apply starts nothing new, reports a consistent state, and a re-run converges', async () => {
    const emu = await emulator({ faults: { latencyMs: 15, onlyMethods: ['POST'] } });
    const client = clientFor(emu, 2);
    const users = people(12);
    const desired = desiredState(users);
    const controller = new AbortController();
    let audited = 0;
    const { report, writes, verification } = await planAndApply(emu, client, desired, {
      concurrency: 2,
      signal: controller.signal,
      audit: () => {
        if (++audited === 3) controller.abort();
      },
    });

    expect(report.interrupted).toBe(true);
    const done = report.outcomes.filter((outcome) => outcome.status === 'done');
    const notStarted = report.outcomes.filter((outcome) => outcome.status === 'not-started');
    expect(done.length + notStarted.length).toBe(12);
    expect(done.length).toBeGreaterThanOrEqual(3);
    expect(done.length).toBeLessThanOrEqual(4);
    // What the report calls done is exactly what the server has; nothing else was sent.
    expect(liveUserNames(emu)).toEqual(done.map((outcome) => outcome.key.slice('user:'.length)).sort());
    expect(writes).toHaveLength(done.length);
    expect(renderApplyReport(report, { color: false })).toContain(`Interrupted: ${done.length} of 12 operations ran, ${notStarted.length} not started.`);
    expect(verification.converged).toBe(false);

    const rerun = await planAndApply(emu, client, desired);
    expectClean(rerun.report);
    expect(rerun.writes).toHaveLength(notStarted.length);
    expect(rerun.verification.converged).toBe(true);
  });

  test.each([1, 2])('a lost answer on request %i of a group update in three chunks: it is confirmed or sent again, and the rest still go', async (lost) => {
    const users = ['a', 'b', 'c'].map((letter) => ({ userName: `${letter}@example.com` }));
    const emu = await emulator({ initial: { users, groups: [{ displayName: 'Ops', members: [] }] } });
    let patches = 0;
    // The answer to that PATCH is lost (the server applied it); the ones after are answered.
    const client = createScimClient(targetFor(emu, 1), {
      token: TOKEN,
      readOnly: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      random: () => 0.5,
      onRequest: (event) => {
        if (event.method !== 'PATCH') return;
        patches++;
        emu.setFaults(patches === lost - 1 ? { rateLostResponse: 1, onlyMethods: ['PATCH'] } : undefined);
      },
    });
    running.push(client);
    const desired = desiredState(users.map((user) => desiredUser(user.userName)), [desiredGroup('Ops', users.map((user) => user.userName))]);
    const plan = await planTarget(emu, client, desired, { maxMembersPerPatch: 1 });
    expect(plan.plan.operations.map((operation) => operation.requests.length)).toEqual([3]);
    if (lost === 1) emu.setFaults({ rateLostResponse: 1, onlyMethods: ['PATCH'] });
    const report = await applyPlan(plan, client, { concurrency: 1 });
    expect(report.outcomes.map((outcome) => outcome.status)).toEqual(['done']);
    const ids = new Map(emu.users().map((user) => [user.id, user.userName]));
    expect(((emu.groups()[0]?.members ?? []) as { value: string }[]).map((member) => ids.get(member.value)).sort()).toEqual(users.map((user) => user.userName));
  });

  test('writes still waiting for the rate limit when apply is interrupted are not started: not failed, not counted, not in the audit log', async () => {
    const emu = await emulator();
    // Two writes a second: most creates are still waiting for their turn when the signal comes.
    const controller = new AbortController();
    const client = createScimClient({ ...targetFor(emu, 4), requestsPerSecond: 2 }, { token: TOKEN, readOnly: false, signal: controller.signal });
    running.push(client);
    const entries: AuditEntry[] = [];
    const plan = await planTarget(emu, clientFor(emu), desiredState(people(6)));
    const mark = emu.requests.length;
    const report = await applyPlan(plan, client, {
      concurrency: 4,
      signal: controller.signal,
      audit: (entry) => {
        entries.push(entry);
        controller.abort();
      },
    });
    const sent = writesSince(emu, mark).length;
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThan(6);
    expect(report.writes).toBe(sent);
    expect(entries.map((entry) => entry.outcome)).toEqual(Array.from({ length: sent }, () => 'applied'));
    expect(report.counts).toMatchObject({ created: sent, failed: 0, notStarted: 6 - sent });
    expect(report.outcomes.filter((outcome) => outcome.status === 'not-started').every((outcome) => outcome.message === 'not started: apply was interrupted')).toBe(true);
  });

  test('a token the service rejects on the first write: the hint planning gives, no further write, nothing read back', async () => {
    const emu = await emulator({ profile: 'lightstep', initial: { users: [0, 1].map((i) => ({ userName: `user0${i}@example.com`, emails: [{ value: `user0${i}@example.com`, primary: true }] })) } });
    const planner = clientFor(emu, 4, {}, 'lightstep');
    const desired = desiredState(people(5).map((user) => ({ ...user, emails: [{ value: user.userName, type: 'work', primary: true }] })));
    const plan = await planTarget(emu, planner, desired);
    expect(plan.plan.operations.length).toBeGreaterThan(3);
    // The token was revoked between plan and apply.
    const revoked = 'revoked-token-0c1d2e';
    const client = createScimClient(targetFor(emu, 4, 'lightstep'), { token: revoked, readOnly: false, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    running.push(client);
    const mark = emu.requests.length;
    const result = await applyAndVerify(plan, client, desired, POLICY, { concurrency: 1 });

    expect(writesSince(emu, mark)).toHaveLength(1);
    expect(emu.requests.slice(mark).filter((request) => request.method === 'GET')).toEqual([]);
    expect(result.verification).toBeUndefined();
    expect(applyExitCode([result])).toBe(1);
    const text = renderTargetResult(result, { color: false });
    expect(text).toContain(
      "(createUser): the SCIM service of target emu rejected the token in $EMU_TOKEN (401 Unauthorized). $EMU_TOKEN must hold a SCIM token (Lightstep: Organization Settings › SCIM provisioning), not the general Lightstep API key.",
    );
    expect(text.match(/not started: the service rejected the token on an earlier request \(HTTP 401\) and would reject this one too/g)).toHaveLength(plan.plan.operations.length - 1);
    expect(text.trimEnd().split('\n').at(-1)).toBe('Stopped: the service rejected the token (HTTP 401), so no further write was started; fix the token (see the 401 above) and run apply again.');
    expect(text).not.toContain(revoked);
    expect(text).not.toContain(TOKEN);
  });

  test('on a target with read-only groups, membership is listed as manual, never sent, and does not fail apply', async () => {
    const emu = await emulator({ profile: 'lightstep', initial: { groups: [{ displayName: 'Admins', members: [] }] } });
    const client = clientFor(emu, 4, {}, 'lightstep');
    const desired = desiredState(people(2), [desiredGroup('Admins', ['user00@example.com'])]);
    const { plan, report, writes, verification } = await planAndApply(emu, client, desired);
    expect(plan.plan.operations.map((operation) => operation.kind)).toEqual(['createUser', 'createUser', 'manual']);
    expectClean(report);
    expect(report.counts).toMatchObject({ created: 2, manual: 1 });
    expect(writes.map((write) => `${write.method} ${write.path}`)).toEqual(['POST /Users', 'POST /Users']);
    expect(verification).toMatchObject({ converged: true, manual: [expect.objectContaining({ kind: 'manual' })] });
    expect(renderVerification('emu', verification)).toMatch(/^emu: converged, apart from 1 manual item a person must make\.\nemu: 1 manual item still open \(not a failure\):\n {2}group Admins/);
  });

  test('the read-back finds what the server accepted but did not keep', async () => {
    const emu = await emulator();
    const client = clientFor(emu);
    const work = (userName: string) => [{ value: userName, type: 'work', primary: true }];
    const users = people(3).map((user) => ({ ...user, emails: work(user.userName) }));
    const plan = await planTarget(emu, client, desiredState(users));
    const report = await applyPlan(plan, client, { concurrency: 1 });
    expectClean(report);

    // As Lightstep does with an email domain it does not allow: the writes succeeded, the data did not stay.
    const side = clientFor(emu);
    const [first, second] = emu.users();
    await side.write({ method: 'DELETE', path: `/Users/${String(first?.id)}` });
    await side.write({ method: 'PATCH', path: `/Users/${String(second?.id)}`, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: 'emails' }] } });

    const verification = await verifyConverged(desiredState(users), POLICY, plan.capabilities, client);
    expect(verification.converged).toBe(false);
    expect(renderVerification('emu', verification, { outcomes: report.outcomes }).trimEnd().split('\n')).toEqual([
      'emu: not converged, 2 differences remain after apply:',
      `  ${String(first?.userName)}: the server accepted the create but does not have the user`,
      `  ${String(second?.userName)}: the server did not keep emails (asked [${String(second?.userName)} (work, primary)], has [])`,
    ]);
  });

  test('the audit log has one line per write call, with the outcome, one more per adoption, and never the token or a body', async () => {
    const emu = await emulator({ faults: { rateLostResponse: 0.5, onlyMethods: ['POST'], seed: 5 } });
    const client = clientFor(emu, 2);
    const file = join(mkdtempSync(join(tmpdir(), 'scimform-audit-')), 'audit.jsonl');
    const log = openAuditLog(file);
    const { writes } = await planAndApply(emu, client, desiredState(people(6)), { concurrency: 2, audit: (entry) => log.write(entry) });
    await log.close();
    const text = readFileSync(file, 'utf8');
    const entries = text.trimEnd().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    const lost = writes.filter((write) => write.fault === 'lostResponse').length;
    expect(lost).toBeGreaterThan(0);
    const adopted = entries.filter((entry) => entry.outcome === 'adopted');
    // Every lost create was found by the lookup: its `unknown` line is followed by an `adopted` one.
    expect(entries).toHaveLength(writes.length + adopted.length);
    expect(entries.filter((entry) => entry.outcome === 'unknown')).toHaveLength(lost);
    expect(adopted).toHaveLength(lost);
    expect(adopted.every((entry) => /^\/Users\/[^/]+$/.test(entry.path) && entry.status === 200)).toBe(true);
    const written = entries.filter((entry) => entry.outcome !== 'adopted');
    expect(written.every((entry) => entry.target === 'emu' && entry.method === 'POST' && entry.path === '/Users' && entry.userName?.endsWith('@example.com'))).toBe(true);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('givenName');
  });
});
