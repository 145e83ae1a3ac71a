import { describe, expect, test } from 'vitest';
import { renderText, summaryLine } from '../../src/render/index.js';
import type { TargetPlan } from '../../src/plan/types.js';
import { createUser, emptyPlan, genericPlan, largePlan, lightstepPlan, summarize } from './fixtures.js';

describe('renderText golden output', () => {
  test.each([
    ['lightstep', () => [lightstepPlan()]],
    ['generic-with-violation', () => [genericPlan()]],
    ['empty', () => [emptyPlan()]],
    ['several-targets', () => [lightstepPlan(), genericPlan(), emptyPlan()]],
  ] as const)('%s', async (name, plans) => {
    await expect(renderText(plans(), { color: false })).toMatchFileSnapshot(`golden/${name}.txt`);
  });

  test('colour', async () => {
    await expect(renderText([lightstepPlan(), genericPlan()], { color: true })).toMatchFileSnapshot('golden/colour.ansi.txt');
  });
});
