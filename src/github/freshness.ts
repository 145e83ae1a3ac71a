/**
 * Whether the plan reviewed on a pull request still holds for the merged commit (SPEC §7): the same
 * files (digest), the same live resources (fingerprints) and the same operations as a plan made
 * now, for every target about to be applied: what `apply plan.json` requires before it sends
 * anything. Each target is read once, by the plan made now; the fingerprints are checked against
 * what that read found. Returned as a value, so that "stale, apply a fresh plan instead" is never
 * confused with a real failure: reading the target may still throw, and that stops the apply.
 */
import { describeChangedFiles, describeChangedOperations, describeStale, staleAgainst } from '../apply/index.js';
import type { IdentityFile, LiveState } from '../model.js';
import { computeDigest } from '../plan/saved.js';
import type { Operation, SavedPlan, TargetPlan } from '../plan/types.js';
import { VERSION } from '../version.js';

export type Freshness = { fresh: true } | { fresh: false; reason: string };

/** A plan of a target made now: its operations, and the live state it read to make them. */
export interface PlanNow {
  operations: readonly Operation[];
  live: LiveState;
}

export async function checkFreshness(
  saved: SavedPlan,
  current: {
    files: readonly IdentityFile[];
    targets: readonly string[];
    /** Plans a target from the current files and live state. */
    replan: (target: TargetPlan['target']) => Promise<PlanNow>;
  },
): Promise<Freshness> {
  if (saved.digest !== computeDigest([...current.files])) {
    const changed = saved.files ? describeChangedFiles(saved.files, current.files) : undefined;
    return { fresh: false, reason: `the files changed after the review${changed ? ` (${changed})` : ''}` };
  }
  const missing = current.targets.filter((name) => !saved.targets.some((plan) => plan.target.name === name));
  if (missing.length > 0) return { fresh: false, reason: `the reviewed plan has no plan for target ${missing.join(', ')}` };
  const reasons: string[] = [];
  let difference: ReturnType<typeof describeChangedOperations>;
  for (const plan of saved.targets.filter((candidate) => current.targets.includes(candidate.target.name))) {
    const now = await current.replan(plan.target);
    const items = staleAgainst(plan, now.live);
    if (items.length > 0) reasons.push(describeStale(plan.target.name, items));
    // The live state may also have changed where the plan touches nothing (a user created by hand,
    // which the policy now removes): apply would refuse the reviewed plan as stale.
    else difference ??= describeChangedOperations(plan.target.name, plan.plan.operations, now.operations);
  }
  if (reasons.length > 0) return { fresh: false, reason: `the live state changed after the review (${reasons.join('; ')})` };
  if (difference) {
    // Another version may plan the same state differently: say so, as `apply plan.json` does, rather than blame the live state.
    const reason =
      saved.scimformVersion !== VERSION
        ? `the reviewed plan, made by scimform ${saved.scimformVersion}, is not what a plan of this commit by scimform ${VERSION} holds`
        : difference.rewritten
          ? 'the reviewed plan is not what a plan of this commit holds'
          : 'the live state changed after the review';
    return { fresh: false, reason: `${reason} (${difference.reason})` };
  }
  return { fresh: true };
}
