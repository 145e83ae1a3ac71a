/** Apply: execute a plan against a target, safely and in order, then check that it converged. */
export { applyPlan, countOutcomes, APPLY_PHASES } from './executor.js';
export { assertPlanFresh, checkFingerprints, describeChangedFiles, describeChangedOperations, describeStale, staleAgainst } from './stale.js';
export { verifyConverged, renderVerification, describeResidue, formatValue, type Verification } from './verify.js';
export { renderApplyReport, formatCounts, formatProgress, createProgressReporter, type ProgressReporter } from './report.js';
export { openAuditLog, formatAuditLine, type AuditLog } from './audit.js';
export { assertGuards, assertPolicyAllows, blockingViolations } from './guards.js';
export { confirmApply, type ApprovalIO } from './approve.js';
export { classifyFailure, describeFailure, type WriteFailure } from './failure.js';
export { resolveRefs } from './refs.js';
export type * from './types.js';
export { applyAndVerify, applyExitCode, renderTargetResult, succeeded, type TargetApplyResult } from './run.js';
