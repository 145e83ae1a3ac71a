import { describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import { parseScimErrorBody } from '../../src/scim/errors.js';
import { parseActive, parseGroup, parseListPage, parseServiceProviderConfig, parseUser } from '../../src/scim/parse.js';
import { fingerprintOf, resourceHash } from '../../src/plan/fingerprint.js';

describe('parseActive', () => {
  test.each([
    [true, true],
    [false, false],
    ['true', true],
    ['False', false],
    ['FALSE', false],
    [' false ', false],
    [undefined, true],
    [null, true],
  ])('%j → %j', (value, expected) => {
    expect(parseActive(value)).toBe(expected);
  });
});

describe('parseUser', () => {
  const jane = {
    id: 'u1',
    userName: 'jane@example.com',
    externalId: 'E-1',
    displayName: 'Jane Doe',
    name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' },
    emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
    meta: { version: 'W/"3"' },
  };

  test('reads the modelled attributes and takes meta.version, without keeping the raw resource', () => {
    const resource = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...jane, active: 'False' };
    // Every modelled attribute as sent, `active` read from its string, the version from meta.
    const { meta: _meta, ...modelled } = jane;
    expect(parseUser(resource, 'W/"ignored"')).toEqual({ ...modelled, active: false, version: 'W/"3"' });
  });

  test.each([
    ['as declared', { userName: 'jane@example.com', externalId: 'E-1', displayName: 'Jane Doe', name: { givenName: 'Jane', familyName: 'Doe' }, emails: [{ value: 'jane@example.com', type: 'work' }] }],
    ['declared otherwise', { userName: 'jane@example.com', externalId: 'E-2', displayName: 'J. Doe', name: { givenName: 'J.' }, emails: [{ value: 'j@example.com', type: 'home' }] }],
    ['declared with explicit nulls', { userName: 'jane@example.com', externalId: null, displayName: null, name: null, emails: null }],
    ['declared with keys in another order', { userName: 'jane@example.com', name: { familyName: 'Doe', givenName: 'Jane', formatted: 'Jane Doe' }, emails: [{ type: 'work', value: 'jane@example.com', primary: true }] }],
    ['declared with fewer keys', { userName: 'jane@example.com', name: { givenName: 'Jane', familyName: 'Doe' }, emails: [{ value: 'jane@example.com', type: 'work' }] }],
    ['declared with one more email', { userName: 'jane@example.com', emails: [{ value: 'jane@example.com', type: 'work', primary: true }, { value: 'j@example.com' }] }],
    ['declared exactly as live', { userName: 'jane@example.com', name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' }, emails: [{ value: 'jane@example.com', type: 'work', primary: true }] }],
  ])('a declared user of the same userName (%s) leaves the live values as read, keys in their order', (_case, declared) => {
    const resource = structuredClone(jane);
    const twin = { ...declared, source: { file: 'identities/people.yaml', line: 2, column: 5 } };
    const user = parseUser(resource, undefined, { declared: (userName) => (userName === twin.userName ? twin : undefined) });
    expect(JSON.stringify(user)).toBe(JSON.stringify(parseUser(resource)));
  });

  test('keeps the raw resource when asked (a PUT sends it back)', () => {
    const resource = { id: 'u1', userName: 'jane@example.com', 'urn:example:ext': { costCenter: '42' }, meta: { version: 'W/"3"' } };
    expect(parseUser(resource, undefined, { keepResource: true }).resource).toBe(resource);
  });

  test.each([
    ['meta.version', { id: 'u1', userName: 'a@example.com', meta: { version: 'W/"3"' } }, undefined, { kind: 'version', value: 'W/"3"' }, false],
    ['the ETag', { id: 'u1', userName: 'a@example.com' }, 'W/"7"', { kind: 'version', value: 'W/"7"' }, false],
    ['the hash of the resource without meta, which is kept for it', { id: 'u1', userName: 'a@example.com', meta: { lastModified: 'now' } }, undefined, { kind: 'hash', value: resourceHash({ userName: 'a@example.com', id: 'u1' }) }, true],
  ])('the fingerprint is %s', (_case, resource, etag, expected, kept) => {
    const user = parseUser(resource, etag);
    expect(user.resource !== undefined).toBe(kept);
    expect(fingerprintOf(user)).toEqual(expected);
  });

  test('attribute names in any case, a numeric id, absent active and the ETag as version', () => {
    const user = parseUser({ ID: 42, USERNAME: 'a@example.com', Emails: [{ Value: 'a@example.com', Primary: 'true' }] }, 'W/"7"');
    expect(user).toMatchObject({ id: '42', userName: 'a@example.com', active: true, version: 'W/"7"', emails: [{ value: 'a@example.com', primary: true }] });
  });

  test.each([
    ['not an object', 'x'],
    ['no id', { userName: 'a@example.com' }],
    ['no userName', { id: 'u1' }],
  ])('a user with %s is a clear error', (_case, resource) => {
    expect(() => parseUser(resource)).toThrow(ScimformError);
  });

  test('the resource quoted in that error shows control and bidi characters escaped', () => {
    expect(() => parseUser({ userName: 'a\u001b[2J\u0085\u202e@example.com' })).toThrow(
      'the SCIM service returned a user without an id: {"userName":"a\\u001b[2J\\u0085\\u202e@example.com"}',
    );
  });
});

describe('parseGroup', () => {
  test('members are the values of members[]', () => {
    const group = parseGroup({ id: 'g1', displayName: 'Admins', members: [{ value: 'u1', display: 'a' }, { value: 'u2' }, { display: 'no value' }] });
    expect(group).toMatchObject({ id: 'g1', displayName: 'Admins', members: ['u1', 'u2'] });
  });

  test('a group with a version keeps its resource only when asked; without one, always (its fingerprint is a hash of it)', () => {
    const resource = { id: 'g1', displayName: 'Admins', members: [{ value: 'u1', display: 'a' }], meta: { version: 'W/"1"' } };
    expect(parseGroup(resource)).toEqual({ id: 'g1', displayName: 'Admins', members: ['u1'], version: 'W/"1"' });
    expect(parseGroup(resource, undefined, { keepResource: true }).resource).toBe(resource);
    const { meta: _meta, ...unversioned } = resource;
    expect(parseGroup(unversioned).resource).toBe(unversioned);
  });

  test('a group without members has none', () => {
    expect(parseGroup({ id: 'g1', displayName: 'Empty' }).members).toEqual([]);
  });
});

describe('parseListPage', () => {
  test.each([
    ['Resources', { totalResults: 1, Resources: [{ id: 'a' }] }, { resources: [{ id: 'a' }], totalResults: 1 }],
    ['lowercase resources', { resources: [{ id: 'a' }] }, { resources: [{ id: 'a' }] }],
    ['zero results without Resources', { totalResults: 0 }, { resources: [], totalResults: 0 }],
    ['counts as strings', { totalResults: '5', startIndex: '1', itemsPerPage: '2', Resources: [] }, { resources: [], totalResults: 5, startIndex: 1, itemsPerPage: 2 }],
    ['a nextCursor', { Resources: [], nextCursor: 'abc' }, { resources: [], nextCursor: 'abc' }],
    ['an empty nextCursor means the end', { Resources: [], nextCursor: '' }, { resources: [] }],
  ])('%s', (_case, body, expected) => {
    expect(parseListPage(body)).toEqual(expected);
  });

  test.each([['an array', []], ['a string', 'x'], ['Resources not an array', { Resources: { id: 'a' } }]])('%s is a clear error', (_case, body) => {
    expect(() => parseListPage(body)).toThrow(ScimformError);
  });
});

describe('parseServiceProviderConfig', () => {
  test('reads patch, filter, etag, bulk, maxResults and RFC 9865 pagination', () => {
    expect(
      parseServiceProviderConfig({
        patch: { supported: true },
        filter: { supported: true, maxResults: 200 },
        etag: { supported: 'false' },
        bulk: { supported: false, maxOperations: 0 },
        pagination: { cursor: true, index: false, defaultPaginationMethod: 'cursor', maxPageSize: 50 },
      }),
    ).toEqual({ patch: true, filter: true, maxResults: 200, etag: false, bulk: false, cursor: true, index: false, defaultPagination: 'cursor', maxPageSize: 50 });
  });

  test('says nothing about what the server leaves out', () => {
    expect(parseServiceProviderConfig({ schemas: [] })).toEqual({});
    expect(parseServiceProviderConfig('<html>')).toEqual({});
  });
});

describe('parseScimErrorBody', () => {
  test.each([
    [{ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness', detail: 'taken' }, { status: 409, scimType: 'uniqueness', detail: 'taken' }],
    [{ status: 404, detail: 'no such user' }, { status: 404, detail: 'no such user' }],
    [{ status: '409' }, { status: 409 }],
    [{ message: 'plain message' }, { detail: 'plain message' }],
    [{ unrelated: true }, undefined],
    ['text', undefined],
    [undefined, undefined],
  ])('%j → %j', (body, expected) => {
    expect(parseScimErrorBody(body)).toEqual(expected);
  });
});
