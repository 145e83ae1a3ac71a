/**
 * Answers the GitHub API would never give — HTML, JSON of another shape, a redirect, a 5xx, a body
 * without end — from a loopback node:http server standing in for the API, through the client's own
 * undici Agent. Each is one error that names the request and says what to check, never a crash.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import { createGitHubClient, type GitHubClient } from '../../src/github/client.js';
import { runCli } from '../helpers/cli.js';
import { exampleRepository, type TestRepository } from '../helpers/repo.js';

const TOKEN = 'ghs_SECRET-hostile-api-91d3';
const REPO = { owner: 'acme', repo: 'identities' };

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let answer: Answer = (_req, res) => res.end();
let server: http.Server;
let api: string;

beforeAll(async () => {
  server = http.createServer((req, res) => answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const reply =
  (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' }): Answer =>
  (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };

/** A body that never ends: as fast as the client reads it, or a byte every `every` ms. */
const endless =
  (chunk: string, every?: number): Answer =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    let open = true;
    res.on('close', () => (open = false));
    if (every !== undefined) {
      const timer = setInterval(() => res.write(chunk), every);
      res.on('close', () => clearInterval(timer));
      return;
    }
    const pour = () => {
      while (open && res.write(chunk));
      if (open) res.once('drain', pour);
    };
    pour();
  };

const calls: Record<string, (client: GitHubClient) => Promise<unknown>> = {
  listComments: (client) => client.listIssueComments(REPO, 42),
  createComment: (client) => client.createIssueComment(REPO, 42, 'plan'),
  pull: (client) => client.pullRequest(REPO, 42),
  commits: (client) => client.pullRequestCommits(REPO, 42),
  pulls: (client) => client.pullRequestsOfCommit(REPO, 'abc1234'),
  artifacts: (client) => client.artifactsNamed(REPO, 'scimform-plan-pr-42'),
};

const COMMENTS = /GET http:\/\/127\.0\.0\.1:\d+\/repos\/acme\/identities\/issues\/42\/comments\?per_page=100/;
const CHECK_URL = /^Check GITHUB_API_URL \(or --api-url\): it should be the GitHub REST API/;

describe('a GitHub API that answers what GitHub never does', () => {
  test.each([
    // case, call, answer, message, hint
    ['a login page with 200', 'listComments', reply(200, '<html>Sign in</html>', { 'content-type': 'text/html' }), /^GitHub answered 200 to GET http:.*, but the body was text\/html, not JSON, starting "<html>Sign in<\/html>"$/, /^Something other than the GitHub API answered/],
    ['JSON cut short', 'listComments', reply(200, '[{"id": 1, "bo'), /but the body is not valid JSON \(cut short\?\), starting "\[\{\\"id\\": 1, \\"bo"$/, /GITHUB_API_URL/],
    ['comments that are not a list', 'listComments', reply(200, '{"comments": []}'), /is not what the GitHub API sends: the answer is not a list of comments$/, CHECK_URL],
    ['a comment without an id', 'listComments', reply(200, '[{"body": "x", "html_url": "https://github.test/c"}]'), /is not what the GitHub API sends: item 1 of the list is a comment without a numeric id$/, CHECK_URL],
    ['a comment without a body', 'listComments', reply(200, '[{"id": 5, "body": "a", "html_url": "u"}, {"id": 6, "html_url": "u"}]'), /item 2 of the list is comment 6 without a body$/, CHECK_URL],
    ['null in the list', 'listComments', reply(200, '[null]'), /item 1 of the list is a comment that is not an object$/, CHECK_URL],
    ['a create answered with no body', 'createComment', reply(201, ''), /^GitHub's answer to POST http:.*\/issues\/42\/comments is not what the GitHub API sends: a comment that is not an object$/, CHECK_URL],
    ['a pull request without head.sha', 'pulls', reply(200, '[{"number": 7, "merged_at": null}]'), /item 1 of the list is pull request #7 without head\.sha$/, CHECK_URL],
    ['one pull request without head.sha', 'pull', reply(200, '{"number": 42, "merged_at": null, "head": {}}'), /^GitHub's answer to GET http:.*\/pulls\/42 is not what the GitHub API sends: pull request #42 without head\.sha$/, CHECK_URL],
    ['a commit without a sha', 'commits', reply(200, '[{"sha": "abc"}, {"commit": {}}]'), /item 2 of the list is a commit without a sha$/, CHECK_URL],
    ['artifacts without a list', 'artifacts', reply(200, '{"total_count": 1}'), /the answer is not a list of artifacts$/, CHECK_URL],
    ['an artifact without created_at', 'artifacts', reply(200, '{"artifacts": [{"id": 3, "name": "x", "expired": false}]}'), /item 1 of the list is artifact 3 without its name, expired or created_at$/, CHECK_URL],
    ['a redirect to a login page', 'listComments', reply(302, '', { location: 'https://login.test/sso?code=s3cret' }), /^GitHub answered 302 to GET \/repos\/acme\/identities\/issues\/42\/comments\?per_page=100, a redirect to https:\/\/login\.test\/sso$/, /redirects are not followed, so the token goes nowhere else\)\. Check GITHUB_API_URL/],
    ['a 502 page from a proxy', 'listComments', reply(502, '<html>Bad gateway</html>', { 'content-type': 'text/html' }), /^GitHub answered 502 to GET \/repos\/acme\/identities\/issues\/42\/comments\?per_page=100 \(the body was text\/html, not JSON, starting "<html>Bad gateway<\/html>"\)$/, /^Re-run the job/],
    ['a body without end', 'listComments', endless(`"${'x'.repeat(65_536)}",`), /^GitHub answered 200 to GET http:.*, but the body is larger than 32 MiB$/, /GITHUB_API_URL/],
  ] as const)('%s', async (_case, call, scripted, message, hint) => {
    answer = scripted;
    const client = createGitHubClient({ apiUrl: api, token: TOKEN, timeoutMs: 10_000 });
    try {
      const error = await calls[call]!(client).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ScimformError);
      expect((error as ScimformError).message).toMatch(message);
      expect((error as ScimformError).hint).toMatch(hint);
      expect(`${(error as Error).message} ${(error as ScimformError).hint}`).not.toContain(TOKEN);
    } finally {
      await client.close();
    }
  });

  test('a body that trickles past the timeout is cut off there', async () => {
    answer = endless(' ', 20);
    const client = createGitHubClient({ apiUrl: api, token: TOKEN, timeoutMs: 300 });
    try {
      const error = (await client.listIssueComments(REPO, 42).catch((caught: unknown) => caught)) as ScimformError;
      expect(error).toBeInstanceOf(ScimformError);
      expect(error.message).toMatch(/^GitHub's answer to GET http:.*\/issues\/42\/comments\?per_page=100 broke off \(not complete within 0\.3 s\)$/);
      expect(error.hint).toMatch(/^Re-run the job/);
    } finally {
      await client.close();
    }
  });

  test('an answer that echoes the Authorization header does not put the token into the message', async () => {
    answer = (req, res) => reply(200, `you sent ${req.headers.authorization}`, { 'content-type': 'text/plain' })(req, res);
    const client = createGitHubClient({ apiUrl: api, token: TOKEN, timeoutMs: 2_000 });
    try {
      const error = (await client.listIssueComments(REPO, 42).catch((caught: unknown) => caught)) as ScimformError;
      expect(error.message).toMatch(COMMENTS);
      expect(error.message).toContain('starting "you sent Bearer [GITHUB_TOKEN]"');
      expect(error.message).not.toContain(TOKEN);
    } finally {
      await client.close();
    }
  });

  test.each([
    ['in the message of an error answer', reply(403, JSON.stringify({ message: `token ${TOKEN.slice(0, 12)}… has no access` }))],
    ['split over lines in a body that is not JSON', reply(200, `sent ${TOKEN.slice(0, 10)}\n${TOKEN.slice(10)}`, { 'content-type': 'text/plain' })],
    ['in a redirect\'s target', reply(302, '', { location: `https://login.test/sso/${TOKEN}/start` })],
    ['in a redirect\'s target that is no URL', reply(302, '', { location: `//[${TOKEN}` })],
  ])('a part of the token %s is hidden too', async (_case, handler) => {
    answer = handler;
    const client = createGitHubClient({ apiUrl: api, token: TOKEN, timeoutMs: 2_000 });
    try {
      const error = (await client.listIssueComments(REPO, 42).catch((caught: unknown) => caught)) as ScimformError;
      expect(error.message).toContain('[GITHUB_TOKEN]');
      for (let from = 0; from + 8 <= TOKEN.length; from++) expect(error.message).not.toContain(TOKEN.slice(from, from + 8));
    } finally {
      await client.close();
    }
  });
});

describe('scimform github against such an API', () => {
  let repo: TestRepository;
  beforeAll(async () => {
    repo = await exampleRepository({ profile: 'generic' });
  });
  afterAll(() => repo.close());

  test.each([
    ['comment', ['--plan', 'plan.json', '--pr', '42'], /^error: GitHub answered 200 to GET http:.*\/repos\/acme\/identities\/issues\/42\/comments\?per_page=100, but the body was text\/html/],
    ['reviewed-plan', ['--sha', 'abc1234'], /^error: GitHub answered 200 to GET http:.*\/repos\/acme\/identities\/commits\/abc1234\/pulls\?per_page=100, but the body was text\/html/],
  ])('%s exits 1 with the error, not an internal one, and posts nothing', async (step, args, message) => {
    const requests: string[] = [];
    answer = (req, res) => {
      requests.push(req.method ?? '');
      reply(200, '<html>Sign in</html>', { 'content-type': 'text/html' })(req, res);
    };
    const result = await runCli(['github', step, '--repo', 'acme/identities', '--api-url', api, ...args], { ...repo.env, GITHUB_TOKEN: TOKEN }, repo.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('internal error');
    expect(requests).toEqual(['GET']);
  });
});
