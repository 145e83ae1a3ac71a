/** Guards hold at apply time too (SPEC §4): a saved plan is refused when it breaks them, whoever made it. */
import { ScimformError } from '../errors.js';
import type { Policy } from '../model.js';
import { scopeRules } from '../plan/scope.js';
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
    ? 'Nothing was written.'
    : 'DELETE needs `allowDelete: true` under `policy` in the config; change the config or the policy, then plan again.';
  throw new ScimformError(message, { hint });
}

/**
 * The policy of the config in the working tree, checked against the operations themselves just
 * before they are sent. A saved plan is data from elsewhere (an artifact of a pull request's
 * run): whatever it says of its own violations, it may not DELETE without `allowDelete`, nor touch
 * a protected or out-of-scope user.
 */
export function assertPolicyAllows(plan: TargetPlan, policy: Policy): void {
  const rules = scopeRules(policy);
  for (const operation of plan.plan.operations) {
    const deletes = operation.kind === 'deleteUser' || operation.kind === 'deleteGroup' || operation.requests.some((request) => request.method === 'DELETE');
    if (deletes && !policy.allowDelete) {
      throw new ScimformError(`${plan.target.name}: the plan holds a DELETE (${operation.key}) but the config has allowDelete: false; nothing was sent`, {
        hint: 'Plan again from the current files; a plan with a DELETE needs `allowDelete: true` under `policy`.',
      });
    }
    const userName = 'userName' in operation ? operation.userName : undefined;
    if (userName !== undefined && !rules.isManageable(userName)) {
      throw new ScimformError(
        `${plan.target.name}: the plan changes user ${userName}, which the config ${rules.isProtected(userName) ? 'protects' : 'keeps out of scope'}; nothing was sent`,
        { hint: 'Plan again from the current files; protected and out-of-scope users never appear in a plan.' },
      );
    }
  }
}
