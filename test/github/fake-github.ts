/**
 * A loopback stand-in for the few GitHub REST endpoints the workflow uses: issue comments and a
 * pull request's commits (paged with Link headers, as GitHub does), a pull request, the pull
 * requests of a commit, and artifacts by name. It checks the bearer token and records every
 * request, so tests assert what reached "GitHub".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Artifact, IssueComment, PullRequestRef } from '../../src/github/client.js';

export interface FakeGitHub {
  url: string;
  comments: Map<number, IssueComment[]>;
  pulls: Map<number, PullRequestRef>;
  /** The SHAs of each pull request's commits, oldest first. */
  pullCommits: Map<number, string[]>;
  pullsOfCommit: Map<string, PullRequestRef[]>;
  artifacts: Artifact[];
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startFakeGitHub(token: string, options: { pageSize?: number } = {}): Promise<FakeGitHub> {
  const comments = new Map<number, IssueComment[]>();
  const pulls = new Map<number, PullRequestRef>();
  const pullCommits = new Map<number, string[]>();
  const pullsOfCommit = new Map<string, PullRequestRef[]>();
  const artifacts: Artifact[] = [];
  const requests: { method: string; path: string }[] = [];
  let nextId = 1000;
  const pageSize = options.pageSize ?? 100;

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      requests.push({ method: req.method ?? '', path: url.pathname + url.search });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials' });
      const input = raw ? (JSON.parse(raw) as { body?: string }) : {};
      /** One page of a listing, with a Link to the next as GitHub sends it. */
      const sendPage = (list: unknown[]) => {
        const page = Number(url.searchParams.get('page') ?? '1');
        const last = Math.max(1, Math.ceil(list.length / pageSize));
        const link: Record<string, string> = page < last ? { link: `<${url.origin}${url.pathname}?per_page=${pageSize}&page=${page + 1}>; rel="next"` } : {};
        return send(200, list.slice((page - 1) * pageSize, page * pageSize), link);
      };
      let match: RegExpExecArray | null;
      if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname))) {
        const issue = Number(match[1]);
        const list = comments.get(issue) ?? [];
        if (req.method === 'POST') {
          const created = { id: nextId++, body: input.body ?? '', html_url: `https://github.test/pull/${issue}#issuecomment-${nextId}` };
          comments.set(issue, [...list, created]);
          return send(201, created);
        }
        return sendPage(list);
      }
      if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname)) && req.method === 'PATCH') {
        for (const list of comments.values()) {
          const found = list.find((comment) => comment.id === Number(match![1]));
          if (found) {
            found.body = input.body ?? '';
            return send(200, found);
          }
        }
        return send(404, { message: 'Not Found' });
      }
      if ((match = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/.exec(url.pathname)) && req.method === 'GET') {
        const pull = pulls.get(Number(match[1]));
        return pull ? send(200, pull) : send(404, { message: 'Not Found' });
      }
      if ((match = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/commits$/.exec(url.pathname)) && req.method === 'GET') {
        const shas = pullCommits.get(Number(match[1]));
        return shas ? sendPage(shas.map((sha) => ({ sha }))) : send(404, { message: 'Not Found' });
      }
      if ((match = /^\/repos\/[^/]+\/[^/]+\/commits\/([^/]+)\/pulls$/.exec(url.pathname))) return send(200, pullsOfCommit.get(match[1]!) ?? []);
      if (url.pathname.endsWith('/actions/artifacts')) {
        const named = artifacts.filter((artifact) => artifact.name === url.searchParams.get('name'));
        return send(200, { total_count: named.length, artifacts: [...named].reverse() });
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    comments,
    pulls,
    pullCommits,
    pullsOfCommit,
    artifacts,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
