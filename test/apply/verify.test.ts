import { describe, expect, test } from 'vitest';
import { renderVerification, verifyConverged } from '../../src/apply/verify.js';
import type { OperationOutcome } from '../../src/apply/types.js';
import type { DesiredUser, LiveUser } from '../../src/model.js';
import { acceptAll, CAPABILITIES, desiredGroup, desiredState, desiredUser, fakeScim, liveUser, POLICY } from './fakes.js';

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

  test('groups are not read when nothing concerns them', async () => {
    const fake = fakeScim(acceptAll(), { users: [janeLive()] });
    await verifyConverged(desiredState([desiredUser('jane@example.com')]), POLICY, CAPABILITIES, fake.client);
    expect(fake.reads).toEqual(['listUsers']);
  });
});
