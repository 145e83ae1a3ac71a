/**
 * The workflow files: they parse, the action-validator linter (SchemaStore's workflow schema plus
 * its own checks) finds nothing, and the structure keeps the promises of SPEC §7 — the right
 * triggers, the least permissions, one apply at a time, pinned actions, no logic or secrets
 * inlined into shell.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { parseDocument } from 'yaml';
import { describe, expect, test } from 'vitest';
import type { Step } from './workflow-runner.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REUSABLE = '.github/workflows/scimform.yml';
const CALLER = 'examples/github/.github/workflows/scimform.yml';

interface Job {
  if?: string;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

function load(file: string): { text: string; workflow: Workflow } {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  expect(doc.errors.map((error) => error.message)).toEqual([]);
  expect(doc.warnings.map((warning) => warning.message)).toEqual([]);
  return { text, workflow: doc.toJS() as Workflow };
}

const reusable = load(REUSABLE).workflow;
const caller = load(CALLER).workflow;
const steps = (job: string) => reusable.jobs[job]?.steps ?? [];

describe.each([REUSABLE, CALLER])('%s', (file) => {
  test('parses and lints clean', () => {
    const { text } = load(file);
    const result = validateWorkflow(text);
    expect(result.actionType).toBe('workflow');
    expect(result.errors).toEqual([]);
  });

  test('every action is pinned to a release tag or a commit', () => {
    const { workflow } = load(file);
    const uses = Object.values(workflow.jobs).flatMap((job) => [job.uses, ...(job.steps ?? []).map((step) => step.uses)]).filter((u): u is string => u !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    for (const ref of uses) expect(ref).toMatch(/@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
  });
});

test.each([
  { mistake: 'a misspelt key', change: (text: string) => text.replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest') },
  { mistake: 'an unknown permission level', change: (text: string) => text.replace('pull-requests: write', 'pull-requests: admin') },
  { mistake: 'a step with neither run nor uses', change: (text: string) => text.replace('run: scimform validate', 'script: scimform validate') },
])('the linter is live: it reports $mistake', ({ change }) => {
  const broken = change(load(REUSABLE).text);
  expect(broken).not.toBe(load(REUSABLE).text);
  expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
});

describe('the reusable workflow', () => {
  test('is called, not triggered, and grants nothing by default', () => {
    expect(Object.keys(reusable.on)).toEqual(['workflow_call']);
    expect(reusable.permissions).toEqual({});
  });

  test.each([
    { job: 'plan', event: 'pull_request', permissions: { contents: 'read', 'pull-requests': 'write' } },
    { job: 'apply', event: 'push', permissions: { contents: 'read', actions: 'read', 'pull-requests': 'read' } },
    { job: 'drift', event: 'schedule', permissions: { contents: 'read' } },
  ])('$job runs on $event with only the permissions it needs', ({ job, event, permissions }) => {
    expect(reusable.jobs[job]?.if).toContain(`github.event_name == '${event}'`);
    expect(reusable.jobs[job]?.permissions).toEqual(permissions);
  });

  test('plan runs only for pull requests into the default branch, the one apply runs on', () => {
    expect(reusable.jobs.plan?.if).toContain('github.base_ref == github.event.repository.default_branch');
  });

  test('apply runs only on the default branch, one at a time, never cancelling a running apply', () => {
    expect(reusable.jobs.apply?.if).toContain('github.ref_name == github.event.repository.default_branch');
    expect(reusable.jobs.apply?.concurrency).toEqual({ group: 'scimform-apply-${{ github.repository }}', 'cancel-in-progress': false });
  });

  test('a newer push to a pull request cancels the plan still running for the one before, and only that', () => {
    // The artifact prefix tells callers of the workflow apart, as it does their saved plans.
    expect(reusable.jobs.plan?.concurrency).toEqual({
      group: 'scimform-plan-${{ github.repository }}-${{ inputs.artifact-prefix }}${{ github.event.pull_request.number }}',
      'cancel-in-progress': true,
    });
  });

  test.each([
    { job: 'plan', commands: ['validate', 'github preflight', 'plan', 'github comment'] },
    { job: 'apply', commands: ['validate', 'github preflight', 'github reviewed-plan', 'github apply'] },
    { job: 'drift', commands: ['github preflight', 'drift'] },
  ])('$job runs, in order: $commands', ({ job, commands }) => {
    const run = steps(job).flatMap((step) => (step.run?.startsWith('scimform ') ? [step.run.split(' --')[0]!.replace(/^scimform /, '')] : []));
    expect(run).toEqual(commands);
  });

  test('shell steps are single commands: scimform, installing it, or appending to the job summary', () => {
    const runs = Object.keys(reusable.jobs).flatMap((job) => steps(job).flatMap((step) => (step.run === undefined ? [] : [step.run])));
    for (const run of runs) {
      expect(run).not.toContain('\n');
      expect(run).toMatch(/^(scimform |npm install --global --no-audit --no-fund "scimform@\$SCIMFORM_VERSION"$|cat \w+\.md >> "\$GITHUB_STEP_SUMMARY"$)/);
    }
  });

  test('no secret and no untrusted event text is expanded into a shell command', () => {
    const runs = Object.keys(reusable.jobs).flatMap((job) => steps(job).flatMap((step) => (step.run === undefined ? [] : [step.run])));
    for (const run of runs) {
      for (const [, expression] of run.matchAll(/\$\{\{\s*(.*?)\s*\}\}/g)) expect(expression).toMatch(/^steps\.\w+\.outputs\.[\w-]+$/);
    }
  });

  test('only the steps that talk to the SCIM service see the secrets', () => {
    for (const job of Object.keys(reusable.jobs)) {
      for (const step of steps(job)) {
        const sees = step.env === '${{ secrets }}';
        const talksToScim = /^scimform (plan|drift|github (preflight|apply)) /.test(step.run ?? '');
        expect({ step: step.name, sees }).toEqual({ step: step.name, sees: talksToScim });
      }
    }
  });

  test('the saved plan is uploaded under the name that apply looks for', () => {
    const upload = steps('plan').find((step) => step.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.name).toBe('${{ inputs.artifact-prefix }}${{ github.event.pull_request.number }}');
    expect(String(upload?.with?.path).split('\n').filter(Boolean)).toEqual(['plan.json', 'plan.md']);
    const find = steps('apply').find((step) => step.id === 'reviewed');
    expect(find?.run).toContain('--artifact-prefix "$ARTIFACT_PREFIX"');
    expect((find?.env as Record<string, string>).ARTIFACT_PREFIX).toBe('${{ inputs.artifact-prefix }}');
  });
});

describe('the example caller', () => {
  const job = caller.jobs.scimform!;

  test('triggers on pull requests into main, pushes to main and a schedule', () => {
    expect(Object.keys(caller.on).sort()).toEqual(['pull_request', 'push', 'schedule']);
    expect(caller.on.push).toMatchObject({ branches: ['main'] });
    expect(caller.on.pull_request).toMatchObject({ branches: ['main'] });
  });

  test('is the caller the README shows', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const shown = /Copy this caller[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    const copy = load(CALLER).text.replace(/^(#.*\n)+/, '');
    expect(shown).toBe(copy);
  });

  test('calls the reusable workflow with inputs it declares and inherited secrets', () => {
    expect(job.uses).toMatch(/\/\.github\/workflows\/scimform\.yml@v\d/);
    expect(job.secrets).toBe('inherit');
    const declared = Object.keys((reusable.on.workflow_call as { inputs: Record<string, unknown> }).inputs);
    expect(declared).toEqual(expect.arrayContaining(Object.keys(job.with ?? {})));
  });

  test('grants exactly the union of what the reusable jobs ask for (a called job cannot get more)', () => {
    const union: Record<string, string> = {};
    const rank = { read: 1, write: 2 } as Record<string, number>;
    for (const called of Object.values(reusable.jobs)) {
      for (const [scope, level] of Object.entries(called.permissions ?? {})) {
        if ((rank[level] ?? 0) > (rank[union[scope] ?? ''] ?? 0)) union[scope] = level;
      }
    }
    expect(caller.permissions).toEqual(union);
  });
});
