/**
 * Finding the plan that reviewers saw: the merged pull request of a commit on the default branch,
 * and the newest saved-plan artifact its pull-request runs uploaded. Whether that plan may still be
 * applied is decided later, by the digest and the fingerprints, never by this lookup.
 */
import type { Artifact, GitHubClient, PullRequestRef, Repository } from './client.js';

/** The artifact name the pull-request job uploads its saved plan under. */
export function planArtifactName(prefix: string, pullRequest: number): string {
  return `${prefix}${pullRequest}`;
}

export type ReviewedPlanLookup =
  | { found: true; pullRequest: number; artifact: Artifact; runId: number; reviewedSha: string | undefined; headSha: string }
  | { found: false; reason: string; pullRequest?: number };

/** The pull request merged as this commit: a closed one with `merged_at`, else any that contains it. */
export function mergedPullRequest(pulls: readonly PullRequestRef[]): PullRequestRef | undefined {
  return pulls.find((pull) => pull.merged_at !== null && pull.merged_at !== undefined) ?? pulls[0];
}

/** The newest unexpired artifact; GitHub lists newest first, but sort anyway to not depend on it. */
export function latestArtifact(artifacts: readonly Artifact[]): Artifact | undefined {
  return [...artifacts]
    .filter((artifact) => !artifact.expired && artifact.workflow_run?.id !== undefined)
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id)[0];
}

export async function findReviewedPlan(
  client: Pick<GitHubClient, 'pullRequestsOfCommit' | 'artifactsNamed'>,
  repository: Repository,
  sha: string,
  prefix: string,
): Promise<ReviewedPlanLookup> {
  const pull = mergedPullRequest(await client.pullRequestsOfCommit(repository, sha));
  if (!pull) return { found: false, reason: `no pull request contains commit ${sha.slice(0, 7)} (pushed directly?)` };
  const name = planArtifactName(prefix, pull.number);
  const artifact = latestArtifact(await client.artifactsNamed(repository, name));
  if (!artifact) return { found: false, pullRequest: pull.number, reason: `pull request #${pull.number} has no unexpired artifact named ${name}` };
  return {
    found: true,
    pullRequest: pull.number,
    artifact,
    runId: artifact.workflow_run!.id,
    reviewedSha: artifact.workflow_run?.head_sha,
    headSha: pull.head.sha,
  };
}
