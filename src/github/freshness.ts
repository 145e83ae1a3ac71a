/**
 * Whether the plan reviewed on a pull request still holds for the merged commit (SPEC §7): the same
 * files (digest), the same live resources (fingerprints) and the same operations as a plan made
 * now, for every target about to be applied: what `apply plan.json` requires before it sends
 * anything. Returned as a value, so that "stale, apply a fresh plan instead" is never confused
 * with a real failure: reading the target may still throw, and that stops the apply.
 */
import { checkFingerprints, describeChangedFiles, describeChangedOperations, describeStale } from '../apply/index.js';
import type { IdentityFile } from '../model.js';
import { computeDigest } from '../plan/saved.js';
import type { Operation, SavedPlan, TargetPlan } from '../plan/types.js';
import type { ScimReader } from '../scim/types.js';

export type Freshness = { fresh: true } | { fresh: false; reason: string };

export async function checkFreshness(
  saved: SavedPlan,
  current: {
    files: readonly IdentityFile[];
    targets: readonly string[];
    /** The operations a plan of the current files and live state holds for a target. */
    replan: (target: TargetPlan['target']) => Promise<readonly Operation[]>;
  },
  readerFor: (target: TargetPlan['target']) => ScimReader,
): Promise<Freshness> {
  if (saved.digest !== computeDigest([...current.files])) {
    const changed = saved.files ? describeChangedFiles(saved.files, current.files) : undefined;
    return { fresh: false, reason: `the files changed after the review (${changed ?? 'the config or identity files differ'})` };
  }
  const missing = current.targets.filter((name) => !saved.targets.some((plan) => plan.target.name === name));
  if (missing.length > 0) return { fresh: false, reason: `the reviewed plan has no plan for target ${missing.join(', ')}` };
  const selected = saved.targets.filter((candidate) => current.targets.includes(candidate.target.name));
  const reasons: string[] = [];
  for (const plan of selected) {
    const items = await checkFingerprints(plan, readerFor(plan.target));
    if (items.length > 0) reasons.push(describeStale(plan.target.name, items));
  }
  if (reasons.length > 0) return { fresh: false, reason: `the live state changed after the review (${reasons.join('; ')})` };
  // The live state may also have changed where the plan touches nothing (a user created by hand,
  // which the policy now removes): apply would refuse the reviewed plan as stale.
  for (const plan of selected) {
    const difference = describeChangedOperations(plan.target.name, plan.plan.operations, await current.replan(plan.target));
    if (!difference) continue;
    return {
      fresh: false,
      reason: difference.rewritten
        ? `the reviewed plan is not what a plan of this commit holds (${difference.reason})`
        : `the live state changed after the review (${difference.reason})`,
    };
  }
  return { fresh: true };
}
