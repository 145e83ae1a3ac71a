/**
 * Whatever a server answers — missing fields, wrong types, huge strings, truncated or non-JSON
 * bodies, odd statuses — the client either returns a value or throws a `ScimformError` whose
 * message is for people and never holds the token. A loopback `node:http` server plays the
 * hostile service, so the real undici transport is under test.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import type { TargetConfig } from '../../src/model.js';
import { createScimClient, type ScimClient } from '../../src/scim/index.js';

const TOKEN = 'fuzz-token-91b7e2-secret';

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

let answer: Answer = { status: 200, contentType: 'application/scim+json', body: '{}' };
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'Content-Type': answer.contentType });
      res.end(answer.status === 204 || answer.status === 304 ? undefined : answer.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(): ScimClient {
  const target: TargetConfig = { name: 'fuzz', url, tokenEnv: 'FUZZ_TOKEN', profile: 'generic', concurrency: 2, timeoutSeconds: 2, pageSize: 50, source: { file: 'scimform.yaml', line: 1, column: 1 } };
  return createScimClient(target, { token: TOKEN, readOnly: false, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
}

/** Any JSON value where a SCIM one belongs. */
const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined), fc.integer({ min: 100_000, max: 300_000 }).map((n) => 'é'.repeat(n)));

/** A SCIM user with each attribute present, absent or of the wrong type. */
const userish = fc.record(
  {
    id: fc.oneof(fc.string(), fc.integer(), junk),
    userName: fc.oneof(fc.emailAddress(), fc.string(), junk),
    name: fc.oneof(fc.record({ givenName: fc.oneof(fc.string(), junk), familyName: junk }), junk),
    emails: fc.oneof(fc.array(fc.record({ value: fc.oneof(fc.emailAddress(), junk), primary: fc.oneof(fc.boolean(), junk), type: junk })), junk),
    active: fc.oneof(fc.boolean(), fc.constantFrom('False', 'true', 0, null)),
    meta: fc.oneof(fc.record({ version: fc.oneof(fc.string(), junk) }), junk),
    members: fc.oneof(fc.array(fc.record({ value: fc.oneof(fc.string(), junk) })), junk),
    displayName: fc.oneof(fc.string(), junk),
  },
  { requiredKeys: [] },
);

const listish = fc.record(
  {
    schemas: fc.oneof(fc.constant(['urn:ietf:params:scim:api:messages:2.0:ListResponse']), junk),
    totalResults: fc.oneof(fc.integer({ min: -5, max: 10_000 }), junk),
    itemsPerPage: fc.oneof(fc.integer(), junk),
    startIndex: fc.oneof(fc.integer(), junk),
    nextCursor: fc.oneof(fc.string(), junk),
    Resources: fc.oneof(fc.array(userish, { maxLength: 5 }), junk),
    resources: fc.oneof(fc.array(userish, { maxLength: 5 }), junk),
  },
  { requiredKeys: [] },
);

const errorish = fc.record(
  { schemas: junk, status: fc.oneof(fc.constantFrom('400', 409, '503'), junk), scimType: fc.oneof(fc.constantFrom('uniqueness', 'invalidFilter'), junk), detail: fc.oneof(fc.string(), junk) },
  { requiredKeys: [] },
);

const body = fc.oneof(
  listish.map((value) => JSON.stringify(value)),
  userish.map((value) => JSON.stringify(value)),
  errorish.map((value) => JSON.stringify(value)),
  junk.map((value) => JSON.stringify(value) ?? ''),
  fc.string({ unit: 'binary', maxLength: 300 }),
  listish.map((value) => JSON.stringify(value).slice(0, -3)),
  fc.constantFrom('<html><body>Bad gateway</body></html>', '', 'null', '[]', `{"detail":"echo ${TOKEN}"}`),
);

const answerArb: fc.Arbitrary<Answer> = fc.record({
  status: fc.constantFrom(200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 412, 413, 429, 500, 502, 503),
  contentType: fc.constantFrom('application/scim+json', 'application/json', 'text/html', 'text/plain', 'application/octet-stream'),
  body,
});

type Call = (scim: ScimClient) => Promise<unknown>;

const calls: [string, Call][] = [
  ['capabilities', (scim) => scim.capabilities()],
  ['listUsers', (scim) => scim.listUsers()],
  ['listGroups', (scim) => scim.listGroups()],
  ['getUser', (scim) => scim.getUser('u1')],
  ['getGroup', (scim) => scim.getGroup('g1')],
  ['findUserByUserName', (scim) => scim.findUserByUserName('jane@example.com')],
  ['findUserByExternalId', (scim) => scim.findUserByExternalId('E-1')],
  ['write POST', (scim) => scim.write({ method: 'POST', path: '/Users', body: { userName: 'jane@example.com' } })],
  ['write PATCH', (scim) => scim.write({ method: 'PATCH', path: '/Users/u1', body: { Operations: [] }, ifMatch: 'W/"1"' })],
  ['write DELETE', (scim) => scim.write({ method: 'DELETE', path: '/Users/u1' })],
];

describe('hostile SCIM responses never crash the client', () => {
  test.each(calls)('%s', { timeout: 30_000 }, async (_name, call) => {
    await fc.assert(
      fc.asyncProperty(answerArb, async (given) => {
        answer = given;
        const scim = client();
        try {
          await call(scim);
        } catch (error) {
          // A TypeError or RangeError here would be a crash: only errors for people may escape.
          expect(error).toBeInstanceOf(ScimformError);
          const { message, hint } = error as ScimformError;
          expect(`${message} ${hint ?? ''}`).not.toContain(TOKEN);
          expect(message.length).toBeLessThan(2_000);
        } finally {
          await scim.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});
