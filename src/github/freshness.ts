/**
 * Whether the plan reviewed on a pull request still holds for the merged commit (SPEC §7): the same
 * files (digest) and the same live resources (fingerprints), for every target about to be applied.
 * Returned as a value, so that "stale, apply a fresh plan instead" is never confused with a real
 * failure: reading the target may still throw, and that stops the apply.
 */
import { checkFingerprints, describeChangedFiles, describeStale } from '../apply/index.js';
import type { IdentityFile } from '../model.js';
import { computeDigest } from '../plan/saved.js';
import type { SavedPlan, TargetPlan } from '../plan/types.js';
import type { ScimReader } from '../scim/types.js';

export type Freshness = { fresh: true } | { fresh: false; reason: string };

export async function checkFreshness(
  saved: SavedPlan,
  current: { files: readonly IdentityFile[]; targets: readonly string[] },
  readerFor: (target: TargetPlan['target']) => ScimReader,
): Promise<Freshness> {
  if (saved.digest !== computeDigest([...current.files])) {
    const changed = saved.files ? describeChangedFiles(saved.files, current.files) : undefined;
    return { fresh: false, reason: `the files changed after the review (${changed ?? 'the config or identity files differ'})` };
  }
  const missing = current.targets.filter((name) => !saved.targets.some((plan) => plan.target.name === name));
  if (missing.length > 0) return { fresh: false, reason: `the reviewed plan has no plan for target ${missing.join(', ')}` };
  const reasons: string[] = [];
  for (const plan of saved.targets.filter((candidate) => current.targets.includes(candidate.target.name))) {
    const items = await checkFingerprints(plan, readerFor(plan.target));
    if (items.length > 0) reasons.push(describeStale(plan.target.name, items));
  }
  return reasons.length === 0 ? { fresh: true } : { fresh: false, reason: `the live state changed after the review (${reasons.join('; ')})` };
}
