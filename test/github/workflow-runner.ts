/**
 * Runs one job of the reusable workflow the way the Actions runner would, closely enough for an
 * end-to-end test: the steps in order with their `if`, the `${{ }}` expressions the workflow uses,
 * env merged workflow → job → step, step outputs through `GITHUB_OUTPUT`, shell variables and a
 * `>` redirect. `scimform` runs in-process; the artifact actions copy files; checkout cleans the
 * working tree; setup-node and the npm install are no-ops. Anything else in the file is refused, so the workflow cannot
 * grow a step this test does not understand.
 */
import { appendFile, cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli, type CliResult } from '../helpers/cli.js';

export const WORKFLOW_FILE = path.resolve(import.meta.dirname, '../../.github/workflows/scimform.yml');

/** One step of a workflow job, as the tests read it. */
export interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string> | string;
}
interface Workflow {
  on: { workflow_call: { inputs: Record<string, { default?: string }> } };
  env?: Record<string, string>;
  jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
}

export interface StepResult {
  name: string;
  outcome: 'success' | 'failure' | 'skipped';
  /** The scimform run, for `scimform` steps. */
  cli?: CliResult;
}

export interface JobRun {
  success: boolean;
  steps: StepResult[];
  summary: string;
  step(name: string): StepResult;
}

/** Artifacts uploaded by earlier runs, by run id and name (`101/name`, as GitHub keeps one per run and name): the folder holding the files. */
export type ArtifactStore = Map<string, { name: string; runId: number; dir: string }>;

export interface RunJobOptions {
  job: 'plan' | 'apply' | 'drift';
  /** The identity repository, checked out. */
  cwd: string;
  event: { name: string; payload: unknown };
  secrets: Record<string, string>;
  github: { apiUrl: string; token: string; repository: string; sha: string; runId: number; runAttempt?: number };
  artifacts: ArtifactStore;
  /** What `actions/checkout` does here: give a clean working tree (a real run starts from one). */
  checkout(): Promise<void>;
}

export async function runJob(options: RunJobOptions): Promise<JobRun> {
  const workflow = parse(await readFile(WORKFLOW_FILE, 'utf8')) as Workflow;
  const job = workflow.jobs[options.job]!;
  const inputs = Object.fromEntries(Object.entries(workflow.on.workflow_call.inputs).map(([name, input]) => [name, String(input.default ?? '')]));
  const runnerDir = await mkdtemp(path.join(tmpdir(), 'scimform-runner-'));
  const eventPath = path.join(runnerDir, 'event.json');
  await writeFile(eventPath, JSON.stringify(options.event.payload));
  const summaryFile = path.join(runnerDir, 'summary.md');
  await writeFile(summaryFile, '');
  const outputs = new Map<string, Record<string, string>>();
  const outcomes = new Map<string, StepResult['outcome']>();

  const value = (expression: string): unknown => {
    const e = expression.trim();
    let match: RegExpExecArray | null;
    if ((match = /^inputs\.([\w-]+)$/.exec(e))) return inputs[match[1]!];
    if (e === 'secrets') return options.secrets;
    if (e === 'github.token') return options.github.token;
    if (e === 'github.repository') return options.github.repository;
    if (e === 'github.event.pull_request.number') return (options.event.payload as { pull_request?: { number?: number } }).pull_request?.number;
    if ((match = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) return outputs.get(match[1]!)?.[match[2]!] ?? '';
    throw new Error(`the test runner does not know the expression \${{ ${e} }}`);
  };
  const interpolate = (text: string): string => text.replace(/\$\{\{(.*?)\}\}/g, (_, expression: string) => String(value(expression) ?? ''));
  const envOf = (env: Record<string, string> | string | undefined): Record<string, string> => {
    if (env === undefined) return {};
    if (typeof env === 'string') {
      const match = /^\$\{\{(.*)\}\}$/.exec(env.trim());
      if (!match) throw new Error(`env must be a mapping or one expression: ${env}`);
      return value(match[1]!) as Record<string, string>;
    }
    return Object.fromEntries(Object.entries(env).map(([name, text]) => [name, interpolate(String(text))]));
  };
  const shouldRun = (condition: string | undefined, failed: boolean): boolean => {
    if (condition === undefined) return !failed;
    const c = condition.trim().replace(/^\$\{\{(.*)\}\}$/, '$1').trim();
    let match: RegExpExecArray | null;
    if ((match = /^!cancelled\(\) && steps\.([\w-]+)\.outcome != 'skipped'$/.exec(c))) return (outcomes.get(match[1]!) ?? 'skipped') !== 'skipped';
    if ((match = /^steps\.([\w-]+)\.outputs\.([\w-]+) == '([^']*)'$/.exec(c))) return !failed && value(`steps.${match[1]}.outputs.${match[2]}`) === match[3];
    throw new Error(`the test runner does not know the condition ${condition}`);
  };

  const base: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: options.github.repository,
    GITHUB_SHA: options.github.sha,
    GITHUB_RUN_ID: String(options.github.runId),
    GITHUB_RUN_ATTEMPT: String(options.github.runAttempt ?? 1),
    GITHUB_SERVER_URL: 'https://github.test',
    GITHUB_API_URL: options.github.apiUrl,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...envOf(workflow.env),
    ...envOf(job.env),
  };

  const results: StepResult[] = [];
  let failed = false;
  for (const [index, step] of job.steps.entries()) {
    const name = step.name ?? step.uses ?? `step ${index + 1}`;
    const id = step.id ?? `__${index}`;
    if (!shouldRun(step.if, failed)) {
      outcomes.set(id, 'skipped');
      results.push({ name, outcome: 'skipped' });
      continue;
    }
    const outputFile = path.join(runnerDir, `output-${index}`);
    await writeFile(outputFile, '');
    const env = { ...base, ...envOf(step.env), GITHUB_OUTPUT: outputFile };
    const result = step.uses !== undefined ? await useAction(step, interpolate, options) : await runShell(interpolate(step.run ?? ''), env, options.cwd);
    outputs.set(id, Object.fromEntries((await readFile(outputFile, 'utf8')).split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])));
    outcomes.set(id, result.outcome);
    results.push({ name, ...result });
    if (result.outcome === 'failure') failed = true;
  }
  const summary = await readFile(summaryFile, 'utf8');
  return {
    success: !failed,
    steps: results,
    summary,
    step: (name) => {
      const found = results.find((result) => result.name === name);
      if (!found) throw new Error(`no step named ${name}; steps: ${results.map((result) => result.name).join(', ')}`);
      return found;
    },
  };
}

async function useAction(step: Step, interpolate: (text: string) => string, options: RunJobOptions): Promise<Omit<StepResult, 'name'>> {
  const action = step.uses!.replace(/@.*$/, '');
  const input = (key: string) => interpolate(String(step.with?.[key] ?? ''));
  switch (action) {
    case 'actions/checkout':
      await options.checkout();
      return { outcome: 'success' };
    case 'actions/setup-node':
      return { outcome: 'success' };
    case 'actions/upload-artifact': {
      const dir = await mkdtemp(path.join(tmpdir(), 'scimform-artifact-'));
      const files = input('path').split('\n').map((line) => line.trim()).filter(Boolean);
      for (const file of files) if (existsSync(path.join(options.cwd, file))) await cp(path.join(options.cwd, file), path.join(dir, file));
      options.artifacts.set(`${options.github.runId}/${input('name')}`, { name: input('name'), runId: options.github.runId, dir });
      return { outcome: 'success' };
    }
    case 'actions/download-artifact': {
      const stored = options.artifacts.get(`${input('run-id')}/${input('name')}`);
      if (!stored) return { outcome: 'failure' };
      await mkdir(path.join(options.cwd, input('path')), { recursive: true });
      await cp(stored.dir, path.join(options.cwd, input('path')), { recursive: true });
      return { outcome: 'success' };
    }
    default:
      throw new Error(`the test runner does not know the action ${step.uses}`);
  }
}

/** Splits a command line as bash would for the forms the workflow uses: "$VAR", bare $VAR, quotes, `>`, `>>`. */
export function splitCommand(line: string, env: Record<string, string>): { argv: string[]; redirect?: { file: string; append: boolean } } {
  const words: string[] = [];
  let redirect: { file: string; append: boolean } | undefined;
  const pattern = /"((?:[^"\\]|\\.)*)"|(>>|>)|(\S+)/g;
  let pendingRedirect: boolean | undefined;
  for (const match of line.matchAll(pattern)) {
    const expand = (text: string) => text.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? '');
    let produced: string[];
    if (match[2]) {
      pendingRedirect = match[2] === '>>';
      continue;
    } else if (match[1] !== undefined) produced = [expand(match[1])];
    else produced = expand(match[3]!).split(/\s+/).filter(Boolean); // unquoted: word splitting
    if (pendingRedirect !== undefined) {
      redirect = { file: produced.join(' '), append: pendingRedirect };
      pendingRedirect = undefined;
    } else words.push(...produced);
  }
  return { argv: words, ...(redirect ? { redirect } : {}) };
}

async function runShell(line: string, env: Record<string, string>, cwd: string): Promise<Omit<StepResult, 'name'>> {
  const { argv, redirect } = splitCommand(line, env);
  const [command, ...args] = argv;
  if (command === 'npm' && args[0] === 'install') return { outcome: 'success' }; // scimform runs in-process
  if (command === 'cat' && redirect) {
    const text = await readFile(path.resolve(cwd, args[0]!), 'utf8');
    await appendFile(path.resolve(cwd, redirect.file), text);
    return { outcome: 'success' };
  }
  if (command !== 'scimform') throw new Error(`the test runner does not know the command ${line}`);
  const cli = await runCli(args, env, cwd);
  if (redirect) await (redirect.append ? appendFile : writeFile)(path.resolve(cwd, redirect.file), cli.stdout);
  return { outcome: cli.code === 0 ? 'success' : 'failure', cli };
}
