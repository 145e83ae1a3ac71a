/**
 * `scimform github <step>`: the steps of the GitHub Actions workflow that need more than one CLI
 * call (SPEC §7), so the workflow file holds no logic of its own.
 *
 *   preflight      every selected target's token is in the environment; a fork says why it is not
 *   comment        one sticky comment per target on the pull request, from the saved plan
 *   reviewed-plan  which run's artifact holds the plan reviewed on the merged pull request
 *   apply          apply the reviewed plan if it still holds, else a fresh plan, flagged as such
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CliContext } from './context.js';
import type { SavedPlan } from '../plan/types.js';
import type { LiveState } from '../model.js';
import { ScimformError } from '../errors.js';
import { loadConfig, selectTargets } from '../config/index.js';
import { readSavedPlan } from '../plan/saved.js';
import { appendSummary, errorAnnotation, readActionsContext, setOutputs, type ActionsContext } from '../github/actions.js';
import { createGitHubClient, type GitHubClient, type IssueComment } from '../github/client.js';
import { buildComment, markerFor, plannedCommitOf, upsertComment } from '../github/comment.js';
import { findReviewedPlan } from '../github/reviewed.js';
import { checkFreshness, type Freshness, type PlanNow } from '../github/freshness.js';
import { renderApplySummary } from '../github/summary.js';
import { escapeMarkdown } from '../render/index.js';
import { safeText } from '../render/format.js';

export const STEPS = ['preflight', 'comment', 'reviewed-plan', 'apply'] as const;
export const DEFAULT_ARTIFACT_PREFIX = 'scimform-plan-pr-';

interface GitHubOptions {
  plan?: string;
  repo?: string;
  pr?: string;
  apiUrl?: string;
  sha?: string;
  artifactPrefix?: string;
  reviewed?: string;
  autoApprove?: boolean;
  allowMassRemoval?: boolean;
  auditLog?: string;
}

/** What tests replace: how requests to GitHub are sent. */
export interface GitHubDeps {
  dispatcher?: Dispatcher;
}

export async function run(ctx: CliContext, options: Record<string, unknown>, args: string[], deps: GitHubDeps = {}): Promise<number> {
  const opts = options as GitHubOptions;
  const step = args[0];
  const actions = await readActionsContext(ctx.env, { repo: opts.repo, pr: opts.pr, apiUrl: opts.apiUrl, sha: opts.sha });
  switch (step) {
    case 'preflight':
      return preflight(ctx, actions);
    case 'comment':
      return withGitHub(ctx, actions, deps, (client) => comment(ctx, opts, actions, client));
    case 'reviewed-plan':
      return withGitHub(ctx, actions, deps, (client) => reviewedPlan(ctx, opts, actions, client));
    case 'apply':
      return applyReviewed(ctx, opts, actions);
    default:
      throw new ScimformError(`unknown step "${step ?? ''}" for scimform github`, { hint: `Use one of: ${STEPS.join(', ')}.` });
  }
}

async function withGitHub(ctx: CliContext, actions: ActionsContext, deps: GitHubDeps, use: (client: GitHubClient) => Promise<number>): Promise<number> {
  const token = ctx.env.GITHUB_TOKEN?.trim();
  if (!token) {
    throw new ScimformError('environment variable GITHUB_TOKEN is not set', {
      hint: 'In the workflow, add `env: { GITHUB_TOKEN: ${{ github.token }} }` to this step.',
    });
  }
  const client = createGitHubClient({ apiUrl: actions.apiUrl, token, ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}) });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

function requireRepository(actions: ActionsContext) {
  if (!actions.repository) throw new ScimformError('no repository to talk to', { hint: 'Run this inside GitHub Actions (GITHUB_REPOSITORY), or pass --repo owner/name.' });
  return actions.repository;
}

/** Each selected target's token must be set; on a fork pull request it cannot be, and that is said plainly. */
async function preflight(ctx: CliContext, actions: ActionsContext): Promise<number> {
  const config = await loadConfig(path.resolve(ctx.cwd, ctx.config), { cwd: ctx.cwd });
  const targets = selectTargets(config, ctx.target);
  const refuse = async (message: string, hint: string): Promise<never> => {
    if (ctx.env.GITHUB_ACTIONS === 'true') ctx.out(errorAnnotation(`${message} ${hint}`));
    await appendSummary(actions, `### scimform\n\n:no_entry: ${message}\n\n${hint}\n`);
    throw new ScimformError(message, { hint });
  };
  // GitHub refuses secret names that start with GITHUB_, and sets such variables itself: one that is
  // set (GITHUB_TOKEN) holds the workflow's own GitHub token, which must never go to a SCIM service.
  const reserved = targets.filter((target) => /^github_/i.test(target.tokenEnv));
  if (reserved.length > 0) {
    const names = reserved.map((target) => `${target.tokenEnv} (target ${target.name})`).join(', ');
    await refuse(
      `The SCIM token cannot come from ${names}: GitHub keeps names that start with GITHUB_ for itself, so no secret can have one, and GITHUB_TOKEN is the workflow's own GitHub token.`,
      `In ${ctx.config}, give \`tokenEnv\` a name of your own (e.g. SCIM_TOKEN) and add a repository secret of that name.`,
    );
  }
  const missing = targets.filter((target) => !ctx.env[target.tokenEnv]?.trim());
  if (missing.length === 0) {
    ctx.note(`Tokens present for ${targets.map((target) => target.name).join(', ')}.`);
    return 0;
  }
  const names = missing.map((target) => `${target.tokenEnv} (target ${target.name})`).join(', ');
  const message = actions.fromFork
    ? `This pull request comes from a fork, and GitHub gives workflows on fork pull requests no secrets: scimform cannot read the live state without ${names}, so there is no plan for this pull request.`
    : `The SCIM token${missing.length === 1 ? '' : 's'} ${names} ${missing.length === 1 ? 'is' : 'are'} not set, so scimform cannot read the live state.`;
  const hint = actions.fromFork
    ? 'A maintainer can push this branch to the repository itself to get a plan; merging still applies only a plan of the merged commit.'
    : `Add a repository secret named ${missing.map((target) => target.tokenEnv).join(', ')} (Settings → Secrets and variables → Actions) and pass secrets to the workflow with \`secrets: inherit\`.`;
  return refuse(message, hint);
}

async function readPlanIfPresent(file: string): Promise<SavedPlan | undefined> {
  try {
    await access(file);
  } catch {
    return undefined;
  }
  return readSavedPlan(file);
}

async function comment(ctx: CliContext, opts: GitHubOptions, actions: ActionsContext, client: GitHubClient): Promise<number> {
  const repository = requireRepository(actions);
  if (actions.pullRequest === undefined) {
    throw new ScimformError('this run is not about a pull request, so there is nothing to comment on', {
      hint: 'Run `scimform github comment` on pull_request events, or pass --pr NUMBER.',
    });
  }
  if (!opts.plan) throw new ScimformError('no saved plan given', { hint: 'Pass --plan plan.json, the file `scimform plan --out` wrote.' });
  if (actions.fromFork) {
    // GitHub gives a fork's pull_request run a read-only token: a comment would only fail with 403.
    ctx.warn('This pull request comes from a fork, whose workflow token cannot comment: no plan comment is posted (the job log and summary say why).');
    return 0;
  }
  const config = await loadConfig(path.resolve(ctx.cwd, ctx.config), { cwd: ctx.cwd });
  const targets = selectTargets(config, ctx.target);
  // A run for an older commit (a re-run, or one that finished after the next push's run) must not put
  // its plan back over a later commit's. Where no run planned a later commit (a push the workflow's
  // `paths` filter skips), this plan is the latest there is, and the comment must show it.
  let laterPlan: ((existing: IssueComment) => boolean) | undefined;
  // The pull request's commit, which reviewers can find in it; not the merge commit GitHub planned on.
  const planned = actions.headSha ?? actions.sha;
  const short = planned?.slice(0, 7) ?? 'unknown';
  if (actions.headSha !== undefined && (await client.pullRequest(repository, actions.pullRequest)).head.sha !== actions.headSha) {
    const commits = await client.pullRequestCommits(repository, actions.pullRequest);
    const position = commits.indexOf(actions.headSha);
    if (position < 0) {
      const why = `This run planned commit ${short}, which is not among the commits of pull request #${actions.pullRequest} any more (force-pushed away?)`;
      ctx.warn(`${why}: the plan comment is left as it is.`);
      await appendSummary(actions, `> [!NOTE]\n> ${why}: this plan was not posted as its comment.\n`);
      return 0;
    }
    laterPlan = (existing) => commits.indexOf(plannedCommitOf(existing.body) ?? '') > position;
  }
  const left: string[] = [];
  // No file at all means planning failed for every target: each comment then says so.
  const saved = await readPlanIfPresent(path.resolve(ctx.cwd, opts.plan));
  for (const target of targets) {
    const plan = saved?.targets.find((candidate) => candidate.target.name === target.name);
    const body = buildComment({ target: target.name, plan, runUrl: actions.runUrl, sha: planned });
    const result = await upsertComment(client, repository, actions.pullRequest, markerFor(target.name), body, laterPlan);
    if (result.action === 'left') {
      left.push(target.name);
      ctx.warn(`${target.name}: the plan comment already shows the plan of a later commit of pull request #${actions.pullRequest}, so this run's plan of ${short} is not posted: ${result.url}`);
    } else {
      ctx.out(`${target.name}: ${result.action} the plan comment on pull request #${actions.pullRequest}: ${result.url}`);
    }
  }
  if (left.length > 0) {
    await appendSummary(
      actions,
      `> [!NOTE]\n> This run planned commit ${short}, but the plan comment of target ${left.map(escapeMarkdown).join(', ')} already shows the plan of a later commit of pull request #${actions.pullRequest}: this plan was not posted there.\n`,
    );
  }
  return 0;
}

async function reviewedPlan(ctx: CliContext, opts: GitHubOptions, actions: ActionsContext, client: GitHubClient): Promise<number> {
  const repository = requireRepository(actions);
  if (!actions.sha) throw new ScimformError('no commit to look up', { hint: 'Run this inside GitHub Actions (GITHUB_SHA), or pass --sha.' });
  const lookup = await findReviewedPlan(client, repository, actions.sha, opts.artifactPrefix ?? DEFAULT_ARTIFACT_PREFIX);
  if (lookup.found) {
    const planned = lookup.reviewedSha === undefined || lookup.reviewedSha === lookup.headSha ? '' : `, planned for its earlier commit ${lookup.reviewedSha.slice(0, 7)}: its last commit ${lookup.headSha.slice(0, 7)} has no saved plan`;
    ctx.out(`Reviewed plan: artifact ${lookup.artifact.name} of run ${lookup.runId} (pull request #${lookup.pullRequest}${planned}).`);
    await setOutputs(actions, { found: 'true', 'run-id': String(lookup.runId), artifact: lookup.artifact.name, 'pull-request': String(lookup.pullRequest) });
  } else {
    ctx.out(`No reviewed plan: ${lookup.reason}.`);
    await setOutputs(actions, { found: 'false', reason: lookup.reason, ...(lookup.pullRequest ? { 'pull-request': String(lookup.pullRequest) } : {}) });
  }
  return 0;
}

/** A stdout that also keeps what was written, for the job summary. */
function teeStdout(ctx: CliContext): { ctx: CliContext; text(): string } {
  let captured = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      captured += String(chunk);
      ctx.stdout.write(chunk, callback);
    },
  });
  const tee = Object.assign(stream, { isTTY: ctx.stdout.isTTY });
  return {
    ctx: { ...ctx, stdout: tee, out: (line: string) => void tee.write(`${line}\n`) },
    text: () => captured,
  };
}

async function freshnessOf(ctx: CliContext, file: string | undefined): Promise<{ freshness: Freshness; file?: string; saved?: SavedPlan }> {
  const none = 'no saved plan of a merged pull request was found for this commit (the step "Find the reviewed plan" says why)';
  if (!file) return { freshness: { fresh: false, reason: none } };
  const saved = await readPlanIfPresent(path.resolve(ctx.cwd, file));
  if (!saved) return { freshness: { fresh: false, reason: none } };
  const [{ loadRepository }, { planTarget }] = await Promise.all([import('./planning.js'), import('../reconcile.js')]);
  const { config, desired } = await loadRepository(ctx);
  const targets = selectTargets(config, ctx.target);
  // One full read of each target: the plan made now, whose live state the fingerprints are checked against.
  const replan = async (planned: { name: string; url: string }): Promise<PlanNow> => {
    const target = targets.find((candidate) => candidate.name === planned.name && candidate.url === planned.url);
    if (!target) throw new ScimformError(`the reviewed plan's target ${planned.name} does not match the config`);
    let live: LiveState = { users: [], groups: [] };
    const { plan } = await planTarget(config, desired, target, { env: ctx.env, allowMassRemoval: false, signal: ctx.signal, keepLiveState: (state) => (live = state) });
    return { operations: plan.operations, live };
  };
  const freshness = await checkFreshness(saved, { files: desired.files, targets: targets.map((target) => target.name), replan });
  return { freshness, file, saved };
}

/**
 * What the fresh plan changes compared with the reviewed one, as a diff for the job summary; empty
 * when it cannot be told (the fresh plan itself failed: apply reports that).
 */
async function differenceFromReviewed(ctx: CliContext, saved: SavedPlan, allowMassRemoval: boolean): Promise<string> {
  try {
    const [{ planAll }, { renderPlanDifference }] = await Promise.all([import('./planning.js'), import('../render/difference.js')]);
    const fresh = await planAll({ ...ctx, quiet: true }, { allowMassRemoval });
    const names = new Set(fresh.plans.map((plan) => plan.target.name));
    return renderPlanDifference(
      saved.targets.filter((plan) => names.has(plan.target.name)),
      fresh.plans,
    );
  } catch {
    return '';
  }
}

async function applyReviewed(ctx: CliContext, opts: GitHubOptions, actions: ActionsContext): Promise<number> {
  const checked = await freshnessOf(ctx, opts.reviewed);
  const { run: apply } = await import('./apply.js');
  const tee = teeStdout(ctx);
  const applyOptions = { autoApprove: opts.autoApprove === true, allowMassRemoval: opts.allowMassRemoval === true, auditLog: opts.auditLog };
  const pr = actions.pullRequest;
  const reviewedOn = pr === undefined ? 'the pull request' : `pull request #${pr}`;
  // The reason names users and groups from the files and the live state: escaped for the log and the summary alike.
  const reason = checked.freshness.fresh ? '' : checked.freshness.reason;
  let heading: string;
  if (checked.freshness.fresh) {
    ctx.note(`The plan reviewed on ${reviewedOn} still holds for this commit: applying it.`);
    heading = `The plan reviewed on ${reviewedOn} still holds for this commit (the files and the live state are as it saw them): it is the plan applied.`;
  } else if (pr === undefined || checked.saved === undefined) {
    // Without a saved plan there is nothing reviewed to differ from, whether or not a pull request was found.
    ctx.warn(`Applying a fresh plan of this commit: ${safeText(reason)}.`);
    heading =
      `> [!WARNING]\n> **No reviewed plan to apply**: ${escapeMarkdown(reason)}. ` +
      'scimform applied a fresh plan of the commit, shown below; the same guards apply.';
  } else {
    // A re-run finds the changes of the attempts before it, which are not someone else's.
    const rerun = actions.runAttempt > 1 ? ` This is attempt ${actions.runAttempt} of the run: the attempts before it may have made some of those changes.` : '';
    ctx.warn(`Not applying the plan reviewed on ${reviewedOn}: ${safeText(reason)}. Applying a fresh plan of this commit instead.${rerun}`);
    heading =
      `> [!WARNING]\n> **This apply differs from the plan reviewed on ${reviewedOn}**: ${escapeMarkdown(reason)}.${rerun} ` +
      'scimform applied a fresh plan of the merged commit instead, shown below; the same guards apply.';
  }
  // A reviewer approved the saved plan: show exactly what the applied one does differently.
  const difference = !checked.freshness.fresh && checked.saved ? await differenceFromReviewed(ctx, checked.saved, applyOptions.allowMassRemoval) : '';
  let code = 1;
  let failure: unknown;
  try {
    code = await apply(tee.ctx, applyOptions, checked.freshness.fresh && checked.file ? [checked.file] : []);
  } catch (error) {
    failure = error;
  }
  const outcome = failure instanceof Error ? `\n**The apply failed:** ${escapeMarkdown(failure.message)}\n` : code === 0 ? '' : '\n**The apply did not complete**: see the run log.\n';
  await appendSummary(actions, renderApplySummary({ heading, difference, outcome, output: tee.text() }));
  if (failure !== undefined) throw failure;
  return code;
}
