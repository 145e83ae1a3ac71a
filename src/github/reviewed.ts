/**
 * Finding the plan that reviewers saw: the merged pull request of a commit on the default branch,
 * and the saved-plan artifact that its runs uploaded for its last commit (or the latest commit that
 * has one). Whether that plan may still be applied is decided later, by the digest and the fingerprints, never by this lookup.
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
 * The saved plan of the latest of `commits` (a pull request's, oldest first) that has one: the
 * newest unexpired artifact of a run for that commit, else the newest of any run. Newest alone is
 * not enough: re-running an older commit's run uploads its plan again, later than the plan of the
 * commit that was merged. GitHub lists newest first, but sort anyway to not depend on it.
 */
export function latestArtifact(artifacts: readonly Artifact[], commits: readonly string[] = []): Artifact | undefined {
  const usable = [...artifacts]
    .filter((artifact) => !artifact.expired && artifact.workflow_run?.id !== undefined && !fromFork(artifact))
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
  for (const commit of [...commits].reverse()) {
    const planned = usable.find((artifact) => artifact.workflow_run?.head_sha === commit);
    if (planned) return planned;
  }
  return usable[0];
}

export async function findReviewedPlan(
  client: Pick<GitHubClient, 'pullRequestsOfCommit' | 'pullRequestCommits' | 'artifactsNamed'>,
  repository: Repository,
  sha: string,
  prefix: string,
): Promise<ReviewedPlanLookup> {
  const pull = mergedPullRequest(await client.pullRequestsOfCommit(repository, sha));
  if (!pull) return { found: false, reason: `no pull request contains commit ${sha.slice(0, 7)} (pushed directly?)` };
  const name = planArtifactName(prefix, pull.number);
  const artifacts = await client.artifactsNamed(repository, name);
  let artifact = latestArtifact(artifacts, [pull.head.sha]);
  // The last commit has no plan (a push the workflow's paths filter skips): the plan of the latest
  // commit that has one, which is the one its comment showed, whatever was re-run since.
  if (artifact && artifact.workflow_run?.head_sha !== pull.head.sha) artifact = latestArtifact(artifacts, await client.pullRequestCommits(repository, pull.number));
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
