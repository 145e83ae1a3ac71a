/** /Groups: membership PATCH forms, the users' read-only `groups`, and read-only groups under the lightstep profile. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { client, GROUP, isScimError, user } from './http.js';

describe('groups under the generic profile', () => {
  let emulator: RunningEmulator;
  let scim: ReturnType<typeof client>;
  const ids: Record<string, string> = {};
  let serial = 0;

  beforeAll(async () => {
    emulator = await startEmulator({ profile: 'generic' });
    scim = client(emulator.url);
    for (const name of ['ann', 'ben', 'cat', 'dan']) {
      ids[name] = (await scim.post('/Users', user(`${name}@example.com`, { displayName: name.toUpperCase() }))).body.id;
    }
  });
  afterAll(() => emulator.close());

  const members = (group: { members?: { value: string }[] }) =>
    (group.members ?? []).map((m) => Object.entries(ids).find(([, id]) => id === m.value)?.[0]).sort();

  async function group(initial: string[]): Promise<string> {
    const created = await scim.post('/Groups', { schemas: [GROUP], displayName: `group-${++serial}`, members: initial.map((name) => ({ value: ids[name] })) });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  test('POST answers 201 with members filled in by the server', async () => {
    const created = await scim.post('/Groups', { schemas: [GROUP], displayName: 'Admins', members: [{ value: ids.ann }] });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${emulator.url}/Groups/${created.body.id}`);
    expect(created.body.members).toEqual([{ value: ids.ann, display: 'ANN', $ref: `${emulator.url}/Users/${ids.ann}`, type: 'User' }]);
  });

  test.each<[string, string[], unknown[], string[]]>([
    ['add members with a value list', ['ann'], [{ op: 'add', path: 'members', value: [{ value: 'ben' }, { value: 'cat' }] }], ['ann', 'ben', 'cat']],
    ['add of a member already there changes nothing', ['ann'], [{ op: 'add', path: 'members', value: [{ value: 'ann' }] }], ['ann']],
    ['"Add" capitalised, as Entra ID sends', [], [{ op: 'Add', path: 'members', value: [{ value: 'dan' }] }], ['dan']],
    ['remove members[value eq "id"]', ['ann', 'ben'], [{ op: 'remove', path: 'members[value eq "ben"]' }], ['ann']],
    ['remove members with a value list', ['ann', 'ben', 'cat'], [{ op: 'remove', path: 'members', value: [{ value: 'ann' }, { value: 'cat' }] }], ['ben']],
    ['remove members with a value list naming a non-member', ['ann'], [{ op: 'remove', path: 'members', value: [{ value: 'dan' }] }], ['ann']],
    ['remove all members', ['ann', 'ben'], [{ op: 'remove', path: 'members' }], []],
    ['add of an empty member list changes nothing', ['ann'], [{ op: 'add', path: 'members', value: [] }], ['ann']],
    ['replace members with an empty list empties the group', ['ann', 'ben'], [{ op: 'replace', path: 'members', value: [] }], []],
    ['replace members', ['ann', 'ben'], [{ op: 'replace', path: 'members', value: [{ value: 'cat' }] }], ['cat']],
    ['a path-less add of members', ['ann'], [{ op: 'add', value: { members: [{ value: 'ben' }] } }], ['ann', 'ben']],
    [
      'add and remove in one PATCH',
      ['ann', 'ben'],
      [
        { op: 'add', path: 'members', value: [{ value: 'dan' }] },
        { op: 'remove', path: 'members[value eq "ann"]' },
      ],
      ['ben', 'dan'],
    ],
  ])('%s', async (_name, initial, operations, expected) => {
    const id = await group(initial);
    const ops = JSON.parse(JSON.stringify(operations).replace(/(?<=")(ann|ben|cat|dan)(?=\\?")/g, (name: string) => ids[name]!));
    const response = await scim.patch(`/Groups/${id}`, ops);
    expect(response.status).toBe(200);
    expect(members(response.body)).toEqual(expected);
    expect(members((await scim.get(`/Groups/${id}`)).body)).toEqual(expected);
  });

  test('an add of a member already there keeps the group version', async () => {
    const id = await group(['ann']);
    const before = await scim.get(`/Groups/${id}`);
    const response = await scim.patch(`/Groups/${id}`, [{ op: 'add', path: 'members', value: [{ value: ids.ann }] }]);
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(before.headers.get('etag'));
    expect(response.body.meta.lastModified).toBe(before.body.meta.lastModified);
  });

  test.each<[string, unknown[], number, string]>([
    ['add of an unknown member id', [{ op: 'add', path: 'members', value: [{ value: 'no-such-user' }] }], 400, 'invalidValue'],
    ['remove of a member filter that matches nothing', [{ op: 'remove', path: 'members[value eq "no-such-user"]' }], 400, 'noTarget'],
    ['a member without a value', [{ op: 'add', path: 'members', value: [{ display: 'x' }] }], 400, 'invalidValue'],
    ['removing the required displayName', [{ op: 'remove', path: 'displayName' }], 400, 'invalidValue'],
    ['a replace of a member\'s immutable value (RFC 7644 §3.5.2)', [{ op: 'replace', path: 'members[value eq "ann"].value', value: 'ben' }], 400, 'mutability'],
    ['a replace of a member\'s immutable display', [{ op: 'replace', path: 'members[value eq "ann"].display', value: 'Someone else' }], 400, 'mutability'],
    ['a remove of a member\'s immutable type', [{ op: 'remove', path: 'members[value eq "ann"].type' }], 400, 'mutability'],
  ])('%s is refused and changes nothing', async (_name, operations, status, scimType) => {
    const id = await group(['ann']);
    const before = (await scim.get(`/Groups/${id}`)).body;
    const ops = JSON.parse(JSON.stringify(operations).replace(/(?<=")(ann|ben)(?=\\?")/g, (name: string) => ids[name]!));
    expect(isScimError(await scim.patch(`/Groups/${id}`, ops), status, scimType)).toBe(true);
    expect((await scim.get(`/Groups/${id}`)).body).toEqual(before);
  });

  test.each(['members[value eq "ID"]', 'members.value eq "ID"', 'members eq "ID"'])('groups can be filtered by member: %s', async (filter) => {
    const member = (await scim.post('/Users', user(`member-${++serial}@example.com`))).body.id as string;
    const id = (await scim.post('/Groups', { schemas: [GROUP], displayName: `with-member-${serial}`, members: [{ value: ids.ann }, { value: member }] })).body.id;
    await group(['ann']);
    const listing = await scim.list('Groups', { filter: filter.replace('ID', member) });
    expect(listing.body.Resources.map((g: { id: string }) => g.id)).toEqual([id]);
  });

  test('POST without the Group schema is refused with 400 invalidSyntax (RFC 7643 §3)', async () => {
    expect(isScimError(await scim.post('/Groups', { displayName: 'No schemas' }), 400, 'invalidSyntax')).toBe(true);
    expect(emulator.groups().map((g) => g.displayName)).not.toContain('No schemas');
  });

  test.each(['groups.value eq "GID"', 'groups[value eq "GID"]', 'groups[display eq "Filter Team"]', 'groups eq "GID"', 'groups pr and userName sw "in-group"'])(
    'users can be filtered by the groups they are in, as each user shows them: %s',
    async (filter) => {
      const inGroup = (await scim.post('/Users', user('in-group@example.com'))).body.id as string;
      const group = (await scim.post('/Groups', { schemas: [GROUP], displayName: 'Filter Team', members: [{ value: inGroup }, { value: ids.ann }] })).body.id as string;
      await scim.post('/Users', user('in-group-not@example.com'));
      try {
        const listing = await scim.list('Users', { filter: filter.replace('GID', group) });
        expect(listing.status).toBe(200);
        const expected = filter.includes('userName') ? [inGroup] : [ids.ann, inGroup].sort();
        expect(listing.body.Resources.map((u: { id: string }) => u.id).sort()).toEqual(expected);
      } finally {
        await scim.delete(`/Groups/${group}`);
        for (const resource of (await scim.list('Users', { filter: 'userName sw "in-group"' })).body.Resources) await scim.delete(`/Users/${resource.id}`);
      }
    },
  );

  test('a group displayName is unique, case-insensitively (409 uniqueness)', async () => {
    await scim.post('/Groups', { schemas: [GROUP], displayName: 'Unique Team' });
    expect(isScimError(await scim.post('/Groups', { schemas: [GROUP], displayName: 'unique team' }), 409, 'uniqueness')).toBe(true);
  });

  test("a user's read-only groups attribute follows membership, renames and deletions", async () => {
    const eve = (await scim.post('/Users', user('eve@example.com'))).body.id as string;
    const a = (await scim.post('/Groups', { schemas: [GROUP], displayName: 'Eve A', members: [{ value: eve }] })).body.id as string;
    const b = (await scim.post('/Groups', { schemas: [GROUP], displayName: 'Eve B' })).body.id as string;
    await scim.patch(`/Groups/${b}`, [{ op: 'add', path: 'members', value: [{ value: eve }] }]);
    const groupsOf = async () => ((await scim.get(`/Users/${eve}`)).body.groups ?? []).map((g: { display: string }) => g.display).sort();
    expect(await groupsOf()).toEqual(['Eve A', 'Eve B']);
    await scim.patch(`/Groups/${a}`, [{ op: 'replace', path: 'displayName', value: 'Eve A2' }]);
    expect(await scim.delete(`/Groups/${b}`)).toMatchObject({ status: 204 });
    expect(await groupsOf()).toEqual(['Eve A2']);
    await scim.patch(`/Groups/${a}`, [{ op: 'remove', path: `members[value eq "${eve}"]` }]);
    expect(await groupsOf()).toEqual([]);
  });

  test('deleting a user removes it from every group and changes the group version', async () => {
    const fay = (await scim.post('/Users', user('fay@example.com'))).body.id as string;
    const created = await scim.post('/Groups', { schemas: [GROUP], displayName: 'Fay team', members: [{ value: fay }, { value: ids.ann }] });
    await scim.delete(`/Users/${fay}`);
    const after = await scim.get(`/Groups/${created.body.id}`);
    expect(after.body.members.map((m: { value: string }) => m.value)).toEqual([ids.ann]);
    expect(after.headers.get('etag')).not.toBe(created.headers.get('etag'));
  });

  test('excludedAttributes=members leaves members out of a listing', async () => {
    const listing = await scim.list('Groups', { filter: 'displayName eq "Admins"', excludedAttributes: 'members' });
    expect(listing.body.Resources).toHaveLength(1);
    expect(listing.body.Resources[0].members).toBeUndefined();
    expect(listing.body.Resources[0]).toMatchObject({ displayName: 'Admins', id: expect.any(String) });
  });

  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    ['attributes=userName returns only it, with id and schemas', { attributes: 'userName' }, { userName: 'ann@example.com' }],
    ['attributes=emails.value returns only that sub-attribute of each email', { attributes: 'userName,emails.value' }, { userName: 'ann@example.com', emails: [{ value: 'ann@example.com' }] }],
  ])('%s', async (_name, params, expected) => {
    const listing = await scim.list('Users', { filter: 'userName eq "ann@example.com"', ...params });
    const { id, schemas, ...rest } = listing.body.Resources[0];
    expect(id).toBe(ids.ann);
    expect(schemas).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User']);
    expect(rest).toEqual(expected);
  });

  test('excludedAttributes=emails.type,meta drops them from each user', async () => {
    const fetched = await scim.get(`/Users/${ids.ann}?excludedAttributes=emails.type,meta`);
    expect(fetched.body.meta).toBeUndefined();
    expect(fetched.body.emails).toEqual([{ value: 'ann@example.com', primary: true }]);
  });

  test('ResourceTypes says groups are writable', async () => {
    const group = (await scim.get('/ResourceTypes/Group')).body;
    expect(Object.values(group).find((v) => typeof v === 'object' && v !== null && 'supportedMethods' in v)).toEqual({ supportedMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] });
  });
});

describe('the lightstep profile', () => {
  let emulator: RunningEmulator;
  let scim: ReturnType<typeof client>;
  let groupId: string;
  let userId: string;

  beforeAll(async () => {
    emulator = await startEmulator({
      profile: 'lightstep',
      initial: { users: [user('ann@example.com', { id: 'u-ann' })], groups: [{ id: 'g-eng', displayName: 'Engineering', members: [{ value: 'u-ann' }] }] },
    });
    scim = client(emulator.url);
    groupId = 'g-eng';
    userId = 'u-ann';
  });
  afterAll(() => emulator.close());

  test('groups can be read, with their members', async () => {
    const group = await scim.get(`/Groups/${groupId}`);
    expect(group.status).toBe(200);
    expect(group.body.members).toEqual([expect.objectContaining({ value: userId })]);
    expect((await scim.get(`/Users/${userId}`)).body.groups).toEqual([expect.objectContaining({ value: groupId, display: 'Engineering' })]);
  });

  test.each([
    ['POST /Groups', 'POST', '/Groups', { schemas: [GROUP], displayName: 'New' }],
    ['PATCH /Groups/{id}', 'PATCH', '/Groups/g-eng', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'remove', path: 'members' }] }],
    ['PUT /Groups/{id}', 'PUT', '/Groups/g-eng', { schemas: [GROUP], displayName: 'Renamed' }],
    ['DELETE /Groups/{id}', 'DELETE', '/Groups/g-eng', undefined],
    ['PUT /Users/{id}', 'PUT', '/Users/u-ann', user('ann@example.com')],
  ])('%s is refused with 405, a SCIM error and an Allow header, and changes nothing', async (_name, method, path, body) => {
    const response = await scim.call(method, path, body);
    expect(isScimError(response, 405)).toBe(true);
    expect(response.headers.get('allow')).toMatch(/GET/);
    expect(emulator.groups()).toEqual([expect.objectContaining({ displayName: 'Engineering', members: [expect.objectContaining({ value: userId })] })]);
  });

  test('creating a user needs emails, as Lightstep documents', async () => {
    expect(isScimError(await scim.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'no-mail@example.com' }), 400, 'invalidValue')).toBe(true);
  });

  test.each([
    ['a create', () => scim.post('/Users', user('jdoe', { emails: [{ value: 'jdoe@example.com', type: 'work', primary: true }] }))],
    ['a rename', () => scim.patch(`/Users/${userId}`, [{ op: 'replace', path: 'userName', value: 'ann' }])],
  ])('a userName that is not an email address is refused in %s, as Lightstep documents', async (_name, send) => {
    const response = await send();
    expect(isScimError(response, 400, 'invalidValue')).toBe(true);
    expect(response.body.detail).toMatch(/userName .* is not an email address/);
    expect(emulator.users().map((live) => live.userName)).toEqual(['ann@example.com']);
  });

  test('users carry no ETag and no meta.version, as Lightstep documents none, and If-Match is ignored', async () => {
    const read = await scim.get(`/Users/${userId}`);
    expect(read.headers.get('etag')).toBeNull();
    expect(read.body.meta.version).toBeUndefined();
    const patched = await scim.patch(`/Users/${userId}`, [{ op: 'replace', path: 'displayName', value: 'Ann' }], { 'if-match': 'W/"1"' });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBeNull();
    expect(patched.body.meta.version).toBeUndefined();
  });

  test('discovery says groups are read-only and offers no enterprise extension', async () => {
    const types = (await scim.get('/ResourceTypes')).body.Resources as Record<string, unknown>[];
    const group = types.find((t) => t.id === 'Group')!;
    expect(Object.values(group).find((v) => typeof v === 'object' && v !== null && 'supportedMethods' in v)).toEqual({ supportedMethods: ['GET'] });
    expect(types.find((t) => t.id === 'User')!.schemaExtensions).toEqual([]);
    const schemaIds = ((await scim.get('/Schemas')).body.Resources as { id: string }[]).map((s) => s.id);
    expect(schemaIds).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group']);
  });
});
