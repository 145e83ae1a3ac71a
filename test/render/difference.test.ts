import { describe, expect, test } from 'vitest';
import { renderPlanDifference } from '../../src/render/difference.js';
import type { TargetPlan } from '../../src/plan/types.js';
import { createUser, lightstepPlan, summarize, updateFamilyName } from './fixtures.js';

/** The same target, with other operations and another read time. */
function withOperations(plan: TargetPlan, operations: TargetPlan['plan']['operations'], durationMs: number): TargetPlan {
  return { ...plan, fetch: { ...plan.fetch, durationMs }, plan: { ...plan.plan, operations, summary: summarize(operations) } };
}

describe('how the applied plan differs from the reviewed one', () => {
  test('the same decisions read at another time: no difference', () => {
    const plan = lightstepPlan();
    expect(renderPlanDifference([plan], [withOperations(plan, plan.plan.operations, 99_999)])).toBe('');
  });

  test('a changed operation is a unified diff from the reviewed plan to the applied one', () => {
    const plan = lightstepPlan();
    const reviewed = withOperations(plan, [updateFamilyName('8f2c1d', 'jane@example.com', 'Doe', 'Smith', 12)], 2100);
    const applied = withOperations(plan, [updateFamilyName('8f2c1d', 'jane@example.com', 'Doe', 'Jones', 12), createUser('new@example.com', 'New', 'Hire', 41)], 1800);
    const difference = renderPlanDifference([reviewed], [applied]);
    const lines = difference.split('\n');
    expect(lines.slice(0, 2)).toEqual(['--- reviewed plan', '+++ applied plan']);
    expect(lines).toContain('-      name.familyName: "Doe" → "Smith"');
    expect(lines).toContain('+      name.familyName: "Doe" → "Jones"');
    expect(lines.some((line) => line.startsWith('+  + user new@example.com'))).toBe(true);
    expect(lines.some((line) => /^[-+]Read /.test(line))).toBe(false);
  });
});
