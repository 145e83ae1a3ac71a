/**
 * The workflow end to end: the jobs of `.github/workflows/scimform.yml`, read from the file and
 * run step by step (see workflow-runner.ts) against the SCIM emulator and a loopback stand-in for
 * the GitHub API — validate → plan on a pull request, apply on the merge, drift on a schedule —
 * so the workflow and this test cannot drift apart.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { exampleRepository, TOKEN, type TestRepository } from '../helpers/repo.js';
import { markerFor } from '../../src/github/comment.js';
import { startFakeGitHub, type FakeGitHub } from './fake-github.js';
import { runJob, splitCommand, type ArtifactStore, type JobRun } from './workflow-runner.js';

const GITHUB_TOKEN = 'ghs_SECRET-e2e-token-91aa';
const REPOSITORY = 'acme/identities';
const PR = 7;

let repo: TestRepository;
let github: FakeGitHub;
let artifacts: ArtifactStore;
let runs: JobRun[];
let tracked: Set<string>;

async function filesOf(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** A fresh checkout: what earlier runs left behind (plan.json, downloads) is gone; edits stay, as commits would. */
async function checkout(): Promise<void> {
  for (const file of await filesOf(repo.dir)) if (!tracked.has(file)) await rm(file);
  await rm(path.join(repo.dir, '.scimform'), { recursive: true, force: true });
}

beforeEach(async () => {
  repo = await exampleRepository({ profile: 'generic' });
  tracked = new Set(await filesOf(repo.dir));
  github = await startFakeGitHub(GITHUB_TOKEN, { pageSize: 3 });
  push(HEAD);
  artifacts = new Map();
  runs = [];
});
afterEach(async () => {
  // Neither token ever shows: not in output, job summaries, comments or the uploaded artifacts.
  const uploaded = await Promise.all([...artifacts.values()].map(async ({ dir }) => Promise.all((await filesOf(dir)).map((file) => readFile(file, 'utf8')))));
  expect(uploaded.flat().length).toBeGreaterThanOrEqual(artifacts.size);
  const everything = [
    ...runs.flatMap((run) => [run.summary, ...run.steps.flatMap((step) => (step.cli ? [step.cli.stdout, step.cli.stderr] : []))]),
    ...[...github.comments.values()].flat().map((comment) => comment.body),
    ...uploaded.flat(),
  ].join('\n');
  expect(everything).not.toContain(TOKEN);
  expect(everything).not.toContain(GITHUB_TOKEN);
  await github.close();
  await repo.close();
  for (const { dir } of artifacts.values()) await rm(dir, { recursive: true, force: true });
});

const HEAD = 'head-sha';

const pullRequestEvent = (fork = false, head = HEAD) => ({
  name: 'pull_request',
  payload: {
    number: PR,
    pull_request: {
      number: PR,
      head: { sha: head, repo: { full_name: fork ? 'someone/identities' : REPOSITORY } },
      base: { repo: { full_name: REPOSITORY } },
    },
  },
});

/** Uploads in the order they happened, as GitHub dates them. */
let uploads = 0;

/** `head` is the pull request commit a plan job runs for; a re-run of an older run passes that run's id and commit. */
async function job(name: 'plan' | 'apply' | 'drift', runId: number, options: { fork?: boolean; secrets?: Record<string, string>; head?: string; attempt?: number } = {}): Promise<JobRun> {
  const head = options.head ?? HEAD;
  const event = name === 'plan' ? pullRequestEvent(options.fork, head) : name === 'apply' ? { name: 'push', payload: { ref: 'refs/heads/main' } } : { name: 'schedule', payload: {} };
  const before = new Map([...artifacts].map(([key, stored]) => [key, stored.dir]));
  const run = await runJob({
    job: name,
    cwd: repo.dir,
    event,
    secrets: options.secrets ?? (options.fork ? {} : { SCIMFORM_TOKEN: TOKEN }),
    github: { apiUrl: github.url, token: GITHUB_TOKEN, repository: REPOSITORY, sha: name === 'apply' ? 'merge-sha' : `merge-of-${head}`, runId, runAttempt: options.attempt ?? 1 },
    artifacts,
    checkout,
  });
  runs.push(run);
  // What GitHub would list after an upload: the artifact, tied to its run and commit; a re-run's upload replaces its run's earlier one.
  for (const [key, stored] of artifacts) {
    if (before.get(key) === stored.dir) continue;
    const kept = github.artifacts.filter((artifact) => !(artifact.workflow_run?.id === stored.runId && artifact.name === stored.name));
    github.artifacts.splice(0, github.artifacts.length, ...kept);
    uploads += 1;
    github.artifacts.push({ id: 100 + uploads, name: stored.name, expired: false, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, uploads)).toISOString(), workflow_run: { id: stored.runId, head_sha: head } });
  }
  return run;
}

/** A new commit on the pull request's branch. */
function push(head: string): void {
  github.pulls.set(PR, { number: PR, state: 'open', merged_at: null, head: { sha: head }, base: { ref: 'main' } });
  github.pullCommits.set(PR, [...(github.pullCommits.get(PR) ?? []), head]);
}

function merge(): void {
  const head = github.pulls.get(PR)?.head.sha ?? HEAD;
  github.pullsOfCommit.set('merge-sha', [{ number: PR, state: 'closed', merged_at: '2026-01-01T00:00:00Z', head: { sha: head }, base: { ref: 'main' } }]);
}

async function changeLive(userName: string, familyName: string): Promise<void> {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
  const found = (await (await fetch(`${repo.emulator.url}/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, { headers })).json()) as { Resources: { id: string }[] };
  const response = await fetch(`${repo.emulator.url}/Users/${found.Resources[0]!.id}`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'name.familyName', value: familyName }] }),
  });
  expect(response.status).toBe(200);
}

const outcomes = (run: JobRun) => Object.fromEntries(run.steps.map((step) => [step.name, step.outcome]));

describe('pull request → merge → schedule', () => {
  test('the plan is commented once per target, the merge applies the reviewed plan, and drift is then clean until someone changes the live state', async () => {
    const planned = await job('plan', 101);
    expect(outcomes(planned)).toMatchObject({ Validate: 'success', 'Check the SCIM tokens': 'success', Plan: 'success', 'Upload the saved plan': 'success', 'Job summary': 'success', 'Comment on the pull request': 'success' });
    expect(planned.summary).toContain('### scimform plan');
    expect(planned.summary).toMatch(/\| local \| 12 \| 0 \| 0 \| 0 \| 0 \|/);
    expect(github.comments.get(PR)).toHaveLength(1);
    expect(github.comments.get(PR)![0]!.body.startsWith(markerFor('local'))).toBe(true);
    expect(github.comments.get(PR)![0]!.body).toContain('https://github.test/acme/identities/actions/runs/101');
    expect(repo.writes()).toBe(0);

    // Another push to the pull request among other people's comments: the same comment is edited.
    github.comments.get(PR)!.unshift(...[1, 2, 3, 4, 5].map((id) => ({ id, body: `review ${id}`, html_url: `https://github.test/c/${id}` })));
    const again = await job('plan', 102);
    expect(again.success).toBe(true);
    expect(github.comments.get(PR)!.filter((comment) => comment.body.includes(markerFor('local')))).toHaveLength(1);
    expect(github.comments.get(PR)!.find((comment) => comment.body.includes(markerFor('local')))!.body).toContain('/actions/runs/102');
    expect(github.requests.filter((request) => request.method === 'PATCH')).toHaveLength(1);

    merge();
    const applied = await job('apply', 201);
    expect(applied.success).toBe(true);
    expect(outcomes(applied)).toMatchObject({ 'Find the reviewed plan': 'success', 'Download the reviewed plan': 'success', Apply: 'success' });
    expect(applied.step('Apply').cli?.stdout).toContain('local: converged.');
    expect(applied.summary).toContain('### scimform apply');
    expect(applied.summary).toContain(`The plan reviewed on pull request #${PR} still holds for this commit`);
    expect(applied.summary).not.toContain('differs from the plan reviewed');
    expect(repo.writes()).toBe(12);

    const clean = await job('drift', 301);
    expect(clean.success).toBe(true);
    expect(clean.step('Drift').cli?.code).toBe(0);

    await changeLive('ada.lovelace@acme.example', 'King');
    const drifted = await job('drift', 302);
    expect(drifted.success).toBe(false);
    expect(drifted.step('Drift').cli?.code).toBe(2);
    expect(drifted.step('Job summary').outcome).toBe('success');
    expect(drifted.summary).toContain('| local | 0 | 1 | 0 | 0 | 0 |');
  });

  test.each([
    {
      why: 'the live state changed after the review',
      change: () => changeLive('grace.hopper@acme.example', 'Hopper-Changed'),
      reason: /the live state changed after the review \(local: user grace\.hopper@acme\.example changed on the server since the plan\)/,
    },
    {
      why: 'the files changed after the review',
      change: async () => repo.edit('identities/engineering.yaml', (text) => text.replace('familyName: Hopper', 'familyName: Murray')),
      reason: /the files changed after the review \(identities\/engineering\.yaml changed\)/,
    },
  ])('when $why, the merge applies a fresh plan and the job summary says it differs from the reviewed one', async ({ change, reason }) => {
    await job('apply', 200); // converge first, so the reviewed plan holds updates with fingerprints
    await repo.edit('identities/engineering.yaml', (text) => text.replace('givenName: Grace', 'givenName: Amazing Grace'));
    const planned = await job('plan', 101);
    expect(planned.success).toBe(true);
    await change();
    merge();
    const applied = await job('apply', 201);
    expect(applied.success).toBe(true);
    expect(applied.summary).toContain(`This apply differs from the plan reviewed on pull request #${PR}`);
    expect(applied.summary).toMatch(reason);
    // How it differs: the reviewed update of Grace against the one applied.
    expect(applied.summary).toContain('<details><summary>How the applied plan differs from the reviewed one</summary>');
    expect(applied.summary).toMatch(/^--- reviewed plan$/m);
    expect(applied.summary).toMatch(/^\+\+\+ applied plan$/m);
    expect(applied.summary).toMatch(/^[-+] {6}name\.familyName: /m);
    expect(applied.step('Apply').cli?.stderr).toContain('Applying a fresh plan of this commit instead');
    expect(applied.step('Apply').cli?.stdout).toContain('local: converged.');
    const drift = await job('drift', 301);
    expect(drift.step('Drift').cli?.code).toBe(0);
  });

  test('when someone creates an account by hand after the review, the merge applies a fresh plan that removes it too, and the job summary says why', async () => {
    await job('apply', 200);
    await repo.edit('identities/engineering.yaml', (text) => text.replace('givenName: Grace', 'givenName: Amazing Grace'));
    expect((await job('plan', 101)).success).toBe(true);
    // No resource the reviewed plan touches changes: its fingerprints all still match.
    const response = await fetch(`${repo.emulator.url}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'by.hand@acme.example' }),
    });
    expect(response.status).toBe(201);
    merge();
    const applied = await job('apply', 201);
    expect(applied.success).toBe(true);
    expect(applied.summary).toContain(`This apply differs from the plan reviewed on pull request #${PR}`);
    expect(applied.summary).toMatch(/the live state changed after the review \(local: the files and the live state now call for deactivate user by\.hand@acme\.example \(id [^)]+\), which the plan does not hold\)/);
    expect(applied.summary).not.toContain('The apply failed');
    expect(applied.step('Apply').cli?.stdout).toContain('local: converged.');
    expect(repo.emulator.users().find((user) => user.userName === 'by.hand@acme.example')?.active).toBe(false);
  });

  test('a re-run of an older commit\'s plan job, after a newer push, leaves the comment and the reviewed plan to the newer commit', async () => {
    const older = (text: string) => text.replace('givenName: Grace', 'givenName: Amazing Grace');
    const newer = (text: string) => text.replace('givenName: Amazing Grace', 'givenName: Rear Admiral Grace');
    push('aaaaaaa1');
    await repo.edit('identities/engineering.yaml', older);
    await job('plan', 101, { head: 'aaaaaaa1' });
    push('bbbbbbb2');
    await repo.edit('identities/engineering.yaml', newer);
    await job('plan', 102, { head: 'bbbbbbb2' });
    const sticky = () => github.comments.get(PR)!.find((comment) => comment.body.includes(markerFor('local')))!.body;
    expect(sticky()).toContain('Rear Admiral Grace');
    expect(sticky()).toContain('Planned by scimform for bbbbbbb.');
    // Someone re-runs the first run: it plans aaaaaaa1 again and uploads its plan again, now the newest.
    await repo.edit('identities/engineering.yaml', (text) => text.replace('Rear Admiral Grace', 'Amazing Grace'));
    const rerun = await job('plan', 101, { head: 'aaaaaaa1' });
    expect(rerun.step('Comment on the pull request').cli?.stderr).toContain(
      `local: the plan comment already shows the plan of a later commit of pull request #${PR}, so this run's plan of aaaaaaa is not posted`,
    );
    expect(rerun.summary).toContain(`This run planned commit aaaaaaa, but the plan comment of target local already shows the plan of a later commit of pull request #${PR}: this plan was not posted there.`);
    expect(github.comments.get(PR)).toHaveLength(1);
    expect(sticky()).toContain('Rear Admiral Grace');
    expect(sticky()).toContain('/actions/runs/102');
    await repo.edit('identities/engineering.yaml', newer);
    merge();
    const applied = await job('apply', 201);
    expect(applied.step('Find the reviewed plan').cli?.stdout).toContain(`Reviewed plan: artifact scimform-plan-pr-${PR} of run 102 (pull request #${PR}).`);
    expect(applied.summary).toContain(`The plan reviewed on pull request #${PR} still holds for this commit`);
    expect(applied.step('Apply').cli?.stdout).toContain('local: converged.');
  });

  test('a push that no plan runs for (the paths filter) does not keep the plan of the commit before it off the pull request', async () => {
    push('aaaaaaa1');
    await repo.edit('identities/engineering.yaml', (text) => text.replace('givenName: Grace', 'givenName: Amazing Grace'));
    // A README fix is pushed while the plan of aaaaaaa1 still runs: the workflow runs nothing for it.
    push('bbbbbbb2');
    const planned = await job('plan', 101, { head: 'aaaaaaa1' });
    expect(planned.step('Comment on the pull request').cli?.stdout).toContain(`local: created the plan comment on pull request #${PR}`);
    const sticky = github.comments.get(PR)!.find((comment) => comment.body.includes(markerFor('local')))!.body;
    expect(sticky).toContain('Amazing Grace');
    expect(sticky).toContain('Planned by scimform for aaaaaaa.');
    // The merge applies that plan: the one the comment showed.
    merge();
    const applied = await job('apply', 201);
    expect(applied.summary).toContain(`The plan reviewed on pull request #${PR} still holds for this commit`);
  });

  test("a re-run of an older commit's plan job leaves alone the comment of a later commit that is not the last one, and the merge applies that commit's plan", async () => {
    push('aaaaaaa1');
    await repo.edit('identities/engineering.yaml', (text) => text.replace('givenName: Grace', 'givenName: Amazing Grace'));
    await job('plan', 101, { head: 'aaaaaaa1' });
    push('ccccccc2');
    await repo.edit('identities/engineering.yaml', (text) => text.replace('givenName: Amazing Grace', 'givenName: Rear Admiral Grace'));
    await job('plan', 102, { head: 'ccccccc2' });
    // A README fix, which no plan runs for; then someone re-runs the first run.
    push('bbbbbbb3');
    await repo.edit('identities/engineering.yaml', (text) => text.replace('Rear Admiral Grace', 'Amazing Grace'));
    const rerun = await job('plan', 101, { head: 'aaaaaaa1' });
    expect(rerun.step('Comment on the pull request').cli?.stderr).toContain("so this run's plan of aaaaaaa is not posted");
    const sticky = github.comments.get(PR)!.find((comment) => comment.body.includes(markerFor('local')))!.body;
    expect(sticky).toContain('Rear Admiral Grace');
    expect(sticky).toContain('Planned by scimform for ccccccc.');
    // The merge applies the plan the comment shows, not the newer upload of the re-run.
    await repo.edit('identities/engineering.yaml', (text) => text.replace('Amazing Grace', 'Rear Admiral Grace'));
    merge();
    const applied = await job('apply', 201);
    expect(applied.step('Find the reviewed plan').cli?.stdout).toContain(
      `Reviewed plan: artifact scimform-plan-pr-${PR} of run 102 (pull request #${PR}, planned for its earlier commit ccccccc: its last commit bbbbbbb has no saved plan).`,
    );
    expect(applied.summary).toContain(`The plan reviewed on pull request #${PR} still holds for this commit`);
  });

  test('a run for a commit that a force-push took out of the pull request posts no comment', async () => {
    push('aaaaaaa1');
    github.pulls.set(PR, { number: PR, state: 'open', merged_at: null, head: { sha: 'ddddddd4' }, base: { ref: 'main' } });
    github.pullCommits.set(PR, ['ddddddd4']);
    const planned = await job('plan', 101, { head: 'aaaaaaa1' });
    expect(planned.step('Comment on the pull request').cli?.stderr).toContain(
      `This run planned commit aaaaaaa, which is not among the commits of pull request #${PR} any more (force-pushed away?): the plan comment is left as it is.`,
    );
    expect(github.comments.get(PR)).toBeUndefined();
  });

  test('a re-run of an apply that wrote says that its own earlier attempt may have changed the live state', async () => {
    await job('plan', 101);
    merge();
    // The first attempt applies, then fails on something else (say, the runner was lost); the job is re-run.
    expect((await job('apply', 201)).summary).toContain('still holds for this commit');
    const again = await job('apply', 201, { attempt: 2 });
    expect(again.success).toBe(true);
    expect(again.summary).toMatch(/This apply differs from the plan reviewed on pull request #7\*\*: the live state changed after the review \(local: user [^ ]+ now exists on the server/);
    expect(again.summary).toContain('This is attempt 2 of the run: the attempts before it may have made some of those changes.');
    expect(again.step('Apply').cli?.stdout).toContain('No changes. local matches the files.');
    expect(repo.writes()).toBe(12);
  });

  test('a reviewed plan that a guard refuses is refused at the merge too, and is not replaced by a fresh plan', async () => {
    await job('apply', 200);
    const before = repo.writes();
    await repo.edit('identities/engineering.yaml', (text) => text.replace('members: [margaret.hamilton@acme.example, linus.t@acme.example]', 'members: []'));
    const planned = await job('plan', 101);
    expect(planned.step('Plan').outcome).toBe('failure');
    expect(outcomes(planned)).toMatchObject({ 'Upload the saved plan': 'success', 'Comment on the pull request': 'success' });
    expect(github.comments.get(PR)![0]!.body).toMatch(/On-call/);
    merge();
    const applied = await job('apply', 201);
    expect(applied.success).toBe(false);
    expect(applied.step('Apply').cli?.stderr).toMatch(/--allow-mass-removal/);
    expect(applied.step('Apply').cli?.stderr).not.toContain('fresh plan');
    expect(applied.summary).toContain('The apply failed');
    expect(repo.writes()).toBe(before);
  });

  test('a merge with no reviewed plan (pushed directly) applies a fresh plan, flagged', async () => {
    const applied = await job('apply', 201);
    expect(outcomes(applied)).toMatchObject({ 'Find the reviewed plan': 'success', 'Download the reviewed plan': 'skipped', Apply: 'success' });
    expect(applied.step('Find the reviewed plan').cli?.stdout).toContain('No reviewed plan: no pull request contains commit merge-s');
    expect(applied.summary).toContain('**No reviewed plan to apply**: no saved plan of a merged pull request was found for this commit');
    expect(applied.step('Apply').cli?.stderr).toContain('Applying a fresh plan of this commit: no saved plan');
    expect(repo.writes()).toBe(12);
  });

  test('a merged pull request whose plan never ran is a merge with no reviewed plan, not one that differs from it', async () => {
    merge();
    const applied = await job('apply', 201);
    expect(outcomes(applied)).toMatchObject({ 'Find the reviewed plan': 'success', 'Download the reviewed plan': 'skipped', Apply: 'success' });
    expect(applied.step('Find the reviewed plan').cli?.stdout).toContain(`No reviewed plan: pull request #${PR}`);
    expect(applied.summary).toContain('**No reviewed plan to apply**: no saved plan of a merged pull request was found for this commit (the step "Find the reviewed plan" says why)');
    expect(applied.summary).not.toContain('differs from the plan reviewed');
    expect(repo.writes()).toBe(12);
  });

  test('an error while checking the reviewed plan stops the apply instead of falling back to a fresh plan', async () => {
    await job('plan', 101);
    merge();
    const applied = await job('apply', 201, { secrets: { SCIMFORM_TOKEN: 'not-the-token-0123456789' } });
    expect(applied.success).toBe(false);
    expect(applied.step('Apply').cli?.code).toBe(1);
    expect(applied.step('Apply').cli?.stderr).toMatch(/401/);
    expect(applied.step('Apply').cli?.stderr).not.toContain('fresh plan');
    expect(repo.writes()).toBe(0);
  });
});

describe('pull requests that cannot be planned', () => {
  test('a fork pull request is validated, then stops with a message that the plan needs the token', async () => {
    const run = await job('plan', 101, { fork: true });
    expect(run.success).toBe(false);
    expect(outcomes(run)).toMatchObject({ Validate: 'success', 'Check the SCIM tokens': 'failure', Plan: 'skipped', 'Upload the saved plan': 'skipped', 'Comment on the pull request': 'success' });
    expect(run.step('Comment on the pull request').cli?.stderr).toContain('whose workflow token cannot comment');
    const check = run.step('Check the SCIM tokens').cli!;
    expect(check.stdout).toMatch(/^::error::This pull request comes from a fork.*SCIMFORM_TOKEN/m);
    expect(check.stderr).toContain('cannot read the live state without SCIMFORM_TOKEN (target local)');
    expect(run.summary).toContain('This pull request comes from a fork');
    expect(github.requests).toEqual([]);
    expect(repo.emulator.requests).toEqual([]);
  });

  test('a missing secret on a branch of the repository says which secret to add', async () => {
    const run = await job('plan', 101, { secrets: {} });
    expect(run.step('Check the SCIM tokens').cli?.stderr).toMatch(/SCIM token SCIMFORM_TOKEN \(target local\) is not set[\s\S]*repository secret named SCIMFORM_TOKEN/);
    expect(run.step('Plan').outcome).toBe('skipped');
  });

  test('invalid files become annotations on the lines, nothing is planned, and the comment stops showing the older plan', async () => {
    await job('plan', 100);
    expect(github.comments.get(PR)![0]!.body).toContain('### scimform plan\n');
    const reads = repo.emulator.requests.length;
    await repo.edit('identities/engineering.yaml', (text) => text.replace('value: ada.lovelace@acme.example', 'value: not-an-email'));
    const run = await job('plan', 101);
    expect(run.step('Validate').outcome).toBe('failure');
    expect(run.step('Validate').cli?.stdout).toMatch(/^::error file=identities\/engineering\.yaml,line=8,col=\d+::/m);
    expect(outcomes(run)).toMatchObject({ 'Check the SCIM tokens': 'skipped', Plan: 'skipped', 'Comment on the pull request': 'success' });
    expect(repo.emulator.requests).toHaveLength(reads);
    expect(github.comments.get(PR)).toHaveLength(1);
    expect(github.comments.get(PR)![0]!.body).toContain('**No plan for target local in this run**');
  });
});

describe('splitCommand', () => {
  test.each<{ line: string; env: Record<string, string>; argv: string[] }>([
    { line: 'scimform plan --config "$C" $T --out plan.json', env: { C: 'my config.yaml', T: '--target a --target b' }, argv: ['scimform', 'plan', '--config', 'my config.yaml', '--target', 'a', '--target', 'b', '--out', 'plan.json'] },
    { line: 'scimform validate $T', env: { T: '' }, argv: ['scimform', 'validate'] },
    { line: 'scimform github apply --pr ""', env: {}, argv: ['scimform', 'github', 'apply', '--pr', ''] },
  ])('$line', ({ line, env, argv }) => {
    expect(splitCommand(line, env).argv).toEqual(argv);
  });

  test('a redirect names the file and is not an argument', () => {
    expect(splitCommand('scimform drift > drift.md', {})).toEqual({ argv: ['scimform', 'drift'], redirect: { file: 'drift.md', append: false } });
    expect(splitCommand('cat plan.md >> "$S"', { S: '/tmp/s' })).toEqual({ argv: ['cat', 'plan.md'], redirect: { file: '/tmp/s', append: true } });
  });
});
