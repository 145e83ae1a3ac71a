/**
 * A small client for the parts of the GitHub REST API that the CI integration uses: issue
 * comments (the sticky plan comment), the pull requests of a commit, and workflow artifacts (the
 * reviewed plan). Requests go through the undici `Dispatcher` it is given, so tests choose how they
 * are answered. The token is sent in one header and never appears in an error.
 */
import { Agent, type Dispatcher } from 'undici';
import { ScimformError } from '../errors.js';
import { VERSION } from '../version.js';

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
  workflow_run?: { id: number; head_sha: string };
}

export interface GitHubClient {
  listIssueComments(repository: Repository, issue: number): Promise<IssueComment[]>;
  createIssueComment(repository: Repository, issue: number, body: string): Promise<IssueComment>;
  updateIssueComment(repository: Repository, id: number, body: string): Promise<IssueComment>;
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

/** What a person must do about a failed GitHub request, by status and GitHub's message. */
export function gitHubError(method: string, path: string, status: number, body: unknown): ScimformError {
  const detail = messageOf(body);
  const what = `GitHub answered ${status} to ${method} ${path}${detail ? `: ${detail}` : ''}`;
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

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const base = new URL(options.apiUrl.replace(/\/+$/, '') + '/');
  const ownDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000 });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxPages = options.maxPages ?? 100;

  const send = async (method: 'GET' | 'POST' | 'PATCH', url: URL, body?: unknown): Promise<{ body: unknown; link: string | undefined }> => {
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
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      parsed = undefined;
    }
    if (response.statusCode < 200 || response.statusCode > 299) throw gitHubError(method, shown, response.statusCode, parsed);
    return { body: parsed, link: header(response.headers, 'link') };
  };

  const url = (path: string, query: Record<string, string> = {}): URL => {
    const result = new URL(path.replace(/^\//, ''), base);
    for (const [key, value] of Object.entries(query)) result.searchParams.set(key, value);
    return result;
  };

  /** Follows `Link: rel="next"` until the last page; `pick` takes the items out of a page. */
  const listAll = async <T>(first: URL, pick: (body: unknown) => T[], pages = maxPages): Promise<T[]> => {
    const items: T[] = [];
    let next: URL | undefined = first;
    for (let page = 0; next && page < pages; page++) {
      const { body, link } = await send('GET', next);
      items.push(...pick(body));
      const following = nextPageUrl(link);
      // Only follow links to the API we were given: a Link header must not send the token elsewhere.
      next = following && new URL(following).origin === base.origin ? new URL(following) : undefined;
    }
    return items;
  };

  const repoPath = (repository: Repository) => `repos/${encodeURIComponent(repository.owner)}/${encodeURIComponent(repository.repo)}`;
  const asArray = <T>(body: unknown): T[] => (Array.isArray(body) ? (body as T[]) : []);

  return {
    listIssueComments: (repository, issue) =>
      listAll(url(`${repoPath(repository)}/issues/${issue}/comments`, { per_page: '100' }), (body) => asArray<IssueComment>(body)),
    createIssueComment: async (repository, issue, text) =>
      (await send('POST', url(`${repoPath(repository)}/issues/${issue}/comments`), { body: text })).body as IssueComment,
    updateIssueComment: async (repository, id, text) =>
      (await send('PATCH', url(`${repoPath(repository)}/issues/comments/${id}`), { body: text })).body as IssueComment,
    pullRequestsOfCommit: (repository, sha) =>
      listAll(url(`${repoPath(repository)}/commits/${encodeURIComponent(sha)}/pulls`, { per_page: '100' }), (body) => asArray<PullRequestRef>(body)),
    artifactsNamed: (repository, name) =>
      listAll(url(`${repoPath(repository)}/actions/artifacts`, { name, per_page: '100' }), (body) =>
        asArray<Artifact>((body as { artifacts?: unknown } | undefined)?.artifacts),
        // Newest first: the first page holds the latest runs, which are the ones that matter.
        1,
      ),
    close: async () => {
      if (ownDispatcher) await dispatcher.close();
    },
  };
}
