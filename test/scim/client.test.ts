/**
 * The client over HTTP, without the emulator. Most cases use nock through `NodeHttpDispatcher`
 * (nock cannot see undici's own sockets): nock states a scripted exchange — headers, bodies,
 * delays, resets — most directly and checks that every scripted reply was used. The read-only
 * guard uses undici's `MockAgent` instead: with net connect disabled and call history on, it
 * proves that *nothing* reached the dispatcher, which is the point of that guard. Broken
 * connections mid-body use a raw loopback socket, which also exercises the default undici Pool.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import nock from 'nock';
import { MockAgent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import type { TargetConfig } from '../../src/model.js';
import {
  OutcomeUnknownError,
  ReadOnlyViolationError,
  ScimHttpError,
  ScimNetworkError,
  createScimClient,
  profileDefaults,
  resolveToken,
  type ClientOptions,
  type RequestEvent,
} from '../../src/scim/index.js';
import { NodeHttpDispatcher } from './node-http-dispatcher.js';

const TOKEN = 'tok-SECRET-8c1f2e7d';
const ORIGIN = 'https://scim.test';
const BASE = '/scim/v2';

function target(overrides: Partial<TargetConfig> = {}): TargetConfig {
  return {
    name: 'lightstep',
    url: `${ORIGIN}${BASE}`,
    tokenEnv: 'LIGHTSTEP_SCIM_TOKEN',
    profile: 'lightstep',
    concurrency: 4,
    timeoutSeconds: 5,
    source: { file: 'scimform.yaml', line: 4, column: 3 },
    ...overrides,
  };
}

function client(overrides: Partial<TargetConfig> = {}, options: Partial<ClientOptions> = {}) {
  const events: RequestEvent[] = [];
  const scim = createScimClient(target(overrides), {
    token: TOKEN,
    readOnly: false,
    dispatcher: new NodeHttpDispatcher(),
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 2_000 },
    random: () => 0.5,
    onRequest: (event) => events.push(event),
    ...options,
  });
  return { scim, events };
}

const scope = () => nock(ORIGIN);
const user = (id: string, userName: string, extra: Record<string, unknown> = {}) => ({ id, userName, active: true, ...extra });
const failure = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

describe('requests as sent', () => {
  test('headers: bearer token, SCIM content type and accept; If-Match only when asked', async () => {
    scope()
      .post(`${BASE}/Users`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'a@example.com' })
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .matchHeader('content-type', 'application/scim+json')
      .matchHeader('accept', 'application/scim+json, application/json')
      .matchHeader('if-match', (value) => value === undefined)
      .reply(201, user('u1', 'a@example.com'), { etag: 'W/"1"' })
      .patch(`${BASE}/Users/u1`)
      .matchHeader('if-match', 'W/"1"')
      .reply(204);
    const { scim } = client();
    expect(await scim.write({ method: 'POST', path: '/Users', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'a@example.com' } })).toEqual({
      status: 201,
      body: user('u1', 'a@example.com'),
      etag: 'W/"1"',
    });
    expect(await scim.write({ method: 'PATCH', path: '/Users/u1', body: { Operations: [] }, ifMatch: 'W/"1"' })).toEqual({ status: 204 });
  });

  test.each([
    ['POST', '/Users', 201],
    ['POST', '/Users', 200],
    ['PATCH', '/Users/u1', 200],
    ['PATCH', '/Users/u1', 204],
    ['PUT', '/Users/u1', 200],
    ['DELETE', '/Users/u1', 204],
    ['DELETE', '/Users/u1', 200],
  ] as const)('%s %s answered %i is a success', async (method, path, status) => {
    scope().intercept(`${BASE}${path}`, method).reply(status, status === 204 ? undefined : user('u1', 'a@example.com'));
    const { scim } = client();
    const result = await scim.write({ method, path, body: method === 'DELETE' ? undefined : { userName: 'a@example.com' } });
    expect(result.status).toBe(status);
    expect(result.body).toEqual(status === 204 ? undefined : user('u1', 'a@example.com'));
  });

  test('find by userName sends an escaped, percent-encoded equality filter and matches case-insensitively', async () => {
    const seen: string[] = [];
    scope()
      .get(`${BASE}/ServiceProviderConfig`)
      .reply(404)
      .get(`${BASE}/Users`)
      .query(true)
      .reply((uri) => (seen.push(uri), [200, { totalResults: 1, Resources: [user('u9', 'O"Brien\\X@Example.com')] }]))
      .get(`${BASE}/Users`)
      .query(true)
      .reply(200, { totalResults: 0 });
    const { scim } = client();
    expect((await scim.findUserByUserName('o"brien\\x@example.com'))?.id).toBe('u9');
    expect(seen[0]).toBe(`${BASE}/Users?filter=${encodeURIComponent('userName eq "o\\"brien\\\\x@example.com"')}`);
    expect(seen[0]).not.toContain('+');
    expect(await scim.findUserByUserName('nobody@example.com')).toBeUndefined();
  });

  test('find by externalId compares exactly', async () => {
    scope()
      .get(`${BASE}/ServiceProviderConfig`)
      .reply(404)
      .get(`${BASE}/Users`)
      .query({ filter: 'externalId eq "E-1"' })
      .reply(200, { Resources: [user('u1', 'a@example.com', { externalId: 'e-1' }), user('u2', 'b@example.com', { externalId: 'E-1' })] });
    const { scim } = client();
    expect((await scim.findUserByExternalId('E-1'))?.id).toBe('u2');
  });

  test('without filter support, find reads the list instead', async () => {
    scope()
      .get(`${BASE}/ServiceProviderConfig`)
      .reply(200, { filter: { supported: false } })
      .get(`${BASE}/Users`)
      .query({ startIndex: 1, count: 100 })
      .reply(200, { totalResults: 2, Resources: [user('u1', 'a@example.com'), user('u2', 'B@example.com')] });
    const { scim } = client({ profile: 'generic' });
    expect((await scim.findUserByUserName('b@example.com'))?.id).toBe('u2');
  });

  test('get by id: the ETag becomes the version; 404 is undefined', async () => {
    scope()
      .get(`${BASE}/Users/u%2F1`)
      .reply(200, user('u/1', 'a@example.com'), { etag: 'W/"5"' })
      .get(`${BASE}/Groups/missing`)
      .reply(404, { status: '404', detail: 'not found' });
    const { scim } = client();
    expect(await scim.getUser('u/1')).toMatchObject({ id: 'u/1', version: 'W/"5"' });
    expect(await scim.getGroup('missing')).toBeUndefined();
  });

  test.each([
    ['a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(user('u1', 'zoë@example.com')))])],
    ['characters split across chunks', Buffer.from(JSON.stringify(user('u1', 'zoë@example.com')))],
  ])('a UTF-8 body with %s is read as its text', async (_case, body) => {
    scope()
      .get(`${BASE}/Users/u1`)
      .reply(200, () => {
        // One byte at a time, so multi-byte characters arrive split.
        return Readable.from([...body].map((byte) => Buffer.from([byte])));
      }, { 'content-type': 'application/scim+json' });
    const { scim } = client();
    expect((await scim.getUser('u1'))?.userName).toBe('zoë@example.com');
  });
});

describe('capabilities', () => {
  test('discovery is read once and merged with the profile', async () => {
    scope().get(`${BASE}/ServiceProviderConfig`).once().reply(200, { etag: { supported: true }, filter: { supported: true, maxResults: 50 } });
    const { scim } = client();
    const first = await scim.capabilities();
    expect(await scim.capabilities()).toBe(first);
    expect(first).toEqual({ ...profileDefaults('lightstep'), etag: true, maxResults: 50 });
    expect(scim.stats().requests).toEqual({ GET: 1 });
  });

  test.each([404, 501])('a %i on discovery means the profile defaults', async (status) => {
    scope().get(`${BASE}/ServiceProviderConfig`).reply(status);
    const { scim } = client({ profile: 'generic' });
    expect(await scim.capabilities()).toEqual(profileDefaults('generic'));
  });

  test('a 401 on discovery is an error, not defaults', async () => {
    scope().get(`${BASE}/ServiceProviderConfig`).reply(401);
    const { scim } = client();
    expect(await failure(scim.capabilities())).toBeInstanceOf(ScimHttpError);
  });
});

describe('retries', () => {
  test('GET retries 503 and 502 and counts every attempt', async () => {
    scope()
      .get(`${BASE}/Users/u1`)
      .reply(503)
      .get(`${BASE}/Users/u1`)
      .reply(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' })
      .get(`${BASE}/Users/u1`)
      .reply(200, user('u1', 'a@example.com'));
    const { scim, events } = client();
    expect((await scim.getUser('u1'))?.userName).toBe('a@example.com');
    expect(events.map((e) => [e.attempt, e.status])).toEqual([[1, 503], [2, 502], [3, 200]]);
    expect(scim.stats()).toEqual({ requests: { GET: 3 }, pages: 0, retries: 2 });
  });

  test('Retry-After is honoured in full, past the longest backoff wait (maxDelayMs)', async () => {
    scope().get(`${BASE}/Users/u1`).reply(429, '', { 'retry-after': '1' }).get(`${BASE}/Users/u1`).reply(200, user('u1', 'a@example.com'));
    const { scim } = client({}, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 60, maxTotalMs: 2_000 } });
    const t0 = Date.now();
    await scim.getUser('u1');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(990);
  });

  test('a Retry-After longer than the time budget stops at once, and the error says what was asked', async () => {
    scope().get(`${BASE}/Users/u1`).reply(429, '', { 'retry-after': '300' });
    const { scim } = client({}, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 60, maxTotalMs: 2_000 } });
    const t0 = Date.now();
    const error = await failure(scim.getUser('u1'));
    expect(Date.now() - t0).toBeLessThan(500);
    expect(error.message).toBe(
      `GET ${ORIGIN}${BASE}/Users/u1 was still rate limited after every retry (429 Too Many Requests); it asked to wait 300 s more (Retry-After), which would pass the 2 s scimform gives one request`,
    );
    expect((error as ScimformError).hint).toContain('Try again later');
  });

  test('after the last attempt the status is reported', async () => {
    scope().get(`${BASE}/Users/u1`).times(3).reply(503, { status: 503, detail: 'maintenance' });
    const { scim } = client();
    const error = await failure(scim.getUser('u1'));
    expect(error).toBeInstanceOf(ScimHttpError);
    expect(error.message).toBe(`GET ${ORIGIN}${BASE}/Users/u1 failed with 503 Service Unavailable: maintenance`);
  });

  test('a reset PATCH is retried', async () => {
    scope()
      .patch(`${BASE}/Users/u1`)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .patch(`${BASE}/Users/u1`)
      .reply(200, user('u1', 'a@example.com'));
    const { scim } = client();
    expect((await scim.write({ method: 'PATCH', path: '/Users/u1', body: {} })).status).toBe(200);
  });

  test('a DELETE that finds the user gone on a retry succeeded', async () => {
    scope().delete(`${BASE}/Users/u1`).reply(503).delete(`${BASE}/Users/u1`).reply(404);
    const { scim } = client();
    expect(await scim.write({ method: 'DELETE', path: '/Users/u1' })).toEqual({ status: 204 });
  });

  test('a 412 on a retried PATCH says an earlier attempt may have been applied', async () => {
    scope()
      .patch(`${BASE}/Users/u1`)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .patch(`${BASE}/Users/u1`)
      .reply(412, { status: '412', detail: 'version mismatch' });
    const { scim } = client();
    const error = (await failure(scim.write({ method: 'PATCH', path: '/Users/u1', body: {}, ifMatch: 'W/"1"' }))) as ScimHttpError;
    expect(error).toBeInstanceOf(ScimHttpError);
    expect(error).toMatchObject({ status: 412, detail: 'version mismatch', method: 'PATCH', path: '/Users/u1' });
    expect(error.hint).toMatch(/earlier attempt of this request may have been applied/);
  });

  test('a DELETE that gets 404 on the first attempt is an error', async () => {
    scope().delete(`${BASE}/Users/u1`).reply(404);
    const { scim } = client();
    expect(await failure(scim.write({ method: 'DELETE', path: '/Users/u1' }))).toMatchObject({ status: 404, method: 'DELETE', path: '/Users/u1' });
  });

  test('a POST after a 429 is retried: the server did not act on it', async () => {
    scope().post(`${BASE}/Users`).reply(429).post(`${BASE}/Users`).reply(201, user('u1', 'a@example.com'));
    const { scim } = client();
    expect((await scim.write({ method: 'POST', path: '/Users', body: { userName: 'a@example.com' } })).status).toBe(201);
  });

  test.each([
    ['a 503', (s: nock.Interceptor) => s.reply(503), /the server answered 503/],
    ['a 500 with detail', (s: nock.Interceptor) => s.reply(500, { detail: 'db down' }), /the server answered 500 \(db down\)/],
    ['a reset', (s: nock.Interceptor) => s.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), /the connection broke \(ECONNRESET\)/],
    ['an unreadable 201', (s: nock.Interceptor) => s.reply(201, '{"id": "u1", "userN', { 'content-type': 'application/scim+json' }), /could not be read: the body is not valid JSON \(cut short\?\), starting "\{"id": "u1", "userN"/],
  ])('a POST with %s has an unknown outcome and is sent once', async (_case, reply, reason) => {
    reply(scope().post(`${BASE}/Users`));
    const { scim, events } = client();
    const error = await failure(scim.write({ method: 'POST', path: '/Users', body: { userName: 'a@example.com' } }));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ method: 'POST', path: '/Users' });
    expect(error.message).toMatch(reason);
    expect(events).toHaveLength(1);
  });

  test('a signal that aborts during a backoff wait stops the retries', async () => {
    scope().get(`${BASE}/Users/u1`).reply(503);
    const controller = new AbortController();
    const { scim, events } = client({}, { signal: controller.signal, retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 1_000, maxTotalMs: 10_000 } });
    const pending = failure(scim.getUser('u1'));
    setTimeout(() => controller.abort(), 30);
    const error = await pending;
    expect(error.message).toBe('interrupted: GET /Users/u1 was not retried');
    expect(events).toHaveLength(1);
  });
});

describe('a create sent again after its outcome was unknown', () => {
  const create = { method: 'POST' as const, path: '/Users', body: { userName: 'a@example.com' } };

  test('the unknown outcome says where the POST stands in its retries, Retry-After included', async () => {
    scope().post(`${BASE}/Users`).reply(503, { detail: 'busy' }, { 'retry-after': '2' });
    const { scim } = client();
    const before = Date.now();
    const error = (await failure(scim.write(create))) as OutcomeUnknownError;
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.retry).toEqual({ attempts: 1, startedAt: expect.any(Number), retryAfterMs: 2_000 });
    expect(error.retry!.startedAt).toBeGreaterThanOrEqual(before);
  });

  test('it continues that count: a 429 on the last allowed attempt is not retried', async () => {
    scope().post(`${BASE}/Users`).reply(429);
    const { scim, events } = client();
    const error = await failure(scim.write(create, { retry: { attempts: 2, startedAt: Date.now() } }));
    expect(error).toMatchObject({ status: 429 });
    expect(events.map((event) => [event.attempt, event.status])).toEqual([[3, 429]]);
  });

  const retry = { maxAttempts: 3, baseDelayMs: 40, maxDelayMs: 60, maxTotalMs: 2_000 };
  test.each([
    { name: 'waits the jittered backoff of that attempt', state: { attempts: 1 }, answer: 'retry', atLeast: 18, below: 1_000 },
    { name: "waits what the server's Retry-After asks, past maxDelayMs", state: { attempts: 1, retryAfterMs: 300 }, answer: 'retry', atLeast: 295, below: 1_000 },
    { name: 'no wait and no further attempt when Retry-After asks for more than the time budget', state: { attempts: 1, retryAfterMs: 5_000 }, answer: 'exhausted', atLeast: 0, below: 20 },
    { name: 'no wait and no further attempt once maxAttempts were sent', state: { attempts: 3 }, answer: 'exhausted', atLeast: 0, below: 20 },
    { name: 'no wait and no further attempt when the wait would pass the time budget', state: { attempts: 1, elapsed: 1_990 }, answer: 'exhausted', atLeast: 0, below: 20 },
  ])('waitToRetry $name', async ({ state, answer, atLeast, below }) => {
    const { scim } = client({}, { retry });
    const started = Date.now();
    const { elapsed = 0, ...rest } = state as { attempts: number; retryAfterMs?: number; elapsed?: number };
    expect(await scim.waitToRetry({ ...rest, startedAt: started - elapsed })).toBe(answer);
    expect(Date.now() - started).toBeGreaterThanOrEqual(atLeast);
    expect(Date.now() - started).toBeLessThan(below);
  });

  test.each([true, false])('waitToRetry stops waiting when a signal fires (the client\'s: %s, else the one it is given)', async (clients) => {
    const controller = new AbortController();
    const { scim } = client({}, { retry: { ...retry, baseDelayMs: 10_000, maxDelayMs: 10_000, maxTotalMs: 60_000 }, ...(clients ? { signal: controller.signal } : {}) });
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    expect(await scim.waitToRetry({ attempts: 1, startedAt: started }, clients ? undefined : controller.signal)).toBe('interrupted');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('after the signal', () => {
  test('a read made to learn what a write did is still sent, once, without retry waits; other reads are not sent', async () => {
    scope()
      .get(`${BASE}/ServiceProviderConfig`)
      .reply(404)
      .get(`${BASE}/Users`)
      .query({ filter: 'userName eq "a@example.com"' })
      .reply(200, { totalResults: 1, Resources: [user('u1', 'a@example.com')] })
      .get(`${BASE}/Users/u2`)
      .reply(503);
    const controller = new AbortController();
    controller.abort();
    const { scim, events } = client({}, { signal: controller.signal });
    expect((await scim.findUserByUserName('a@example.com', { evenIfInterrupted: true }))?.id).toBe('u1');
    expect((await failure(scim.getUser('u2', { evenIfInterrupted: true }))).message).toBe('interrupted: GET /Users/u2 was not retried');
    expect((await failure(scim.getUser('u3'))).message).toBe('interrupted: GET /Users/u3 was not sent');
    expect(events.map((event) => `${event.path.split('?')[0]} ${event.status}`)).toEqual(['/ServiceProviderConfig 404', '/Users 200', '/Users/u2 503']);
  });
});

describe('timeouts and unreadable answers', () => {
  test('a GET timeout names the URL and the time waited', async () => {
    scope().get(`${BASE}/Users/u1`).times(2).delay(300).reply(200, user('u1', 'a@example.com'));
    const { scim } = client({ timeoutSeconds: 0.05 }, { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 } });
    const error = await failure(scim.getUser('u1'));
    expect(error).toBeInstanceOf(ScimNetworkError);
    expect(error.message).toBe(`GET ${ORIGIN}${BASE}/Users/u1 timed out: no answer within 50 ms (2 attempts)`);
    expect((error as ScimformError).hint).toContain('timeoutSeconds of target lightstep');
  });

  test('a POST timeout has an unknown outcome', async () => {
    scope().post(`${BASE}/Users`).delay(300).reply(201, {});
    const { scim } = client({ timeoutSeconds: 0.05 });
    const error = await failure(scim.write({ method: 'POST', path: '/Users', body: {} }));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error.message).toBe(`POST /Users may or may not have been applied: no answer within 50 ms from ${ORIGIN}${BASE}/Users`);
  });

  test('an HTML page where JSON was expected is a clear error', async () => {
    scope().get(`${BASE}/Users/u1`).reply(200, '<!DOCTYPE html><html><body>Sign in</body></html>', { 'content-type': 'text/html; charset=utf-8' });
    const { scim } = client();
    const error = await failure(scim.getUser('u1'));
    expect(error).toBeInstanceOf(ScimformError);
    expect(error.message).toBe(`GET ${ORIGIN}${BASE}/Users/u1 answered 200, but the body was text/html, not JSON, starting "<!DOCTYPE html><html><body>Sign in</body></html>"`);
  });

  test('an HTML error page keeps the status and says what the body was', async () => {
    scope().get(`${BASE}/Users/u1`).reply(404, '<html>nginx</html>', { 'content-type': 'text/html' });
    const { scim } = client();
    // getUser turns 404 into undefined, so read the page through a list instead
    scope().get(`${BASE}/ServiceProviderConfig`).reply(404).get(`${BASE}/Users`).query(true).reply(403, '<html>nginx</html>', { 'content-type': 'text/html' });
    expect(await scim.getUser('u1')).toBeUndefined();
    const error = await failure(scim.listUsers());
    expect(error.message).toBe(`the SCIM service of target lightstep refused GET ${ORIGIN}${BASE}/Users?cursor=&count=100 (403 Forbidden) (the body was text/html, not JSON, starting "<html>nginx</html>")`);
  });
});

describe('answers that are no SCIM data', () => {
  test('a redirect (to a login page, say) is an error, not an empty list, and is not followed', async () => {
    scope().get(`${BASE}/ServiceProviderConfig`).reply(404).get(`${BASE}/Users`).query(true).reply(302, '', { location: 'https://login.test/sso' });
    const { scim } = client({ profile: 'generic' });
    const error = (await failure(scim.listUsers())) as ScimformError;
    expect(error.message).toMatch(/failed with 302 Found$/);
    expect(error.hint).toContain('redirects are not followed');
  });

  test('a totalResults no service holds fails the listing at once, without a page list that fills the memory', async () => {
    scope()
      .get(`${BASE}/ServiceProviderConfig`)
      .reply(404)
      .get(`${BASE}/Users`)
      .query(true)
      .reply(200, { totalResults: 1e12, itemsPerPage: 1, startIndex: 1, Resources: [user('u1', 'a@example.com')] });
    const { scim } = client({ profile: 'generic', pagination: 'index' });
    const error = await failure(scim.listUsers());
    expect(error.message).toContain('the first page says there are 1000000000000 resources (totalResults), more than 100,000 pages of 1');
  });
});

describe('answers nested deeper than any SCIM data', () => {
  const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;

  test('a listed resource with a value nested 100,000 levels deep fails the listing, naming the resource and where, not the stack', async () => {
    scope()
      .get(`${BASE}/ServiceProviderConfig`)
      .reply(404)
      .get(`${BASE}/Users`)
      .query(true)
      .reply(200, `{"totalResults":2,"Resources":[{"id":"u1","userName":"a@example.com"},{"id":"u2","userName":"b@example.com","x-custom":{"tags":${deep}}}]}`, {
        'content-type': 'application/scim+json',
      });
    const { scim } = client({ profile: 'generic', pagination: 'index' });
    const error = (await failure(scim.listUsers())) as ScimformError;
    expect(error).toBeInstanceOf(ScimformError);
    expect(error.message).toBe(
      `GET ${ORIGIN}${BASE}/Users?startIndex=1&count=100 answered 200, but the body nests values more than 32 levels deep, at Resources[1].x-custom.tags[0][0][0][0]… (in the resource with id "u2")`,
    );
    expect(error.hint).toBe('No SCIM attribute is nested that deep, so scimform cannot read the answer: fix or remove that value on the service of target lightstep, or ask its operator to.');
  });

  test('a single resource read by id says so too', async () => {
    scope().get(`${BASE}/Users/u1`).reply(200, `{"id":"u1","userName":"a@example.com","name":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`);
    const { scim } = client();
    const error = await failure(scim.getUser('u1'));
    expect(error.message).toBe(`GET ${ORIGIN}${BASE}/Users/u1 answered 200, but the body nests values more than 32 levels deep, at name.a.a.a.a.a.a.a… (in the resource with id "u1")`);
  });

  test('an error body nested that deep keeps the status and says why its detail was not read', async () => {
    scope().get(`${BASE}/Users/u1`).reply(500, `{"status":"500","detail":${deep}}`);
    const { scim } = client({}, { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 100 } });
    const error = (await failure(scim.getUser('u1'))) as ScimHttpError;
    expect(error).toBeInstanceOf(ScimHttpError);
    expect(error.message).toBe(`GET ${ORIGIN}${BASE}/Users/u1 failed with 500 Internal Server Error (the body nests values more than 32 levels deep, at detail[0][0][0][0][0][0][0]…)`);
  });

  test('a resource as deep as SCIM data gets (an extension holding a multi-valued complex attribute) is read', async () => {
    const resource = { id: 'u1', userName: 'a@example.com', 'urn:example:ext:1.0:User': { badges: [{ value: 'x', issuer: { name: 'y' } }] } };
    scope().get(`${BASE}/Users/u1`).reply(200, resource);
    const { scim } = client();
    expect(await scim.getUser('u1')).toMatchObject({ id: 'u1', userName: 'a@example.com' });
  });
});

describe('errors for people', () => {
  test('401 (lightstep): the token in $LIGHTSTEP_SCIM_TOKEN was rejected; SCIM token, not the API key; the Okta-guide URL', async () => {
    scope().get(`${BASE}/Users/u1`).reply(401, { status: '401', detail: 'unauthorized' });
    const { scim } = client();
    const error = (await failure(scim.getUser('u1'))) as ScimHttpError;
    expect(error.message).toBe('the SCIM service of target lightstep rejected the token in $LIGHTSTEP_SCIM_TOKEN (401 Unauthorized)');
    expect(error.hint).toBe(
      '$LIGHTSTEP_SCIM_TOKEN must hold a SCIM token (Lightstep: Organization Settings › SCIM provisioning), not the general Lightstep API key. ' +
        "Lightstep's Okta guide instead uses https://api.lightstep.com/public/v0.2/<organization> with an Admin API key: the URL is configuration, " +
        'so make the token and the url of target lightstep belong together.',
    );
    expect(error).toMatchObject({ status: 401, method: 'GET', path: '/Users/u1' });
  });

  test('403 (lightstep): the Enterprise plan, and the SCIM token rather than the general API key, which may be refused this way', async () => {
    scope().get(`${BASE}/Users/u1`).reply(403, { message: 'Forbidden' });
    const { scim } = client();
    const error = (await failure(scim.getUser('u1'))) as ScimHttpError;
    expect(error.message).toBe(`the SCIM service of target lightstep refused GET ${ORIGIN}${BASE}/Users/u1 (403 Forbidden): Forbidden`);
    expect(error.hint).toBe(
      'SCIM provisioning needs the Lightstep Enterprise plan and a SCIM token allowed to manage users: check the plan, and that $LIGHTSTEP_SCIM_TOKEN holds ' +
        'the SCIM token (Organization Settings › SCIM provisioning), not the general Lightstep API key, which may be refused this way.',
    );
  });

  test.each([
    [403, { detail: 'SCIM requires Enterprise' }, 'GET', /refused GET .*\/Users\/u1 \(403 Forbidden\): SCIM requires Enterprise/, /Enterprise plan/],
    [409, { status: '409', scimType: 'uniqueness', detail: 'exists' }, 'POST', /userName a@example\.com is already taken on target lightstep \(409 Conflict, uniqueness\): exists/, /unique/],
    [409, { status: 409 }, 'POST', /userName a@example\.com is already taken .*\(409 Conflict\)$/, /unique/],
    [412, { status: 412 }, 'PATCH', /changed since it was read \(412 Precondition Failed\)/, /run plan again/],
    [400, { status: '400', scimType: 'invalidValue', detail: 'bad email' }, 'PATCH', /failed with 400 Bad Request \(invalidValue\): bad email/, /detail/],
  ] as const)('%i is a typed error with a sentence and a hint', async (status, body, method, message, hint) => {
    scope().intercept(`${BASE}/Users${method === 'POST' ? '' : '/u1'}`, method).reply(status, body);
    const { scim } = client();
    const error = (await failure(
      method === 'GET' ? scim.getUser('u1') : scim.write({ method, path: method === 'POST' ? '/Users' : '/Users/u1', body: { userName: 'a@example.com' } }),
    )) as ScimHttpError;
    expect(error).toBeInstanceOf(ScimHttpError);
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
  });

  test('the token appears in no error, hint, cause, event or stat, even when the server echoes it', async () => {
    scope()
      .get(`${BASE}/Users/u1`)
      .reply(401, { detail: `bad token ${TOKEN}` })
      .get(`${BASE}/Users/u2`)
      .reply(400, { detail: `Authorization: Bearer ${TOKEN} is malformed` })
      .get(`${BASE}/Users/u3`)
      .reply(200, `<html>${TOKEN}</html>`)
      .post(`${BASE}/Users`)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .get(`${BASE}/Users/u4`)
      .times(3)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const { scim, events } = client();
    const errors = [
      await failure(scim.getUser('u1')),
      await failure(scim.getUser('u2')),
      await failure(scim.getUser('u3')),
      await failure(scim.write({ method: 'POST', path: '/Users', body: {} })),
      await failure(scim.getUser('u4')),
    ];
    const everything = [
      ...errors.flatMap((e) => [e.message, (e as ScimformError).hint, e.stack, JSON.stringify(e), String((e as { cause?: unknown }).cause), JSON.stringify(e, Object.getOwnPropertyNames(e))]),
      JSON.stringify(events),
      JSON.stringify(scim.stats()),
    ].join('\n');
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(TOKEN);
  });
});

describe('server text in errors is shown escaped, on one line', () => {
  // An escape that recolours the terminal, a bidi override, and a line that would be a workflow command in a CI log.
  const hostile = 'no \u001b[31mred\u001b[0m \u202eevil\n::add-mask::x\r\n::error::forged';
  const shown = 'no \\u001b[31mred\\u001b[0m \\u202eevil ::add-mask::x ::error::forged';

  test.each([
    ['a SCIM error detail', 'GET', 403, { detail: hostile }, (error: Error) => expect((error as ScimHttpError).detail).toBe(shown)],
    ['a detail under `message`', 'PATCH', 400, { message: hostile }, (error: Error) => expect((error as ScimHttpError).detail).toBe(shown)],
    ['the detail of a 500 on a create', 'POST', 500, { detail: hostile }, (error: Error) => expect(error).toBeInstanceOf(OutcomeUnknownError)],
  ] as const)('%s', async (_name, method, status, body, check) => {
    const path = method === 'POST' ? '/Users' : '/Users/u1';
    scope().intercept(`${BASE}${path}`, method).reply(status, body);
    const { scim } = client();
    const error = await failure(method === 'GET' ? scim.getUser('u1') : scim.write({ method, path, body: { userName: 'a@example.com' } }));
    check(error);
    expect(error.message).toContain(shown);
    expect(error.message).not.toMatch(/[\u0000-\u001f\u202e]/);
  });

  test('the start of a body that is not JSON', async () => {
    scope().get(`${BASE}/Users/u1`).reply(200, `<html>\u001b]0;owned\u0007\n::warning::x</html>`, { 'content-type': 'text/html' });
    const { scim } = client();
    const error = await failure(scim.getUser('u1'));
    expect(error.message).toContain('the body was text/html, not JSON, starting "<html>\\u001b]0;owned\\u0007 ::warning::x</html>"');
  });
});

describe('read-only mode', () => {
  test.each(['POST', 'PATCH', 'PUT', 'DELETE'] as const)('%s is refused before it reaches the dispatcher', async (method) => {
    const agent = new MockAgent({ enableCallHistory: true });
    agent.disableNetConnect();
    const scim = createScimClient(target(), { token: TOKEN, readOnly: true, dispatcher: agent });
    const error = await failure(scim.write({ method, path: '/Users/u1', body: { active: false } }));
    expect(error).toBeInstanceOf(ReadOnlyViolationError);
    expect(error.message).toBe(`refused to send ${method} /Users/u1: this client is read-only and sends only GET requests`);
    expect(agent.getCallHistory()?.calls()).toEqual([]);
    expect(scim.stats().requests).toEqual({});
    await agent.close();
  });

  test('GET still works', async () => {
    const agent = new MockAgent({ enableCallHistory: true });
    agent.disableNetConnect();
    agent.get(ORIGIN).intercept({ path: `${BASE}/Users/u1`, method: 'GET' }).reply(200, user('u1', 'a@example.com'));
    const scim = createScimClient(target(), { token: TOKEN, readOnly: true, dispatcher: agent });
    expect((await scim.getUser('u1'))?.id).toBe('u1');
    expect(agent.getCallHistory()?.calls().map((c) => c.method)).toEqual(['GET']);
    await agent.close();
  });

  test('allowWrites lifts it: the write refused before is sent after', async () => {
    const agent = new MockAgent({ enableCallHistory: true });
    agent.disableNetConnect();
    agent.get(ORIGIN).intercept({ path: `${BASE}/Users/u1`, method: 'PATCH' }).reply(200, user('u1', 'a@example.com'));
    const scim = createScimClient(target(), { token: TOKEN, readOnly: true, dispatcher: agent });
    const request = { method: 'PATCH' as const, path: '/Users/u1', body: { Operations: [{ op: 'replace', path: 'active', value: false }] } };
    expect(await failure(scim.write(request))).toBeInstanceOf(ReadOnlyViolationError);
    expect(agent.getCallHistory()?.calls()).toEqual([]);
    scim.allowWrites();
    expect((await scim.write(request)).status).toBe(200);
    expect(agent.getCallHistory()?.calls().map((c) => c.method)).toEqual(['PATCH']);
    await agent.close();
  });
});

describe('broken connections on the default undici Pool (loopback socket)', () => {
  /** A server that answers each connection with `response` and then cuts it. */
  async function rawServer(response: string) {
    const server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write(response);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    return { url: `http://127.0.0.1:${port}/scim/v2`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  test('a body cut short is a network error for GET (after retries) and an unknown outcome for POST', async () => {
    const server = await rawServer('HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 500\r\n\r\n{"id":"u1","userName":');
    const scim = createScimClient(target({ url: server.url }), { token: TOKEN, readOnly: false, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 } });
    try {
      const get = await failure(scim.getUser('u1'));
      expect(get).toBeInstanceOf(ScimNetworkError);
      expect(get.message).toMatch(new RegExp(`^GET ${server.url}/Users/u1 failed: the connection broke before a complete response \\(\\w+\\) \\(2 attempts\\)$`));
      expect(await failure(scim.write({ method: 'POST', path: '/Users', body: {} }))).toBeInstanceOf(OutcomeUnknownError);
      expect(scim.stats().requests).toEqual({ GET: 2, POST: 1 });
    } finally {
      await scim.close();
      await server.close();
    }
  });

  test('an answer that never ends is cut off past the size limit, once, with an error that says so', async () => {
    const chunk = Buffer.alloc(1 << 20, 'b');
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\n\r\n{"Resources":["');
        const more = (): void => {
          while (!socket.destroyed) if (!socket.write(chunk)) return void socket.once('drain', more);
        };
        more();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const scim = createScimClient(target({ url: `http://127.0.0.1:${port}/scim/v2` }), { token: TOKEN, readOnly: false, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 } });
    try {
      const error = (await failure(scim.getUser('u1'))) as ScimformError;
      expect(error.message).toBe('the answer is larger than 64 MiB, more than any SCIM page holds');
      expect(scim.stats().requests).toEqual({ GET: 1 });
    } finally {
      await scim.close({ abort: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a refused connection says which URL could not be reached', async () => {
    const server = await rawServer('');
    await server.close();
    const scim = createScimClient(target({ url: server.url }), { token: TOKEN, readOnly: false, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 } });
    try {
      const error = await failure(scim.getUser('u1'));
      expect(error.message).toBe(`could not connect to ${server.url}/Users/u1 (ECONNREFUSED) (2 attempts)`);
    } finally {
      await scim.close();
    }
  });
});

describe('client set-up and limits', () => {
  test('an invalid target url is an error located at the target', () => {
    const error = (() => {
      try {
        createScimClient(target({ url: 'api.lightstep.com/scim/v2' }), { token: TOKEN, readOnly: true });
      } catch (e) {
        return e as ScimformError;
      }
      throw new Error('expected a failure');
    })();
    expect(error.message).toBe('the url of target lightstep is not a valid URL: api.lightstep.com/scim/v2');
    expect(error.location).toEqual({ file: 'scimform.yaml', line: 4, column: 3 });
  });

  test('requestsPerSecond spaces the requests of one client', async () => {
    scope().get(`${BASE}/Users/u1`).times(5).reply(200, user('u1', 'a@example.com'));
    const { scim, events } = client({ requestsPerSecond: 50 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => scim.getUser('u1')));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75); // starts at 0, 20, 40, 60, 80 ms
    expect(events).toHaveLength(5);
  });

  test('concurrency bounds the requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    scope()
      .get(`${BASE}/Users/u1`)
      .times(8)
      .reply(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inFlight--;
        return [200, user('u1', 'a@example.com')];
      });
    const { scim } = client({ concurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, () => scim.getUser('u1')));
    expect(peak).toBe(2);
  });
});

describe('resolveToken', () => {
  test.each([
    ['unset', {}, 'is not set'],
    ['empty', { LIGHTSTEP_SCIM_TOKEN: '' }, 'is empty'],
    ['blank', { LIGHTSTEP_SCIM_TOKEN: '  \n' }, 'is empty'],
  ])('%s: says which variable and which target', (_case, env, state) => {
    const error = (() => {
      try {
        resolveToken(target(), env);
      } catch (e) {
        return e as ScimformError;
      }
      throw new Error('expected a failure');
    })();
    expect(error.message).toBe(`environment variable LIGHTSTEP_SCIM_TOKEN ${state} (target lightstep)`);
    expect(error.hint).toContain('Set LIGHTSTEP_SCIM_TOKEN');
  });

  test('surrounding whitespace is dropped', () => {
    expect(resolveToken(target(), { LIGHTSTEP_SCIM_TOKEN: ` ${TOKEN}\n` })).toBe(TOKEN);
  });

  test.each([
    ['7 characters', false, 'example'],
    ['15 characters', false, 'zq9s3cr3tzq9s3c'],
    ['16 characters', true, 'zq9s3cr3tzq9s3cr'],
  ])('a token of %s is taken: %s (shorter than 16 is no secret)', (_name, taken, token) => {
    const resolve = () => resolveToken(target(), { LIGHTSTEP_SCIM_TOKEN: token });
    if (taken) return expect(resolve()).toBe(token);
    expect(resolve).toThrow('environment variable LIGHTSTEP_SCIM_TOKEN holds a token shorter than 16 characters, too short to be a secret (target lightstep)');
    expect(resolve).not.toThrow(token);
  });

  test.each([
    ['a euro sign', 'zq9s3cr3t\u20ac'],
    ['a zero-width space', 'zq9s3\u200bcr3t'],
    ['typographic quotes', '\u201czq9s3cr3t\u201d'],
    ['a non-breaking space inside', 'zq9s3\u00a0cr3t'],
    ['a Latin-1 letter', 'zq9s3cr\u00f6t'],
  ])('a token with %s, which an HTTP header cannot carry, is refused without being shown', (_name, token) => {
    const error = (() => {
      try {
        resolveToken(target(), { LIGHTSTEP_SCIM_TOKEN: token });
      } catch (e) {
        return e as ScimformError;
      }
      throw new Error('expected a failure');
    })();
    expect(error).toBeInstanceOf(ScimformError);
    expect(error.message).toBe('environment variable LIGHTSTEP_SCIM_TOKEN holds a token with characters that cannot be sent in an HTTP header (target lightstep)');
    expect(error.hint).toContain('Paste the token into LIGHTSTEP_SCIM_TOKEN again');
    expect(`${error.message} ${error.hint}`).not.toMatch(/zq9|s3|cr3t/);
  });

  test('a token with a control character inside is refused without being shown', () => {
    expect(() => resolveToken(target(), { LIGHTSTEP_SCIM_TOKEN: 'abc\u0007def' })).toThrow(/control characters/);
    expect(() => resolveToken(target(), { LIGHTSTEP_SCIM_TOKEN: 'abc\u0007def' })).not.toThrow(/abc/);
  });
});
