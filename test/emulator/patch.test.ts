/** PATCH on users (RFC 7644 §3.5.2) and ETags (§3.14), over real HTTP. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { client, isScimError, PATCH_OP, user } from './http.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
let emulator: RunningEmulator;
let scim: ReturnType<typeof client>;
let serial = 0;

beforeAll(async () => {
  emulator = await startEmulator({ profile: 'generic' });
  scim = client(emulator.url);
});
afterAll(() => emulator.close());

/** A fresh user with a name, two emails and a display name. */
async function freshUser(): Promise<{ id: string; userName: string }> {
  const userName = `patch${++serial}@example.com`;
  const created = await scim.post(
    '/Users',
    user(userName, {
      displayName: 'Pat Ch',
      name: { givenName: 'Pat', familyName: 'Ch' },
      emails: [
        { value: userName, type: 'work', primary: true },
        { value: `home${serial}@example.org`, type: 'home' },
      ],
    }),
  );
  expect(created.status).toBe(201);
  return { id: created.body.id, userName };
}

describe('PATCH operations that succeed', () => {
  test.each<[string, unknown[], (after: any, before: { userName: string }) => void]>([
    ['replace active with a boolean', [{ op: 'replace', path: 'active', value: false }], (u) => expect(u.active).toBe(false)],
    ['"Replace" with the string "False", as Entra ID sends', [{ op: 'Replace', path: 'active', value: 'False' }], (u) => expect(u.active).toBe(false)],
    ['a path-less replace of {active: false}, as Okta sends', [{ op: 'replace', value: { active: false } }], (u) => expect(u.active).toBe(false)],
    ['replace userName', [{ op: 'replace', path: 'userName', value: 'renamed-%@example.com' }], (u) => expect(u.userName).toMatch(/^renamed-/)],
    [
      'replace name.givenName, keeping familyName and refreshing formatted',
      [{ op: 'replace', path: 'name.givenName', value: 'Patricia' }],
      (u) => expect(u.name).toEqual({ givenName: 'Patricia', familyName: 'Ch', formatted: 'Patricia Ch' }),
    ],
    ['a path-less add of a complex value merges sub-attributes', [{ op: 'add', value: { name: { familyName: 'Smith' } } }], (u) => expect(u.name).toMatchObject({ givenName: 'Pat', familyName: 'Smith' })],
    ['a path-less replace with a dotted key, as Entra ID sends', [{ op: 'replace', value: { 'name.familyName': 'Dot' } }], (u) => expect(u.name.familyName).toBe('Dot')],
    ['remove name.givenName', [{ op: 'remove', path: 'name.givenName' }], (u) => expect(u.name).toEqual({ familyName: 'Ch', formatted: 'Ch' })],
    ['remove displayName', [{ op: 'remove', path: 'displayName' }], (u) => expect(u.displayName).toBeUndefined()],
    ['add externalId', [{ op: 'add', path: 'externalId', value: 'E-77' }], (u) => expect(u.externalId).toBe('E-77')],
    ['attribute names in any case', [{ op: 'replace', path: 'NAME.GIVENNAME', value: 'Upper' }], (u) => expect(u.name.givenName).toBe('Upper')],
    ['a path with the core schema URN', [{ op: 'replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:displayName', value: 'Urn' }], (u) => expect(u.displayName).toBe('Urn')],
    [
      'add emails appends a value, lower-cased',
      [{ op: 'add', path: 'emails', value: [{ value: 'Other@Example.NET', type: 'other' }] }],
      (u) => expect(u.emails.map((e: any) => e.value)).toContain('other@example.net'),
    ],
    [
      'add of an email already there adds nothing',
      [{ op: 'add', path: 'emails', value: [{ value: 'PATCH-SELF', type: 'work' }] }],
      (u) => expect(u.emails).toHaveLength(2),
    ],
    [
      'replace emails replaces the whole array',
      [{ op: 'replace', path: 'emails', value: [{ value: 'only@example.com', type: 'work', primary: true }] }],
      (u) => expect(u.emails).toEqual([{ value: 'only@example.com', type: 'work', primary: true }]),
    ],
    [
      'remove emails[type eq "home"] removes only the matching value',
      [{ op: 'remove', path: 'emails[type eq "home"]' }],
      (u, before) => expect(u.emails).toEqual([{ value: before.userName, type: 'work', primary: true }]),
    ],
    [
      'replace emails[type eq "work"].value changes a sub-attribute of the matching value',
      [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'New.Work@Example.com' }],
      (u) => expect(u.emails.find((e: any) => e.type === 'work').value).toBe('new.work@example.com'),
    ],
    [
      'add of a primary email takes primary from the old one (RFC 7643 §2.4)',
      [{ op: 'add', path: 'emails', value: [{ value: 'new.primary@example.com', type: 'other', primary: true }] }],
      (u) => expect(u.emails.filter((e: any) => e.primary === true).map((e: any) => e.value)).toEqual(['new.primary@example.com']),
    ],
    [
      'making an earlier email primary takes primary from a later one (RFC 7644 §3.5.2)',
      [
        { op: 'add', path: 'emails', value: [{ value: 'later@example.com', type: 'other', primary: true }] },
        { op: 'replace', path: 'emails[type eq "work"].primary', value: true },
      ],
      (u, before) => expect(u.emails.filter((e: any) => e.primary === true).map((e: any) => e.value)).toEqual([before.userName]),
    ],
    ['remove emails removes them all', [{ op: 'remove', path: 'emails' }], (u) => expect(u.emails).toBeUndefined()],
    [
      'an enterprise extension attribute by its full path',
      [{ op: 'add', path: `${ENTERPRISE}:department`, value: 'Ops' }],
      (u) => {
        expect(u[ENTERPRISE]).toEqual({ department: 'Ops' });
        expect(u.schemas).toContain(ENTERPRISE);
      },
    ],
    [
      'several operations in order',
      [
        { op: 'replace', path: 'displayName', value: 'First' },
        { op: 'replace', path: 'displayName', value: 'Second' },
        { op: 'add', path: 'title', value: 'Lead' },
      ],
      (u) => expect(u).toMatchObject({ displayName: 'Second', title: 'Lead' }),
    ],
  ])('%s', async (_name, operations, check) => {
    const before = await freshUser();
    const ops = JSON.parse(JSON.stringify(operations).replaceAll('PATCH-SELF', before.userName).replaceAll('%', String(serial)));
    const response = await scim.patch(`/Users/${before.id}`, ops);
    expect(response.status).toBe(200);
    check(response.body, before);
    // What PATCH answered is what is stored.
    expect((await scim.get(`/Users/${before.id}`)).body).toEqual(response.body);
  });
});

test('replace of a primary sub-attribute makes that value primary, wherever it stands, and the others not', async () => {
  const userName = `primary-order${++serial}@example.com`;
  const created = await scim.post('/Users', user(userName, { emails: [{ value: `home${serial}@example.org`, type: 'home' }, { value: userName, type: 'work', primary: true }] }));
  const response = await scim.patch(`/Users/${created.body.id}`, [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }]);
  expect(response.status).toBe(200);
  expect(response.body.emails).toEqual([
    { value: `home${serial}@example.org`, type: 'home', primary: true },
    { value: userName, type: 'work', primary: false },
  ]);
});

describe('PATCH operations that fail, leaving the user unchanged', () => {
  test.each<[string, unknown, number, string | undefined]>([
    ['remove without a path', { schemas: [PATCH_OP], Operations: [{ op: 'remove' }] }, 400, 'noTarget'],
    ['an unknown op', { schemas: [PATCH_OP], Operations: [{ op: 'move', path: 'title', value: 'x' }] }, 400, 'invalidSyntax'],
    ['no PatchOp schema', { Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, 400, 'invalidSyntax'],
    ['no operations', { schemas: [PATCH_OP], Operations: [] }, 400, 'invalidSyntax'],
    ['a path to an unknown attribute', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'favouriteColour', value: 'x' }] }, 400, 'invalidPath'],
    ['a path that does not parse', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[type eq', value: 'x' }] }, 400, 'invalidPath'],
    ['a change to id', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'id', value: 'x' }] }, 400, 'mutability'],
    ['a change to the read-only groups', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'groups', value: [{ value: 'g' }] }] }, 400, 'mutability'],
    ['a change to meta', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'meta.created', value: 'x' }] }, 400, 'mutability'],
    ['a filter that matches nothing', { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'emails[type eq "fax"]' }] }, 400, 'noTarget'],
    // As in a listing's filter (RFC 7644 §3.4.2.2), rather than a filter that matches nothing (noTarget).
    ['a value filter that orders a boolean', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'emails[primary gt 0].type', value: 'home' }] }, 400, 'invalidPath'],
    ['removing the required userName', { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'userName' }] }, 400, 'invalidValue'],
    ['active that is not a boolean', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] }, 400, 'invalidValue'],
    ['replace without a value', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title' }] }, 400, 'invalidValue'],
    [
      'a valid operation followed by an invalid one (PATCH is atomic)',
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'nope', value: 1 }] },
      400,
      'invalidPath',
    ],
  ])('%s', async (_name, body, status, scimType) => {
    const target = await freshUser();
    const before = (await scim.get(`/Users/${target.id}`)).body;
    const response = await scim.call('PATCH', `/Users/${target.id}`, body);
    expect(isScimError(response, status, scimType)).toBe(true);
    expect((await scim.get(`/Users/${target.id}`)).body).toEqual(before);
  });

  test('replacing userName with one another user has (in any case) is 409 uniqueness', async () => {
    const first = await freshUser();
    const second = await freshUser();
    const response = await scim.patch(`/Users/${second.id}`, [{ op: 'replace', path: 'userName', value: first.userName.toUpperCase() }]);
    expect(isScimError(response, 409, 'uniqueness')).toBe(true);
  });

  test('changing only the case of its own userName is allowed', async () => {
    const target = await freshUser();
    const response = await scim.patch(`/Users/${target.id}`, [{ op: 'replace', path: 'userName', value: target.userName.toUpperCase() }]);
    expect(response.status).toBe(200);
    expect(response.body.userName).toBe(target.userName.toUpperCase());
  });
});

describe('ETags (RFC 7644 §3.14)', () => {
  test.each<[string, (version: string) => string, number]>([
    ['the current version', (v) => v, 200],
    ['the current version without W/', (v) => v.replace(/^W\//, ''), 200],
    ['"*"', () => '*', 200],
    ['a list that contains the current version', (v) => `W/"0", ${v}`, 200],
    ['a stale version', () => 'W/"0"', 412],
  ])('PATCH with If-Match %s answers %s', async (_name, ifMatch, status) => {
    const target = await freshUser();
    const version = (await scim.get(`/Users/${target.id}`)).headers.get('etag')!;
    const response = await scim.patch(`/Users/${target.id}`, [{ op: 'replace', path: 'title', value: 'T' }], { 'if-match': ifMatch(version) });
    expect(response.status).toBe(status);
    if (status === 412) {
      expect(isScimError(response, 412)).toBe(true);
      expect((await scim.get(`/Users/${target.id}`)).body.title).toBeUndefined();
    } else {
      expect(response.headers.get('etag')).not.toBe(version);
      expect(response.body.meta.version).toBe(response.headers.get('etag'));
    }
  });

  test('a DELETE with a stale If-Match is refused with 412 and deletes nothing', async () => {
    const target = await freshUser();
    const stale = (await scim.get(`/Users/${target.id}`)).headers.get('etag')!;
    await scim.patch(`/Users/${target.id}`, [{ op: 'replace', path: 'title', value: 'moved on' }]);
    expect(isScimError(await scim.delete(`/Users/${target.id}`, { 'if-match': stale }), 412)).toBe(true);
    expect((await scim.get(`/Users/${target.id}`)).status).toBe(200);
  });

  test.each<[string, (version: string) => string]>([
    ['"*"', () => '*'],
    ['the current version', (v) => v],
  ])('a write with If-None-Match %s is refused with 412 and changes nothing (RFC 9110 §13.1.2)', async (_name, ifNoneMatch) => {
    const target = await freshUser();
    const before = await scim.get(`/Users/${target.id}`);
    const version = before.headers.get('etag')!;
    const response = await scim.patch(`/Users/${target.id}`, [{ op: 'replace', path: 'title', value: 'T' }], { 'if-none-match': ifNoneMatch(version) });
    expect(isScimError(response, 412)).toBe(true);
    expect(isScimError(await scim.delete(`/Users/${target.id}`, { 'if-none-match': ifNoneMatch(version) }), 412)).toBe(true);
    expect((await scim.get(`/Users/${target.id}`)).body).toEqual(before.body);
  });

  test('a write with If-None-Match of another version goes ahead', async () => {
    const target = await freshUser();
    const response = await scim.patch(`/Users/${target.id}`, [{ op: 'replace', path: 'title', value: 'T' }], { 'if-none-match': 'W/"0"' });
    expect(response.status).toBe(200);
    expect(response.body.title).toBe('T');
  });

  test('GET with If-None-Match of the current version answers 304 without a body', async () => {
    const target = await freshUser();
    const version = (await scim.get(`/Users/${target.id}`)).headers.get('etag')!;
    const response = await scim.get(`/Users/${target.id}`, { 'if-none-match': version });
    expect(response.status).toBe(304);
    expect(response.body).toBeUndefined();
  });

  test('every write gives a new version, and lastModified moves with it', async () => {
    const target = await freshUser();
    const versions = new Set<string>();
    for (const title of ['a', 'b', 'c']) {
      versions.add((await scim.patch(`/Users/${target.id}`, [{ op: 'replace', path: 'title', value: title }])).headers.get('etag')!);
    }
    expect(versions.size).toBe(3);
  });

  test.each<[string, unknown[]]>([
    ['an add of the displayName it has', [{ op: 'add', path: 'displayName', value: 'Pat Ch' }]],
    ['an add of an email it has', [{ op: 'add', path: 'emails', value: [{ value: 'PATCH-SELF', type: 'work', primary: true }] }]],
    ['a replace of name.givenName with the same name', [{ op: 'replace', path: 'name.givenName', value: 'Pat' }]],
    ['a remove of a title it does not have', [{ op: 'remove', path: 'title' }]],
  ])('a PATCH that changes nothing (%s) keeps the version and lastModified (RFC 7644 §3.5.2.1)', async (_name, operations) => {
    const target = await freshUser();
    const before = await scim.get(`/Users/${target.id}`);
    const ops = JSON.parse(JSON.stringify(operations).replaceAll('PATCH-SELF', target.userName));
    const response = await scim.patch(`/Users/${target.id}`, ops, { 'if-match': before.headers.get('etag')! });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(before.headers.get('etag'));
    expect(response.body).toEqual(before.body);
  });

  test('a PUT of the resource as it is keeps its version', async () => {
    const target = await freshUser();
    const before = await scim.get(`/Users/${target.id}`);
    const { id: _id, meta: _meta, ...body } = before.body;
    const response = await scim.put(`/Users/${target.id}`, body);
    expect(response.status).toBe(200);
    expect(response.body.meta).toEqual(before.body.meta);
  });

  test('with etags off there is no ETag header, no meta.version, and If-Match is ignored', async () => {
    const plain = await startEmulator({ etags: false });
    try {
      const api = client(plain.url);
      const created = await api.post('/Users', user('noversion@example.com'));
      expect(created.headers.get('etag')).toBeNull();
      expect(created.body.meta.version).toBeUndefined();
      const patched = await api.patch(`/Users/${created.body.id}`, [{ op: 'replace', path: 'active', value: false }], { 'if-match': 'W/"stale"' });
      expect(patched.status).toBe(200);
      expect((await api.get('/ServiceProviderConfig')).body.etag).toEqual({ supported: false });
    } finally {
      await plain.close();
    }
  });
});
