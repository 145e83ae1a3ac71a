import { describe, expect, test } from 'vitest';
import { renderVerification, verifyConverged } from '../../src/apply/verify.js';
import type { OperationOutcome } from '../../src/apply/types.js';
import type { DesiredUser, LiveUser } from '../../src/model.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';
import { acceptAll, CAPABILITIES, desiredGroup, desiredState, desiredUser, fakeScim, liveUser, op, POLICY } from './fakes.js';

const work = { value: 'jane@example.com', type: 'work', primary: true };
const janeLive = (extra: Partial<LiveUser> = {}) => liveUser('u1', 'jane@example.com', { emails: [work], ...extra });
const done = (key: string, kind: OperationOutcome['kind'] = 'updateUser'): OperationOutcome => ({ key, kind, status: 'done' });

describe('verifyConverged', () => {
  test.each<{ name: string; users: LiveUser[]; declare?: DesiredUser[]; outcomes: OperationOutcome[]; lines: string[] }>([
    {
      name: 'the target matches: converged',
      users: [janeLive()],
      outcomes: [],
      lines: ['test: converged.'],
    },
    {
      name: 'a user the server accepted but did not keep',
      users: [janeLive()],
      declare: [desiredUser('bob@example.com')],
      outcomes: [done('user:bob@example.com', 'createUser')],
      lines: ['test: not converged, 1 difference remains after apply:', '  bob@example.com: the server accepted the create but does not have the user'],
    },
    {
      name: 'emails the server dropped (an email domain it does not allow)',
      users: [janeLive({ emails: [] })],
      outcomes: [done('user:jane@example.com')],
      lines: [
        'test: not converged, 1 difference remains after apply:',
        '  jane@example.com: the server did not keep emails (asked [jane@example.com (work, primary)], has [])',
      ],
    },
    {
      name: 'an account a create adopted, as someone else made it, is not blamed on the server',
      users: [janeLive({ active: false })],
      outcomes: [{ key: 'user:jane@example.com', kind: 'createUser', status: 'adopted', createdId: 'u1' }],
      lines: [
        'test: not converged, 1 difference remains after apply:',
        '  jane@example.com: active still differs (asked true, has false) (an existing account was adopted in place of the create: plan and apply again to bring it to the files)',
      ],
    },
    {
      name: 'a difference whose operation failed says so',
      users: [janeLive({ active: false })],
      outcomes: [{ key: 'user:jane@example.com', kind: 'reactivateUser', status: 'failed', message: 'HTTP 500' }],
      lines: ['test: not converged, 1 difference remains after apply:', '  jane@example.com: active still differs (asked true, has false) (its operation failed)'],
    },
  ])('$name', async ({ users, declare = [], outcomes, lines }) => {
    const fake = fakeScim(acceptAll(), { users });
    const state = desiredState([desiredUser('jane@example.com', { emails: [work] }), ...declare]);
    const verification = await verifyConverged(state, POLICY, CAPABILITIES, fake.client);
    expect(renderVerification('test', verification, { outcomes }).trimEnd().split('\n')).toEqual(lines);
    expect(verification.converged).toBe(lines.length === 1);
    expect(fake.writes).toEqual([]);
  });

  test('open manual items do not make apply fail', async () => {
    const fake = fakeScim(acceptAll(), { users: [janeLive()], groups: [{ id: 'g1', displayName: 'Admins', members: [], resource: { id: 'g1' } }] });
    const state = desiredState([desiredUser('jane@example.com')], [desiredGroup('Admins', ['jane@example.com'])]);
    const verification = await verifyConverged(state, POLICY, { ...CAPABILITIES, groupsWritable: false }, fake.client);
    expect(verification.converged).toBe(true);
    expect(verification.manual).toHaveLength(1);
    expect(renderVerification('test', verification)).toContain('test: 1 manual item still open (not a failure):');
    expect(fake.reads).toEqual(['listUsers', 'listGroups']);
  });

  test('names and values the server holds are escaped in the read-back: none adds a line, a workflow command or a terminal escape', async () => {
    // Live users the files do not declare, whose deactivation the server did not keep, and a declared user whose emails it rewrote.
    const hostile = HOSTILE_NAMES.map((name, index) => liveUser(`h${index}`, name));
    const jane = janeLive({ emails: [{ value: HOSTILE_NAMES[0]!, type: HOSTILE_NAMES[1]!, primary: true }] });
    const fake = fakeScim(acceptAll(), { users: [jane, ...hostile], groups: [{ id: 'g1', displayName: HOSTILE_NAMES[4]!, members: [], resource: { id: 'g1' } }] });
    const state = desiredState([desiredUser('jane@example.com', { emails: [work] })], [desiredGroup(HOSTILE_NAMES[4]!, ['jane@example.com'])]);
    const verification = await verifyConverged(state, POLICY, { ...CAPABILITIES, groupsWritable: false }, fake.client);
    const text = renderVerification('test', verification, { outcomes: HOSTILE_NAMES.map((name) => done(`user:${name}`, 'deactivateUser')) });
    expectSafeOutput(text);
    for (const escaped of ESCAPED_NAMES) expect(text).toMatch(new RegExp(`\n  ${escaped.replace(/[\\[+]/g, '\\$&')}: (the server did not keep active|active still differs) \\(asked false, has true\\)\n`));
    expect(text).toContain(`\n  jane@example.com: emails still differs (asked [jane@example.com (work, primary)], has [${ESCAPED_NAMES[0]} (${ESCAPED_NAMES[1]}, primary)])\n`);
    // Not at the start of its line, `::` starts no workflow command.
    expect(text).toContain('\n  group ::warning::forged@example.com: add jane@example.com: ');
  });

  describe('follow-ups the applied plan announced', () => {
    // Before apply, live user u2 held a@example.com and was declared as b@example.com: the plan
    // renamed it and left the create of a@example.com to the next plan. This is the target after.
    const eng = { id: 'g1', displayName: 'eng', members: ['u2'], resource: { id: 'g1' } };
    const state = (extra: Partial<DesiredUser> = {}) =>
      desiredState([desiredUser('a@example.com', { externalId: 'E1' }), desiredUser('b@example.com', { externalId: 'E2', ...extra })], [desiredGroup('eng', ['a@example.com', 'b@example.com'])]);
    /** The applied plan's item for a rename onto `to` that waited (`announced`: the userName as it named it). */
    const waitingRename = (from: string, to: string, announced = to) => ({ ...op.manual(0, `user ${to}: rename from ${from}`), followUp: { userName: announced } });
    const followUp = { ...op.manual(0, 'user a@example.com: create'), followUp: { userName: 'a@example.com' } };

    test('the create and the group add it frees are listed as follow-ups, and apply does not fail', async () => {
      const fake = fakeScim(acceptAll(), { users: [liveUser('u2', 'b@example.com', { externalId: 'E2' })], groups: [eng] });
      const verification = await verifyConverged(state(), POLICY, CAPABILITIES, fake.client, [followUp]);
      expect(verification.converged).toBe(true);
      expect(verification.residue).toEqual([]);
      expect(verification.followUps.map((operation) => operation.kind)).toEqual(['createUser', 'updateGroupMembers']);
      expect(renderVerification('test', verification).trimEnd().split('\n')).toEqual([
        'test: converged as far as this plan goes.',
        'test: 2 changes wait for the next plan (not a failure); plan and apply again:',
        '  a@example.com: create',
        '  group eng: add a@example.com',
      ]);
    });

    test('a difference the target refused is still one, beside the follow-ups', async () => {
      const fake = fakeScim(acceptAll(), { users: [liveUser('u2', 'b@example.com', { externalId: 'E2' })], groups: [eng] });
      const verification = await verifyConverged(state({ displayName: 'B' }), POLICY, CAPABILITIES, fake.client, [followUp]);
      expect(verification.converged).toBe(false);
      expect(renderVerification('test', verification, { outcomes: [done('user:b@example.com')] }).trimEnd().split('\n')).toEqual([
        'test: not converged, 1 difference remains after apply:',
        '  b@example.com: the server did not keep displayName (asked "B", has (absent))',
        'test: 2 changes wait for the next plan (not a failure); plan and apply again:',
        '  a@example.com: create',
        '  group eng: add a@example.com',
      ]);
    });

    test('a rename that waited for its userName', async () => {
      // u1 was declared as b@example.com; u2 held that name and was renamed to c@example.com.
      const users = [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'c@example.com', { externalId: 'E2' })];
      const declared = desiredState([desiredUser('b@example.com', { externalId: 'E1' }), desiredUser('c@example.com', { externalId: 'E2' })]);
      const renamed = waitingRename('a@example.com', 'b@example.com');
      const verification = await verifyConverged(declared, POLICY, CAPABILITIES, fakeScim(acceptAll(), { users }).client, [renamed]);
      expect(verification.converged).toBe(true);
      expect(renderVerification('test', verification)).toContain('\n  b@example.com: rename from a@example.com\n');
    });

    test('what the applied plan sent and the server did not keep is a difference, even for a follow-up user', async () => {
      // u1 (declared b@example.com) waited for its rename, but was added to eng by id: the add was sent.
      const users = [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'c@example.com', { externalId: 'E2' })];
      const declared = desiredState(
        [desiredUser('b@example.com', { externalId: 'E1' }), desiredUser('c@example.com', { externalId: 'E2' })],
        [desiredGroup('eng', ['b@example.com'])],
      );
      const renamed = waitingRename('a@example.com', 'b@example.com', 'B@example.com');
      const fake = fakeScim(acceptAll(), { users, groups: [{ ...eng, members: [] }] });
      const verification = await verifyConverged(declared, POLICY, CAPABILITIES, fake.client, [renamed]);
      expect(verification.converged).toBe(false);
      expect(verification.residue.map((operation) => operation.kind)).toEqual(['updateGroupMembers']);
      expect(verification.followUps.map((operation) => operation.kind)).toEqual(['updateUser']);
    });

    test('a waiting rename beside a change the server did not keep: the rename waits, the change is a difference', async () => {
      const users = [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'c@example.com', { externalId: 'E2' })];
      const declared = desiredState([desiredUser('b@example.com', { externalId: 'E1', displayName: 'B' }), desiredUser('c@example.com', { externalId: 'E2' })]);
      const renamed = waitingRename('a@example.com', 'b@example.com');
      const verification = await verifyConverged(declared, POLICY, CAPABILITIES, fakeScim(acceptAll(), { users }).client, [renamed]);
      expect(verification.converged).toBe(false);
      expect(renderVerification('test', verification, { outcomes: [done('user:b@example.com')] }).trimEnd().split('\n')).toEqual([
        'test: not converged, 1 difference remains after apply:',
        '  b@example.com: the server did not keep displayName (asked "B", has (absent))',
        'test: 1 change waits for the next plan (not a failure); plan and apply again:',
        '  b@example.com: rename from a@example.com',
      ]);
    });

    test('a group add of a follow-up user together with another user: the first waits, the second is a difference', async () => {
      const users = [liveUser('u2', 'b@example.com', { externalId: 'E2' }), liveUser('u3', 'k@example.com')];
      const declared = desiredState(
        [desiredUser('a@example.com', { externalId: 'E1' }), desiredUser('b@example.com', { externalId: 'E2' }), desiredUser('k@example.com')],
        [desiredGroup('eng', ['a@example.com', 'b@example.com', 'k@example.com'])],
      );
      const verification = await verifyConverged(declared, POLICY, CAPABILITIES, fakeScim(acceptAll(), { users, groups: [eng] }).client, [followUp]);
      expect(verification.converged).toBe(false);
      expect(renderVerification('test', verification).trimEnd().split('\n')).toEqual([
        'test: not converged, 1 difference remains after apply:',
        '  group eng: members still missing: k@example.com',
        'test: 2 changes wait for the next plan (not a failure); plan and apply again:',
        '  a@example.com: create',
        '  group eng: add a@example.com',
      ]);
    });

    test('the email that follows a waiting rename waits with it, unless emails are declared', async () => {
      const users = [liveUser('u1', 'a@example.com', { externalId: 'E1', emails: [{ value: 'a@example.com', primary: true }] }), liveUser('u2', 'c@example.com', { externalId: 'E2' })];
      const renamed = waitingRename('a@example.com', 'b@example.com');
      const undeclared = desiredState([desiredUser('b@example.com', { externalId: 'E1' }), desiredUser('c@example.com', { externalId: 'E2' })]);
      const waits = await verifyConverged(undeclared, POLICY, CAPABILITIES, fakeScim(acceptAll(), { users }).client, [renamed]);
      expect(waits.converged).toBe(true);
      expect(waits.followUps).toEqual([expect.objectContaining({ changes: [expect.objectContaining({ path: 'userName' }), expect.objectContaining({ path: 'emails' })] })]);

      const emails = [{ value: 'b@example.com', type: 'work', primary: true }];
      const declared = desiredState([desiredUser('b@example.com', { externalId: 'E1', emails }), desiredUser('c@example.com', { externalId: 'E2' })]);
      const kept = await verifyConverged(declared, POLICY, CAPABILITIES, fakeScim(acceptAll(), { users }).client, [renamed]);
      expect(kept.converged).toBe(false);
      expect(kept.residue).toEqual([expect.objectContaining({ changes: [expect.objectContaining({ path: 'emails' })] })]);
    });

    test('items of a longer chain are for a later plan, not for a person', async () => {
      // Three renames: c→d went out; b→c is now possible; a→b still waits for it.
      const users = [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' }), liveUser('u3', 'd@example.com', { externalId: 'E3' })];
      const declared = desiredState([
        desiredUser('b@example.com', { externalId: 'E1' }),
        desiredUser('c@example.com', { externalId: 'E2' }),
        desiredUser('d@example.com', { externalId: 'E3' }),
      ]);
      const applied = [waitingRename('b@example.com', 'c@example.com')];
      const verification = await verifyConverged(declared, POLICY, CAPABILITIES, fakeScim(acceptAll(), { users }).client, applied);
      expect(verification.converged).toBe(true);
      expect(verification.manual).toEqual([expect.objectContaining({ subject: 'user b@example.com: rename from a@example.com', followUp: { userName: 'b@example.com' } })]);
      expect(renderVerification('test', verification).split('\n').slice(0, 3)).toEqual([
        'test: converged as far as this plan goes, apart from 1 manual item for later plans.',
        'test: 1 change waits for the next plan (not a failure); plan and apply again:',
        '  c@example.com: rename from b@example.com',
      ]);
    });

    test('without the announcement, the same differences fail apply', async () => {
      const fake = fakeScim(acceptAll(), { users: [liveUser('u2', 'b@example.com', { externalId: 'E2' })], groups: [eng] });
      const verification = await verifyConverged(state(), POLICY, CAPABILITIES, fake.client, [op.manual(0, 'user a@example.com: create')]);
      expect(verification.converged).toBe(false);
      expect(verification.followUps).toEqual([]);
      expect(verification.residue).toHaveLength(2);
    });
  });

  test('groups are not read when nothing concerns them', async () => {
    const fake = fakeScim(acceptAll(), { users: [janeLive()] });
    await verifyConverged(desiredState([desiredUser('jane@example.com')]), POLICY, CAPABILITIES, fake.client);
    expect(fake.reads).toEqual(['listUsers']);
  });
});
