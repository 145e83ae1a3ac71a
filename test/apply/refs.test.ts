import { describe, expect, test } from 'vitest';
import { resolveRefs } from '../../src/apply/refs.js';
import type { WriteRequest } from '../../src/plan/types.js';

const patch = (operations: unknown[], refs: WriteRequest['refs']): WriteRequest => ({ method: 'PATCH', path: '/Groups/g1', body: { Operations: operations }, ifMatch: 'W/"1"', refs });
const add = (...values: string[]) => ({ op: 'add', path: 'members', value: values.map((value) => ({ value })) });
const removeDave = { op: 'remove', path: 'members[value eq "dave-id"]' };
const ref = (pointer: string, userName: string) => ({ pointer, operation: `user:${userName}` });

describe('resolveRefs', () => {
  test('puts created ids at the pointers (RFC 6901 escapes included) and leaves the planned request as it was', () => {
    const planned = {
      method: 'PATCH' as const,
      path: '/Groups/g1',
      body: { Operations: [{ op: 'add', path: 'members', value: [{ value: 'a@x.io' }, { value: 'g1-live' }] }], 'a/b~c': 'b@x.io' },
      refs: [
        { pointer: '/Operations/0/value/0/value', operation: 'user:a@x.io' },
        { pointer: '/a~1b~0c', operation: 'user:b@x.io' },
      ],
    };
    const resolved = resolveRefs(planned, new Map([['user:a@x.io', 'id-a'], ['user:b@x.io', 'id-b']]));
    expect(resolved).toEqual({
      ok: true,
      request: { method: 'PATCH', path: '/Groups/g1', body: { Operations: [{ op: 'add', path: 'members', value: [{ value: 'id-a' }, { value: 'g1-live' }] }], 'a/b~c': 'id-b' } },
      dropped: [],
    });
    expect(planned.body.Operations[0]?.value[0]?.value).toBe('a@x.io');
  });

  // Only jane's create made an id: every member whose create left none is left out, the rest goes.
  const ids = new Map([['user:jane@x.io', 'jane-id']]);
  test.each<{ name: string; planned: WriteRequest; body: unknown; dropped: string[] }>([
    {
      name: 'a group create keeps the members that exist',
      planned: {
        method: 'POST',
        path: '/Groups',
        body: { displayName: 'Ops', members: [{ value: 'bob@x.io' }, { value: 'alice-id' }, { value: 'jane@x.io' }] },
        refs: [ref('/members/0/value', 'bob@x.io'), ref('/members/2/value', 'jane@x.io')],
      },
      body: { displayName: 'Ops', members: [{ value: 'alice-id' }, { value: 'jane-id' }] },
      dropped: ['user:bob@x.io'],
    },
    {
      name: 'a group create whose only member failed is still a create, with no member',
      planned: { method: 'POST', path: '/Groups', body: { displayName: 'Ops', members: [{ value: 'bob@x.io' }] }, refs: [ref('/members/0/value', 'bob@x.io')] },
      body: { displayName: 'Ops', members: [] },
      dropped: ['user:bob@x.io'],
    },
    {
      name: 'a PATCH add keeps its other values; the removal and If-Match stay',
      planned: patch([add('bob@x.io', 'alice-id', 'carl@x.io', 'jane@x.io'), removeDave], [
        ref('/Operations/0/value/0/value', 'bob@x.io'),
        ref('/Operations/0/value/2/value', 'carl@x.io'),
        ref('/Operations/0/value/3/value', 'jane@x.io'),
      ]),
      body: { Operations: [add('alice-id', 'jane-id'), removeDave] },
      dropped: ['user:bob@x.io', 'user:carl@x.io'],
    },
    {
      name: 'a PATCH add left with no value goes; the removal is still sent',
      planned: patch([add('bob@x.io'), removeDave], [ref('/Operations/0/value/0/value', 'bob@x.io')]),
      body: { Operations: [removeDave] },
      dropped: ['user:bob@x.io'],
    },
    {
      name: 'a PUT keeps the live members and the added ones that exist',
      planned: {
        method: 'PUT',
        path: '/Groups/g1',
        body: { displayName: 'Ops', members: [{ value: 'alice-id' }, { value: 'bob@x.io' }, { value: 'jane@x.io' }] },
        refs: [ref('/members/1/value', 'bob@x.io'), ref('/members/2/value', 'jane@x.io')],
      },
      body: { displayName: 'Ops', members: [{ value: 'alice-id' }, { value: 'jane-id' }] },
      dropped: ['user:bob@x.io'],
    },
  ])('$name', ({ planned, body, dropped }) => {
    const resolved = resolveRefs(planned, ids);
    expect(resolved).toEqual({ ok: true, request: { method: planned.method, path: planned.path, body, ...(planned.ifMatch ? { ifMatch: planned.ifMatch } : {}) }, dropped });
  });

  test('a PATCH whose only change was adding members that failed is left with nothing to send', () => {
    expect(resolveRefs(patch([add('bob@x.io')], [ref('/Operations/0/value/0/value', 'bob@x.io')]), ids)).toEqual({ ok: true, request: undefined, dropped: ['user:bob@x.io'] });
  });

  test('a missing id anywhere but in a member list cannot be left out: it names the create', () => {
    const resolved = resolveRefs({ method: 'PATCH', path: '/Groups/g1', body: { owner: 'a@x.io' }, refs: [{ pointer: '/owner', operation: 'user:a@x.io' }] }, new Map());
    expect(resolved).toEqual({ ok: false, operation: 'user:a@x.io' });
  });
});
