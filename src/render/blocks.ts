/**
 * What a reviewer sees of one operation, independent of the medium: a symbol, a title, where it
 * comes from, and detail lines. The text renderer prints blocks for a terminal, the Markdown
 * renderer for a diff block in a pull-request comment.
 */
import type { AttributeChange, MemberRef, Operation, TargetPlan } from '../plan/types.js';
import { MAX_REMOVALS_FLOOR } from '../plan/guards.js';
import { displayWidth, formatCount, formatDuration, formatProvenance, formatValue, plural, safeText, shortId } from './format.js';
import { type Palette, plainPalette } from './style.js';

/** `+` create, `~` update, `-` deactivate/delete, `!` manual action (SPEC §4). */
export type OperationSymbol = '+' | '~' | '-' | '!';

export interface DetailLine {
  /** `+`/`-` for a member added/removed inside a group operation. */
  mark?: '+' | '-';
  text: string;
}

export interface OperationBlock {
  symbol: OperationSymbol;
  title: string;
  /** A word after the title that says what happens (`deactivate`, `DELETE`). */
  tag?: string;
  /** Whether the tag announces something that cannot be undone; printed loudly. */
  destructive: boolean;
  provenance: string;
  details: DetailLine[];
}

function changeLine(change: AttributeChange): DetailLine {
  return { text: `${safeText(change.path)}: ${formatValue(change.old)} → ${formatValue(change.new)}` };
}

function memberLine(mark: '+' | '-', member: MemberRef): DetailLine {
  const created = member.id === undefined && mark === '+' ? ' (created by this plan)' : '';
  return { mark, text: `member ${safeText(member.userName)}${created}` };
}

/** A reactivation or deactivation must show the `active` flip even if the change list leaves it implicit. */
function withActive(changes: AttributeChange[], from: boolean, to: boolean): DetailLine[] {
  const lines = changes.map(changeLine);
  if (!changes.some((change) => change.path === 'active')) lines.unshift(changeLine({ path: 'active', old: from, new: to }));
  return lines;
}

export function blockFor(operation: Operation): OperationBlock {
  const provenance = formatProvenance(operation.provenance);
  switch (operation.kind) {
    case 'createUser':
      return {
        symbol: '+',
        title: `user ${safeText(operation.userName)}`,
        destructive: false,
        provenance,
        details: operation.changes.map((change) => ({ text: `${safeText(change.path)}: ${formatValue(change.new)}` })),
      };
    case 'updateUser': {
      const renamed = operation.renamedFrom === undefined
        ? ''
        : ` renamed from ${safeText(operation.renamedFrom)}${operation.externalId === undefined ? '' : ` (externalId ${safeText(operation.externalId)})`}`;
      return {
        symbol: '~',
        title: `user ${safeText(operation.userName)} (id ${shortId(operation.id)})${renamed}`,
        destructive: false,
        provenance,
        details: operation.changes.map(changeLine),
      };
    }
    case 'reactivateUser':
      return {
        symbol: '~',
        title: `user ${safeText(operation.userName)} (id ${shortId(operation.id)})`,
        tag: 'reactivate',
        destructive: false,
        provenance,
        details: withActive(operation.changes, false, true),
      };
    case 'deactivateUser':
      return {
        symbol: '-',
        title: `user ${safeText(operation.userName)} (id ${shortId(operation.id)})`,
        tag: 'deactivate',
        destructive: false,
        provenance,
        details: withActive(operation.changes, true, false),
      };
    case 'deleteUser':
      return {
        symbol: '-',
        title: `user ${safeText(operation.userName)} (id ${shortId(operation.id)})`,
        tag: 'DELETE',
        destructive: true,
        provenance,
        details: [{ text: 'deleted permanently: the account cannot be restored' }],
      };
    case 'createGroup':
      return {
        symbol: '+',
        title: `group ${safeText(operation.displayName)}`,
        destructive: false,
        provenance,
        details: [
          { text: `displayName: ${formatValue(operation.displayName)}` },
          ...(operation.externalId === undefined ? [] : [{ text: `externalId: ${formatValue(operation.externalId)}` }]),
          ...operation.members.map((member) => memberLine('+', member)),
        ],
      };
    case 'updateGroupMembers':
      return {
        symbol: '~',
        title: `group ${safeText(operation.displayName)} (id ${shortId(operation.id)})`,
        destructive: false,
        provenance,
        details: [
          ...operation.changes.map(changeLine),
          ...operation.add.map((member) => memberLine('+', member)),
          ...operation.remove.map((member) => memberLine('-', member)),
        ],
      };
    case 'deleteGroup':
      return {
        symbol: '-',
        title: `group ${safeText(operation.displayName)} (id ${shortId(operation.id)})`,
        tag: 'DELETE',
        destructive: true,
        provenance,
        details: [{ text: 'deleted permanently: members keep their accounts' }],
      };
    case 'manual':
      return {
        symbol: '!',
        title: safeText(operation.subject),
        destructive: false,
        provenance,
        details: [{ text: `manual action needed: ${safeText(operation.reason)}` }],
      };
  }
}

/**
 * Column where provenance starts (0-based), as in the SPEC's example. Fixed rather than taken
 * from the terminal, so the same plan prints the same everywhere; a title too long for it gets
 * its provenance on the next line, in the same column.
 */
export const PROVENANCE_COLUMN = 51;
const GAP = 2;

/** The title line, and the provenance on a line of its own when the title is too long for the column. */
export function blockHeadLines(block: OperationBlock, palette: Palette = plainPalette): string[] {
  const title = block.tag === undefined ? block.title : `${block.title} ${block.tag}`;
  const plainHead = `  ${block.symbol} ${title}`;
  const styledTag = block.tag === undefined ? '' : ` ${block.destructive ? palette.danger(block.tag) : block.tag}`;
  const styledHead = `  ${palette.symbol(block.symbol)} ${block.title}${styledTag}`;
  const width = displayWidth(plainHead);
  const provenance = palette.dim(block.provenance);
  return width + GAP <= PROVENANCE_COLUMN
    ? [`${styledHead}${' '.repeat(PROVENANCE_COLUMN - width)}${provenance}`]
    : [styledHead, `${' '.repeat(PROVENANCE_COLUMN)}${provenance}`];
}

/** `      name.familyName: "Doe" → "Smith"` or `      + member jane@example.com`. */
export function detailTextLine(detail: DetailLine, palette: Palette = plainPalette): string {
  return detail.mark === undefined ? `      ${detail.text}` : `      ${palette.symbol(detail.mark)} ${detail.text}`;
}

/** Terminal lines of a block: `  ~ user jane@example.com (id 8f2c…)   identities/eng.yaml:12` and its details. */
export function blockTextLines(block: OperationBlock, palette: Palette = plainPalette): string[] {
  return [...blockHeadLines(block, palette), ...block.details.map((detail) => detailTextLine(detail, palette))];
}

/** `Target lightstep (https://api.lightstep.com/scim/v2, profile lightstep)` and the read statistics. */
export function targetHeader(plan: TargetPlan): string[] {
  const { fetch } = plan;
  return [
    `Target ${safeText(plan.target.name)} (${safeText(plan.target.url)}, profile ${safeText(plan.target.profile)})`,
    `Read ${plural(fetch.users, 'user')} and ${plural(fetch.groups, 'group')} in ${plural(fetch.pages, 'page')} (${formatDuration(fetch.durationMs)}).`,
  ];
}

/** Total number of changes a target plan makes or asks for (the sum of its summary). */
export function changeCount(plan: TargetPlan): number {
  const { create, update, deactivate, delete: deletions, manual } = plan.plan.summary;
  return create + update + deactivate + deletions + manual;
}

/** `Plan: 1 to create, 2 to update, 1 to deactivate, 0 to delete, 1 manual.`, or `No changes. …` for an empty plan. */
export function summaryLine(plan: TargetPlan): string {
  if (plan.plan.operations.length === 0) return `No changes. ${safeText(plan.target.name)} matches the files.`;
  const { create, update, deactivate, delete: deletions, manual } = plan.plan.summary;
  return `Plan: ${formatCount(create)} to create, ${formatCount(update)} to update, ${formatCount(deactivate)} to deactivate, ${formatCount(deletions)} to delete, ${formatCount(manual)} manual.`;
}

/**
 * `Removals: 1 of 1,204 live users (limit 25%).`; absent when nothing is removed. Below the floor
 * the limit is not checked, and the line says so rather than suggest it was.
 */
export function removalsLine(plan: TargetPlan): string | undefined {
  const { removals, liveUsersInScope, limit } = plan.plan.removals;
  if (removals === 0) return undefined;
  const floor = liveUsersInScope < MAX_REMOVALS_FLOOR ? `, checked from ${MAX_REMOVALS_FLOOR} live users in scope` : '';
  return `Removals: ${formatCount(removals)} of ${plural(liveUsersInScope, 'live user')} (limit ${safeText(limit.text)}${floor}).`;
}

/** `Note: user x is protected: left alone`, for things a reviewer should know that are not operations. */
export function noteLines(plan: TargetPlan): string[] {
  return (plan.plan.notes ?? []).map((note) => `Note: ${safeText(note)}`);
}
