/**
 * A small client for the parts of the GitHub REST API that the CI integration uses: issue
 * comments (the sticky plan comment), a pull request's head and commits, the pull requests of a
 * commit, and workflow artifacts (the reviewed plan). Requests go through the undici `Dispatcher` it is given, so tests choose how they
 * are answered. The token is sent in one header and never appears in an error.
 */
import { Agent, type Dispatcher } from 'undici';
import { ScimformError } from '../errors.js';
import { redactor, replaceToken, type Redact } from '../secret.js';
import { readAtMost } from '../wire.js';
import { VERSION } from '../version.js';

/** What a GitHub answer shows where it echoed the token. */
const GITHUB_TOKEN_LABEL = '[GITHUB_TOKEN]';

export interface Repository {
  owner: string;
  repo: string;
}

export interface IssueComment {
  id: number;
  body: string;
  html_url: string;
}

export interface PullRequestRef {
  number: number;
  state: string;
  merged_at: string | null;
  head: { sha: string };
  base: { ref: string };
}

export interface Artifact {
  id: number;
  name: string;
  expired: boolean;
  created_at: string;
  /** The run that uploaded it; `head_repository_id` differs from `repository_id` for a run of a fork's pull request. */
  workflow_run?: { id: number; head_sha: string; repository_id?: number; head_repository_id?: number };
}

export interface GitHubClient {
  listIssueComments(repository: Repository, issue: number): Promise<IssueComment[]>;
  createIssueComment(repository: Repository, issue: number, body: string): Promise<IssueComment>;
  updateIssueComment(repository: Repository, id: number, body: string): Promise<IssueComment>;
  /** One pull request, for its current head commit. */
  pullRequest(repository: Repository, number: number): Promise<PullRequestRef>;
  /** The SHAs of a pull request's commits, oldest first (GitHub lists at most 250). */
  pullRequestCommits(repository: Repository, number: number): Promise<string[]>;
  /** The pull requests that contain a commit (for a merge commit on the default branch: the merged one). */
  pullRequestsOfCommit(repository: Repository, sha: string): Promise<PullRequestRef[]>;
  /** The latest (up to 100) artifacts of the repository with exactly this name, newest first. */
  artifactsNamed(repository: Repository, name: string): Promise<Artifact[]>;
  close(): Promise<void>;
}

export interface GitHubClientOptions {
  /** `GITHUB_API_URL`: https://api.github.com, or `https://HOST/api/v3` on GitHub Enterprise Server. */
  apiUrl: string;
  token: string;
  /** Tests inject one; default: an undici `Agent`, closed by `close()`. */
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  /** Stops at most this many pages of a listing (100 items each). */
  maxPages?: number;
}

/** The `rel="next"` URL of a `Link` header (RFC 8288), as GitHub paginates. */
export function nextPageUrl(link: string | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;(.*)$/.exec(part.trim());
    if (match && /\brel="?([^";]*\s)?next(\s[^";]*)?"?/.test(match[2]!)) return match[1];
  }
  return undefined;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** GitHub's error bodies are `{ message, documentation_url }`. */
function messageOf(body: unknown): string | undefined {
  return typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
    ? (body as { message: string }).message
    : undefined;
}

/** Where GITHUB_API_URL should point, for answers that cannot have come from the GitHub API. */
const CHECK_API_URL =
  'Check GITHUB_API_URL (or --api-url): it should be the GitHub REST API, https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server; a proxy in between may also be answering.';

/**
 * What a person must do about a failed GitHub request, by status and GitHub's message. `note`
 * says what the body was when it held no GitHub error; `location` is a redirect's target.
 */
export function gitHubError(
  method: string,
  path: string,
  status: number,
  body: unknown,
  note?: { body?: string | undefined; location?: string | undefined; redact?: Redact },
): ScimformError {
  const message = messageOf(body);
  const detail = message !== undefined && note?.redact ? note.redact(message) : message;
  const what = `GitHub answered ${status} to ${method} ${path}${detail ? `: ${detail}` : note?.body ? ` (${note.body})` : ''}`;
  if (status >= 300 && status < 400) {
    return new ScimformError(`${what}, a redirect${note?.location ? ` to ${note.location}` : ''}`, {
      hint: `The GitHub API answers, it does not redirect (redirects are not followed, so the token goes nowhere else). ${CHECK_API_URL}`,
    });
  }
  if (status === 401) {
    return new ScimformError(what, { hint: 'The GitHub token is missing, expired or wrong: pass the workflow\'s `GITHUB_TOKEN` as the env variable GITHUB_TOKEN.' });
  }
  if (status === 403 && detail !== undefined && /resource not accessible by integration/i.test(detail)) {
    return new ScimformError(`${what}. The workflow's GITHUB_TOKEN may not do this`, {
      hint:
        'On a pull request from a fork, GitHub gives the workflow a read-only token and no secrets, so the plan cannot be posted; ' +
        'otherwise grant the job the permission it needs (`pull-requests: write` to comment, `actions: read` to fetch the reviewed plan).',
    });
  }
  if (status === 403 || status === 429) {
    return new ScimformError(what, { hint: 'GitHub refused or rate-limited the request: check the token\'s permissions, or re-run the job later.' });
  }
  if (status === 404) {
    return new ScimformError(what, { hint: 'Check the repository and pull request number (--repo, --pr), and that the token can see the repository.' });
  }
  return new ScimformError(what, { hint: 'Re-run the job; if it keeps failing, check https://www.githubstatus.com.' });
}

/** What is wrong with an answer that does not have the fields scimform reads, or undefined when it has them. */
type ShapeCheck = (body: unknown) => string | undefined;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const comment: ShapeCheck = (value) =>
  !isRecord(value)
    ? 'a comment that is not an object'
    : typeof value.id !== 'number'
      ? 'a comment without a numeric id'
      : typeof value.body !== 'string'
        ? `comment ${value.id} without a body`
        : typeof value.html_url !== 'string'
          ? `comment ${value.id} without an html_url`
          : undefined;

const pullRequest: ShapeCheck = (value) =>
  !isRecord(value)
    ? 'a pull request that is not an object'
    : !Number.isSafeInteger(value.number)
      ? 'a pull request without a number'
      : !(value.merged_at === null || value.merged_at === undefined || typeof value.merged_at === 'string')
        ? `pull request #${String(value.number)} with a merged_at that is no date`
        : !isRecord(value.head) || typeof value.head.sha !== 'string'
          ? `pull request #${String(value.number)} without head.sha`
          : undefined;

const commit: ShapeCheck = (value) => (!isRecord(value) || typeof value.sha !== 'string' ? 'a commit without a sha' : undefined);

const artifact: ShapeCheck = (value) => {
  if (!isRecord(value)) return 'an artifact that is not an object';
  if (typeof value.id !== 'number') return 'an artifact without a numeric id';
  if (typeof value.name !== 'string' || typeof value.expired !== 'boolean' || typeof value.created_at !== 'string') return `artifact ${value.id} without its name, expired or created_at`;
  const run = value.workflow_run;
  if (run !== undefined && run !== null && (!isRecord(run) || (run.id !== undefined && typeof run.id !== 'number'))) return `artifact ${value.id} with a workflow_run without a numeric id`;
  return undefined;
};

/** A JSON array each of whose items passes `item`; the first problem names the item. */
const listOf =
  (item: ShapeCheck, what: string): ShapeCheck =>
  (body) => {
    if (!Array.isArray(body)) return `the answer is not a list of ${what}`;
    for (let i = 0; i < body.length; i++) {
      const problem = item(body[i]);
      if (problem !== undefined) return `item ${i + 1} of the list is ${problem}`;
    }
    return undefined;
  };

const artifactList: ShapeCheck = (body) => (isRecord(body) ? listOf(artifact, 'artifacts')(body.artifacts) : 'the answer is not an object with a list of artifacts');

/** More than any answer scimform asks for: 100 comments at GitHub's 65,536-character limit are under 30 MB. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** The body as text; undefined when it is larger than MAX_ANSWER_BYTES (an endless body must not fill the memory). */
async function readText(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
  return (await readAtMost(body, MAX_ANSWER_BYTES))?.toString('utf8');
}

/** A redirect's target as quoted in a message: origin and path, never a query (it may carry a code), bounded. */
function shortLocation(location: string, redact: Redact): string {
  // Hidden before the cut, which could leave a part of the token too short to be recognised.
  if (!URL.canParse(location)) return JSON.stringify(redact(location).slice(0, 100));
  const target = new URL(location);
  const shown = redact(`${target.origin}${target.pathname}`);
  return shown.length > 100 ? `${shown.slice(0, 100)}…` : shown;
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const base = new URL(options.apiUrl.replace(/\/+$/, '') + '/');
  const ownDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxPages = options.maxPages ?? 100;

  /** One request; the answer must be a 2xx whose JSON body passes `check`. */
  // A server that echoes the Authorization header, whole or in part, must not put the token into a message.
  const redact = redactor(options.token, GITHUB_TOKEN_LABEL);
  const send = async (method: 'GET' | 'POST' | 'PATCH', url: URL, check: ShapeCheck, body?: unknown): Promise<{ body: unknown; link: string | undefined }> => {
    const shown = url.pathname + url.search;
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin: url.origin,
        path: shown,
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': `scimform/${VERSION}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (signal.aborted ? 'timeout' : 'network error');
      throw new ScimformError(`could not reach GitHub for ${method} ${url.origin}${shown} (${code})`, {
        hint: 'Check GITHUB_API_URL (or --api-url) and the network, or re-run the job.',
        cause: error,
      });
    }
    // From here on, the request is named with its origin: an answer GitHub would not give often comes from elsewhere.
    const request = `${method} ${url.origin}${shown}`;
    let text: string | undefined;
    try {
      text = await readText(response.body);
    } catch (error) {
      const code = signal.aborted ? `not complete within ${timeoutMs / 1000} s` : ((error as { code?: string }).code ?? 'the connection broke');
      throw new ScimformError(`GitHub's answer to ${request} broke off (${code})`, { hint: 'Re-run the job; if it keeps failing, check GITHUB_API_URL (or --api-url) and https://www.githubstatus.com.', cause: error });
    }
    if (text !== undefined) text = replaceToken(text, options.token, GITHUB_TOKEN_LABEL);
    let parsed: unknown;
    let notJson: string | undefined;
    if (text === undefined) {
      notJson = `the body is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`;
    } else if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        const type = (header(response.headers, 'content-type') ?? 'no content type').split(';')[0]!.trim();
        const start = JSON.stringify(redact(text.replace(/\s+/g, ' ').trim().slice(0, 60)));
        notJson = /json/i.test(type) ? `the body is not valid JSON (cut short?), starting ${start}` : `the body was ${type}, not JSON, starting ${start}`;
      }
    }
    const status = response.statusCode;
    if (status < 200 || status > 299) {
      const location = header(response.headers, 'location');
      throw gitHubError(method, shown, status, parsed, { body: notJson, location: location && shortLocation(location, redact), redact });
    }
    if (notJson !== undefined) throw new ScimformError(`GitHub answered ${status} to ${request}, but ${notJson}`, { hint: `Something other than the GitHub API answered (a proxy or login page?). ${CHECK_API_URL}` });
    const problem = check(parsed);
    if (problem !== undefined) throw new ScimformError(`GitHub's answer to ${request} is not what the GitHub API sends: ${problem}`, { hint: CHECK_API_URL });
    return { body: parsed, link: header(response.headers, 'link') };
  };

  const url = (path: string, query: Record<string, string> = {}): URL => {
    const result = new URL(path.replace(/^\//, ''), base);
    for (const [key, value] of Object.entries(query)) result.searchParams.set(key, value);
    return result;
  };

  /** Follows `Link: rel="next"` until the last page; `check` says what each page must be, `pick` takes the items out of it. */
  const listAll = async <T>(first: URL, check: ShapeCheck, pick: (body: unknown) => T[], pages = maxPages): Promise<T[]> => {
    const items: T[] = [];
    let next: URL | undefined = first;
    for (let page = 0; next && page < pages; page++) {
      const { body, link } = await send('GET', next, check);
      for (const item of pick(body)) items.push(item);
      const following = nextPageUrl(link);
      // Only follow links to the API we were given: a Link header must not send the token elsewhere.
      const target = following !== undefined && URL.canParse(following) ? new URL(following) : undefined;
      next = target?.origin === base.origin ? target : undefined;
    }
    return items;
  };

  const repoPath = (repository: Repository) => `repos/${encodeURIComponent(repository.owner)}/${encodeURIComponent(repository.repo)}`;
  const items = <T>(body: unknown): T[] => body as T[];

  return {
    listIssueComments: (repository, issue) =>
      listAll(url(`${repoPath(repository)}/issues/${issue}/comments`, { per_page: '100' }), listOf(comment, 'comments'), items<IssueComment>),
    createIssueComment: async (repository, issue, text) =>
      (await send('POST', url(`${repoPath(repository)}/issues/${issue}/comments`), comment, { body: text })).body as IssueComment,
    updateIssueComment: async (repository, id, text) =>
      (await send('PATCH', url(`${repoPath(repository)}/issues/comments/${id}`), comment, { body: text })).body as IssueComment,
    pullRequest: async (repository, number) => (await send('GET', url(`${repoPath(repository)}/pulls/${number}`), pullRequest)).body as PullRequestRef,
    pullRequestCommits: (repository, number) =>
      listAll(url(`${repoPath(repository)}/pulls/${number}/commits`, { per_page: '100' }), listOf(commit, 'commits'), (body) => (body as { sha: string }[]).map((item) => item.sha)),
    pullRequestsOfCommit: (repository, sha) =>
      listAll(url(`${repoPath(repository)}/commits/${encodeURIComponent(sha)}/pulls`, { per_page: '100' }), listOf(pullRequest, 'pull requests'), items<PullRequestRef>),
    artifactsNamed: (repository, name) =>
      listAll(
        url(`${repoPath(repository)}/actions/artifacts`, { name, per_page: '100' }),
        artifactList,
        (body) => (body as { artifacts: Artifact[] }).artifacts,
        // Newest first: the first page holds the latest runs, which are the ones that matter.
        1,
      ),
    close: async () => {
      if (ownDispatcher) await dispatcher.close();
    },
  };
}
