/**
 * The guards (SPEC §4): checks on a computed plan, before anything is written, that refuse
 * plans which look like an accident (a wrong glob, an emptied identity file, a wrong target).
 * Pure: they read the plan and the inputs it was computed from.
 */
import type { SourceLocation } from '../errors.js';
import type { DesiredState, LiveState, Policy, RemovalLimit } from '../model.js';
import type { GuardViolation, Plan } from './types.js';
import { scopeRules } from './scope.js';

/** Below this many live users in scope, `maxRemovals` does not apply: small targets change by large fractions. */
export const MAX_REMOVALS_FLOOR = 10;

const OVERRIDE = 'review the plan, then re-run with --allow-mass-removal to override';

function where(location: SourceLocation | undefined): string {
  return location ? `policy, ${location.file}:${location.line}` : 'default policy';
}

/** A percentage as people read it: whole when that does not blur the comparison with the limit. */
function percent(part: number, whole: number, limit?: number): string {
  const exact = (part * 100) / whole;
  const rounded = Math.round(exact);
  if (rounded === exact || limit === undefined || rounded > limit) return `${rounded}%`;
  // Just above the limit: enough decimals that the shown figure is above it too.
  let digits = 1;
  while (digits < 4 && Number(exact.toFixed(digits)) <= limit) digits += 1;
  return `${exact.toFixed(digits)}%`;
}

/** Whether `removals` out of `base` stays within the limit (at the limit is allowed). */
export function withinLimit(removals: number, base: number, limit: RemovalLimit): boolean {
  return limit.kind === 'count' ? removals <= limit.value : removals * 100 <= limit.value * base;
}

export function checkGuards(
  plan: Plan,
  policy: Policy,
  desired: DesiredState,
  live: LiveState,
  options: { allowMassRemoval: boolean },
): GuardViolation[] {
  const violations: GuardViolation[] = [];
  const { removals, liveUsersInScope } = plan.removals;
  const limit = policy.maxRemovals;

  for (const rule of ['unmanagedUsers', 'unmanagedGroups'] as const) {
    if (policy[rule] !== 'delete' || policy.allowDelete) continue;
    violations.push({
      guard: 'deleteNotAllowed',
      message: `policy ${rule} is delete but allowDelete is false (${where(policy.sources[rule])}): set allowDelete: true to allow DELETE, or choose ${rule === 'unmanagedUsers' ? 'deactivate or ignore' : 'ignore'}`,
      overridable: false,
    });
  }

  if (options.allowMassRemoval) return violations;

  // Empty as far as the plan goes: protected and out-of-scope declarations are never acted on, so
  // files that hold only the break-glass account remove everyone else as surely as no files.
  const rules = liveUsersInScope > 0 ? scopeRules(policy) : undefined;
  if (rules && !desired.users.some((user) => rules.isManageable(user.userName))) {
    const count = desired.users.length;
    const declared =
      count === 0
        ? 'no users are declared'
        : `${count === 1 ? 'the one user declared is' : `all ${count} users declared are`} protected or outside scope, so no user is managed`;
    violations.push({
      guard: 'emptyDesiredState',
      message: `refusing to plan from an empty desired state: ${declared}, but the target has ${liveUsersInScope} live ${liveUsersInScope === 1 ? 'user' : 'users'} in scope: check the desired globs in the config, then re-run with --allow-mass-removal to override`,
      overridable: true,
    });
  }

  if (liveUsersInScope >= MAX_REMOVALS_FLOOR && !withinLimit(removals, liveUsersInScope, limit)) {
    const limitValue = limit.kind === 'percent' ? limit.value : undefined;
    violations.push({
      guard: 'maxRemovals',
      message: `refusing to remove ${removals} of ${liveUsersInScope} live users in scope (${percent(removals, liveUsersInScope, limitValue)}), above maxRemovals ${limit.text} (${where(policy.sources.maxRemovals)}): ${OVERRIDE}`,
      overridable: true,
    });
  }

  // A group the plan deletes is emptied too (unmanagedGroups: delete); its operation names it by id.
  const deleted = new Map<string, string>();
  if (plan.emptiedGroups.length > 0) for (const op of plan.operations) if (op.kind === 'deleteGroup') deleted.set(op.displayName, op.id);
  for (const name of plan.emptiedGroups) {
    const id = deleted.get(name);
    const group = live.groups.find((candidate) => (id === undefined ? candidate.displayName === name : candidate.id === id));
    const count = group ? new Set(group.members).size : 0;
    const members = `${count} live member${count === 1 ? '' : 's'}`;
    violations.push({
      guard: 'emptiesGroup',
      message:
        id === undefined
          ? `refusing to remove every member of group ${name} (${members}): ${OVERRIDE}`
          : `refusing to delete group ${name}, which has ${members} (policy unmanagedGroups: delete): ${OVERRIDE}`,
      overridable: true,
    });
  }
  return violations;
}
