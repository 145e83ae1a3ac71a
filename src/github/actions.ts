/**
 * What a GitHub Actions run tells a step through its environment: the repository, the event
 * (read from the JSON file at `GITHUB_EVENT_PATH`), the run's URL, and the files a step may append
 * to (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`). Flags override everything, for use outside Actions.
 */
import { appendFile } from 'node:fs/promises';
import { ScimformError } from '../errors.js';
import { NotAFileError, readRegularFile } from '../files.js';
import type { Repository } from './client.js';

export interface ActionsContext {
  apiUrl: string;
  repository: Repository | undefined;
  eventName: string | undefined;
  /** The pull request the run is about, if any. */
  pullRequest: number | undefined;
  /** True when the pull request's head lives in another repository (a fork): no secrets then. */
  fromFork: boolean;
  /**
   * The pull request's head commit this run is for, from the event. `sha` is not it: on a pull
   * request GitHub runs on a merge of the head into the base, a commit the pull request never shows.
   */
  headSha: string | undefined;
  /** The commit the run is for (`GITHUB_SHA`). */
  sha: string | undefined;
  runUrl: string | undefined;
  /** `GITHUB_RUN_ATTEMPT`: 2 and up for a re-run of the run, 1 otherwise. */
  runAttempt: number;
  summaryFile: string | undefined;
  outputFile: string | undefined;
}

export interface ContextOverrides {
  repo?: string | undefined;
  pr?: string | undefined;
  apiUrl?: string | undefined;
  sha?: string | undefined;
}

export function parseRepository(text: string, source: string): Repository {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(text.trim());
  if (!match) throw new ScimformError(`${source} "${text}" is not a repository of the form owner/name`, { hint: 'Pass --repo owner/name.' });
  return { owner: match[1]!, repo: match[2]! };
}

interface EventPayload {
  number?: unknown;
  pull_request?: { number?: unknown; head?: { sha?: unknown; repo?: { full_name?: unknown } | null }; base?: { repo?: { full_name?: unknown } } };
}

/** The event payload; with `needed` false (--repo and --pr given) one that cannot be read is none. */
async function readEvent(file: string | undefined, needed: boolean): Promise<EventPayload> {
  if (!file) return {};
  try {
    return JSON.parse((await readRegularFile(file)).toString('utf8')) as EventPayload;
  } catch (error) {
    if (!needed) return {};
    const why = error instanceof NotAFileError ? `: it is ${error.kind}, not a regular file` : '';
    throw new ScimformError(`could not read the event payload ${file} named by GITHUB_EVENT_PATH${why}`, {
      hint: 'Run this inside GitHub Actions, or pass --repo and --pr.',
      cause: error,
    });
  }
}

/** The Actions context of this run, flags first, then the environment, then the event payload. */
export async function readActionsContext(env: NodeJS.ProcessEnv, overrides: ContextOverrides = {}): Promise<ActionsContext> {
  const event = await readEvent(env.GITHUB_EVENT_PATH || undefined, overrides.repo === undefined || overrides.pr === undefined);
  const repoText = overrides.repo ?? (env.GITHUB_REPOSITORY || undefined);
  const repository = repoText === undefined ? undefined : parseRepository(repoText, overrides.repo ? '--repo' : 'GITHUB_REPOSITORY');
  let pullRequest: number | undefined;
  let headSha: string | undefined;
  // An empty --pr is what the workflow passes when no pull request was found: the same as none.
  if (overrides.pr !== undefined && overrides.pr.trim() !== '') {
    pullRequest = Number(overrides.pr);
    if (!Number.isInteger(pullRequest) || pullRequest <= 0) throw new ScimformError(`--pr "${overrides.pr}" is not a pull request number`, { hint: 'Pass --pr with a number, e.g. --pr 42.' });
  } else {
    const fromEvent = event.pull_request?.number ?? (event.pull_request ? event.number : undefined);
    pullRequest = typeof fromEvent === 'number' ? fromEvent : undefined;
    const sha = event.pull_request?.head?.sha;
    // Only the event's own pull request: with --pr naming another, its head is not known here.
    headSha = pullRequest !== undefined && typeof sha === 'string' && sha !== '' ? sha : undefined;
  }
  const head = event.pull_request?.head?.repo?.full_name;
  const base = event.pull_request?.base?.repo?.full_name ?? repoText;
  // A deleted fork has no head repository at all; that is a fork too.
  const fromFork = event.pull_request !== undefined && (event.pull_request.head?.repo === null || (typeof head === 'string' && head !== base));
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  const runUrl = repoText && env.GITHUB_RUN_ID ? `${server.replace(/\/+$/, '')}/${repoText}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
  return {
    apiUrl: overrides.apiUrl ?? (env.GITHUB_API_URL || 'https://api.github.com'),
    repository,
    eventName: env.GITHUB_EVENT_NAME || undefined,
    pullRequest,
    fromFork,
    headSha,
    sha: overrides.sha ?? (env.GITHUB_SHA || undefined),
    runUrl,
    runAttempt: Number.isSafeInteger(Number(env.GITHUB_RUN_ATTEMPT)) && Number(env.GITHUB_RUN_ATTEMPT) > 1 ? Number(env.GITHUB_RUN_ATTEMPT) : 1,
    summaryFile: env.GITHUB_STEP_SUMMARY || undefined,
    outputFile: env.GITHUB_OUTPUT || undefined,
  };
}

/** Appends Markdown to the job summary; a no-op outside Actions. */
export async function appendSummary(context: Pick<ActionsContext, 'summaryFile'>, markdown: string): Promise<void> {
  if (context.summaryFile) await appendFile(context.summaryFile, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
}

/** Sets step outputs (`name=value` lines); values here are ids and names, never multi-line. */
export async function setOutputs(context: Pick<ActionsContext, 'outputFile'>, outputs: Record<string, string>): Promise<void> {
  if (!context.outputFile) return;
  const lines = Object.entries(outputs).map(([name, value]) => `${name}=${value.replace(/[\r\n]/g, ' ')}\n`);
  await appendFile(context.outputFile, lines.join(''));
}

/** A workflow command that the runner shows as an error annotation on the run. */
export function errorAnnotation(message: string): string {
  return `::error::${message.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')}`;
}
