/** Filters (RFC 7644 §3.4.2.2) on /Users over HTTP, and the parser on its own. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { parseFilter, parsePatchPath } from '../../src/emulator/filter.js';
import { client, isScimError, LIST, user } from './http.js';

let emulator: RunningEmulator;
let scim: ReturnType<typeof client>;

beforeAll(async () => {
  emulator = await startEmulator({
    initial: {
      users: [
        user('alice@example.com', { externalId: 'E-1', displayName: 'Alice Liddell', title: 'Engineer', emails: [{ value: 'alice@example.com', type: 'work' }, { value: 'alice@home.org', type: 'home' }] }),
        user('bob@example.com', { externalId: 'E-2', displayName: 'Bob Builder', active: false }),
        user('o"brien@example.com', { displayName: 'Quote' }),
        user('back\\slash@example.com', { displayName: 'Backslash' }),
        user('carol@other.org', { externalId: 'e-1', displayName: 'Carol' }),
      ],
    },
  });
  scim = client(emulator.url);
});
afterAll(() => emulator.close());

async function userNames(filter: string): Promise<string[]> {
  const response = await scim.list('Users', { filter });
  expect(response.status).toBe(200);
  expect(response.body.schemas).toEqual([LIST]);
  expect(response.body.totalResults).toBe(response.body.Resources.length);
  return response.body.Resources.map((u: { userName: string }) => u.userName).sort();
}

describe('filters that match', () => {
  test.each<[string, string[]]>([
    ['userName eq "alice@example.com"', ['alice@example.com']],
    ['userName eq "ALICE@Example.com"', ['alice@example.com']],
    ['USERNAME EQ "alice@example.com"', ['alice@example.com']],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com"', ['bob@example.com']],
    ['userName eq "o\\"brien@example.com"', ['o"brien@example.com']],
    ['userName eq "back\\\\slash@example.com"', ['back\\slash@example.com']],
    ['userName eq "nobody@example.com"', []],
    ['externalId eq "E-1"', ['alice@example.com']],
    ['externalId eq "e-1"', ['carol@other.org']],
    ['displayName co "build"', ['bob@example.com']],
    ['userName sw "ALI"', ['alice@example.com']],
    ['userName ew "other.org"', ['carol@other.org']],
    ['title pr', ['alice@example.com']],
    ['active eq false', ['bob@example.com']],
    ['active eq true and externalId pr', ['alice@example.com', 'carol@other.org']],
    ['emails.value eq "alice@home.org"', ['alice@example.com']],
    ['emails co "home.org"', ['alice@example.com']],
    ['emails[type eq "home" and value ew ".org"]', ['alice@example.com']],
    ['userName eq "alice@example.com" or userName eq "bob@example.com"', ['alice@example.com', 'bob@example.com']],
    ['displayName eq "Carol" or displayName eq "Quote" and active eq false', ['carol@other.org']],
    ['(displayName eq "Carol" or displayName eq "Quote") and active eq true', ['carol@other.org', 'o"brien@example.com']],
    ['not (userName ew "example.com")', ['carol@other.org']],
    ['externalId ne "E-1" and externalId pr', ['bob@example.com', 'carol@other.org']],
    // Any value of a multi-valued attribute may match, ne included (RFC 7644 §3.4.2.2).
    ['emails.type ne "work"', ['alice@example.com']],
    ['meta.created gt "2000-01-01T00:00:00Z"', ['alice@example.com', 'back\\slash@example.com', 'bob@example.com', 'carol@other.org', 'o"brien@example.com']],
    ['meta.lastModified lt "2000-01-01T00:00:00Z"', []],
  ])('%s', async (filter, expected) => {
    expect(await userNames(filter)).toEqual(expected);
  });
});

describe('filters on what the service derives: schemas (RFC 7644 §3.4.2.2, "query by schema or schema extensions")', () => {
  test.each<[string, string[]]>([
    ['schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', ['dora@example.com']],
    ['schemas eq "urn:ietf:params:scim:schemas:core:2.0:User" and userName sw "a"', ['alice@example.com']],
    ['not (schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") and userName sw "d"', []],
  ])('%s', async (filter, expected) => {
    const own = await startEmulator({
      initial: { users: [user('alice@example.com'), user('dora@example.com', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Ops' } })] },
    });
    try {
      const response = await client(own.url).list('Users', { filter });
      expect(response.status).toBe(200);
      expect(response.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(expected);
    } finally {
      await own.close();
    }
  });
});

describe('filters that do not parse get 400 invalidFilter', () => {
  test.each([
    'userName eq',
    'userName zz "x"',
    '(userName eq "x"',
    'userName eq x',
    'userName eq "unterminated',
    'userName eq "bad \\q escape"',
    'userName co 42',
    'active gt true',
    'active gt 1',
    'active le "x"',
    'emails.primary ge 0',
    'emails[primary lt 1]',
    'title pr or not (active ge 1)',
    'and userName eq "x"',
    'userName eq "x" or',
    '"x" eq userName',
    'emails[type eq "work"',
    ' ',
  ])('%j', async (filter) => {
    expect(isScimError(await scim.list('Users', { filter }), 400, 'invalidFilter')).toBe(true);
  });
});

describe('the parser', () => {
  test.each([
    ['a eq "x" or b eq "y" and c eq "z"', { op: 'or', left: { op: 'eq' }, right: { op: 'and' } }],
    ['(a eq "x" or b eq "y") and c eq "z"', { op: 'and', left: { op: 'or' }, right: { op: 'eq' } }],
    ['not (a pr)', { op: 'not', filter: { op: 'pr', path: { attr: 'a' } } }],
    ['emails[type eq "work"]', { op: 'valuePath', path: { attr: 'emails' }, filter: { op: 'eq', value: 'work' } }],
    ['x ge 1.5e2', { op: 'ge', value: 150 }],
    ['x eq null', { op: 'eq', value: null }],
  ])('%s parses with and-before-or precedence', (text, shape) => {
    expect(parseFilter(text)).toMatchObject(shape);
  });

  test.each([
    ['members[value eq "2819c223"]', { attr: 'members', filter: { op: 'eq', value: '2819c223' } }],
    ['emails[type eq "work"].value', { attr: 'emails', sub: 'value' }],
    ['name.givenName', { attr: 'name', sub: 'givenName' }],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value', { urn: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attr: 'manager', sub: 'value' }],
  ])('PATCH path %s', (text, shape) => {
    expect(parsePatchPath(text)).toMatchObject(shape);
  });
});
