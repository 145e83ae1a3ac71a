import { describe, expect, test } from 'vitest';
import { resolveRefs } from '../../src/apply/refs.js';

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
    });
    expect(planned.body.Operations[0]?.value[0]?.value).toBe('a@x.io');
  });

  test('names the create whose id is missing', () => {
    const resolved = resolveRefs({ method: 'POST', path: '/Groups', body: { members: [{ value: 'a@x.io' }] }, refs: [{ pointer: '/members/0/value', operation: 'user:a@x.io' }] }, new Map());
    expect(resolved).toEqual({ ok: false, operation: 'user:a@x.io' });
  });
});
