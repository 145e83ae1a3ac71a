/**
 * One target's apply as the CLI runs it: execute, then read back and re-plan, and the exit code
 * of the whole run. The CLI adds only the terminal (approval, progress, printing).
 */
import type { Capabilities, DesiredState, Policy } from '../model.js';
import type { TargetPlan } from '../plan/types.js';
import type { ScimReader, ScimWriter } from '../scim/types.js';
import { applyPlan } from './executor.js';
import { assertPolicyAllows } from './guards.js';
import { renderApplyReport } from './report.js';
import type { ApplyOptions, ApplyReport } from './types.js';
import { renderVerification, verifyConverged, type Verification } from './verify.js';

export interface TargetApplyResult {
  report: ApplyReport;
  /** Absent when apply was interrupted or stopped: the run stops there, and the next one re-plans anyway. */
  verification?: Verification;
}

export async function applyAndVerify(
  plan: TargetPlan,
  client: ScimReader & ScimWriter,
  desired: DesiredState,
  policy: Policy,
  options: ApplyOptions & { capabilities?: Capabilities },
): Promise<TargetApplyResult> {
  assertPolicyAllows(plan, policy);
  const report = await applyPlan(plan, client, options);
  // Nothing to read back after an interruption (the next run plans anyway), after the token was
  // rejected (so would the reads be), or once the audit log failed (apply stops as if interrupted).
  if (report.interrupted || report.stopped || options.signal?.aborted) return { report };
  const verification = await verifyConverged(desired, policy, options.capabilities ?? plan.capabilities, client, plan.plan.operations);
  return { report, verification };
}

/** Whether a target ended as asked: everything sent succeeded and the read-back converged. Manual items do not count against it. */
export function succeeded(result: TargetApplyResult): boolean {
  const { counts, interrupted } = result.report;
  return !interrupted && counts.failed + counts.unknown + counts.stale + counts.skipped + counts.notStarted === 0 && result.verification?.converged === true;
}

/** SPEC §3: 0 when every target succeeded, else 1. */
export function applyExitCode(results: readonly TargetApplyResult[]): 0 | 1 {
  return results.every(succeeded) ? 0 : 1;
}

/** The summary of one target followed by the read-back, as printed at the end of apply. */
export function renderTargetResult(result: TargetApplyResult, options: { color: boolean; verbose?: boolean }): string {
  const summary = renderApplyReport(result.report, options);
  if (!result.verification) return summary;
  return summary + renderVerification(result.report.target, result.verification, { outcomes: result.report.outcomes });
}
