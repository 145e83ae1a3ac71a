/**
 * The plan as a pull-request comment (SPEC §4 "Output"): a summary table, refused guards in plain
 * sight, and per target the text plan in a collapsed `diff` block. The whole comment is kept under
 * GitHub's 65,536-character limit by cutting operations fairly across targets.
 */
import type { Operation, TargetPlan } from '../plan/types.js';
import { summarise } from '../plan/compute.js';
import {
  blockFor,
  blockHeadLines,
  changeCount,
  detailTextLine,
  noteLines,
  type OperationBlock,
  removalsLine,
  summaryLine,
  targetHeader,
} from './blocks.js';
import { formatCount, plural, safeText } from './format.js';

export interface MarkdownOptions {
  /** Largest document to return, in UTF-16 code units (what GitHub counts). Default 65,536. */
  maxLength?: number;
}

export const GITHUB_COMMENT_LIMIT = 65_536;

/** Escapes what HTML would interpret. Enough inside `<summary>`, where Markdown is not parsed. */
function escapeHtml(text: string): string {
  return safeText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes what Markdown or HTML would interpret in a table cell or a paragraph. */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text).replace(/[\\`*_[\]|#~]/g, (char) => `\\${char}`);
}

/**
 * A text block moved into a `diff` block. GitHub colours a diff line by its first character:
 * `+` green, `-` red, `!` orange ("changed"), anything else plain. So the operation's symbol moves
 * to column 0 (`  + user x` → `+   user x`, as Terraform plans are usually posted) and its detail
 * lines repeat it, which colours the whole operation: creates green, deactivations and deletes
 * red, manual actions (`!`) orange, the colour that asks for attention. `~` means nothing to the
 * diff grammar, so an update stays plain, except its member lines, which keep their own `+`/`-`.
 */
function blockDiffLines(block: OperationBlock): string[] {
  const marker = block.symbol === '~' ? ' ' : block.symbol;
  const [head = '', ...continuation] = blockHeadLines(block);
  return [
    `${block.symbol}   ${head.slice(4)}`,
    ...continuation.map((line) => `${marker}${line.slice(1)}`),
    ...block.details.map((detail) => `${detail.mark ?? marker}${detailTextLine(detail).slice(1)}`),
  ];
}

interface TargetSection {
  plan: TargetPlan;
  /** One string per operation, each line ending with `\n`. */
  blocks: string[];
  /** Operation indexes in the order a cut comment keeps them (see `reviewRank`). */
  keep: number[];
  /** A code fence longer than any backtick run in the content, so a name can't close it. */
  fence: string;
}

/**
 * What a reviewer must see first when the comment is cut: what takes access away, then what a
 * person must do, then changes, then additions. Plan order puts removals last (apply order), so
 * cutting in plan order would hide exactly those.
 */
function reviewRank(operation: Operation): number {
  switch (operation.kind) {
    case 'deleteUser':
    case 'deleteGroup':
    case 'deactivateUser':
      return 0;
    case 'updateGroupMembers':
      return operation.remove.length > 0 ? 0 : 2;
    case 'manual':
      return 1;
    case 'updateUser':
    case 'reactivateUser':
      return 2;
    case 'createUser':
    case 'createGroup':
      return 3;
  }
}

function sectionOf(plan: TargetPlan): TargetSection {
  const { operations } = plan.plan;
  const blocks = operations.map((operation) => `${blockDiffLines(blockFor(operation)).join('\n')}\n`);
  const ranks = operations.map(reviewRank);
  const keep = operations.map((_, index) => index).sort((a, b) => ranks[a]! - ranks[b]! || a - b);
  let longest = 2;
  for (const block of blocks) for (const run of block.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return { plan, blocks, keep, fence: '`'.repeat(longest + 1) };
}

/** `… 1,726 more operations not shown (1,721 to create, 5 to update); …`: what was cut, by kind. */
function truncationNote(hidden: readonly Operation[]): string {
  const { create, update, deactivate, delete: deletions, manual } = summarise(hidden);
  const kinds = [
    [create, 'to create'],
    [update, 'to update'],
    [deactivate, 'to deactivate'],
    [deletions, 'to delete'],
    [manual, 'manual'],
  ] as const;
  const counted = kinds.filter(([count]) => count > 0).map(([count, label]) => `${formatCount(count)} ${label}`);
  return `… ${plural(hidden.length, 'more operation')} not shown (${counted.join(', ')}); the full plan is in the saved plan artifact`;
}

function summaryTable(plans: TargetPlan[]): string {
  const rows = plans.map((plan) => {
    const { create, update, deactivate, delete: deletions, manual } = plan.plan.summary;
    return `| ${escapeMarkdown(plan.target.name)} | ${[create, update, deactivate, deletions, manual].map(formatCount).join(' | ')} |`;
  });
  return ['| target | create | update | deactivate | delete | manual |', '|---|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

/** Refused guards, outside any `<details>` so they can never be collapsed away. */
function violationsSection(plans: TargetPlan[]): string | undefined {
  const refused = plans.filter((plan) => plan.violations.length > 0);
  if (refused.length === 0) return undefined;
  const lines = ['> [!CAUTION]'];
  for (const plan of refused) {
    lines.push(`> **${escapeMarkdown(plan.target.name)}**: apply will refuse this plan.`);
    for (const violation of plan.violations) lines.push(`> - ${escapeMarkdown(violation.message)}`);
  }
  return lines.join('\n');
}

/** Notes can be many (every protected user); a few are enough in a comment. */
const MAX_NOTES = 20;

function cappedNotes(plan: TargetPlan): string[] {
  const notes = noteLines(plan);
  if (notes.length <= MAX_NOTES) return notes;
  return [...notes.slice(0, MAX_NOTES), `… ${plural(notes.length - MAX_NOTES, 'more note')} not shown; the full plan is in the saved plan artifact`];
}

/** A target without operations: one line, and its notes as a list. */
function unchangedSection(plan: TargetPlan): string {
  const line = `**${escapeMarkdown(plan.target.name)}**: ${escapeMarkdown(summaryLine(plan))}`;
  const notes = cappedNotes(plan).map((note) => `- ${escapeMarkdown(note)}`);
  return notes.length > 0 ? `${line}\n\n${notes.join('\n')}` : line;
}

function targetSection(section: TargetSection, shown: number): string {
  const { plan } = section;
  if (plan.plan.operations.length === 0) return unchangedSection(plan);
  const name = escapeHtml(plan.target.name);
  const total = section.blocks.length;
  const changes = plural(changeCount(plan), 'change');
  const title = shown < total ? `${name}: ${changes} (${formatCount(shown)} shown)` : `${name}: ${changes}`;
  // The operations kept are shown in plan order, so the comment reads like the full plan with gaps.
  const kept = new Set(section.keep.slice(0, shown));
  let body = `${targetHeader(plan).join('\n')}\n\n${section.blocks.filter((_, index) => kept.has(index)).join('')}`;
  if (shown < total) body += `${truncationNote(plan.plan.operations.filter((_, index) => !kept.has(index)))}\n`;
  body += `\n${summaryLine(plan)}`;
  const removals = removalsLine(plan);
  if (removals !== undefined) body += `\n${removals}`;
  const notes = cappedNotes(plan);
  if (notes.length > 0) body += `\n\n${notes.join('\n')}`;
  return [
    `<details><summary>${title}</summary>`,
    '',
    `${section.fence}diff`,
    body,
    section.fence,
    '',
    '</details>',
  ].join('\n');
}

/** A target in one line, for when even the headers of every section do not fit. */
function compactSection(section: TargetSection): string {
  const { plan } = section;
  const name = escapeMarkdown(plan.target.name);
  if (plan.plan.operations.length === 0) return `**${name}**: ${escapeMarkdown(summaryLine(plan))}`;
  return `**${name}**: ${escapeMarkdown(summaryLine(plan))} Operations not shown: the comment would be too long; the full plan is in the saved plan artifact.`;
}

function assemble(plans: TargetPlan[], sections: TargetSection[], shown: number[] | 'compact'): string {
  const parts = ['### scimform plan', summaryTable(plans)];
  const violations = violationsSection(plans);
  if (violations !== undefined) parts.push(violations);
  sections.forEach((section, index) =>
    parts.push(shown === 'compact' ? compactSection(section) : targetSection(section, shown[index] ?? 0)),
  );
  return `${parts.join('\n\n')}\n`;
}

/**
 * How many operations of each target, in `keep` order, fit in `budget` characters. Fair by water-filling:
 * targets are visited smallest first, each may use an equal share of what is left, and what a
 * small target does not use goes to the larger ones.
 */
function allocate(sections: TargetSection[], budget: number): number[] {
  const shown = sections.map(() => 0);
  const order = sections.map((_, index) => index).sort((a, b) => size(sections[a]) - size(sections[b]) || a - b);
  let remaining = Math.max(0, budget);
  order.forEach((index, position) => {
    const section = sections[index];
    if (section === undefined) return;
    const share = Math.floor(remaining / (order.length - position));
    let used = 0;
    let count = 0;
    for (const index of section.keep) {
      const block = section.blocks[index]!;
      if (used + block.length > share) break;
      used += block.length;
      count += 1;
    }
    shown[index] = count;
    remaining -= used;
  });
  return shown;
}

function size(section: TargetSection | undefined): number {
  return section === undefined ? 0 : section.blocks.reduce((sum, block) => sum + block.length, 0);
}

const HARD_CUT_NOTE = '\n\n… the plan is too long for a comment; the full plan is in the saved plan artifact\n';

export function renderMarkdown(plans: TargetPlan[], options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? GITHUB_COMMENT_LIMIT;
  const sections = plans.map(sectionOf);
  const all = sections.map((section) => section.blocks.length);
  const full = assemble(plans, sections, all);
  if (full.length <= maxLength) return full;

  // Everything but the operations: headers, summaries, guards and a truncation note per target.
  const skeleton = assemble(plans, sections, sections.map(() => 0));
  // "(N shown)" and the note's count may grow by a few digits once operations are shown.
  const slack = sections.length * 16;
  const shown = allocate(sections, maxLength - skeleton.length - slack);
  let document = assemble(plans, sections, shown);
  // The estimate is conservative; this loop only guards the limit against a wrong estimate.
  while (document.length > maxLength && shown.some((count) => count > 0)) {
    const largest = shown.indexOf(Math.max(...shown));
    shown[largest] = (shown[largest] ?? 1) - 1;
    document = assemble(plans, sections, shown);
  }
  if (document.length <= maxLength) return document;
  // Only reachable with very many targets or a tiny limit: one line per target, then whole lines
  // of that for as long as they fit (guards and the table come first, so they are kept longest).
  const compact = assemble(plans, sections, 'compact');
  if (compact.length <= maxLength) return compact;
  const room = Math.max(0, maxLength - HARD_CUT_NOTE.length);
  const cut = compact.lastIndexOf('\n', room);
  return `${compact.slice(0, cut > 0 ? cut : room).trimEnd()}${HARD_CUT_NOTE}`.slice(0, maxLength);
}
