/**
 * The sticky plan comment: one comment per target on a pull request, found again by a hidden
 * marker and edited in place on every run, so a pull request never collects stale plans.
 */
import type { TargetPlan } from '../plan/types.js';
import { GITHUB_COMMENT_LIMIT, renderMarkdown } from '../render/index.js';
import type { GitHubClient, IssueComment, Repository } from './client.js';

/** An HTML comment: invisible in the rendered comment, unique per target. */
export function markerFor(target: string): string {
  return `<!-- scimform:plan target=${encodeURIComponent(target)} -->`;
}

/** A second hidden marker: the commit whose plan the comment shows, so a run for an older one can tell. */
function commitMarker(sha: string): string {
  return `<!-- scimform:commit ${encodeURIComponent(sha)} -->`;
}

/** The commit whose plan a sticky comment shows, when it names one (older comments do not). */
export function plannedCommitOf(body: string): string | undefined {
  const match = /<!-- scimform:commit (\S+) -->/.exec(body);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

/** The comment that carries this marker; the oldest when several do (only if edited by hand). */
export function findSticky(comments: readonly IssueComment[], marker: string): IssueComment | undefined {
  return comments.find((comment) => typeof comment.body === 'string' && comment.body.includes(marker));
}

export interface CommentInput {
  target: string;
  /** The target's plan; absent when there is none (invalid files, planning failed: the run log says why). */
  plan?: TargetPlan | undefined;
  /** The workflow run: where the log and the saved-plan artifact are. */
  runUrl?: string | undefined;
  /** The commit the plan was made for. */
  sha?: string | undefined;
  maxLength?: number;
}

function footer(input: CommentInput): string {
  const where = input.runUrl ? `[workflow run](${input.runUrl})` : 'workflow run';
  const commit = input.sha ? ` for ${input.sha.slice(0, 7)}` : '';
  // Without a plan there is no artifact to apply: merging as it stands applies a fresh plan.
  if (!input.plan) return `\n---\n<sub>Checked by scimform${commit}. With no saved plan, merging applies a fresh plan of the merged commit (the guards still hold).</sub>\n`;
  return `\n---\n<sub>Planned by scimform${commit}. The saved plan is an artifact of the ${where}; merging applies it if it is still valid, else a fresh plan.</sub>\n`;
}

/** The whole comment for one target, never longer than GitHub's limit. */
export function buildComment(input: CommentInput): string {
  const maxLength = input.maxLength ?? GITHUB_COMMENT_LIMIT;
  const head = `${markerFor(input.target)}\n${input.sha ? `${commitMarker(input.sha)}\n` : ''}`;
  const foot = footer(input);
  if (!input.plan) {
    const where = input.runUrl ? `the [workflow run](${input.runUrl})` : 'the workflow run';
    return `${head}### scimform plan: ${input.target}\n\n**No plan for target ${input.target} in this run**: the files did not validate, or the target could not be read; ${where} says why. Fix it and push again.\n${foot}`;
  }
  const tooLarge = `\n> [!WARNING]\n> This plan is too large for one comment and was shortened. The full plan is in the saved-plan artifact of ${
    input.runUrl ? `the [workflow run](${input.runUrl})` : 'the workflow run'
  }.\n`;
  const full = renderMarkdown([input.plan], { maxLength: Number.MAX_SAFE_INTEGER });
  if (head.length + full.length + foot.length <= maxLength) return `${head}${full}${foot}`;
  const shortened = renderMarkdown([input.plan], { maxLength: maxLength - head.length - tooLarge.length - foot.length });
  return `${head}${shortened}${tooLarge}${foot}`;
}

export interface UpsertResult {
  /** `left`: the comment there is one `leave` kept as it is. */
  action: 'created' | 'updated' | 'unchanged' | 'left';
  id: number;
  url: string;
}

/** Creates the comment, or edits the one that carries the marker unless `leave` keeps it; never makes a second one. */
export async function upsertComment(
  client: Pick<GitHubClient, 'listIssueComments' | 'createIssueComment' | 'updateIssueComment'>,
  repository: Repository,
  issue: number,
  marker: string,
  body: string,
  leave?: (existing: IssueComment) => boolean,
): Promise<UpsertResult> {
  const existing = findSticky(await client.listIssueComments(repository, issue), marker);
  if (!existing) {
    const created = await client.createIssueComment(repository, issue, body);
    return { action: 'created', id: created.id, url: created.html_url };
  }
  if (existing.body === body) return { action: 'unchanged', id: existing.id, url: existing.html_url };
  if (leave?.(existing)) return { action: 'left', id: existing.id, url: existing.html_url };
  const updated = await client.updateIssueComment(repository, existing.id, body);
  return { action: 'updated', id: updated.id, url: updated.html_url };
}
