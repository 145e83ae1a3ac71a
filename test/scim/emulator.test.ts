/** The client against the emulator over loopback: real HTTP, real undici Pool, no mocks. */
import { afterEach, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import type { TargetConfig } from '../../src/model.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import {
  OutcomeUnknownError,
  ReadOnlyViolationError,
  ScimHttpError,
  createScimClient,
  type ClientOptions,
  type ListProgress,
  type RequestEvent,
  type ScimClient,
} from '../../src/scim/index.js';

const TOKEN = 'emu-token-5d41402abc4b2a76';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const open: { emulator: RunningEmulator; client: ScimClient }[] = [];
afterEach(async () => {
  for (const { emulator, client } of open.splice(0)) {
    await client.close();
    await emulator.close();
  }
});

const person = (n: number) => ({
  userName: `user${String(n).padStart(3, '0')}@example.com`,
  externalId: `E-${n}`,
  name: { givenName: `Given${n}`, familyName: `Family${n}` },
  emails: [{ value: `user${String(n).padStart(3, '0')}@example.com`, type: 'work', primary: true }],
});

async function setup(
  emulatorOptions: EmulatorOptions,
  targetOptions: Partial<TargetConfig> = {},
  clientOptions: Partial<ClientOptions> = {},
) {
  const emulator = await startEmulator({ token: TOKEN, ...emulatorOptions });
  const events: RequestEvent[] = [];
  const target: TargetConfig = {
    name: 'emu',
    url: emulator.url,
    tokenEnv: 'EMU_TOKEN',
    profile: emulatorOptions.profile ?? 'generic',
    concurrency: 4,
    timeoutSeconds: 5,
    source: { file: 'scimform.yaml', line: 3, column: 3 },
    ...targetOptions,
  };
  const client = createScimClient(target, {
    token: TOKEN,
    readOnly: false,
    retry: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 10, maxTotalMs: 5_000 },
    onRequest: (event) => events.push(event),
    ...clientOptions,
  });
  open.push({ emulator, client });
  return { emulator, client, events };
}

const failure = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
};

describe('listing: both pagination styles, odd page sizes, a server that caps count', () => {
  test.each([
    // profile, emulator pagination, users, target pageSize, emulator maxPageSize, pages expected
    ['generic', 'index', 23, 5, undefined, 5],
    ['generic', 'index', 23, 100, 7, 4],
    ['generic', 'index', 21, 7, undefined, 3],
    ['generic', 'index', 0, 10, undefined, 1],
    ['lightstep', 'cursor', 23, 5, undefined, 5],
    ['lightstep', 'cursor', 23, 100, 7, 4],
    ['lightstep', 'cursor', 20, 10, undefined, 2],
    ['generic', 'cursor', 23, 10, undefined, 3], // generic profile, server speaks only cursors
    ['lightstep', 'index', 23, 10, undefined, 3], // lightstep profile, server speaks only index
  ] as const)('%s client, %s server: %i users, pageSize %i, cap %s → %i pages', async (profile, pagination, size, pageSize, maxPageSize, pages) => {
    const initial = { users: Array.from({ length: size }, (_, i) => person(i + 1)) };
    const { emulator, client } = await setup({ profile, pagination, initial, ...(maxPageSize ? { maxPageSize } : {}) }, { pageSize });
    const progress: ListProgress[] = [];
    const users = await client.listUsers((p) => progress.push(p));
    expect(users.map((u) => u.userName)).toEqual(initial.users.map((u) => u.userName));
    expect(new Set(users.map((u) => u.id)).size).toBe(size);
    // exactly discovery + one request per page: no probe page, no page twice
    expect(emulator.requests.map((r) => r.path)).toEqual(['/ServiceProviderConfig', ...Array<string>(pages).fill('/Users')]);
    expect(client.stats()).toEqual({ requests: { GET: pages + 1 }, pages, retries: 0 });
    expect(progress.at(-1)).toMatchObject({ resource: 'Users', pages, items: size });
  });

  test('groups list with their member ids', async () => {
    const { client } = await setup({ profile: 'generic', initial: { users: [{ id: 'u1', ...person(1) }, { id: 'u2', ...person(2) }], groups: [{ displayName: 'Admins', members: [{ value: 'u1' }, { value: 'u2' }] }, { displayName: 'Empty' }] } });
    const groups = await client.listGroups();
    expect(groups.map((g) => [g.displayName, g.members])).toEqual([['Admins', ['u1', 'u2']], ['Empty', []]]);
  });

  test('429s with Retry-After, 503s and resets on reads are retried until the list is complete', async () => {
    const initial = { users: Array.from({ length: 40 }, (_, i) => person(i + 1)) };
    const { emulator, client } = await setup({ profile: 'generic', initial }, { pageSize: 5 });
    emulator.setFaults({ rate429: 0.2, retryAfterSeconds: 0, rate5xx: 0.15, rateReset: 0.1, seed: 7 });
    const users = await client.listUsers();
    expect(users).toHaveLength(40);
    const faults = emulator.requests.filter((r) => r.fault).length;
    expect(faults).toBeGreaterThan(0);
    expect(client.stats().retries).toBe(faults);
  });
});

describe('single resources', () => {
  test.each([
    ['o"brien@example.com', 'O"Brien@Example.com'],
    ['back\\slash@example.com', 'BACK\\SLASH@example.com'],
    ['both\\"mixed"\\@example.com', 'both\\"mixed"\\@example.com'],
    ['plus+sign@example.com', 'Plus+Sign@example.com'],
  ])('find by userName %j (asked as %j) escapes the filter and matches case-insensitively', async (userName, asked) => {
    const { client, emulator } = await setup({ initial: { users: [person(1), { ...person(2), userName }, person(3)] } });
    const found = await client.findUserByUserName(asked);
    expect(found?.userName).toBe(userName);
    expect(emulator.requests.at(-1)?.query.filter).toBe(`userName eq ${JSON.stringify(asked)}`);
    expect(await client.findUserByUserName(`not-${asked}`)).toBeUndefined();
  });

  test('find by externalId', async () => {
    const { client } = await setup({ initial: { users: [person(1), { ...person(2), externalId: 'X"\\9' }] } });
    expect((await client.findUserByExternalId('X"\\9'))?.userName).toBe(person(2).userName);
    expect(await client.findUserByExternalId('x"\\9')).toBeUndefined();
  });

  test('users: create, get, patch, stale If-Match, delete, and delete again', async () => {
    const { client, emulator } = await setup({ profile: 'lightstep', etags: true });
    const created = await client.write({ method: 'POST', path: '/Users', body: { schemas: [USER_SCHEMA], ...person(1) } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;

    const live = await client.getUser(id);
    expect(live).toMatchObject({ id, userName: person(1).userName, active: true, externalId: 'E-1' });
    expect(live?.version).toBeDefined();

    const patched = await client.write({
      method: 'PATCH',
      path: `/Users/${id}`,
      body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }, { op: 'replace', path: 'name.familyName', value: 'Smith' }] },
      ifMatch: live!.version,
    });
    expect([200, 204]).toContain(patched.status);
    expect(await client.getUser(id)).toMatchObject({ active: false, name: { familyName: 'Smith' } });

    const stale = await failure(
      client.write({ method: 'PATCH', path: `/Users/${id}`, body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: true }] }, ifMatch: live!.version }),
    );
    expect(stale).toBeInstanceOf(ScimHttpError);
    expect(stale).toMatchObject({ status: 412, method: 'PATCH' });

    expect((await client.write({ method: 'DELETE', path: `/Users/${id}` })).status).toBe(204);
    expect(await client.getUser(id)).toBeUndefined();
    expect(await failure(client.write({ method: 'DELETE', path: `/Users/${id}` }))).toMatchObject({ status: 404 });
    expect(emulator.users()).toEqual([]);
  });

  test('a duplicate userName is a 409 that names it', async () => {
    const { client } = await setup({ initial: { users: [person(1)] } });
    const error = await failure(client.write({ method: 'POST', path: '/Users', body: { schemas: [USER_SCHEMA], ...person(1), userName: 'USER001@example.com' } }));
    expect(error).toBeInstanceOf(ScimHttpError);
    expect(error).toMatchObject({ status: 409, scimType: 'uniqueness' });
    expect(error.message).toMatch(/userName USER001@example\.com is already taken on target emu \(409 Conflict, uniqueness\)/);
  });

  test('groups (generic): create, add members, get, remove a member, delete', async () => {
    const { client } = await setup({ profile: 'generic', initial: { users: [{ id: 'u1', ...person(1) }, { id: 'u2', ...person(2) }] } });
    const created = await client.write({ method: 'POST', path: '/Groups', body: { schemas: [GROUP_SCHEMA], displayName: 'Admins', members: [{ value: 'u1' }] } });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    await client.write({ method: 'PATCH', path: `/Groups/${id}`, body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: 'u2' }] }] } });
    expect((await client.getGroup(id))?.members.sort()).toEqual(['u1', 'u2']);
    await client.write({ method: 'PATCH', path: `/Groups/${id}`, body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'members[value eq "u1"]' }] } });
    expect((await client.getGroup(id))?.members).toEqual(['u2']);
    expect((await client.write({ method: 'DELETE', path: `/Groups/${id}` })).status).toBe(204);
    expect(await client.getGroup(id)).toBeUndefined();
  });

  test('groups (lightstep) are read-only: a write is a typed error and capabilities say so', async () => {
    const { client } = await setup({ profile: 'lightstep' });
    expect((await client.capabilities()).groupsWritable).toBe(false);
    const error = await failure(client.write({ method: 'POST', path: '/Groups', body: { schemas: [GROUP_SCHEMA], displayName: 'Admins' } }));
    expect(error).toMatchObject({ status: 405, method: 'POST', path: '/Groups' });
  });

  test('capabilities come from /ServiceProviderConfig', async () => {
    const { client } = await setup({ profile: 'generic', pagination: 'cursor', maxPageSize: 50, etags: false });
    expect(await client.capabilities()).toMatchObject({ patch: true, filter: true, etag: false, bulk: false, pagination: 'cursor', maxResults: 50, groupsWritable: true });
  });

  test('a response lost after a create is an unknown outcome; the lookup then finds the user', async () => {
    const { client, emulator } = await setup({ profile: 'generic' });
    emulator.setFaults({ rateLostResponse: 1, onlyMethods: ['POST'], seed: 1 });
    const error = await failure(client.write({ method: 'POST', path: '/Users', body: { schemas: [USER_SCHEMA], ...person(5) } }));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(emulator.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect((await client.findUserByUserName(person(5).userName))?.externalId).toBe('E-5');
  });

  test('a PATCH whose response is lost is retried and succeeds', async () => {
    const { client, emulator } = await setup({ profile: 'generic', initial: { users: [{ id: 'u1', ...person(1) }] } });
    emulator.setFaults({ rateReset: 0.5, onlyMethods: ['PATCH'], seed: 3 });
    const result = await client.write({ method: 'PATCH', path: '/Users/u1', body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] } });
    expect([200, 204]).toContain(result.status);
    expect((await client.getUser('u1'))?.active).toBe(false);
  });
});

describe('auth and secrecy', () => {
  test('a wrong token is a 401 with the exact message and hint', async () => {
    const { client } = await setup({ profile: 'lightstep' }, { name: 'lightstep', tokenEnv: 'LIGHTSTEP_SCIM_TOKEN' }, { token: 'not-the-right-token' });
    const error = (await failure(client.listUsers())) as ScimformError;
    expect(error).toBeInstanceOf(ScimHttpError);
    expect(error.message).toBe('the SCIM service of target lightstep rejected the token in $LIGHTSTEP_SCIM_TOKEN (401 Unauthorized)');
    expect(error.hint).toBe(
      '$LIGHTSTEP_SCIM_TOKEN must hold a SCIM token (Lightstep: Organization Settings › SCIM provisioning), not the general Lightstep API key. ' +
        "Lightstep's Okta guide instead uses https://api.lightstep.com/public/v0.2/<organization> with an Admin API key: the URL is configuration, " +
        'so make the token and the url of target lightstep belong together.',
    );
  });

  test('the token string appears in no result, error, hint, event or stat', async () => {
    const { client, events, emulator } = await setup({ profile: 'generic', initial: { users: [{ id: 'u1', ...person(1) }] } });
    emulator.setFaults({ rate5xx: 0.3, rate429: 0.2, seed: 11 });
    const outputs: unknown[] = [];
    outputs.push(await client.capabilities(), await client.listUsers(), await client.listGroups(), await client.getUser('u1'), await client.findUserByUserName(person(1).userName));
    emulator.setFaults(undefined);
    outputs.push(await failure(client.write({ method: 'POST', path: '/Users', body: { schemas: [USER_SCHEMA], ...person(1) } })));
    outputs.push(await failure(client.write({ method: 'PATCH', path: '/Users/u1', body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'nope', value: 1 }] } })));
    const wrong = await setup({ profile: 'generic' }, {}, { token: `${TOKEN}-x` });
    outputs.push(await failure(wrong.client.listUsers()));
    const text = [
      ...outputs.map((o) => (o instanceof Error ? [o.message, (o as ScimformError).hint, o.stack, JSON.stringify(o, Object.getOwnPropertyNames(o))].join('\n') : JSON.stringify(o))),
      JSON.stringify(events),
      JSON.stringify(client.stats()),
    ].join('\n');
    expect(events.length).toBeGreaterThan(5);
    expect(text).not.toContain(TOKEN);
  });

  test('live data is never rewritten: a short token (`example`) leaves every user@example.com as the server holds it', async () => {
    const { client } = await setup({ profile: 'generic', token: 'example', initial: { users: [{ id: 'u1', ...person(1) }] } }, {}, { token: 'example' });
    const [user] = await client.listUsers();
    expect(user).toMatchObject({ userName: 'user001@example.com', emails: [{ value: 'user001@example.com' }] });
    expect((await client.findUserByUserName('user001@example.com'))?.userName).toBe('user001@example.com');
  });

  test('a read-only client reads but sends no write to the server', async () => {
    const { client, emulator } = await setup({ profile: 'generic', initial: { users: [{ id: 'u1', ...person(1) }] } }, {}, { readOnly: true });
    expect(await client.listUsers()).toHaveLength(1);
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE'] as const) {
      expect(await failure(client.write({ method, path: '/Users/u1', body: { active: false } }))).toBeInstanceOf(ReadOnlyViolationError);
    }
    expect(emulator.requests.every((r) => r.method === 'GET')).toBe(true);
    expect(emulator.users()[0]).toMatchObject({ active: true });
  });
});
