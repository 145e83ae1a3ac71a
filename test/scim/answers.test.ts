/**
 * Answers real servers give that the emulator does not (SPEC §5a): a PATCH answered 204 with no
 * body, a create answered 200. A small node:http server gives them; the real client and apply
 * read them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { applyPlan } from '../../src/apply/index.js';
import { createScimClient } from '../../src/scim/index.js';
import { op, targetPlan } from '../apply/fakes.js';

const TOKEN = 'answers-token-5c1d';
const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
});

async function serve(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers['if-match'] ?? ''}`.trim());
      answer(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closing.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`, seen };
}

function clientOf(url: string) {
  const client = createScimClient(
    { name: 'srv', url, tokenEnv: 'SRV_TOKEN', profile: 'generic', concurrency: 2, timeoutSeconds: 5, source: { file: 'scimform.yaml', line: 1, column: 1 } },
    { token: TOKEN, readOnly: false, retry: { baseDelayMs: 1, maxDelayMs: 2 }, random: () => 0.5 },
  );
  closing.push(() => client.close());
  return client;
}

test('a PATCH answered 204 without a body is done: the write has the status and the ETag, apply reports the update', async () => {
  const { url, seen } = await serve((req, res) => {
    if (req.method === 'PATCH') {
      res.writeHead(204, { ETag: 'W/"8"' });
      res.end();
    } else {
      res.writeHead(404, { 'content-type': 'application/scim+json' });
      res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' }));
    }
  });
  const client = clientOf(url);
  const request = { method: 'PATCH' as const, path: '/Users/u1', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'active', value: false }] }, ifMatch: 'W/"7"' };
  expect(await client.write(request)).toEqual({ status: 204, etag: 'W/"8"' });

  const report = await applyPlan(targetPlan([op.updateUser('u1', 'jane@example.com', 'deactivateUser', 'W/"7"')]), client, { concurrency: 1 });
  expect(report.outcomes).toEqual([expect.objectContaining({ key: 'user:jane@example.com', status: 'done', httpStatus: 204 })]);
  expect(seen).toEqual(['PATCH /scim/v2/Users/u1 W/"7"', 'PATCH /scim/v2/Users/u1 W/"7"']);
});

test('a create answered 200 (not 201) with its resource is created, with the id from the body', async () => {
  const { url } = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'application/scim+json', Location: `${'http://x'}/Users/n1` });
    res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'n1', userName: 'new@example.com', meta: { version: 'W/"1"' } }));
  });
  const report = await applyPlan(targetPlan([op.createUser('new@example.com')]), clientOf(url), { concurrency: 1 });
  expect(report.outcomes).toEqual([expect.objectContaining({ status: 'done', httpStatus: 200, createdId: 'n1' })]);
});
