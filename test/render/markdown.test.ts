import { describe, expect, test } from 'vitest';
import { renderMarkdown } from '../../src/render/index.js';
import { emptyPlan, genericPlan, largePlan, lightstepPlan } from './fixtures.js';

describe('renderMarkdown golden output', () => {
  test.each([
    ['lightstep', () => [lightstepPlan()]],
    ['several-targets', () => [lightstepPlan(), genericPlan(), emptyPlan()]],
  ] as const)('%s', async (name, plans) => {
    await expect(renderMarkdown(plans())).toMatchFileSnapshot(`golden/${name}.md`);
  });
  test('truncated', async () => {
    await expect(renderMarkdown([largePlan('big', 300), lightstepPlan()], { maxLength: 8000 })).toMatchFileSnapshot(`golden/truncated.md`);
  });
});
