import type { CliContext } from './context.js';
import { summaryLine } from '../render/index.js';
import { hasChanges } from '../reconcile.js';
import { planAll, reportFailures } from './planning.js';
import { printPlans, type PlanOptions } from './plan.js';

/**
 * `plan --detailed-exitcode` for scheduled polling: 0 in sync, 2 drift, 1 error. Besides the plan,
 * one line per target on stderr suitable for a notification.
 */
export async function run(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  const format = (options as unknown as PlanOptions).format;
  const result = await planAll(ctx, { allowMassRemoval: false });
  printPlans(ctx, result, format);
  for (const plan of result.plans) {
    ctx.warn(`${plan.target.name}: ${hasChanges(plan) ? `drift: ${summaryLine(plan)}` : 'in sync'}`);
  }
  reportFailures(ctx, result.failures);
  if (result.failures.length > 0) return 1;
  // A refused guard is still drift to report, not a failure of the check itself.
  return result.plans.some(hasChanges) ? 2 : 0;
}
