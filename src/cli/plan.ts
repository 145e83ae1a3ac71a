import path from 'node:path';
import type { CliContext } from './context.js';
import { renderPlan } from '../render/index.js';
import { writeSavedPlan } from '../plan/saved.js';
import { hasChanges } from '../reconcile.js';
import { planAll, reportFailures, savedPlanOf, type PlanningResult } from './planning.js';

export interface PlanOptions {
  out?: string;
  format: 'text' | 'markdown' | 'json';
  detailedExitcode?: boolean;
  allowMassRemoval?: boolean;
}

/** Prints the plans in the chosen format; the saved-plan document is the JSON format. */
export function printPlans(ctx: CliContext, result: PlanningResult, format: PlanOptions['format']): void {
  ctx.stdout.write(renderPlan(savedPlanOf(ctx, result), format, { color: ctx.color }));
}

/** 1 for any failure or refused guard; with detailed exit codes, 2 when anything differs; else 0. */
export function planExitCode(result: PlanningResult, detailed: boolean): number {
  if (result.failures.length > 0 || result.plans.some((plan) => plan.violations.length > 0)) return 1;
  if (detailed && result.plans.some(hasChanges)) return 2;
  return 0;
}

export async function run(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  const opts = options as unknown as PlanOptions;
  const result = await planAll(ctx, { allowMassRemoval: opts.allowMassRemoval === true });
  printPlans(ctx, result, opts.format);
  if (opts.out && result.plans.length > 0) {
    const file = path.resolve(ctx.cwd, opts.out);
    await writeSavedPlan(file, savedPlanOf(ctx, result));
    ctx.note(`Saved the plan to ${opts.out}; apply it with: scimform apply ${opts.out}`);
  }
  reportFailures(ctx, result.failures);
  return planExitCode(result, opts.detailedExitcode === true);
}
