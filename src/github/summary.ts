/**
 * The apply's job summary, kept under GitHub's limit for what one step writes to
 * `GITHUB_STEP_SUMMARY`: 1 MiB, over which GitHub shows none of it, not even the warning that the
 * apply differs from the reviewed plan. The heading and the outcome are always kept; the diff
 * from the reviewed plan and the apply's output are shortened by whole lines, saying how many
 * were left out (the job log has them all).
 */
import { plural } from '../render/format.js';

export const STEP_SUMMARY_LIMIT = 1024 * 1024;

export interface ApplySummary {
  /** Markdown: which plan was applied, and why. */
  heading: string;
  /** A unified diff from the reviewed plan to the applied one; empty when there is none. */
  difference: string;
  /** Markdown: how the apply ended, when not well; empty otherwise. */
  outcome: string;
  /** What the apply printed: the plan applied, then the report. */
  output: string;
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** A code fence longer than any run of backticks in the text, so a name cannot close it. */
function fenceFor(text: string): string {
  let longest = 2;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(longest + 1);
}

function omitted(count: number): string {
  return `… ${plural(count, 'line')} not shown here: the job log has them all`;
}

/**
 * The text in at most `budget` bytes of UTF-8, cut by whole lines: the first ones, and with
 * `keepEnd` the last ones too (where the apply's report is), around a line counting the others.
 */
export function shortenLines(text: string, budget: number, keepEnd = false): string {
  if (bytes(text) <= budget) return text;
  const lines = text.split('\n');
  const room = Math.max(0, budget - bytes(omitted(lines.length)) - 2);
  let used = 0;
  let head = 0;
  const headRoom = keepEnd ? Math.floor(room / 2) : room;
  while (head < lines.length && used + bytes(lines[head]!) + 1 <= headRoom) used += bytes(lines[head++]!) + 1;
  let tail = 0;
  while (keepEnd && tail < lines.length - head) {
    const size = bytes(lines[lines.length - 1 - tail]!) + 1;
    if (used + size > room) break;
    used += size;
    tail += 1;
  }
  return [...lines.slice(0, head), omitted(lines.length - head - tail), ...lines.slice(lines.length - tail)].join('\n');
}

function assemble(summary: ApplySummary): string {
  const difference = summary.difference.trimEnd();
  const output = summary.output.trimEnd();
  let text = `### scimform apply\n\n${summary.heading}`;
  if (difference) {
    const fence = fenceFor(difference);
    text += `\n\n<details><summary>How the applied plan differs from the reviewed one</summary>\n\n${fence}diff\n${difference}\n${fence}\n\n</details>`;
  }
  const fence = fenceFor(output);
  return `${text}\n${summary.outcome}\n${fence}diff\n${output}\n${fence}\n`;
}

/** The summary in Markdown, at most `limit` bytes: the diff and the output share what the rest leaves. */
export function renderApplySummary(summary: ApplySummary, limit = STEP_SUMMARY_LIMIT): string {
  const full = assemble(summary);
  if (bytes(full) <= limit) return full;
  const difference = summary.difference.trimEnd();
  const output = summary.output.trimEnd();
  // Everything else, with the diff's wrapper if it has one.
  let room = limit - bytes(assemble({ ...summary, difference: difference ? '-' : '', output: '' }));
  for (;;) {
    // The smaller of the two keeps what it needs of half the room; the other gets the rest.
    const half = Math.floor(room / 2);
    const differenceBudget = bytes(difference) <= bytes(output) ? Math.min(bytes(difference), half) : room - Math.min(bytes(output), half);
    const shortened = assemble({ ...summary, difference: shortenLines(difference, differenceBudget), output: shortenLines(output, room - differenceBudget, true) });
    // Longer fences (names with backticks) are the only way past the limit: then try with less.
    if (bytes(shortened) <= limit || room <= 0) return shortened;
    room -= 1024;
  }
}
