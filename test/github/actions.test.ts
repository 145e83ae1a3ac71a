/**
 * Reading the Actions run (environment and event payload) and choosing the reviewed plan: pure
 * decisions, tested with plain values and temporary files, no network.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ScimformError } from '../../src/errors.js';
import { appendSummary, errorAnnotation, readActionsContext, setOutputs } from '../../src/github/actions.js';
import type { Artifact, PullRequestRef } from '../../src/github/client.js';
import { findReviewedPlan, latestArtifact, mergedPullRequest } from '../../src/github/reviewed.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'scimform-actions-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function eventFile(payload: unknown): Promise<string> {
  const file = path.join(dir, `event-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(payload));
  return file;
}

const pr = (head: unknown) => ({ number: 12, pull_request: { number: 12, head: { repo: head }, base: { repo: { full_name: 'acme/identities' } } } });

describe('readActionsContext', () => {
  test.each([
    { name: 'a pull request from a branch of the repository', payload: pr({ full_name: 'acme/identities' }), pullRequest: 12, fromFork: false },
    { name: 'a pull request from a fork', payload: pr({ full_name: 'someone/identities' }), pullRequest: 12, fromFork: true },
    { name: 'a pull request from a deleted fork', payload: pr(null), pullRequest: 12, fromFork: true },
    { name: 'a push', payload: { ref: 'refs/heads/main', after: 'abc' }, pullRequest: undefined, fromFork: false },
  ])('$name', async ({ payload, pullRequest, fromFork }) => {
    const context = await readActionsContext({
      GITHUB_EVENT_PATH: await eventFile(payload),
      GITHUB_REPOSITORY: 'acme/identities',
      GITHUB_RUN_ID: '99',
      GITHUB_SERVER_URL: 'https://ghe.example',
      GITHUB_API_URL: 'https://ghe.example/api/v3',
    });
    expect(context).toMatchObject({
      repository: { owner: 'acme', repo: 'identities' },
      pullRequest,
      fromFork,
      apiUrl: 'https://ghe.example/api/v3',
      runUrl: 'https://ghe.example/acme/identities/actions/runs/99',
    });
  });

  test("the pull request's head commit comes from the event, and is not known for another pull request named by --pr", async () => {
    const payload = { number: 12, pull_request: { number: 12, head: { sha: 'feedc0de', repo: { full_name: 'acme/identities' } }, base: { repo: { full_name: 'acme/identities' } } } };
    const env = { GITHUB_EVENT_PATH: await eventFile(payload), GITHUB_REPOSITORY: 'acme/identities', GITHUB_SHA: 'merge0001' };
    expect(await readActionsContext(env)).toMatchObject({ pullRequest: 12, headSha: 'feedc0de', sha: 'merge0001' });
    expect(await readActionsContext(env, { pr: '13' })).toMatchObject({ pullRequest: 13, headSha: undefined });
  });

  test.each([
    { attempt: undefined, runAttempt: 1 },
    { attempt: '', runAttempt: 1 },
    { attempt: '1', runAttempt: 1 },
    { attempt: '3', runAttempt: 3 },
    { attempt: '0', runAttempt: 1 },
    { attempt: '-2', runAttempt: 1 },
    { attempt: '2.5', runAttempt: 1 },
    { attempt: 'second', runAttempt: 1 },
  ])('GITHUB_RUN_ATTEMPT $attempt is attempt $runAttempt: a re-run only from a whole number above 1', async ({ attempt, runAttempt }) => {
    const env = { GITHUB_REPOSITORY: 'acme/identities', ...(attempt === undefined ? {} : { GITHUB_RUN_ATTEMPT: attempt }) };
    expect((await readActionsContext(env, { pr: '' })).runAttempt).toBe(runAttempt);
  });

  test('flags win over the environment, and an empty --pr means none', async () => {
    const env = { GITHUB_EVENT_PATH: await eventFile(pr({ full_name: 'acme/identities' })), GITHUB_REPOSITORY: 'acme/identities' };
    expect(await readActionsContext(env, { repo: 'other/repo', pr: '5', apiUrl: 'http://127.0.0.1:1', sha: 'f00' })).toMatchObject({
      repository: { owner: 'other', repo: 'repo' },
      pullRequest: 5,
      apiUrl: 'http://127.0.0.1:1',
      sha: 'f00',
    });
    expect((await readActionsContext({}, { pr: '' })).pullRequest).toBeUndefined();
  });

  test('outside Actions: github.com, and nothing known about the run', async () => {
    expect(await readActionsContext({})).toMatchObject({ apiUrl: 'https://api.github.com', repository: undefined, pullRequest: undefined, runUrl: undefined, fromFork: false });
  });

  test.each([
    { overrides: { repo: 'not a repo' }, env: {}, message: /--repo "not a repo" is not a repository of the form owner\/name/ },
    { overrides: { pr: 'twelve' }, env: {}, message: /--pr "twelve" is not a pull request number/ },
    { overrides: {}, env: { GITHUB_EVENT_PATH: '/nonexistent/event.json' }, message: /could not read the event payload/ },
  ])('refuses $message', async ({ overrides, env, message }) => {
    const error = await readActionsContext(env, overrides).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ScimformError);
    expect((error as Error).message).toMatch(message);
  });

  test('with --repo and --pr given, as its hint says, an event payload that cannot be read is not needed', async () => {
    const context = await readActionsContext({ GITHUB_EVENT_PATH: '/nonexistent/event.json' }, { repo: 'acme/identities', pr: '3' });
    expect(context).toMatchObject({ repository: { owner: 'acme', repo: 'identities' }, pullRequest: 3, fromFork: false });
  });
});

describe('job summary, outputs and annotations', () => {
  test('append to the files the runner names, and do nothing outside Actions', async () => {
    const summaryFile = path.join(dir, 'summary.md');
    const outputFile = path.join(dir, 'output');
    await appendSummary({ summaryFile }, '### one');
    await appendSummary({ summaryFile }, 'two\n');
    await setOutputs({ outputFile }, { found: 'false', reason: 'no pull request\ncontains it' });
    await appendSummary({ summaryFile: undefined }, 'ignored');
    expect(await readFile(summaryFile, 'utf8')).toBe('### one\ntwo\n');
    expect(await readFile(outputFile, 'utf8')).toBe('found=false\nreason=no pull request contains it\n');
  });

  test('an annotation keeps a multi-line message on one workflow command', () => {
    expect(errorAnnotation('50% done\nnext line')).toBe('::error::50%25 done%0Anext line');
  });
});

describe('the reviewed plan', () => {
  const pull = (number: number, merged: boolean): PullRequestRef => ({ number, state: merged ? 'closed' : 'open', merged_at: merged ? '2026-01-01T00:00:00Z' : null, head: { sha: `h${number}` }, base: { ref: 'main' } });
  const artifact = (id: number, created: string, fields: Partial<Artifact> = {}): Artifact => ({ id, name: 'scimform-plan-pr-7', expired: false, created_at: created, workflow_run: { id: id * 10, head_sha: 'h7' }, ...fields });

  test.each([
    { pulls: [pull(3, false), pull(7, true)], merged: 7 },
    { pulls: [pull(3, false)], merged: 3 },
    { pulls: [], merged: undefined },
  ])('the merged pull request of $pulls.length candidates is #$merged', ({ pulls, merged }) => {
    expect(mergedPullRequest(pulls)?.number).toBe(merged);
  });

  test.each([
    { name: 'the newest', artifacts: [artifact(1, '2026-01-01T00:00:00Z'), artifact(2, '2026-01-02T00:00:00Z')], id: 2 },
    { name: 'expired ones skipped', artifacts: [artifact(1, '2026-01-01T00:00:00Z'), artifact(2, '2026-01-02T00:00:00Z', { expired: true })], id: 1 },
    { name: 'none left', artifacts: [artifact(2, '2026-01-02T00:00:00Z', { expired: true })], id: undefined },
    {
      name: "the newest of the pull request's last commit, though an older commit's run was re-run since",
      artifacts: [artifact(1, '2026-01-01T00:00:00Z', { workflow_run: { id: 10, head_sha: 'h7' } }), artifact(2, '2026-01-03T00:00:00Z', { workflow_run: { id: 20, head_sha: 'h6' } })],
      head: 'h7',
      id: 1,
    },
    {
      name: "not one a fork's run uploaded under the pull request's name",
      artifacts: [
        artifact(1, '2026-01-01T00:00:00Z', { workflow_run: { id: 10, head_sha: 'h6', repository_id: 1, head_repository_id: 1 } }),
        artifact(2, '2026-01-03T00:00:00Z', { workflow_run: { id: 20, head_sha: 'h7', repository_id: 1, head_repository_id: 666 } }),
      ],
      head: 'h7',
      id: 1,
    },
    {
      name: 'the newest of any commit when none of the commits has one',
      artifacts: [artifact(1, '2026-01-01T00:00:00Z', { workflow_run: { id: 10, head_sha: 'h5' } }), artifact(2, '2026-01-03T00:00:00Z', { workflow_run: { id: 20, head_sha: 'h6' } })],
      commits: ['h7'],
      id: 2,
    },
    {
      name: "the latest commit's that has one, though an older commit's run was re-run since",
      artifacts: [artifact(1, '2026-01-01T00:00:00Z', { workflow_run: { id: 10, head_sha: 'h6' } }), artifact(2, '2026-01-03T00:00:00Z', { workflow_run: { id: 20, head_sha: 'h5' } })],
      commits: ['h5', 'h6', 'h7'],
      id: 1,
    },
  ])('latestArtifact: $name', ({ artifacts, head, commits, id }: { artifacts: Artifact[]; head?: string; commits?: string[]; id: number | undefined }) => {
    expect(latestArtifact(artifacts, commits ?? (head === undefined ? [] : [head]))?.id).toBe(id);
  });

  test.each([
    {
      name: 'found',
      pulls: [pull(7, true)],
      artifacts: [artifact(4, '2026-01-04T00:00:00Z')],
      result: { found: true, pullRequest: 7, runId: 40, headSha: 'h7' },
    },
    {
      name: "only an earlier commit's plan",
      pulls: [pull(7, true)],
      artifacts: [artifact(4, '2026-01-04T00:00:00Z', { workflow_run: { id: 40, head_sha: 'h6' } })],
      result: { found: true, pullRequest: 7, runId: 40, reviewedSha: 'h6', headSha: 'h7' },
    },
    {
      name: 'no plan of the last commit: the latest commit that has one, not the newest upload',
      pulls: [pull(7, true)],
      artifacts: [artifact(4, '2026-01-04T00:00:00Z', { workflow_run: { id: 40, head_sha: 'h6' } }), artifact(5, '2026-01-05T00:00:00Z', { workflow_run: { id: 30, head_sha: 'h5' } })],
      result: { found: true, pullRequest: 7, runId: 40, reviewedSha: 'h6', headSha: 'h7' },
    },
    { name: 'pushed directly', pulls: [], artifacts: [], result: { found: false, reason: 'no pull request contains commit 0123456 (pushed directly?)' } },
    {
      name: 'never planned',
      pulls: [pull(7, true)],
      artifacts: [],
      result: { found: false, pullRequest: 7, reason: 'pull request #7 has no unexpired artifact named scimform-plan-pr-7' },
    },
  ])('findReviewedPlan: $name', async ({ pulls, artifacts, result }) => {
    const asked: string[] = [];
    const client = {
      pullRequestsOfCommit: async (_: unknown, sha: string) => (asked.push(sha), pulls),
      artifactsNamed: async (_: unknown, name: string) => (asked.push(name), artifacts),
      pullRequestCommits: async () => ['h5', 'h6', 'h7'],
    };
    expect(await findReviewedPlan(client, { owner: 'acme', repo: 'identities' }, '0123456789', 'scimform-plan-pr-')).toMatchObject(result);
    expect(asked[0]).toBe('0123456789');
  });
});
