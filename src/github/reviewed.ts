/**
 * Finding the plan that reviewers saw: the merged pull request of a commit on the default branch,
 * and the saved-plan artifact that its runs uploaded for its last commit. Whether that plan may
 * still be applied is decided later, by the digest and the fingerprints, never by this lookup.
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

/** Whether a fork's pull-request run uploaded it: such a run has no secrets, so no plan, but may upload under any name. */
function fromFork(artifact: Artifact): boolean {
  const run = artifact.workflow_run;
  return run?.head_repository_id !== undefined && run.repository_id !== undefined && run.head_repository_id !== run.repository_id;
}

/**
 * The saved plan of the pull request's last commit: the newest unexpired artifact of a run for
 * `headSha`, else the newest of any run. Newest alone is not enough: re-running an older commit's
 * run uploads its plan again, later than the plan of the commit that was merged. GitHub lists
 * newest first, but sort anyway to not depend on it.
 */
export function latestArtifact(artifacts: readonly Artifact[], headSha?: string): Artifact | undefined {
  const usable = [...artifacts]
    .filter((artifact) => !artifact.expired && artifact.workflow_run?.id !== undefined && !fromFork(artifact))
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  return usable.find((artifact) => headSha !== undefined && artifact.workflow_run?.head_sha === headSha) ?? usable[0];
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
  const artifact = latestArtifact(await client.artifactsNamed(repository, name), pull.head.sha);
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
