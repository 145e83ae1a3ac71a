/**
 * Renderers of the plan value: pure functions from `TargetPlan[]` (or a `SavedPlan`) to text.
 * No I/O; the CLI decides where the text goes.
 */
import type { SavedPlan } from '../plan/types.js';
import { renderJson } from './json.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';
import { renderText, type RenderOptions } from './text.js';

export { renderText, type RenderOptions } from './text.js';
export { renderMarkdown, escapeMarkdown, GITHUB_COMMENT_LIMIT, type MarkdownOptions } from './markdown.js';
export { renderJson } from './json.js';
export { summaryLine } from './blocks.js';
export { formatProvenance, formatValue, shortId } from './format.js';

/** The values of `plan --format`. */
export const PLAN_FORMATS = ['text', 'markdown', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/**
 * One entry point for `plan --format`: the saved-plan document carries everything every format
 * needs (JSON prints all of it, text and Markdown its targets).
 */
export function renderPlan(saved: SavedPlan, format: PlanFormat, options: RenderOptions & MarkdownOptions = { color: false }): string {
  switch (format) {
    case 'text':
      return renderText(saved.targets, options);
    case 'markdown':
      return renderMarkdown(saved.targets, options);
    case 'json':
      return renderJson(saved);
  }
}
