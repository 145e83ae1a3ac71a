/** The terminal plan, Terraform-like (SPEC §4 "Output"). */
import type { TargetPlan } from '../plan/types.js';
import { blockFor, blockTextLines, noteLines, removalsLine, summaryLine, targetHeader } from './blocks.js';
import { safeText } from './format.js';
import { paletteFor, type Palette } from './style.js';

export interface RenderOptions {
  /** ANSI colour: `+` green, `~` yellow, `-` red, `!` magenta and bold. */
  color: boolean;
  /** Print the plan's notes (default true); `--quiet` leaves them out. */
  notes?: boolean;
}

const BATCH = 1000;

function targetText(plan: TargetPlan, palette: Palette, withNotes: boolean): string[] {
  const [title = '', ...stats] = targetHeader(plan);
  const lines = [palette.bold(title), ...stats, ''];
  if (plan.plan.operations.length === 0) {
    lines.push(summaryLine(plan));
  } else {
    // Joined a thousand blocks at a time: the short-lived line strings die young instead of all
    // surviving until one final join (at 10,000 creates, most of the rendering time was the
    // garbage collector moving them).
    let batch: string[] = [];
    for (const [index, operation] of plan.plan.operations.entries()) {
      for (const line of blockTextLines(blockFor(operation), palette)) batch.push(line);
      if (index % BATCH === BATCH - 1) {
        lines.push(batch.join('\n'));
        batch = [];
      }
    }
    if (batch.length > 0) lines.push(batch.join('\n'));
    lines.push('', palette.bold(summaryLine(plan)));
    const removals = removalsLine(plan);
    if (removals !== undefined) lines.push(removals);
  }
  const notes = withNotes ? noteLines(plan) : [];
  if (notes.length > 0) lines.push('', ...notes);
  // After the summary, where the eye lands last: a refused guard means apply will not run.
  if (plan.violations.length > 0) {
    lines.push('');
    for (const violation of plan.violations) lines.push(`${palette.error('Error:')} ${safeText(violation.message)}`);
  }
  return lines;
}

/** The plan of every target, separated by a blank line, ending with a newline. */
export function renderText(plans: TargetPlan[], options: RenderOptions): string {
  const palette = paletteFor(options.color);
  return `${plans.map((plan) => targetText(plan, palette, options.notes !== false).join('\n')).join('\n\n')}\n`;
}
