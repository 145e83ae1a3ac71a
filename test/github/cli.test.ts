/**
 * `scimform github` as a command: one sticky comment per configured target (a failed target's
 * comment says so), and the errors a person sees when the step cannot run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { makeContext } from '../../src/cli/context.js';
import { run } from '../../src/cli/github.js';
import { markerFor } from '../../src/github/comment.js';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';
import { runCli } from '../helpers/cli.js';
import { ESCAPED_NAMES, HOSTILE_NAMES, expectSafeOutput } from '../helpers/hostile.js';
import { NodeHttpDispatcher } from '../scim/node-http-dispatcher.js';

const API = 'https://api.github.test';
const GITHUB_TOKEN = 'ghs_SECRET-cli-token-77c2';

let repo: TestRepository;
beforeEach(async () => {
  repo = await exampleRepository({ profile: 'generic' });
});
afterEach(async () => {
  nock.cleanAll();
  await repo.close();
});

async function runGitHub(args: string[], options: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', () => undefined);
  const ctx = makeContext(
    { stdout, stderr, stdin: new PassThrough(), env, cwd: repo.dir },
    { config: 'scimform.yaml', target: [], color: false, quiet: true, verbose: false },
    new AbortController().signal,
  );
  const code = await run(ctx, options, args, { dispatcher: new NodeHttpDispatcher() });
  return { code, stdout: out };
}

test('comment posts one comment per configured target; a target that could not be planned gets one that says so', async () => {
  // A second target whose token is not set: its plan fails, the first one's is saved.
  await repo.edit('scimform.yaml', (text) =>
    text.replace(/^policy:/m, '  backup:\n    url: http://127.0.0.1:9/scim/v2\n    tokenEnv: BACKUP_TOKEN\n    timeoutSeconds: 2\npolicy:'),
  );
  const planned = await runCli(['plan', '--out', 'plan.json'], repo.env, repo.dir);
  expect(planned.code).toBe(1);
  expect(planned.stderr).toContain('target backup failed');

  const posted: string[] = [];
  const scope = nock(API)
    .get('/repos/acme/identities/issues/3/comments')
    .query({ per_page: '100' })
    .twice()
    .reply(200, [])
    .post('/repos/acme/identities/issues/3/comments', (body: { body: string }) => (posted.push(body.body), true))
    .twice()
    .reply(201, (_, body) => ({ id: posted.length, body: (body as { body: string }).body, html_url: `https://github.test/c/${posted.length}` }));
  const result = await runGitHub(['comment'], { plan: 'plan.json', repo: 'acme/identities', pr: '3', apiUrl: API }, { GITHUB_TOKEN, GITHUB_RUN_ID: '5', GITHUB_REPOSITORY: 'acme/identities' });
  expect(result.code).toBe(0);
  expect(scope.isDone()).toBe(true);
  expect(result.stdout).toContain('local: created the plan comment on pull request #3: https://github.test/c/1');
  expect(result.stdout).toContain('backup: created the plan comment on pull request #3: https://github.test/c/2');
  expect(posted[0]).toContain(markerFor('local'));
  expect(posted[0]).toMatch(/\| local \| 12 \|/);
  expect(posted[1]).toContain(markerFor('backup'));
  expect(posted[1]).toContain('**No plan for target backup in this run**: the files did not validate, or the target could not be read; the [workflow run](https://github.com/acme/identities/actions/runs/5) says why.');
  expect(posted.join('\n')).not.toContain(TOKEN);
});

describe('preflight', () => {
  test('a token not set says what to do about it', async () => {
    const result = await runCli(['github', 'preflight'], { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/identities' }, repo.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The SCIM token SCIMFORM_TOKEN (target local) is not set');
    const hint = /Add a repository secret named SCIMFORM_TOKEN \(Settings → Secrets and variables → Actions\)/;
    expect(result.stderr).toMatch(hint);
    expect(result.stdout).toMatch(hint);
  });

  test.each([
    { tokenEnv: 'GITHUB_SCIM_TOKEN', env: {} },
    // Set by GitHub in every job: the workflow's own token, which plan would have sent to the SCIM service.
    { tokenEnv: 'GITHUB_TOKEN', env: { GITHUB_TOKEN } },
  ])('a tokenEnv of $tokenEnv is refused, set or not: no secret can have that name', async ({ tokenEnv, env }) => {
    await repo.edit('scimform.yaml', (text) => text.replace('tokenEnv: SCIMFORM_TOKEN', `tokenEnv: ${tokenEnv}`));
    const result = await runCli(['github', 'preflight'], { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: 'acme/identities', ...env }, repo.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The SCIM token cannot come from ${tokenEnv} (target local): GitHub keeps names that start with GITHUB_ for itself`);
    const hint = /In scimform\.yaml, give `tokenEnv` a name of your own \(e\.g\. SCIM_TOKEN\) and add a repository secret of that name\./;
    expect(result.stderr).toMatch(hint);
    expect(result.stdout).toMatch(hint);
    expect(result.stderr).not.toContain('Tokens present');
  });
});

describe('apply', () => {
  test('names in why the reviewed plan is not applied are escaped in the log and the job summary: no workflow command, no Markdown', async () => {
    await repo.edit('scimform.yaml', (text) => text.replace('scope: "*@acme.example"', 'scope: "*"'));
    expect((await repo.run('apply', '--auto-approve')).code).toBe(0);
    expect((await repo.run('plan', '--out', 'plan.json')).code).toBe(0);
    // Accounts made by hand after the review: the policy now deactivates them, which the reviewed plan does not hold.
    const userName = `${HOSTILE_NAMES[0]!.replace('@', ' *em* <b>b</b> [l](https://evil.example)@')}`;
    const response = await fetch(`${repo.emulator.url}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName }),
    });
    expect(response.status).toBe(201);
    const summaryFile = path.join(repo.dir, 'summary.md');
    const result = await runCli(['github', 'apply', '--reviewed', 'plan.json', '--pr', '7', '--auto-approve'], { ...repo.env, GITHUB_STEP_SUMMARY: summaryFile }, repo.dir);
    expect(result.code).toBe(0);
    const escaped = ESCAPED_NAMES[0]!.replace('@', ' *em* <b>b</b> [l](https://evil.example)@');
    expect(result.stderr).toContain(`the files and the live state now call for deactivate user ${escaped} (id `);
    expectSafeOutput(result.stderr);
    const summary = await readFile(summaryFile, 'utf8');
    const heading = summary.split('\n').find((line) => line.startsWith('> **This apply differs'))!;
    // Markdown shows `\\u000a` for the escaped backslash.
    expect(heading).toContain('deactivate user x\\\\u000a::add-mask::x \\*em\\* &lt;b&gt;b&lt;/b&gt; \\[l\\](https://evil.example)@example.com (id ');
    expectSafeOutput(heading);
  });
});

describe('the cost of checking the reviewed plan', () => {
  let twin: TestRepository;
  afterEach(async () => twin.close());

  test.each([
    ['with ETags', true],
    ['without ETags (fingerprints are hashes of listed resources, as on Lightstep)', false],
  ])('%s: github apply reads each target once more than apply plan.json does, and no more', async (_name, etags) => {
    // Two copies of the same repository and target, brought to the same reviewed plan.
    await repo.close();
    repo = await exampleRepository({ profile: 'generic', etags });
    twin = await exampleRepository({ profile: 'generic', etags });
    for (const copy of [repo, twin]) {
      expect((await copy.run('apply', '--auto-approve')).code).toBe(0);
      await copy.edit('identities/engineering.yaml', (text) => text.replace('givenName: Grace', 'givenName: Amazing Grace'));
      expect((await copy.run('plan', '--out', 'plan.json')).code).toBe(0);
    }
    const reads = (copy: TestRepository, from: number) => copy.emulator.requests.slice(from).filter((request) => request.method === 'GET').length;
    let mark = twin.emulator.requests.length;
    expect((await twin.run('apply', 'plan.json', '--auto-approve')).code).toBe(0);
    const applyReads = reads(twin, mark);
    mark = twin.emulator.requests.length;
    expect((await twin.run('plan')).code).toBe(0);
    const fullRead = reads(twin, mark);

    mark = repo.emulator.requests.length;
    const result = await runCli(['github', 'apply', '--reviewed', 'plan.json', '--pr', '7', '--auto-approve'], repo.env, repo.dir);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('The plan reviewed on pull request #7 still holds for this commit: applying it.');
    expect(reads(repo, mark)).toBe(applyReads + fullRead);
  });
});

describe('errors for people', () => {
  test.each([
    { name: 'an unknown step', argv: ['github', 'publish'], env: {}, message: /unknown step "publish" for scimform github/, hint: /preflight, comment, reviewed-plan, apply/ },
    { name: 'comment without a GitHub token', argv: ['github', 'comment', '--plan', 'plan.json', '--repo', 'acme/identities', '--pr', '3'], env: {}, message: /GITHUB_TOKEN is not set/, hint: /github\.token/ },
    { name: 'comment outside a pull request', argv: ['github', 'comment', '--plan', 'plan.json', '--repo', 'acme/identities'], env: { GITHUB_TOKEN }, message: /not about a pull request/, hint: /--pr/ },
    { name: 'reviewed-plan without a commit', argv: ['github', 'reviewed-plan', '--repo', 'acme/identities'], env: { GITHUB_TOKEN }, message: /no commit to look up/, hint: /GITHUB_SHA/ },
  ])('$name is explained', async ({ argv, env, message, hint }) => {
    const result = await runCli(argv, env, repo.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(hint);
    expect(result.stderr).not.toContain(GITHUB_TOKEN);
  });

  test('--help lists the steps', async () => {
    const result = await runCli(['github', '--help'], {}, repo.dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('preflight | comment | reviewed-plan | apply');
  });
});
