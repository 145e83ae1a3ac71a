/**
 * The sticky plan comment against a scripted GitHub API. nock answers through the test-only
 * `NodeHttpDispatcher` of the SCIM client tests (nock cannot see undici's own sockets), because a
 * nock scope states a whole exchange — Link headers over several pages, request bodies, headers —
 * and `isDone()` proves every scripted call was made and no other was.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import { createGitHubClient, nextPageUrl, type IssueComment } from '../../src/github/client.js';
import { buildComment, findSticky, markerFor, plannedCommitOf, upsertComment } from '../../src/github/comment.js';
import { GITHUB_COMMENT_LIMIT } from '../../src/render/index.js';
import { NodeHttpDispatcher } from '../scim/node-http-dispatcher.js';
import { largePlan, lightstepPlan } from '../render/fixtures.js';

const API = 'https://api.github.test';
const TOKEN = 'ghs_SECRET-github-token-4b1d';
const REPO = { owner: 'acme', repo: 'identities' };
const COMMENTS = '/repos/acme/identities/issues/42/comments';

const client = () => createGitHubClient({ apiUrl: API, token: TOKEN, dispatcher: new NodeHttpDispatcher(), timeoutMs: 5_000 });
const github = () =>
  nock(API, {
    reqheaders: {
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'user-agent': /^scimform\//,
    },
  });
const comment = (id: number, body: string): IssueComment => ({ id, body, html_url: `https://github.test/acme/identities/pull/42#issuecomment-${id}` });
const others = (from: number, count: number) => Array.from({ length: count }, (_, i) => comment(from + i, `looks good ${from + i}`));
const link = (page: number, last: number) => `<${API}${COMMENTS}?per_page=100&page=${page}>; rel="next", <${API}${COMMENTS}?per_page=100&page=${last}>; rel="last"`;

const marker = markerFor('lightstep');
const body = `${marker}\n### scimform plan\nnew`;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('upsertComment', () => {
  test('creates the comment when no comment carries the marker', async () => {
    const scope = github()
      .get(COMMENTS)
      .query({ per_page: '100' })
      .reply(200, [comment(1, 'first!'), comment(2, markerFor('servicenow'))])
      .post(COMMENTS, { body })
      .reply(201, comment(7, body));
    const result = await upsertComment(client(), REPO, 42, marker, body);
    expect(result).toEqual({ action: 'created', id: 7, url: comment(7, '').html_url });
    expect(scope.isDone()).toBe(true);
  });

  test('updates the comment that carries the marker, and creates no second one', async () => {
    const scope = github()
      .get(COMMENTS)
      .query({ per_page: '100' })
      .reply(200, [comment(1, 'first!'), comment(5, `${marker}\nold plan`)])
      .patch('/repos/acme/identities/issues/comments/5', { body })
      .reply(200, comment(5, body));
    const result = await upsertComment(client(), REPO, 42, marker, body);
    expect(result.action).toBe('updated');
    expect(result.id).toBe(5);
    expect(scope.isDone()).toBe(true);
  });

  test('finds the marker on the third page by following Link headers, then updates that comment', async () => {
    const scope = github()
      .get(COMMENTS)
      .query({ per_page: '100' })
      .reply(200, others(1, 100), { link: link(2, 3) })
      .get(COMMENTS)
      .query({ per_page: '100', page: '2' })
      .reply(200, others(101, 100), { link: link(3, 3) })
      .get(COMMENTS)
      .query({ per_page: '100', page: '3' })
      .reply(200, [...others(201, 30), comment(250, `${marker}\nold plan`), ...others(251, 5)])
      .patch('/repos/acme/identities/issues/comments/250', { body })
      .reply(200, comment(250, body));
    const result = await upsertComment(client(), REPO, 42, marker, body);
    expect(result).toMatchObject({ action: 'updated', id: 250 });
    expect(scope.isDone()).toBe(true);
  });

  test('leaves a comment alone that `leave` keeps, and sends nothing', async () => {
    const scope = github().get(COMMENTS).query({ per_page: '100' }).reply(200, [comment(5, `${marker}\nolder`)]);
    const kept: string[] = [];
    const result = await upsertComment(client(), REPO, 42, marker, body, (existing) => (kept.push(existing.body), true));
    expect(result).toEqual({ action: 'left', id: 5, url: 'https://github.test/acme/identities/pull/42#issuecomment-5' });
    expect(kept).toEqual([`${marker}\nolder`]);
    expect(scope.isDone()).toBe(true);
  });

  test('leaves a comment alone when its body is already the plan', async () => {
    const scope = github().get(COMMENTS).query({ per_page: '100' }).reply(200, [comment(5, body)]);
    expect((await upsertComment(client(), REPO, 42, marker, body)).action).toBe('unchanged');
    expect(scope.isDone()).toBe(true);
  });

  test.each([
    {
      name: 'a fork pull request (read-only token)',
      status: 403,
      reply: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' },
      message: /GitHub answered 403 to POST \/repos\/acme\/identities\/issues\/42\/comments: Resource not accessible by integration/,
      hint: /fork.*read-only token and no secrets.*pull-requests: write/,
    },
    { name: 'a rate limit', status: 403, reply: { message: 'API rate limit exceeded' }, message: /403.*rate limit exceeded/, hint: /permissions|re-run/ },
    { name: 'a bad token', status: 401, reply: { message: 'Bad credentials' }, message: /401.*Bad credentials/, hint: /GITHUB_TOKEN/ },
  ])('a refused create is explained: $name', async ({ status, reply, message, hint }) => {
    github().get(COMMENTS).query({ per_page: '100' }).reply(200, []).post(COMMENTS).reply(status, reply);
    const error = await upsertComment(client(), REPO, 42, marker, body).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as ScimformError).message).toMatch(message);
    expect((error as ScimformError).hint).toMatch(hint);
    expect(`${(error as Error).message} ${(error as ScimformError).hint}`).not.toContain(TOKEN);
  });

  test('a Link to another host is not followed, so the token never leaves the API', async () => {
    const scope = github()
      .get(COMMENTS)
      .query({ per_page: '100' })
      .reply(200, others(1, 2), { link: '<https://elsewhere.test/steal?page=2>; rel="next"' })
      .post(COMMENTS)
      .reply(201, comment(9, body));
    expect((await upsertComment(client(), REPO, 42, marker, body)).action).toBe('created');
    expect(scope.isDone()).toBe(true);
  });

  test('GitHub Enterprise Server: the API path prefix of GITHUB_API_URL is kept', async () => {
    const ghes = createGitHubClient({ apiUrl: 'https://ghe.test/api/v3', token: TOKEN, dispatcher: new NodeHttpDispatcher() });
    const scope = nock('https://ghe.test').get('/api/v3/repos/acme/identities/issues/42/comments').query({ per_page: '100' }).reply(200, []);
    expect(await ghes.listIssueComments(REPO, 42)).toEqual([]);
    expect(scope.isDone()).toBe(true);
  });
});

describe('nextPageUrl', () => {
  test.each([
    { link: undefined, next: undefined },
    { link: '<https://a.test/x?page=2>; rel="next", <https://a.test/x?page=5>; rel="last"', next: 'https://a.test/x?page=2' },
    { link: '<https://a.test/x?page=1>; rel="prev", <https://a.test/x?page=1>; rel="first"', next: undefined },
    { link: '<https://a.test/x?page=3>; rel="last next"', next: 'https://a.test/x?page=3' },
  ])('$link → $next', ({ link: header, next }) => {
    expect(nextPageUrl(header)).toBe(next);
  });
});

describe('buildComment', () => {
  const runUrl = 'https://github.com/acme/identities/actions/runs/99';

  test('starts with the target marker and the commit planned, holds the Markdown plan, and links the run', () => {
    const text = buildComment({ target: 'lightstep', plan: lightstepPlan(), runUrl, sha: '0123456789abcdef' });
    expect(text.startsWith(`${markerFor('lightstep')}\n<!-- scimform:commit 0123456789abcdef -->\n### scimform plan`)).toBe(true);
    expect(plannedCommitOf(text)).toBe('0123456789abcdef');
    expect(text).toContain('| lightstep |');
    expect(text).toContain(`[workflow run](${runUrl})`);
    expect(text).toContain('for 0123456');
    expect(text).not.toContain('too large for one comment');
  });

  test('a plan too large for one comment is shortened under the limit, says so and links the artifact', () => {
    const text = buildComment({ target: 'big', plan: largePlan('big', 3_000), runUrl });
    expect(text.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(text).toContain(markerFor('big'));
    expect(text).toMatch(/too large for one comment.*saved-plan artifact of the \[workflow run\]\(https:\/\/github\.com\/acme\/identities\/actions\/runs\/99\)/);
  });

  test('a target whose planning failed gets a comment that says so, replacing an older plan', () => {
    const text = buildComment({ target: 'lightstep', plan: undefined, runUrl });
    expect(text).toContain(markerFor('lightstep'));
    expect(text).toContain('**No plan for target lightstep in this run**');
    // No artifact to apply: the footer does not promise one.
    expect(text).toContain('With no saved plan, merging applies a fresh plan of the merged commit (the guards still hold).');
    expect(text).not.toContain('The saved plan is an artifact');
    expect(findSticky([comment(3, text)], markerFor('lightstep'))?.id).toBe(3);
    // Without a commit, none is named.
    expect(plannedCommitOf(text)).toBeUndefined();
  });

  test('markers of different targets do not find each other', () => {
    const comments = [comment(1, buildComment({ target: 'lightstep-eu', plan: undefined })), comment(2, buildComment({ target: 'lightstep', plan: undefined }))];
    expect(findSticky(comments, markerFor('lightstep'))?.id).toBe(2);
    expect(findSticky(comments, markerFor('servicenow'))).toBeUndefined();
  });
});
