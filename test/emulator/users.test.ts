/**
 * Conformance of /Users with RFC 7644 §3.3 (create), §3.4.1 (get), §3.5.1 (PUT), §3.6 (delete),
 * §3.12 (errors) and §2 (auth), over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { client, isScimError, user, USER } from './http.js';

let emulator: RunningEmulator;
let scim: ReturnType<typeof client>;

beforeAll(async () => {
  emulator = await startEmulator({ profile: 'generic' });
  scim = client(emulator.url);
});
afterAll(() => emulator.close());

describe('POST /Users', () => {
  test('answers 201 with Location, ETag and the full resource, filling what the server owns', async () => {
    const created = await scim.post('/Users', user('Jane.Doe@Example.com', { name: { givenName: 'Jane', familyName: 'Doe' }, emails: [{ value: 'Jane.Doe@EXAMPLE.com', type: 'work', primary: true }] }));
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(created.body).toMatchObject({
      schemas: [USER],
      userName: 'Jane.Doe@Example.com',
      active: true,
      name: { givenName: 'Jane', familyName: 'Doe', formatted: 'Jane Doe' },
      emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
      meta: { resourceType: 'User' },
    });
    expect(created.body.id).toEqual(expect.any(String));
    expect(created.headers.get('location')).toBe(`${emulator.url}/Users/${created.body.id}`);
    expect(created.body.meta.location).toBe(created.headers.get('location'));
    expect(created.headers.get('etag')).toBe(created.body.meta.version);
    expect(created.body.meta.created).toBe(created.body.meta.lastModified);
  });

  test('ignores read-only attributes sent by the client (id, meta, groups)', async () => {
    const created = await scim.post('/Users', user('readonly@example.com', { id: 'chosen-by-client', meta: { version: 'W/"999"' }, groups: [{ value: 'g' }] }));
    expect(created.status).toBe(201);
    expect(created.body.id).not.toBe('chosen-by-client');
    expect(created.body.meta.version).not.toBe('W/"999"');
    expect(created.body.groups).toBeUndefined();
  });

  test('stores a password but never returns it (returned "never")', async () => {
    const created = await scim.post('/Users', user('password@example.com', { password: 'hunter2' }));
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('hunter2');
    expect(JSON.stringify((await scim.get(`/Users/${created.body.id}`)).body)).not.toContain('hunter2');
  });

  test('an id that needs percent-encoding in the URL is found', async () => {
    const own = await startEmulator({ initial: { users: [user('spaced@example.com', { id: 'id with space/slash' })] } });
    try {
      const response = await client(own.url).get(`/Users/${encodeURIComponent('id with space/slash')}`);
      expect(response.status).toBe(200);
      expect(response.body.userName).toBe('spaced@example.com');
      expect(response.body.meta.location).toBe(`${own.url}/Users/id%20with%20space%2Fslash`);
    } finally {
      await own.close();
    }
  });

  test('keeps active false when it is sent', async () => {
    const created = await scim.post('/Users', user('inactive@example.com', { active: false }));
    expect(created.body.active).toBe(false);
  });

  test.each([
    ['no userName', { schemas: [USER], emails: [{ value: 'a@example.com' }] }, 400, 'invalidValue'],
    ['an empty userName', user(''), 400, 'invalidValue'],
    ['a userName that is not a string', { schemas: [USER], userName: 42 }, 400, 'invalidValue'],
    ['active that is not a boolean', user('bool@example.com', { active: 'maybe' }), 400, 'invalidValue'],
    ['emails that are not objects', user('mail@example.com', { emails: ['mail@example.com'] }), 400, 'invalidValue'],
    ['a body that is not JSON', '{"userName": ', 400, 'invalidSyntax'],
    ['a body that is an array', [], 400, 'invalidSyntax'],
    ['a body without schemas (RFC 7643 §3)', { userName: 'noschemas@example.com' }, 400, 'invalidSyntax'],
    ['a body whose schemas leave out the User schema', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], userName: 'group-schema@example.com' }, 400, 'invalidSyntax'],
  ])('refuses %s with a SCIM error', async (_name, body, status, scimType) => {
    expect(isScimError(await scim.post('/Users', body), status, scimType)).toBe(true);
    expect(emulator.users().filter((u) => /^(noschemas|group-schema)@/.test(String(u.userName)))).toEqual([]);
  });

  test('refuses a userName taken by another user, compared case-insensitively, with 409 uniqueness', async () => {
    expect((await scim.post('/Users', user('taken@example.com'))).status).toBe(201);
    const again = await scim.post('/Users', user('TAKEN@Example.COM'));
    expect(isScimError(again, 409, 'uniqueness')).toBe(true);
    expect(emulator.users().filter((u) => String(u.userName).toLowerCase() === 'taken@example.com')).toHaveLength(1);
  });
});

describe('GET, PUT and DELETE /Users/{id}', () => {
  test('GET returns what POST returned, with the same ETag', async () => {
    const created = await scim.post('/Users', user('get@example.com', { externalId: 'E-1' }));
    const fetched = await scim.get(`/Users/${created.body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
    expect(fetched.headers.get('etag')).toBe(created.headers.get('etag'));
  });

  test('PUT replaces the resource: attributes left out are gone, id and created stay, the version changes', async () => {
    const created = await scim.post('/Users', user('put@example.com', { displayName: 'Put Me', title: 'Engineer' }));
    const replaced = await scim.put(`/Users/${created.body.id}`, user('put@example.com', { displayName: 'Put You' }));
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: created.body.id, displayName: 'Put You', active: true });
    expect(replaced.body.title).toBeUndefined();
    expect(replaced.body.meta.created).toBe(created.body.meta.created);
    expect(replaced.body.meta.version).not.toBe(created.body.meta.version);
  });

  test('PUT without schemas is refused with 400 invalidSyntax and changes nothing', async () => {
    const created = await scim.post('/Users', user('put-noschemas@example.com', { title: 'Kept' }));
    const { schemas: _schemas, ...body } = user('put-noschemas@example.com');
    expect(isScimError(await scim.put(`/Users/${created.body.id}`, body), 400, 'invalidSyntax')).toBe(true);
    expect((await scim.get(`/Users/${created.body.id}`)).body).toEqual(created.body);
  });

  test('DELETE answers 204, then the user is 404 for GET, PATCH, PUT and DELETE', async () => {
    const created = await scim.post('/Users', user('delete@example.com'));
    const path = `/Users/${created.body.id}`;
    const deleted = await scim.delete(path);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    for (const response of [
      await scim.get(path),
      await scim.patch(path, [{ op: 'replace', path: 'active', value: false }]),
      await scim.put(path, user('delete@example.com')),
      await scim.delete(path),
    ]) {
      expect(isScimError(response, 404)).toBe(true);
    }
    // The userName is free again.
    expect((await scim.post('/Users', user('delete@example.com'))).status).toBe(201);
  });

  test.each([
    ['an unknown user', 'GET', '/Users/does-not-exist', 404],
    ['an unknown endpoint', 'GET', '/Widgets', 404],
    ['a path outside the SCIM base', 'GET', '/../other', 404],
    ['POST on a user', 'POST', '/Users/some-id', 405],
    ['DELETE on the collection', 'DELETE', '/Users', 405],
    ['bulk, which is not supported', 'POST', '/Bulk', 501],
  ])('answers %s with a SCIM error', async (_name, method, path, status) => {
    const response = await scim.call(method, path, method === 'POST' ? {} : undefined);
    expect(isScimError(response, status)).toBe(true);
  });
});

describe('bearer token', () => {
  test.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token' }],
    ['another scheme', { authorization: 'Basic c2VjcmV0LXRva2Vu' }],
  ])('%s gets 401 with a SCIM error that does not echo the token', async (_name, headers) => {
    const secured = await startEmulator({ token: 'secret-token' });
    try {
      const response = await client(secured.url).get('/Users', headers as Record<string, string>);
      expect(isScimError(response, 401)).toBe(true);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(JSON.stringify(response.body)).not.toContain('secret-token');
    } finally {
      await secured.close();
    }
  });

  test('the right token is let in, case-insensitive scheme included', async () => {
    const secured = await startEmulator({ token: 'secret-token' });
    try {
      expect((await client(secured.url).get('/Users', { authorization: 'Bearer secret-token' })).status).toBe(200);
      expect((await client(secured.url).get('/Users', { authorization: 'bearer secret-token' })).status).toBe(200);
      expect(JSON.stringify(secured.requests)).not.toContain('secret-token');
    } finally {
      await secured.close();
    }
  });
});

describe('attributes and excludedAttributes (RFC 7644 §3.9), names fully qualified or not (§3.10)', () => {
  const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  let id: string;
  beforeAll(async () => {
    const created = await scim.post('/Users', user('projected@example.com', { title: 'Lead', [ENTERPRISE]: { department: 'Ops', costCenter: 'C1' } }));
    id = created.body.id;
  });

  test.each<[string, Record<string, string>, Record<string, unknown>]>([
    ['an extension attribute by its full name', { attributes: `${ENTERPRISE}:department` }, { [ENTERPRISE]: { department: 'Ops' } }],
    ['a whole extension by its schema URN', { attributes: ENTERPRISE }, { [ENTERPRISE]: { department: 'Ops', costCenter: 'C1' } }],
    ['a core attribute by its full name', { attributes: 'urn:ietf:params:scim:schemas:core:2.0:User:title' }, { title: 'Lead' }],
    ['an attribute of an unknown schema, which names nothing', { attributes: 'urn:example:params:scim:schemas:Other:title' }, {}],
    ['a sub-attribute no value has, which leaves the attribute out (RFC 7643 §2.5)', { attributes: 'title,emails.display' }, { title: 'Lead' }],
  ])('attributes= %s', async (_name, params, expected) => {
    const { id: gotId, schemas: _schemas, ...rest } = (await scim.get(`/Users/${id}?${new URLSearchParams(params).toString()}`)).body;
    expect(gotId).toBe(id);
    expect(rest).toEqual(expected);
  });

  test('excludedAttributes= every sub-attribute of the emails leaves emails out, not a list of empty values', async () => {
    const fetched = (await scim.get(`/Users/${id}?excludedAttributes=emails.value,emails.type,emails.primary`)).body;
    expect(fetched).not.toHaveProperty('emails');
    expect(fetched.userName).toBe('projected@example.com');
  });

  test('excludedAttributes= an extension attribute by its full name leaves the extension\'s others', async () => {
    const fetched = (await scim.get(`/Users/${id}?excludedAttributes=${encodeURIComponent(`${ENTERPRISE}:department,meta`)}`)).body;
    expect(fetched[ENTERPRISE]).toEqual({ costCenter: 'C1' });
    expect(fetched).toMatchObject({ userName: 'projected@example.com', title: 'Lead' });
    expect(fetched.meta).toBeUndefined();
  });

  test.each<[string, () => Promise<{ status: number; body: any }>]>([
    ['POST', () => scim.post('/Users?attributes=userName', user('projected-post@example.com', { title: 'Lead' }))],
    ['PUT', () => scim.put(`/Users/${id}?attributes=userName`, user('projected@example.com', { title: 'Lead', [ENTERPRISE]: { department: 'Ops', costCenter: 'C1' } }))],
    ['PATCH', () => scim.call('PATCH', `/Users/${id}?attributes=userName`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] })],
  ])('%s answers with the attributes asked for, as any operation that returns a resource', async (_method, send) => {
    const response = await send();
    expect(response.status).toBeLessThan(300);
    expect(Object.keys(response.body).sort()).toEqual(['id', 'schemas', 'userName']);
  });
});

describe('a write with an attributes parameter that does not parse', () => {
  test.each<[string, (id: string) => Promise<{ status: number; body: any; headers: Headers }>]>([
    ['POST', () => scim.post('/Users?attributes=not%20a%20name!', user('projection-refused-post@example.com'))],
    ['PUT', (id) => scim.put(`/Users/${id}?excludedAttributes=not%20a%20name!`, user('projection-refused@example.com', { title: 'Changed' }))],
    ['PATCH', (id) => scim.call('PATCH', `/Users/${id}?attributes=not%20a%20name!`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Changed' }] })],
  ])('%s is refused with 400 invalidValue before anything is written', async (_method, send) => {
    const created = await scim.post('/Users', user('projection-refused@example.com', { title: 'Kept' }));
    try {
      expect(isScimError(await send(created.body.id), 400, 'invalidValue')).toBe(true);
      expect((await scim.get(`/Users/${created.body.id}`)).body).toEqual(created.body);
      expect(emulator.users().map((u) => u.userName)).not.toContain('projection-refused-post@example.com');
    } finally {
      await scim.delete(`/Users/${created.body.id}`);
    }
  });
});
