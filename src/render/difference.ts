/**
 * How the plan applied differs from the plan reviewed: a unified diff of their text renderings,
 * for the job summary of a merge that could not apply the reviewed plan (SPEC §7). The lines that
 * only say how long reading took are left out, so the diff shows only what the plans decide.
 */
import { createTwoFilesPatch } from 'diff';
import type { TargetPlan } from '../plan/types.js';
import { renderText } from './text.js';

function comparable(plans: TargetPlan[]): string {
  return renderText(plans, { color: false, notes: false })
    .split('\n')
    .filter((line) => !/^Read [\d,]+ users? and [\d,]+ groups? in /.test(line))
    .join('\n');
}

/** A unified diff from the reviewed plan to the applied one; empty when they decide the same. */
export function renderPlanDifference(reviewed: TargetPlan[], applied: TargetPlan[]): string {
  const before = comparable(reviewed);
  const after = comparable(applied);
  if (before === after) return '';
  const patch = createTwoFilesPatch('reviewed plan', 'applied plan', before, after, undefined, undefined, { context: 2 });
  // The "Index"/"===" preamble says nothing here; the hunks start at the first "---".
  return patch.slice(patch.indexOf('--- '));
}
