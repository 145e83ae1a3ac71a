import path from 'node:path';
import type { CliContext } from './context.js';
import type { SavedPlan } from '../plan/types.js';
import { ScimformError, ValidationError } from '../errors.js';
import { escapeMarkdown, renderPlan } from '../render/index.js';
import { plural } from '../render/format.js';
import { writeSavedPlan } from '../plan/saved.js';
import { hasChanges } from '../reconcile.js';
import { failureMessage, planAll, reportFailures, savedPlanOf, type PlanningResult } from './planning.js';

export interface PlanOptions {
  out?: string;
  format: 'text' | 'markdown' | 'json';
  detailedExitcode?: boolean;
  allowMassRemoval?: boolean;
}

/**
 * Prints the plans in the chosen format; the saved-plan document is the JSON format. In Markdown
 * (a pull-request comment or job summary) a target that could not be planned is named too, so
 * the document never silently leaves it out.
 */
export function printPlans(ctx: CliContext, result: PlanningResult, format: PlanOptions['format'], saved: SavedPlan = savedPlanOf(ctx, result)): void {
  ctx.stdout.write(renderPlan(saved, format, { color: ctx.color, notes: !ctx.quiet }));
  if (format === 'markdown' && result.failures.length > 0) {
    const lines = result.failures.map(({ target, error }) => `> **${escapeMarkdown(target)}**: no plan: ${escapeMarkdown(failureMessage(error))}`);
    ctx.stdout.write(`\n> [!CAUTION]\n${lines.join('\n>\n')}\n`);
  }
}

/** 1 for any failure or refused guard; with detailed exit codes, 2 when anything differs; else 0. */
export function planExitCode(result: PlanningResult, detailed: boolean): number {
  if (result.failures.length > 0 || result.plans.some((plan) => plan.violations.length > 0)) return 1;
  if (detailed && result.plans.some(hasChanges)) return 2;
  return 0;
}

/** Shown first, and in full, in a comment; the rest are in the run log. */
const MARKDOWN_PROBLEMS = 10;

/**
 * Files that do not validate, as a Markdown document: a pull-request comment made from stdout
 * then says why there is no plan instead of being empty. The problems also go to stderr.
 */
function invalidFilesMarkdown(error: ValidationError): string {
  const lines = error.issues.slice(0, MARKDOWN_PROBLEMS).map((issue) => `> - \`${escapeMarkdown(`${issue.file}:${issue.line}:${issue.column}`)}\`: ${escapeMarkdown(issue.message)}`);
  const more = error.issues.length > MARKDOWN_PROBLEMS ? [`> - … ${error.issues.length - MARKDOWN_PROBLEMS} more in the run log`] : [];
  return ['### scimform plan', '', '> [!CAUTION]', `> **No plan**: the files did not validate (${plural(error.issues.length, 'problem')}). Fix them and run \`scimform validate\` again.`, '>', ...lines, ...more, ''].join('\n');
}

export async function run(ctx: CliContext, options: Record<string, unknown>): Promise<number> {
  const opts = options as unknown as PlanOptions;
  let result: PlanningResult;
  try {
    result = await planAll(ctx, { allowMassRemoval: opts.allowMassRemoval === true });
  } catch (error) {
    if (opts.format === 'markdown' && error instanceof ValidationError) ctx.stdout.write(invalidFilesMarkdown(error));
    throw error;
  }
  const saved = savedPlanOf(ctx, result);
  printPlans(ctx, result, opts.format, saved);
  if (opts.out && result.plans.length > 0) {
    const file = path.resolve(ctx.cwd, opts.out);
    // The files the plan was made from: the saved plan would replace one, and the next run fail on it.
    const inputs = new Set(result.desired.files.map((input) => path.resolve(result.config.dir, input.path)));
    if (inputs.has(file)) {
      throw new ScimformError(`--out ${opts.out} is one of the files this plan was made from; the saved plan would replace it`, {
        hint: 'Write the saved plan to a file of its own, e.g. --out plan.json.',
      });
    }
    await writeSavedPlan(file, saved);
    ctx.note(`Saved the plan to ${opts.out}; apply it with: scimform apply ${opts.out}`);
  }
  reportFailures(ctx, result.failures);
  // The plan shows each refusal in context (stdout, which CI may send to a file); stderr still
  // says the run failed, and why, so a job log has the reason too.
  for (const plan of result.plans) {
    const count = plan.violations.length;
    if (count === 0) continue;
    ctx.warn(`error: target ${plan.target.name}: ${count === 1 ? 'a guard refuses' : `${count} guards refuse`} this plan; apply would write nothing:`);
    for (const violation of plan.violations) ctx.warn(`  ${violation.message}`);
  }
  return planExitCode(result, opts.detailedExitcode === true);
}
