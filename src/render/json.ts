/** The saved-plan document as JSON (SPEC §4 "Saved plan"), valid against `schemas/plan.schema.json`. */
import type { SavedPlan } from '../plan/types.js';
import { safeJson } from './format.js';

/**
 * Keys that lead, in this order, wherever they occur; every other key follows alphabetically.
 * The order never depends on how the objects were built, so two plans of the same state are
 * byte-identical and a saved plan diffs cleanly. `schemas` leads as in every SCIM example
 * (RFC 7644 §3.3), a request reads `method path`, a change `path old new`, a PatchOp operation
 * `op path value`.
 */
const LEADING_KEYS = [
  'formatVersion',
  'scimformVersion',
  'createdAt',
  'config',
  'digest',
  'files',
  'target',
  'kind',
  'key',
  'schemas',
  'name',
  'op',
  'method',
  'path',
  'old',
  'new',
  'value',
];
const rank = new Map(LEADING_KEYS.map((key, index) => [key, index]));

function compareKeys(a: string, b: string): number {
  const rankA = rank.get(a) ?? LEADING_KEYS.length;
  const rankB = rank.get(b) ?? LEADING_KEYS.length;
  if (rankA !== rankB) return rankA - rankB;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => compareKeys(a, b));
  return Object.fromEntries(entries.map(([key, item]) => [key, ordered(item)]));
}

/**
 * Pretty (two-space indent), stable key order, trailing newline. Printed by `plan --format json`:
 * what the plan's text shows escaped is escaped the JSON way (`\u200b`), which reads back the same.
 */
export function renderJson(saved: SavedPlan): string {
  return `${safeJson(JSON.stringify(ordered(saved), null, 2))}\n`;
}
