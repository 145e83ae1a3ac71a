import { describe, expect, test } from 'vitest';
import { assertGuards } from '../../src/apply/guards.js';
import type { GuardViolation } from '../../src/plan/types.js';
import { targetPlan } from './fakes.js';

const massRemoval: GuardViolation = { guard: 'maxRemovals', message: '30 removals of 100 live users exceed maxRemovals 25%', overridable: true };
const deleteNotAllowed: GuardViolation = { guard: 'deleteNotAllowed', message: 'policy unmanagedUsers is delete but allowDelete is false', overridable: false };

describe('assertGuards', () => {
  test.each([
    { name: 'no violation passes', violations: [], allow: false, error: undefined },
    { name: 'a mass removal is refused', violations: [massRemoval], allow: false, error: 'test: 30 removals of 100 live users exceed maxRemovals 25%' },
    { name: '--allow-mass-removal overrides it', violations: [massRemoval], allow: true, error: undefined },
    { name: '--allow-mass-removal does not override allowDelete', violations: [massRemoval, deleteNotAllowed], allow: true, error: 'test: policy unmanagedUsers is delete but allowDelete is false' },
    { name: 'several violations are all named', violations: [massRemoval, deleteNotAllowed], allow: false, error: '2 guards refuse this plan: test: 30 removals' },
  ])('$name', ({ violations, allow, error }) => {
    const plan = { ...targetPlan([]), violations };
    const run = () => assertGuards([plan], { allowMassRemoval: allow });
    if (error === undefined) expect(run).not.toThrow();
    else expect(run).toThrow(error);
  });
});
