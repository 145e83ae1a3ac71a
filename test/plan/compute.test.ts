import { describe, expect, test } from 'vitest';
import { computePlan } from '../../src/plan/index.js';
import type { Capabilities, DesiredState, LiveGroup, LiveUser, Policy } from '../../src/model.js';
import type { Operation, Plan } from '../../src/plan/types.js';
import { at, desired, generic, group, lightstep, liveGroup, liveUser, policy, user } from './builders.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

function plan(state: DesiredState, users: LiveUser[], groups: LiveGroup[] = [], rules: Policy = policy(), caps: Capabilities = generic()): Plan {
  return computePlan(state, { users, groups }, rules, caps);
}

/** One line per operation, as a reviewer would read the plan's outline. */
function outline(result: Plan): string[] {
  return result.operations.map((op) => {
    switch (op.kind) {
      case 'manual':
        return `manual ${op.subject}`;
      case 'createGroup':
      case 'updateGroupMembers':
      case 'deleteGroup':
        return `${op.kind} ${op.displayName}`;
      default:
        return `${op.kind} ${op.userName}`;
    }
  });
}

/** The operation type whose `kind` includes K (`UpdateUser` carries three kinds). */
type OfKind<K extends Operation['kind'], O = Operation> = O extends { kind: infer L } ? (K extends L ? O : never) : never;

function only<K extends Operation['kind']>(result: Plan, kind: K): OfKind<K> {
  const ops = result.operations.filter((op): op is OfKind<K> => op.kind === kind);
  expect(ops).toHaveLength(1);
  return ops[0]!;
}

/** A live user as servers return it: lower-cased, with server-added attributes. */
const janeLive = liveUser('u1', 'jane@example.com', {
  externalId: 'E-1001',
  displayName: 'Jane Doe',
  name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' },
  emails: [
    { value: 'jane.doe@example.com', type: 'home' },
    { value: 'jane@example.com', type: 'work', primary: true },
  ],
});
janeLive.resource.groups = [{ value: 'g1', display: 'Admins' }];

const janeDeclared = user('Jane@Example.com', {
  externalId: 'E-1001',
  displayName: 'Jane Doe',
  name: { givenName: 'Jane', familyName: 'Doe' },
  emails: [
    { value: 'Jane@Example.com', type: 'work', primary: true },
    { value: 'JANE.DOE@example.com', type: 'home' },
  ],
  active: true,
  source: at(12),
});

describe('computePlan: users', () => {
  test.each([
    ['a converged state (case, email order, server-added attributes) plans nothing', desired([janeDeclared]), [janeLive], []],
    ['an absent attribute is unmanaged, whatever its live value', desired([user('jane@example.com')]), [janeLive], []],
    ['a live user absent from git is left alone under unmanagedUsers: ignore', desired([]), [janeLive], []],
    ['a new user is created', desired([user('new.hire@example.com')]), [], ['createUser new.hire@example.com']],
    ['a changed family name is an update', desired([user('jane@example.com', { name: { familyName: 'Smith' } })]), [janeLive], ['updateUser jane@example.com']],
    ['active: false on an active user deactivates it', desired([user('jane@example.com', { active: false })]), [janeLive], ['deactivateUser jane@example.com']],
    [
      'a deactivated user declared without active is reactivated',
      desired([user('jane@example.com')]),
      [liveUser('u1', 'jane@example.com', { active: false })],
      ['reactivateUser jane@example.com'],
    ],
    [
      'reactivation plus other changes is one reactivateUser',
      desired([user('jane@example.com', { displayName: 'J' })]),
      [liveUser('u1', 'jane@example.com', { active: false })],
      ['reactivateUser jane@example.com'],
    ],
    [
      'deactivation outranks other changes of the same user',
      desired([user('jane@example.com', { displayName: 'J', active: false })]),
      [liveUser('u1', 'jane@example.com')],
      ['deactivateUser jane@example.com'],
    ],
    [
      'operations are ordered by kind, then by userName',
      desired([user('b@example.com'), user('a@example.com'), user('c@example.com', { displayName: 'C' }), user('d@example.com', { active: false })]),
      [liveUser('u3', 'c@example.com'), liveUser('u4', 'd@example.com')],
      ['createUser a@example.com', 'createUser b@example.com', 'updateUser c@example.com', 'deactivateUser d@example.com'],
    ],
  ])('%s', (_name, state, users, expected) => {
    expect(outline(plan(state, users))).toEqual(expected);
  });

  test('a create sends the declared attributes, nulls omitted, and emails defaulted from userName', () => {
    const result = plan(desired([user('New.Hire@example.com', { name: { givenName: 'New', familyName: null }, externalId: 'E-7', displayName: null, source: at(41) })]), []);
    const op = only(result, 'createUser');
    expect(op.key).toBe('user:new.hire@example.com');
    expect(op.provenance).toEqual({ kind: 'declaration', location: at(41) });
    expect(op.requests).toEqual([
      {
        method: 'POST',
        path: '/Users',
        body: {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName: 'New.Hire@example.com',
          name: { givenName: 'New' },
          emails: [{ value: 'New.Hire@example.com', type: 'work', primary: true }],
          externalId: 'E-7',
        },
      },
    ]);
    expect(op.changes).toEqual([
      { path: 'userName', new: 'New.Hire@example.com' },
      { path: 'name.givenName', new: 'New' },
      { path: 'emails', new: [{ value: 'New.Hire@example.com', type: 'work', primary: true }] },
      { path: 'externalId', new: 'E-7' },
    ]);
  });

  test('a create of an inactive user with declared emails sends them and active false', () => {
    const op = only(plan(desired([user('a@example.com', { active: false, emails: [{ value: 'a@example.com' }] })]), []), 'createUser');
    expect(op.requests[0]!.body).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'a@example.com',
      emails: [{ value: 'a@example.com' }],
      active: false,
    });
  });

  test.each([
    ['name.givenName replaced', { name: { givenName: 'Janet' } }, [{ op: 'replace', path: 'name.givenName', value: 'Janet' }]],
    ['name.givenName: null removes the sub-attribute', { name: { givenName: null } }, [{ op: 'remove', path: 'name.givenName' }]],
    ['name: null removes the whole name', { name: null }, [{ op: 'remove', path: 'name' }]],
    ['externalId: null removes it', { externalId: null }, [{ op: 'remove', path: 'externalId' }]],
    ['displayName replaced', { displayName: 'Janet Doe' }, [{ op: 'replace', path: 'displayName', value: 'Janet Doe' }]],
    ['emails: null removes them', { emails: null }, [{ op: 'remove', path: 'emails' }]],
    ['emails: [] removes them', { emails: [] }, [{ op: 'remove', path: 'emails' }]],
    [
      'a different email set replaces the whole array',
      { emails: [{ value: 'jane@example.com', type: 'work', primary: true }] },
      [{ op: 'replace', path: 'emails', value: [{ value: 'jane@example.com', type: 'work', primary: true }] }],
    ],
    ['an email whose primary flag differs is a change', { emails: [{ value: 'jane@example.com', type: 'work' }, { value: 'jane.doe@example.com', type: 'home' }] }, 'emails'],
    ['active: false is a JSON boolean', { active: false }, [{ op: 'replace', path: 'active', value: false }]],
    [
      'several changed paths are one PATCH with one operation each',
      { displayName: 'J', name: { givenName: 'Janet', familyName: 'Smith' }, active: false },
      [
        { op: 'replace', path: 'displayName', value: 'J' },
        { op: 'replace', path: 'name.givenName', value: 'Janet' },
        { op: 'replace', path: 'name.familyName', value: 'Smith' },
        { op: 'replace', path: 'active', value: false },
      ],
    ],
    ['a string that differs only in case is a change (only userName ignores case)', { displayName: 'jane doe' }, [{ op: 'replace', path: 'displayName', value: 'jane doe' }]],
  ])('PatchOp for a user: %s', (_name, fields, expected) => {
    const result = plan(desired([user('jane@example.com', fields)]), [janeLive]);
    expect(result.operations).toHaveLength(1);
    const [request, ...others] = result.operations[0]!.requests;
    expect(others).toEqual([]);
    expect(request!.method).toBe('PATCH');
    expect(request!.path).toBe('/Users/u1');
    const body = request!.body as { schemas: string[]; Operations: { path: string }[] };
    expect(body.schemas).toEqual([PATCH_OP]);
    if (typeof expected === 'string') expect(body.Operations.map((op) => op.path)).toEqual([expected]);
    else expect(body.Operations).toEqual(expected);
  });

  test('an update lists each change old → new, with the fingerprint of the live user', () => {
    const live = liveUser('u1', 'jane@example.com', { name: { givenName: 'Jane', familyName: 'Doe' }, version: 'W/"3"' });
    const op = only(plan(desired([user('jane@example.com', { name: { familyName: 'Smith' }, displayName: 'Jane' })]), [live]), 'updateUser');
    expect(op.changes).toEqual([
      { path: 'displayName', new: 'Jane' },
      { path: 'name.familyName', old: 'Doe', new: 'Smith' },
    ]);
    expect(op.fingerprint).toEqual({ kind: 'version', value: 'W/"3"' });
    expect(op.requests[0]!.ifMatch).toBeUndefined();
  });

  test.each([
    ['PATCH', 'updateUser'],
    ['DELETE', 'deleteUser'],
  ])('with ETags, a %s carries If-Match with the version the plan saw', (method) => {
    const live = liveUser('u1', 'jane@example.com', { version: 'W/"7"' });
    const state = method === 'PATCH' ? desired([user('jane@example.com', { displayName: 'J' })]) : desired([user('x@example.com')]);
    const result = plan(state, [live], [], policy({ unmanagedUsers: 'delete', allowDelete: true }), generic({ etag: true }));
    const request = result.operations.flatMap((op) => op.requests).find((candidate) => candidate.method === method);
    expect(request?.ifMatch).toBe('W/"7"');
  });

  test('without PATCH, an update is one PUT of the live resource with the managed attributes changed', () => {
    const live = liveUser('u1', 'jane@example.com', { name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' }, externalId: 'E1' });
    live.resource.groups = [{ value: 'g1' }];
    live.resource['urn:example:ext'] = { costCenter: '42' };
    const op = only(plan(desired([user('jane@example.com', { name: { familyName: 'Smith' }, externalId: null })]), [live], [], policy(), generic({ updateMethod: 'put' })), 'updateUser');
    expect(op.requests).toEqual([
      {
        method: 'PUT',
        path: '/Users/u1',
        body: {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          id: 'u1',
          userName: 'jane@example.com',
          active: true,
          name: { givenName: 'Jane', familyName: 'Smith', formatted: 'Jane Doe' },
          'urn:example:ext': { costCenter: '42' },
        },
      },
    ]);
  });

  test('a match by externalId under another userName is a rename: one PATCH of userName', () => {
    const result = plan(desired([user('b@example.com', { externalId: 'E9', source: at(7, 'identities/ops.yaml') })]), [liveUser('u9', 'a@example.com', { externalId: 'E9' })], [], policy({ unmanagedUsers: 'deactivate' }));
    const op = only(result, 'updateUser');
    expect(op).toMatchObject({ id: 'u9', userName: 'b@example.com', renamedFrom: 'a@example.com', externalId: 'E9', key: 'user:b@example.com' });
    expect(op.requests[0]!.body).toEqual({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'userName', value: 'b@example.com' }] });
    expect(result.operations).toHaveLength(1);
  });

  test.each([
    ['the old userName as its only email follows the rename', [{ value: 'a@example.com', type: 'work', primary: true }], [{ value: 'b@example.com', type: 'work', primary: true }]],
    ['other emails stay unmanaged', [{ value: 'a.personal@example.org', type: 'home' }], undefined],
    ['several emails stay unmanaged', [{ value: 'a@example.com', primary: true }, { value: 'x@example.com' }], undefined],
  ])('a rename with emails undeclared: %s', (_name, emails, follows) => {
    const result = plan(desired([user('b@example.com', { externalId: 'E9' })]), [liveUser('u9', 'a@example.com', { externalId: 'E9', emails })]);
    const operations = (only(result, 'updateUser').requests[0]!.body as { Operations: unknown[] }).Operations;
    expect(operations).toEqual([
      { op: 'replace', path: 'userName', value: 'b@example.com' },
      ...(follows ? [{ op: 'replace', path: 'emails', value: follows }] : []),
    ]);
  });

  test('an externalId that matches nothing, with a userName that matches, updates the externalId', () => {
    const op = only(plan(desired([user('jane@example.com', { externalId: 'E-NEW' })]), [liveUser('u1', 'jane@example.com', { externalId: 'E-OLD' })]), 'updateUser');
    expect(op.changes).toEqual([{ path: 'externalId', old: 'E-OLD', new: 'E-NEW' }]);
  });

  test('a rename onto a userName another live user holds is a manual item, not a PATCH that would 409', () => {
    const result = plan(
      desired([user('b@example.com', { externalId: 'E1', displayName: 'B' })]),
      [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' })],
      [],
      policy({ unmanagedUsers: 'deactivate' }),
    );
    expect(outline(result)).toEqual(['updateUser a@example.com', 'manual user b@example.com: rename from a@example.com']);
    expect(only(result, 'updateUser').changes).toEqual([{ path: 'displayName', new: 'B' }]);
    expect(only(result, 'manual').reason).toBe('userName is held by another live user (id u2, externalId E2): resolve the conflict by hand, then plan again');
    expect(only(result, 'manual').followUp).toBeUndefined();
  });

  test('a create whose userName is still held by a user this plan renames away waits for the next plan', () => {
    const result = plan(desired([user('a@example.com', { externalId: 'E1' }), user('b@example.com', { externalId: 'E2' })]), [liveUser('u2', 'a@example.com', { externalId: 'E2' })]);
    expect(outline(result)).toEqual(['updateUser b@example.com', 'manual user a@example.com: create']);
    expect(only(result, 'manual').reason).toBe('userName is still held by live user u2, which this plan renames to b@example.com: apply this plan, then plan again');
    // This plan frees the userName: the next plan can create the user.
    expect(only(result, 'manual').followUp).toEqual({ userName: 'a@example.com' });
  });

  test('a rename onto a userName a user this plan renames away holds is a follow-up for the next plan', () => {
    const result = plan(
      desired([user('b@example.com', { externalId: 'E1', displayName: 'B' }), user('c@example.com', { externalId: 'E2' })]),
      [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' })],
    );
    expect(outline(result)).toEqual(['updateUser a@example.com', 'updateUser c@example.com', 'manual user b@example.com: rename from a@example.com']);
    // The rest of u1's changes go now; only the rename waits.
    expect(result.operations.find((operation) => operation.kind === 'updateUser' && operation.id === 'u1')).toMatchObject({ changes: [{ path: 'displayName', new: 'B' }] });
    expect(only(result, 'manual')).toMatchObject({
      reason: 'userName is still held by live user u2, which this plan renames to c@example.com: apply this plan, then plan again',
      followUp: { userName: 'b@example.com' },
    });
  });

  test('a chain of three renames: the free end goes now, the next waits for it, the last for the chain', () => {
    const result = plan(
      desired([user('b@example.com', { externalId: 'E1' }), user('c@example.com', { externalId: 'E2' }), user('d@example.com', { externalId: 'E3' })]),
      [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' }), liveUser('u3', 'c@example.com', { externalId: 'E3' })],
    );
    expect(outline(result)).toEqual(['updateUser d@example.com', 'manual user b@example.com: rename from a@example.com', 'manual user c@example.com: rename from b@example.com']);
    const [last, next] = result.operations.filter((operation) => operation.kind === 'manual');
    expect(next).toMatchObject({ followUp: { userName: 'c@example.com' }, reason: 'userName is still held by live user u3, which this plan renames to d@example.com: apply this plan, then plan again' });
    // Later plans make it without a person: a follow-up too, with a reason that says how many plans.
    expect(last).toMatchObject({
      followUp: { userName: 'b@example.com' },
      reason: 'userName is still held by live user u2, whose own rename waits for a chain of renames this plan starts: apply and plan again until the chain is done',
    });
  });

  test('a chain of 5,000 renames: the free end goes now, and every other link is a follow-up', () => {
    const n = 5000;
    const name = (i: number) => `u${String(i).padStart(5, '0')}@example.com`;
    // Live user i holds name(i) and is declared as name(i + 1): each rename waits for the next.
    const result = plan(
      desired(Array.from({ length: n }, (_, i) => user(name(i + 1), { externalId: `E${i}` }))),
      Array.from({ length: n }, (_, i) => liveUser(`id${i}`, name(i), { externalId: `E${i}` })),
    );
    expect(outline(result).filter((line) => line.startsWith('updateUser'))).toEqual([`updateUser ${name(n)}`]);
    const items = result.operations.filter((operation) => operation.kind === 'manual');
    expect(items).toHaveLength(n - 1);
    expect(items.every((item) => item.followUp !== undefined)).toBe(true);
  });

  test.each([
    ['u1', 'u2'],
    ['u2', 'u1'],
  ])('two holders of a userName in different case: every one must be freed, whatever their ids (%s, %s)', (first, second) => {
    // x@e.com is held by x@e.com and X@e.com; X@e.com's own rename waits for d2@e.com, which a user the plan leaves alone holds.
    const result = plan(
      desired([user('x@e.com'), user('d1@e.com', { externalId: 'E1' }), user('d2@e.com', { externalId: 'E2' }), user('d3@e.com', { externalId: 'E3' })]),
      [
        liveUser(first, 'x@e.com', { externalId: 'E1' }),
        liveUser(second, 'X@e.com', { externalId: 'E2' }),
        liveUser('u3', 'd1@e.com', { externalId: 'E3' }),
        liveUser('u4', 'd2@e.com', { externalId: 'E9' }),
      ],
      [],
      policy({ unmanagedUsers: 'ignore' }),
    );
    const create = result.operations.find((operation) => operation.kind === 'manual' && operation.subject === 'user x@e.com: create');
    expect(create).toMatchObject({ reason: `userName is still held by live user ${second}, whose own rename needs a person (see its item): plan again once it is made` });
    expect(create?.kind === 'manual' && create.followUp).toBeUndefined();
  });

  test('a cycle of three renames needs a person', () => {
    const result = plan(
      desired([user('b@example.com', { externalId: 'E1' }), user('c@example.com', { externalId: 'E2' }), user('a@example.com', { externalId: 'E3' })]),
      [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' }), liveUser('u3', 'c@example.com', { externalId: 'E3' })],
    );
    expect(result.operations.map((operation) => operation.kind)).toEqual(['manual', 'manual', 'manual']);
    for (const operation of result.operations) {
      expect(operation).toMatchObject({ reason: expect.stringContaining('go round in a cycle: rename one of these users to a temporary userName by hand') });
      expect(operation.kind === 'manual' && operation.followUp).toBeUndefined();
    }
  });

  test('a rename that waits for a holder whose own rename needs a person is no follow-up', () => {
    // u2 would move to c@example.com, which a user the plan leaves alone holds.
    const result = plan(
      desired([user('b@example.com', { externalId: 'E1' }), user('c@example.com', { externalId: 'E2' })]),
      [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' }), liveUser('u9', 'c@example.com', { externalId: 'E9' })],
      [],
      policy({ unmanagedUsers: 'ignore' }),
    );
    const items = result.operations.filter((operation) => operation.kind === 'manual');
    expect(items.map((item) => [item.subject, item.followUp])).toEqual([
      ['user b@example.com: rename from a@example.com', undefined],
      ['user c@example.com: rename from b@example.com', undefined],
    ]);
    expect(items[0]!.reason).toBe('userName is still held by live user u2, whose own rename needs a person (see its item): plan again once it is made');
  });

  test('a waiting rename holds back the email that follows it', () => {
    const result = plan(
      desired([user('b@example.com', { externalId: 'E1', displayName: 'B' }), user('c@example.com', { externalId: 'E2' })]),
      [
        liveUser('u1', 'a@example.com', { externalId: 'E1', emails: [{ value: 'a@example.com', primary: true }] }),
        liveUser('u2', 'b@example.com', { externalId: 'E2', emails: [{ value: 'b@example.com', primary: true }] }),
      ],
    );
    const u1 = result.operations.find((operation) => operation.kind === 'updateUser' && operation.id === 'u1');
    expect(u1).toMatchObject({ changes: [{ path: 'displayName', new: 'B' }] });
    // The holder's own email goes with its rename, now.
    expect(result.operations.find((operation) => operation.kind === 'updateUser' && operation.id === 'u2')).toMatchObject({
      changes: expect.arrayContaining([expect.objectContaining({ path: 'userName' }), expect.objectContaining({ path: 'emails' })]),
    });
  });

  test('a userName also held, in another case, by a user the plan leaves alone needs a person', () => {
    // u1 is to be renamed to a@example.com; u2 holds it and is renamed away, u3 holds it too and stays.
    const result = plan(
      desired([user('a@example.com', { externalId: 'E1' }), user('b@example.com', { externalId: 'E2' })]),
      [liveUser('u1', 'z@example.com', { externalId: 'E1' }), liveUser('u2', 'a@example.com', { externalId: 'E2' }), liveUser('u3', 'A@example.com', { externalId: 'E9' })],
    );
    const item = result.operations.find((operation) => operation.kind === 'manual');
    expect(item).toMatchObject({
      subject: 'user a@example.com: rename from z@example.com',
      reason: expect.stringContaining('held by another live user (id u3, externalId E9): resolve the conflict by hand'),
    });
    expect(item?.kind === 'manual' && item.followUp).toBeUndefined();
  });

  test('two users swapping userNames cannot be done one PATCH at a time: both renames are manual', () => {
    const result = plan(
      desired([user('a@example.com', { externalId: 'E2' }), user('b@example.com', { externalId: 'E1' })]),
      [liveUser('u1', 'a@example.com', { externalId: 'E1' }), liveUser('u2', 'b@example.com', { externalId: 'E2' })],
    );
    expect(outline(result)).toEqual(['manual user a@example.com: rename from b@example.com', 'manual user b@example.com: rename from a@example.com']);
    expect(result.operations[0]!.kind === 'manual' && result.operations[0]!.reason).toBe(
      'live users u2 and u1 would swap userNames, which cannot be done one PATCH at a time: rename one of them to a temporary userName by hand, then plan again',
    );
    // No plan can make a swap: a person must, so neither item is a follow-up.
    expect(result.operations.filter((operation) => operation.kind === 'manual' && operation.followUp !== undefined)).toEqual([]);
  });

  test('two live users whose userNames differ only in case: the exact case is matched, the other is unmanaged, and a note says so', () => {
    const result = plan(
      desired([user('Jane@example.com', { displayName: 'J' })]),
      [liveUser('u1', 'jane@example.com'), liveUser('u2', 'Jane@example.com')],
      [],
      policy({ unmanagedUsers: 'deactivate' }),
    );
    expect(result.operations.map((op) => [op.kind, 'id' in op ? op.id : ''])).toEqual([
      ['updateUser', 'u2'],
      ['deactivateUser', 'u1'],
    ]);
    expect(new Set(result.operations.map((op) => op.key)).size).toBe(2);
    expect(result.notes).toEqual(['live users u1, u2 share userName jane@example.com (differing only in case): matched id u2, the others are treated as unmanaged']);
  });

  describe('live users sharing the declared externalId (servers need not keep it unique)', () => {
    const sharing = [liveUser('u1', 'jane@example.com', { externalId: 'E1' }), liveUser('u2', 'jane2@example.com', { externalId: 'E1' })];
    const rules = policy({ unmanagedUsers: 'deactivate' });
    const ambiguous = "live users u1 and u2 share externalId E1, and neither has this userName, so which one is meant is for a person to say: on the server, change or remove the externalId of every account but this user's (or correct the declared externalId), then plan again";

    test.each([
      [
        'the one with the declared userName is the match; the other is an undeclared user',
        [user('Jane2@example.com', { externalId: 'E1', displayName: 'J' })],
        ['updateUser jane2@example.com u2', 'deactivateUser jane@example.com u1'],
        ['live users u1, u2 share externalId E1: matched id u2, which has the declared userName; u1 not matched by externalId'],
      ],
      ['without one with the declared userName: a manual item, and neither is renamed or deactivated', [user('jane3@example.com', { externalId: 'E1' })], ['manual user jane3@example.com: match by externalId'], undefined],
      [
        'a declaration of a shared account by userName alone waits for the person too',
        [user('jane3@example.com', { externalId: 'E1' }), user('jane@example.com', { displayName: 'J' })],
        ['manual user jane3@example.com: match by externalId', 'manual user jane@example.com: create'],
        undefined,
      ],
    ])('%s', (_name, users, expected, notes) => {
      const result = plan(desired(users), sharing, [], rules);
      const withIds = outline(result).map((line, i) => {
        const op = result.operations[i]!;
        return 'id' in op ? `${line} ${op.id}` : line;
      });
      expect(withIds).toEqual(expected);
      expect(result.notes).toEqual(notes);
    });

    test('the manual item names every account, and the removals count none of them', () => {
      const result = plan(desired([user('jane3@example.com', { externalId: 'E1' })], [group('Staff', [])]), sharing, [liveGroup('g1', 'Staff', ['u1', 'u2'])], rules);
      expect(result.operations).toHaveLength(1);
      expect(only(result, 'manual')).toMatchObject({ reason: ambiguous, provenance: { kind: 'declaration', location: at(1) } });
      expect(result.removals.removals).toBe(0);
    });

    test('the plan is the same whatever order the server lists them in', () => {
      const third = liveUser('u3', 'jane3@example.com', { externalId: 'E1' });
      const orders = [
        [...sharing, third],
        [third, ...sharing],
        [sharing[1]!, third, sharing[0]!],
      ];
      for (const users of [[user('jane3@example.com', { externalId: 'E1' })], [user('jane4@example.com', { externalId: 'E1' })]]) {
        const plans = orders.map((live) => plan(desired(users), live, [], rules));
        for (const other of plans.slice(1)) expect(other).toEqual(plans[0]);
      }
      expect(only(plan(desired([user('jane4@example.com', { externalId: 'E1' })]), orders[2]!, [], rules), 'manual').reason).toMatch(/^live users u1, u2 and u3 share externalId E1, and none has this userName/);
    });
  });

  test('case-only duplicates without an exact match: the lowest id is matched', () => {
    const result = plan(desired([user('JANE@example.com', { displayName: 'J' })]), [liveUser('u2', 'jane@example.com'), liveUser('u1', 'Jane@example.com')]);
    expect(only(result, 'updateUser').id).toBe('u1');
  });

  test.each([
    ['ignore', false, true, []],
    ['deactivate', false, true, ['deactivateUser old@example.com']],
    ['delete', true, true, ['deleteUser old@example.com']],
    ['delete', false, true, []],
    ['delete', true, false, ['manual user old@example.com: delete']],
  ] as const)('unmanagedUsers: %s (allowDelete %s, target deletes users %s)', (rule, allowDelete, usersDeletable, expected) => {
    const result = plan(desired([]), [liveUser('u5', 'old@example.com')], [], policy({ unmanagedUsers: rule, allowDelete }), generic({ usersDeletable }));
    expect(outline(result)).toEqual(expected);
    for (const op of result.operations) {
      expect(op.provenance).toEqual({ kind: 'policy', rule: 'unmanagedUsers', value: rule, location: { file: 'scimform.yaml', line: 12, column: 3 } });
    }
  });

  test('an unmanaged user is deactivated with one PATCH of active, and one already inactive is left alone', () => {
    const result = plan(desired([]), [liveUser('u5', 'old@example.com'), liveUser('u6', 'gone@example.com', { active: false })], [], policy({ unmanagedUsers: 'deactivate' }));
    const op = only(result, 'deactivateUser');
    expect(op.requests).toEqual([{ method: 'PATCH', path: '/Users/u5', body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] } }]);
    expect(op.changes).toEqual([{ path: 'active', old: true, new: false }]);
  });

  test('a delete is a bare DELETE of the user', () => {
    const op = only(plan(desired([]), [liveUser('u/5', 'old@example.com')], [], policy({ unmanagedUsers: 'delete', allowDelete: true })), 'deleteUser');
    expect(op.requests).toEqual([{ method: 'DELETE', path: '/Users/u%2F5' }]);
  });

  const guarded = [
    liveUser('p1', 'breakglass@example.com', { active: false }),
    liveUser('o1', 'contractor@other.org'),
    liveUser('o2', 'vendor@other.org', { externalId: 'X1' }),
  ];
  test.each([
    ['unmanaged, under deactivate', desired([]), policy({ unmanagedUsers: 'deactivate' })],
    ['unmanaged, under delete', desired([]), policy({ unmanagedUsers: 'delete', allowDelete: true })],
    [
      'declared with changes',
      desired([user('breakglass@example.com', { displayName: 'X' }), user('contractor@other.org', { active: false }), user('new@other.org')]),
      policy({ unmanagedUsers: 'deactivate' }),
    ],
    ['matched by externalId from an in-scope declaration', desired([user('vendor@example.com', { externalId: 'X1' })]), policy()],
  ])('protected and out-of-scope users never appear in a plan: %s', (_name, state, rules) => {
    const scoped = { ...rules, scope: '*@example.com', protectedUsers: ['breakglass@example.com'] };
    const result = plan(state, guarded, [liveGroup('g1', 'Admins', ['p1', 'o1'])], scoped, lightstep());
    expect(result.operations).toEqual([]);
    expect(result.removals.liveUsersInScope).toBe(0);
  });
  test('userNames with `/` are in a scope whose `*` covers them: declared ones are created, undeclared ones deactivated', () => {
    const result = plan(desired([user('a/b@example.com')]), [liveUser('u1', 'c/d@example.com'), liveUser('u2', 'e/f@other.org')], [], policy({ unmanagedUsers: 'deactivate', scope: '*@example.com' }));
    expect(outline(result)).toEqual(['createUser a/b@example.com', 'deactivateUser c/d@example.com']);
    expect(result.removals.liveUsersInScope).toBe(1);
  });
});

describe('computePlan: notes', () => {
  test.each([
    ['a protected declaration absent live', desired([user('breakglass@example.com', { displayName: 'X' })]), [], 'user breakglass@example.com is protected: left alone (not created)'],
    [
      'a protected declaration that differs live',
      desired([user('breakglass@example.com', { displayName: 'X' })]),
      [liveUser('b1', 'breakglass@example.com', { displayName: 'Y' })],
      'user breakglass@example.com is protected: left alone (its declared displayName not applied)',
    ],
    ['an out-of-scope declaration', desired([user('x@other.org')]), [], 'user x@other.org is outside scope: left alone (not created)'],
    [
      'an externalId match onto a protected user',
      desired([user('jane@example.com', { externalId: 'B' })]),
      [liveUser('b1', 'breakglass@example.com', { externalId: 'B' })],
      'user jane@example.com matches live user breakglass@example.com (id b1) by externalId, which is protected: left alone',
    ],
    [
      'a group member scimform will not add',
      desired([user('breakglass@example.com')], [group('Admins', ['breakglass@example.com'])]),
      [],
      'group Admins: member breakglass@example.com is not a user this plan manages or creates now: not added',
    ],
  ])('%s is explained in a note', (_name, state, users, note) => {
    const result = plan(state, users, [], policy({ scope: '*@example.com', protectedUsers: ['breakglass@example.com'] }));
    expect(result.notes).toContain(note);
    expect(result.operations.filter((op) => op.kind !== 'createGroup')).toEqual([]);
  });

  test('a protected declaration that matches live, already in its group, needs no note', () => {
    const state = desired([user('breakglass@example.com', { displayName: 'X' })], [group('Admins', ['breakglass@example.com'])]);
    const result = plan(state, [liveUser('b1', 'breakglass@example.com', { displayName: 'X' })], [liveGroup('g1', 'Admins', ['b1'])], policy({ protectedUsers: ['breakglass@example.com'] }));
    expect(result.notes ?? []).toEqual([]);
    expect(result.operations).toEqual([]);
  });

  test('a converged plan has no notes', () => {
    expect(plan(desired([janeDeclared]), [janeLive]).notes).toBeUndefined();
  });
});

describe('computePlan: groups', () => {
  const alice = liveUser('ua', 'alice@example.com');
  const bob = liveUser('ub', 'bob@example.com');
  const carol = liveUser('uc', 'carol@example.com');
  const users = [user('alice@example.com'), user('bob@example.com'), user('carol@example.com')];

  test('a new group is one POST with existing members by id and new users by a stand-in that apply resolves', () => {
    const result = plan(desired([...users, user('new@example.com')], [group('Admins', ['new@example.com', 'Alice@example.com'], { externalId: 'G-1' })]), [alice, bob, carol]);
    const op = only(result, 'createGroup');
    expect(op.members).toEqual([{ userName: 'alice@example.com', id: 'ua' }, { userName: 'new@example.com' }]);
    expect(op.requests).toEqual([
      {
        method: 'POST',
        path: '/Groups',
        body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Admins', externalId: 'G-1', members: [{ value: 'ua' }, { value: 'new@example.com' }] },
        refs: [{ pointer: '/members/1/value', operation: 'user:new@example.com' }],
      },
    ]);
    expect(result.operations.find((candidate) => candidate.kind === 'createUser')?.key).toBe('user:new@example.com');
  });

  test('a group declared without `members` leaves its live membership alone; `members: []` empties it', () => {
    const live = [liveGroup('g1', 'Admins', ['ua', 'ub'])];
    const unmanaged = plan(desired(users, [group('Admins', [], { membersUnmanaged: true })]), [alice, bob, carol], live);
    expect(unmanaged.operations).toEqual([]);
    expect(unmanaged.removals.removals).toBe(0);

    const emptied = plan(desired(users, [group('Admins', [])]), [alice, bob, carol], live);
    expect(only(emptied, 'updateGroupMembers').remove.map((member) => member.id)).toEqual(['ua', 'ub']);
    expect(emptied.emptiedGroups).toEqual(['Admins']);
  });

  test('membership changes are one PATCH: add of members values, remove by value filter', () => {
    const result = plan(desired(users, [group('Admins', ['alice@example.com', 'carol@example.com'])]), [alice, bob, carol], [liveGroup('g1', 'Admins', ['ua', 'ub'], { version: 'W/"2"' })], policy(), generic({ etag: true }));
    const op = only(result, 'updateGroupMembers');
    expect(op.add).toEqual([{ userName: 'carol@example.com', id: 'uc' }]);
    expect(op.remove).toEqual([{ userName: 'bob@example.com', id: 'ub' }]);
    expect(op.requests).toEqual([
      {
        method: 'PATCH',
        path: '/Groups/g1',
        ifMatch: 'W/"2"',
        body: {
          schemas: [PATCH_OP],
          Operations: [
            { op: 'add', path: 'members', value: [{ value: 'uc' }] },
            { op: 'remove', path: 'members[value eq "ub"]' },
          ],
        },
      },
    ]);
    expect(result.removals.removals).toBe(1);
  });

  test('member removal by value list, where the target asks for it', () => {
    const op = only(plan(desired(users, [group('Admins', [])]), [alice, bob], [liveGroup('g1', 'Admins', ['ua', 'ub'])], policy(), generic({ memberRemoval: 'value-list' })), 'updateGroupMembers');
    expect(op.requests[0]!.body).toEqual({ schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members', value: [{ value: 'ua' }, { value: 'ub' }] }] });
  });

  test('a member id with a quote is escaped in the filter (RFC 7644 §3.4.2.2)', () => {
    const odd = liveUser('a"b\\c', 'odd@example.com');
    const op = only(plan(desired([user('odd@example.com')], [group('Admins', [])]), [odd], [liveGroup('g1', 'Admins', ['a"b\\c'])]), 'updateGroupMembers');
    expect((op.requests[0]!.body as { Operations: unknown[] }).Operations).toEqual([{ op: 'remove', path: 'members[value eq "a\\"b\\\\c"]' }]);
  });

  test('a member id with a control character is escaped in the filter as JSON escapes it, so the path parses back to the id', () => {
    const odd = liveUser('u\tx\n', 'odd@example.com');
    const op = only(plan(desired([user('odd@example.com')], [group('Admins', [])]), [odd], [liveGroup('g1', 'Admins', ['u\tx\n'])]), 'updateGroupMembers');
    const [removal] = (op.requests[0]!.body as { Operations: { path: string }[] }).Operations;
    expect(removal?.path).toBe('members[value eq "u\\tx\\n"]');
    expect(JSON.parse(/^members\[value eq (".*")\]$/.exec(removal!.path)![1]!)).toBe('u\tx\n');
  });

  test('large membership changes are chunked, adds first, If-Match only on the first request', () => {
    const many = Array.from({ length: 5 }, (_, i) => liveUser(`u${i}`, `m${i}@example.com`));
    const state = desired(
      many.map((live) => user(live.userName)).concat(user('new@example.com')),
      [group('Team', ['m0@example.com', 'm1@example.com', 'new@example.com'], { externalId: 'T' })],
    );
    const live = liveGroup('g1', 'team', ['u2', 'u3', 'u4'], { version: 'v1' });
    const op = only(plan(state, many, [live], policy(), generic({ etag: true, maxMembersPerPatch: 2 })), 'updateGroupMembers');
    expect(op.requests.map((request) => [request.ifMatch, request.body, request.refs])).toEqual([
      [
        'v1',
        {
          schemas: [PATCH_OP],
          Operations: [
            { op: 'replace', path: 'displayName', value: 'Team' },
            { op: 'replace', path: 'externalId', value: 'T' },
            { op: 'add', path: 'members', value: [{ value: 'u0' }, { value: 'u1' }] },
          ],
        },
        undefined,
      ],
      [
        undefined,
        {
          schemas: [PATCH_OP],
          Operations: [
            { op: 'add', path: 'members', value: [{ value: 'new@example.com' }] },
            { op: 'remove', path: 'members[value eq "u2"]' },
          ],
        },
        [{ pointer: '/Operations/0/value/0/value', operation: 'user:new@example.com' }],
      ],
      [undefined, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members[value eq "u3"]' }, { op: 'remove', path: 'members[value eq "u4"]' }] }, undefined],
    ]);
  });

  test('without PATCH, a group change is one PUT of the full member list, keeping members scimform leaves alone', () => {
    const live = liveGroup('g1', 'Admins', ['ua', 'ub', 'nested-group']);
    const op = only(plan(desired([...users, user('new@example.com')], [group('Admins', ['alice@example.com', 'new@example.com'])]), [alice, bob], [live], policy(), generic({ updateMethod: 'put' })), 'updateGroupMembers');
    expect(op.requests).toEqual([
      {
        method: 'PUT',
        path: '/Groups/g1',
        body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'g1', displayName: 'Admins', members: [{ value: 'ua' }, { value: 'nested-group' }, { value: 'new@example.com' }] },
        refs: [{ pointer: '/members/2/value', operation: 'user:new@example.com' }],
      },
    ]);
  });

  test('members scimform does not manage (unknown ids, protected, out of scope) are never removed', () => {
    const result = plan(
      desired([user('alice@example.com')], [group('Admins', ['alice@example.com'])]),
      [alice, liveUser('p', 'breakglass@example.com'), liveUser('o', 'x@other.org')],
      [liveGroup('g1', 'Admins', ['ua', 'p', 'o', 'unknown'])],
      policy({ scope: '*@example.com', protectedUsers: ['breakglass@example.com'] }),
    );
    expect(result.operations).toEqual([]);
  });

  test('a converged group plans nothing, whatever the member order', () => {
    expect(plan(desired(users, [group('Admins', ['carol@example.com', 'alice@example.com'])]), [alice, bob, carol], [liveGroup('g1', 'Admins', ['ua', 'uc'])]).operations).toEqual([]);
  });

  test.each([
    ['by externalId, renamed', group('Admins', [], { externalId: 'G1' }), liveGroup('g1', 'Old Admins', [], { externalId: 'G1' }), [{ path: 'displayName', old: 'Old Admins', new: 'Admins' }]],
    ['by displayName, differing only in case, renamed', group('Admins'), liveGroup('g1', 'admins'), [{ path: 'displayName', old: 'admins', new: 'Admins' }]],
    ['by displayName, externalId set', group('Admins', [], { externalId: 'G2' }), liveGroup('g1', 'Admins'), [{ path: 'externalId', new: 'G2' }]],
    ['by displayName, externalId removed', group('Admins', [], { externalId: null }), liveGroup('g1', 'Admins', [], { externalId: 'G2' }), [{ path: 'externalId', old: 'G2' }]],
  ])('a group matched %s', (_name, declaredGroup, live, changes) => {
    const op = only(plan(desired([], [declaredGroup]), [], [live]), 'updateGroupMembers');
    expect(op.changes).toEqual(changes);
    expect(op.id).toBe('g1');
  });

  test('an exact displayName wins over a case-insensitive one', () => {
    const result = plan(desired([], [group('Admins')]), [], [liveGroup('g1', 'admins'), liveGroup('g2', 'Admins')]);
    expect(result.operations).toEqual([]);
  });

  test("on a target whose groups are read-only, every membership difference is a manual item that is never sent", () => {
    const result = plan(
      desired([...users, user('new@example.com')], [group('Admins', ['alice@example.com', 'carol@example.com']), group('Ops', ['bob@example.com'])]),
      [alice, bob, carol],
      [liveGroup('g1', 'Admins', ['ua', 'ub'])],
      policy(),
      lightstep(),
    );
    expect(outline(result)).toEqual([
      'createUser new@example.com',
      'manual group Admins: add carol@example.com',
      'manual group Admins: remove bob@example.com',
      'manual group Ops: create with bob@example.com',
    ]);
    const manuals = result.operations.filter((op) => op.kind === 'manual');
    expect(manuals.every((op) => op.requests.length === 0 && op.reason === "this target's groups are read-only")).toBe(true);
    expect(manuals[0]!.provenance).toEqual({ kind: 'declaration', location: at(21, 'identities/groups.yaml') });
    expect(result.summary).toEqual({ create: 1, update: 0, deactivate: 0, delete: 0, manual: 3 });
    // A manual removal is a person's to make: apply never sends it, so the removal guards do not count it.
    expect(result.removals.removals).toBe(0);
    expect(result.emptiedGroups).toEqual([]);
  });

  test.each([
    ['ignore', false, generic(), []],
    ['delete', false, generic(), []],
    ['delete', true, generic(), ['deleteGroup Old']],
    ['delete', true, lightstep(), ['manual group Old: delete']],
  ] as const)('unmanagedGroups: %s (allowDelete %s)', (rule, allowDelete, caps, expected) => {
    const result = plan(desired([user('alice@example.com')]), [alice], [liveGroup('g9', 'Old', ['ua'])], policy({ unmanagedGroups: rule, allowDelete }), caps);
    expect(outline(result)).toEqual(expected);
    // The guards weigh what apply sends: a manual item is never sent.
    expect(result.removals.removals).toBe(expected.filter((line) => !line.startsWith('manual')).length);
  });

  test('an undeclared group holding members scimform does not manage is not deleted', () => {
    const result = plan(desired([]), [], [liveGroup('g9', 'Old', ['someone-else'])], policy({ unmanagedGroups: 'delete', allowDelete: true }));
    expect(result.operations).toEqual([]);
    expect(result.notes).toEqual(['group Old (id g9) is not declared but holds 1 member(s) scimform does not manage: not deleted']);
  });

  test.each([
    ['every member removed', ['ua', 'ub'], [], ['Admins']],
    ['every member removed but one added', ['ua', 'ub'], ['carol@example.com'], []],
    ['an unmanaged member stays', ['ua', 'unknown'], [], []],
    ['already empty', [], [], []],
  ])('emptied groups: %s', (_name, liveMembers, members, emptied) => {
    const result = plan(desired(users, [group('Admins', members)]), [alice, bob, carol], [liveGroup('g1', 'Admins', liveMembers)]);
    expect(result.emptiedGroups).toEqual(emptied);
  });
});

describe('computePlan: summary and determinism', () => {
  test('the summary counts operations by what a reviewer cares about, removals by every kind', () => {
    const result = plan(
      desired([user('new@example.com'), user('upd@example.com', { displayName: 'U' }), user('back@example.com'), user('off@example.com', { active: false })], [group('G', ['new@example.com']), group('H', [])]),
      [
        liveUser('u1', 'upd@example.com'),
        liveUser('u2', 'back@example.com', { active: false }),
        liveUser('u3', 'off@example.com'),
        liveUser('u4', 'stray@example.com'),
        liveUser('u5', 'gone@example.com'),
      ],
      [liveGroup('g1', 'H', ['u1']), liveGroup('g2', 'Z', [])],
      policy({ unmanagedUsers: 'deactivate', unmanagedGroups: 'delete', allowDelete: true }),
    );
    expect(outline(result)).toEqual([
      'createUser new@example.com',
      'updateUser upd@example.com',
      'reactivateUser back@example.com',
      'createGroup G',
      'updateGroupMembers H',
      'deactivateUser gone@example.com',
      'deactivateUser off@example.com',
      'deactivateUser stray@example.com',
      'deleteGroup Z',
    ]);
    expect(result.summary).toEqual({ create: 2, update: 3, deactivate: 3, delete: 1, manual: 0 });
    // 3 deactivations, 1 member removed from H, 1 for the empty group Z.
    expect(result.removals).toEqual({ removals: 5, liveUsersInScope: 5, limit: { kind: 'percent', value: 25, text: '25%' } });
    expect(result.emptiedGroups).toEqual(['H']);
  });

  test('the plan does not depend on the order of its inputs', () => {
    const state = desired([user('b@example.com'), user('a@example.com', { displayName: 'A' }), user('c@example.com')], [group('Y', ['a@example.com', 'b@example.com']), group('X', ['c@example.com'])]);
    const users = [liveUser('u1', 'a@example.com'), liveUser('u2', 'z@example.com'), liveUser('u3', 'y@example.com')];
    const groups = [liveGroup('g1', 'Y', ['u2']), liveGroup('g2', 'W', ['u1'])];
    const rules = policy({ unmanagedUsers: 'deactivate', unmanagedGroups: 'delete', allowDelete: true });
    const forward = plan(state, users, groups, rules);
    const backward = plan(desired([...state.users].reverse(), [...state.groups].reverse()), [...users].reverse(), [...groups].reverse(), rules);
    expect(backward).toEqual(forward);
    expect(JSON.stringify(forward)).toEqual(JSON.stringify(plan(state, users, groups, rules)));
  });
});

describe('a group create or rename onto a name another live group holds', () => {
  const groups = (plan: Plan) => plan.operations.map((op) => (op.kind === 'manual' ? `manual ${op.subject}${op.followUp ? ' (follow-up)' : ''}` : `${op.kind} ${op.key}`));
  test.each([
    {
      name: 'a holder this plan keeps: a manual item for a person, nothing sent',
      want: [group('Ops', [], { externalId: 'G1' })],
      live: [liveGroup('g0', 'Ops'), liveGroup('g1', 'Admins', [], { externalId: 'G1' })],
      rules: policy(),
      expected: ['manual group Ops: rename from Admins'],
    },
    {
      name: 'a holder renamed away by this plan: the create waits for the next plan (creates run before renames)',
      want: [group('Ops'), group('Admins', [], { externalId: 'G2' })],
      live: [liveGroup('g0', 'Ops', [], { externalId: 'G2' })],
      rules: policy(),
      expected: ['updateGroupMembers group:Admins', 'manual group Ops: create (follow-up)'],
    },
    {
      name: 'a holder this plan deletes: a follow-up the next plan makes',
      want: [group('Admins', [], { externalId: 'G1' })],
      live: [liveGroup('g0', 'Old', [], { externalId: 'G1' }), liveGroup('g1', 'Admins')],
      rules: policy({ unmanagedGroups: 'delete', allowDelete: true }),
      expected: ['deleteGroup group:Admins', 'manual group Admins: rename from Old (follow-up)'],
    },
    {
      name: 'a holder whose own rename is held by one it keeps: both manual',
      want: [group('Ops'), group('Admins', [], { externalId: 'G1' })],
      live: [liveGroup('g0', 'Ops', [], { externalId: 'G1' }), liveGroup('g1', 'Admins')],
      rules: policy(),
      expected: ['manual group Admins: rename from Ops', 'manual group Ops: create'],
    },
    {
      name: 'a holder renamed away by this plan: the rename waits for the next plan (renames run in parallel)',
      want: [group('Admins', [], { externalId: 'G1' }), group('Dév', [], { externalId: 'G2' })],
      live: [liveGroup('g0', 'Ops', [], { externalId: 'G1' }), liveGroup('g1', 'Admins', [], { externalId: 'G2' })],
      rules: policy(),
      expected: ['updateGroupMembers group:Dév', 'manual group Admins: rename from Ops (follow-up)'],
    },
    {
      name: 'two groups swapping names: a cycle, manual items for a person',
      want: [group('Ops', [], { externalId: 'G1' }), group('Admins', [], { externalId: 'G2' })],
      live: [liveGroup('g0', 'Admins', [], { externalId: 'G1' }), liveGroup('g1', 'Ops', [], { externalId: 'G2' })],
      rules: policy(),
      expected: ['manual group Admins: rename from Ops', 'manual group Ops: rename from Admins'],
    },
  ])('$name', ({ want, live, rules, expected }) => {
    const plan = computePlan(desired([], want), { users: [], groups: live }, rules, generic());
    expect(groups(plan)).toEqual(expected);
  });
});
