/** Guards hold at apply time too (SPEC §4): a saved plan is refused when it breaks them, whoever made it. */
import { ScimformError } from '../errors.js';
import type { GuardViolation, TargetPlan } from '../plan/types.js';

/** The violations that still stop apply: all of them, or with `--allow-mass-removal` only those it cannot override. */
export function blockingViolations(plans: readonly TargetPlan[], allowMassRemoval: boolean): { target: string; violation: GuardViolation }[] {
  return plans.flatMap((plan) =>
    plan.violations.filter((violation) => !allowMassRemoval || !violation.overridable).map((violation) => ({ target: plan.target.name, violation })),
  );
}

/** Throws before anything is written when a guard refuses the plan. */
export function assertGuards(plans: readonly TargetPlan[], options: { allowMassRemoval: boolean }): void {
  const blocking = blockingViolations(plans, options.allowMassRemoval);
  const first = blocking[0];
  if (!first) return;
  const message =
    blocking.length === 1
      ? `${first.target}: ${first.violation.message}`
      : `${blocking.length} guards refuse this plan: ${blocking.map(({ target, violation }) => `${target}: ${violation.message}`).join('; ')}`;
  const hint = blocking.every(({ violation }) => violation.overridable)
    ? 'Review the removals; if they are intended, apply again with --allow-mass-removal.'
    : 'DELETE needs `allowDelete: true` under `policy` in the config; change the config or the policy, then plan again.';
  throw new ScimformError(message, { hint });
}
