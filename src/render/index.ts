/**
 * Renderers of the plan value: pure functions from `TargetPlan[]` (or a `SavedPlan`) to text.
 * No I/O; the CLI decides where the text goes.
 */
export { renderText, type RenderOptions } from './text.js';
export { renderMarkdown, escapeMarkdown, GITHUB_COMMENT_LIMIT, type MarkdownOptions } from './markdown.js';
export { renderJson } from './json.js';
export { summaryLine } from './blocks.js';
export { formatProvenance, formatValue, shortId } from './format.js';
