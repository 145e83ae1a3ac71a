/** Discovery endpoints (RFC 7644 §4) say what the emulator does, per profile. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { client, isScimError, LIST } from './http.js';

describe.each([
  ['generic', 'index', true, ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']],
  ['lightstep', 'cursor', false, ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group']],
] as const)('profile %s', (profile, pagination, etag, schemaIds) => {
  let emulator: RunningEmulator;
  let scim: ReturnType<typeof client>;
  beforeAll(async () => {
    emulator = await startEmulator({ profile });
    scim = client(emulator.url);
  });
  afterAll(() => emulator.close());

  test('ServiceProviderConfig: PATCH, filter and changePassword yes, ETags as the profile has them; bulk and sort no; bearer auth', async () => {
    const response = await scim.get('/ServiceProviderConfig');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: true },
      sort: { supported: false },
      etag: { supported: etag },
      pagination: { defaultPaginationMethod: pagination },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
  });

  test('Schemas lists the schemas the profile serves, each with its attributes', async () => {
    const response = await scim.get('/Schemas');
    expect(response.body.schemas).toEqual([LIST]);
    expect(response.body.Resources.map((s: { id: string }) => s.id)).toEqual(schemaIds);
    const userSchema = (await scim.get('/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).body;
    expect(userSchema.attributes).toContainEqual(expect.objectContaining({ name: 'userName', required: true, uniqueness: 'server', caseExact: false }));
    expect(userSchema.attributes).toContainEqual(expect.objectContaining({ name: 'groups', mutability: 'readOnly' }));
    // A group's displayName is unique on this service (409 uniqueness), and the schema says so.
    const groupSchema = (await scim.get('/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group')).body;
    expect(groupSchema.attributes).toContainEqual(expect.objectContaining({ name: 'displayName', required: true, uniqueness: 'server' }));
  });

  test('a PATCH changes the password, as changePassword.supported says, and never shows it', async () => {
    const created = await scim.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'pw@example.com', emails: [{ value: 'pw@example.com' }], password: 'first-Secret1' });
    const patched = await scim.patch(`/Users/${created.body.id}`, [{ op: 'replace', path: 'password', value: 'second-Secret2' }]);
    expect(patched.status).toBe(200);
    // A change like any other: a new version where there are versions.
    if (etag) expect(patched.headers.get('etag')).not.toBe(created.headers.get('etag'));
    expect(JSON.stringify(patched.body)).not.toMatch(/Secret/);
  });

  test.each(['/ServiceProviderConfig', '/ResourceTypes', '/Schemas'])('%s with a filter is refused with 403 (RFC 7644 §4)', async (path) => {
    const response = await scim.get(`${path}?filter=${encodeURIComponent('id eq "User"')}`);
    expect(isScimError(response, 403)).toBe(true);
  });

  test('ResourceTypes lists User and Group; an unknown one is 404', async () => {
    const response = await scim.get('/ResourceTypes');
    expect(response.body.Resources.map((r: { endpoint: string }) => r.endpoint)).toEqual(['/Users', '/Groups']);
    expect(isScimError(await scim.get('/ResourceTypes/Device'), 404)).toBe(true);
  });
});
