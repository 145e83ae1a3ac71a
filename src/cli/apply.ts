import path from 'node:path';
import type { CliContext } from './context.js';
import type { Config, DesiredState, LiveState, TargetConfig } from '../model.js';
import type { SavedPlan, TargetPlan } from '../plan/types.js';
import type { ScimClient } from '../scim/types.js';
import { ScimformError } from '../errors.js';
import {
  applyAndVerify,
  applyExitCode,
  assertGuards,
  confirmApply,
  describeChangedOperations,
  describeStale,
  staleAgainst,
  createProgressReporter,
  openAuditLog,
  renderTargetResult,
  type AuditLog,
  type TargetApplyResult,
} from '../apply/index.js';
import { assertDigestMatches, readSavedPlan } from '../plan/saved.js';
import { planTarget } from '../reconcile.js';
import { VERSION } from '../version.js';
import { renderText } from '../render/index.js';
import { createScimClient, resolveToken } from '../scim/index.js';
import { loadRepository, planAll, reportFailures, type PlanningResult, type TargetFailure } from './planning.js';
import { reportError } from './report.js';

interface ApplyCliOptions {
  autoApprove?: boolean;
  allowMassRemoval?: boolean;
  auditLog?: string;
}

/** The config's declaration of a planned target; a saved plan made for another URL is refused. */
function configuredTarget(config: Config, plan: TargetPlan): TargetConfig {
  const target = config.targets.find((candidate) => candidate.name === plan.target.name);
  if (!target) {
    throw new ScimformError(`the saved plan is for target ${plan.target.name}, which the config no longer declares`, {
      hint: 'Run `scimform plan --out <file>` again with the current config.',
    });
  }
  if (target.url !== plan.target.url) {
    throw new ScimformError(`the saved plan for target ${target.name} was made against ${plan.target.url}, but the config now says ${target.url}`, {
      hint: 'Run `scimform plan --out <file>` again with the current config.',
    });
  }
  return target;
}

function writableClient(ctx: CliContext, target: TargetConfig): ScimClient {
  return createScimClient(target, { token: resolveToken(target, ctx.env), readOnly: false, signal: ctx.signal });
}

const REPLAN_HINT = 'Run `scimform plan --out <file>` again and apply the new plan, or run `scimform apply` without a plan file.';

/** Loads a saved plan and checks, before anything is written, that it still holds: guards, files, live resources. */
async function loadSavedPlan(ctx: CliContext, file: string, allowMassRemoval: boolean, opened: ScimClient[]) {
  const saved = await readSavedPlan(path.resolve(ctx.cwd, file));
  const { config, desired } = await loadRepository(ctx);
  // First the files: a plan made from other files (another commit, another repository) is stale, whatever its targets.
  assertDigestMatches(saved, desired.files);
  // plan writes each target once, and at least one (planned or failed): anything else was edited.
  const names = saved.targets.map((plan) => plan.target.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined || names.length + (saved.failedTargets?.length ?? 0) === 0) {
    throw new ScimformError(
      twice !== undefined ? `the saved plan lists target ${twice} more than once, which plan never writes (was it edited?)` : 'the saved plan holds no target, which plan never writes (was it edited?)',
      { hint: 'Run `scimform plan --out <file>` again and apply the new plan.' },
    );
  }
  const selected = ctx.target.length > 0 ? saved.targets.filter((plan) => ctx.target.includes(plan.target.name)) : saved.targets;
  // A target whose planning failed has no operations in the file: it is reported as failed (the
  // plan run exited 1 for it), so applying the others never passes for applying everything.
  const unplanned = (saved.failedTargets ?? []).filter(({ name }) => ctx.target.length === 0 || ctx.target.includes(name));
  const missing: TargetFailure[] = unplanned.map(({ name, message }) => ({
    target: name,
    error: new ScimformError(`not in the saved plan: its plan failed (${message}), so nothing is applied to it`, {
      hint: 'Plan again once the target can be read, and apply that plan.',
    }),
  }));
  const unknown = ctx.target.filter((name) => !saved.targets.some((plan) => plan.target.name === name) && !unplanned.some((failed) => failed.name === name));
  if (unknown.length > 0) {
    throw new ScimformError(`the saved plan has no target named ${unknown.join(', ')}`, {
      hint: `It holds: ${saved.targets.map((plan) => plan.target.name).join(', ')}.`,
    });
  }
  const targets = new Map(selected.map((plan) => [plan.target.name, configuredTarget(config, plan)]));
  assertGuards(selected, { allowMassRemoval });
  const clients = new Map<string, ScimClient>();
  const clientFor = (name: string): ScimClient => {
    let client = clients.get(name);
    if (!client) {
      client = writableClient(ctx, targets.get(name)!);
      clients.set(name, client);
      opened.push(client);
    }
    return client;
  };
  // The digest covers the files, not the plan document itself: plan again and require the very
  // same operations, so a plan edited by hand is never sent, and the guards are re-checked on
  // what the live state calls for now. That plan's read of each target is also what the saved
  // fingerprints are judged against: every live resource the saved plan touches must still be as it saw.
  const planned: { plan: TargetPlan; fresh: TargetPlan }[] = [];
  const stale: string[] = [];
  for (const plan of selected) {
    let live: LiveState = { users: [], groups: [] };
    const fresh = await planTarget(config, desired, targets.get(plan.target.name)!, { env: ctx.env, allowMassRemoval, signal: ctx.signal, keepLiveState: (state) => (live = state) });
    const items = staleAgainst(plan, live);
    if (items.length > 0) stale.push(describeStale(plan.target.name, items));
    planned.push({ plan, fresh });
  }
  if (stale.length > 0) throw new ScimformError(`saved plan is stale: ${stale.join('; ')}, re-run plan`, { hint: REPLAN_HINT });
  for (const { plan, fresh } of planned) {
    const difference = describeChangedOperations(plan.target.name, plan.plan.operations, fresh.plan.operations);
    if (difference) {
      // Another version may plan the same state differently: say so rather than suspect an edit.
      const why =
        saved.scimformVersion !== VERSION ? ` (it was made by scimform ${saved.scimformVersion}, this is ${VERSION})` : difference.rewritten ? ' (was it edited?)' : '';
      throw new ScimformError(`saved plan is stale: ${difference.reason}${why}, re-run plan`, { hint: REPLAN_HINT });
    }
    assertGuards([fresh], { allowMassRemoval });
  }
  return { input: { config, desired, plans: selected, targets, clientFor }, missing };
}

async function applyTargets(
  ctx: CliContext,
  input: { config: Config; desired: DesiredState; plans: TargetPlan[]; targets: Map<string, TargetConfig>; clientFor: (name: string) => ScimClient },
  audit: AuditLog | undefined,
): Promise<{ results: TargetApplyResult[]; failures: TargetFailure[] }> {
  const results: TargetApplyResult[] = [];
  const failures: TargetFailure[] = [];
  // From the first write on, a second signal ends apply at once with what it knows.
  const stop = ctx.claimStop();
  for (const plan of input.plans) {
    if (ctx.signal.aborted) break;
    // A target whose writes the audit log could not record is not started.
    if (audit?.failure) {
      failures.push({ target: plan.target.name, error: new ScimformError('not started: the audit log could not be written') });
      continue;
    }
    const target = input.targets.get(plan.target.name)!;
    const progress = createProgressReporter({ stream: ctx.stderr, tty: ctx.stderr.isTTY === true && !ctx.quiet, target: target.name });
    try {
      const result = await applyAndVerify(plan, input.clientFor(target.name), input.desired, input.config.policy, {
        concurrency: target.concurrency,
        signal: ctx.signal,
        stop,
        ...(ctx.quiet ? {} : { onProgress: (p) => progress.update(p) }),
        ...(audit ? { audit: (entry) => audit.write(entry) } : {}),
      });
      progress.finish();
      results.push(result);
      ctx.stdout.write(renderTargetResult(result, { color: ctx.color, verbose: ctx.verbose }));
    } catch (error) {
      progress.finish();
      failures.push({ target: target.name, error });
    }
  }
  return { results, failures };
}

export async function run(ctx: CliContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const opts = options as ApplyCliOptions;
  const planFile = args[0];
  const clients: ScimClient[] = [];
  // Opened first: a log that cannot be written is refused before the target is read, or apply approved.
  const audit = opts.auditLog ? openAuditLog(path.resolve(ctx.cwd, opts.auditLog)) : undefined;
  try {
    return await applyWith(ctx, opts, planFile, clients, audit);
  } finally {
    // Interrupted: whatever is still in flight was already reported as unknown (the drain time ran
    // out, or a second signal said not to wait), so it is cut off rather than waited for.
    await Promise.all(clients.map((client) => client.close({ abort: ctx.signal.aborted })));
    await audit?.close();
  }
}

async function applyWith(ctx: CliContext, opts: ApplyCliOptions, planFile: string | undefined, clients: ScimClient[], audit: AuditLog | undefined): Promise<number> {
  const allowMassRemoval = opts.allowMassRemoval === true;
  let input: Parameters<typeof applyTargets>[1];
  let planningFailures: TargetFailure[] = [];
  if (planFile) {
    ({ input, missing: planningFailures } = await loadSavedPlan(ctx, planFile, allowMassRemoval, clients));
    ctx.note(`Saved plan ${planFile} still matches the files and the live state.`);
    ctx.stdout.write(renderText(input.plans, { color: ctx.color, notes: !ctx.quiet }));
  } else {
    // Each target's read-only planning client is kept: once approved, apply writes through it.
    const planned = new Map<string, ScimClient>();
    let result: PlanningResult;
    try {
      result = await planAll(ctx, { allowMassRemoval, keepClients: planned });
    } finally {
      clients.push(...planned.values());
    }
    ctx.stdout.write(renderText(result.plans, { color: ctx.color, notes: !ctx.quiet }));
    // Each target is guarded on its own: a refused target is reported as failed, and the others still apply.
    const refused: TargetFailure[] = [];
    const guarded = result.plans.flatMap((plan) => {
      try {
        assertGuards([plan], { allowMassRemoval });
        return [plan];
      } catch (error) {
        refused.push({ target: plan.target.name, error });
        return [];
      }
    });
    planningFailures = [...result.failures, ...refused];
    const plans = guarded.filter((plan) => plan.plan.operations.length > 0);
    const targets = new Map(result.config.targets.map((target) => [target.name, target]));
    const sendable = plans.some((plan) => plan.plan.operations.some((operation) => operation.kind !== 'manual'));
    if (sendable && !(await confirmApply(ctx, { autoApprove: opts.autoApprove === true, signal: ctx.signal }))) {
      reportFailures(ctx, planningFailures);
      ctx.warn('Apply cancelled: nothing was written.');
      return 1;
    }
    input = {
      config: result.config,
      desired: result.desired,
      plans,
      targets,
      clientFor: (name) => {
        const kept = planned.get(name);
        if (kept) {
          kept.allowWrites();
          return kept;
        }
        const client = writableClient(ctx, targets.get(name)!);
        clients.push(client);
        return client;
      },
    };
  }

  const { results, failures } = await applyTargets(ctx, input, audit);
  reportFailures(ctx, [...planningFailures, ...failures]);
  // Each target's report says where its writes stopped; this says why, and what to do.
  if (audit?.failure) reportError(audit.failure, ctx, ctx.verbose);
  if (ctx.signal.aborted) {
    const pending = input.plans.filter((plan) => !results.some((result) => result.report.target === plan.target.name));
    for (const plan of pending) ctx.warn(`${plan.target.name}: not started (interrupted).`);
    return 1;
  }
  return planningFailures.length + failures.length > 0 || audit?.failure ? 1 : applyExitCode(results);
}
