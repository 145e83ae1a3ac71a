import type { CliContext } from './context.js';
import type { TargetPlan } from '../plan/types.js';
import { ScimformError } from '../errors.js';
import { selectTargets } from '../config/index.js';
import { summaryLine } from '../render/index.js';
import { safeText } from '../render/format.js';
import { hasChanges } from '../reconcile.js';
import { planAll, reportFailures, type PlanningResult } from './planning.js';
import { printPlans, type PlanOptions } from './plan.js';

/** The one-sentence form of a target's failure, for a notification; the full report follows it. */
function failureText(error: unknown): string {
  if (error instanceof ScimformError) return error.message;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}

function planLine(plan: TargetPlan): string {
  // A plan a guard refuses is never "in sync", even with no operations (an emptied desired state
  // under `unmanagedUsers: ignore` plans nothing): the files need a person's attention.
  if (plan.violations.length > 0) {
    return `${plan.target.name}: refused: ${plan.violations.map((violation) => violation.message).join('; ')} (${summaryLine(plan)})`;
  }
  return hasChanges(plan) ? `${plan.target.name}: drift: ${summaryLine(plan)}` : `${plan.target.name}: in sync`;
}

/**
 * One line per selected target, in the order they were selected: `NAME: in sync`,
 * `NAME: drift: Plan: …`, `NAME: refused: …`, `NAME: failed: …`, or `NAME: not checked (interrupted)`.
 */
export function driftLines(names: readonly string[], result: Pick<PlanningResult, 'plans' | 'failures'>): string[] {
  return names.map((name) => {
    const plan = result.plans.find((candidate) => candidate.target.name === name);
    // Guard messages and failures quote names from the files and the server: escaped as the plan shows them.
    if (plan) return safeText(planLine(plan));
    const failure = result.failures.find((candidate) => candidate.target === name);
    return safeText(failure ? `${name}: failed: ${failureText(failure.error)}` : `${name}: not checked (interrupted)`);
  });
}

/**
 * 1 when any target could not be checked or a guard refuses its plan (as `plan --detailed-exitcode`,
 * SPEC §3); else 2 when any drifted (manual items count, SPEC §4); else 0.
 */
export function driftExitCode(names: readonly string[], result: Pick<PlanningResult, 'plans' | 'failures'>): number {
  if (result.failures.length > 0 || result.plans.length < names.length) return 1;
  if (result.plans.some((plan) => plan.violations.length > 0)) return 1;
  return result.plans.some(hasChanges) ? 2 : 0;
}

/**
 * `plan --detailed-exitcode` for scheduled polling: 0 in sync, 2 drift, 1 error. Besides the plan
 * (stdout, in the chosen format), one line per target on stderr suitable for a notification.
 */
export async function run(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  const format = (options as unknown as PlanOptions).format;
  const result = await planAll(ctx, { allowMassRemoval: false });
  const names = selectTargets(result.config, ctx.target).map((target) => target.name);
  printPlans(ctx, result, format);
  for (const line of driftLines(names, result)) ctx.warn(line);
  reportFailures(ctx, result.failures);
  return driftExitCode(names, result);
}
