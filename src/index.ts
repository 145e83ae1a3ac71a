/**
 * scimform as a library, for teams that build their own pipelines. The CLI is a thin layer over
 * these functions: load the files, read the live state, compute the plan, check the guards,
 * render it, apply it.
 */
export { loadConfig, loadDesiredState, validateRepository, selectTargets, inScope } from './config/index.js';
export { fetchLiveState, planTarget, hasChanges, type FetchedState, type PlanTargetOptions } from './reconcile.js';
export { computePlan, checkGuards, fingerprintOf } from './plan/index.js';
export { buildSavedPlan, computeDigest, readSavedPlan, writeSavedPlan, assertDigestMatches } from './plan/saved.js';
export { renderPlan, renderText, renderMarkdown, renderJson, summaryLine, type PlanFormat, type RenderOptions } from './render/index.js';
export { applyPlan, applyAndVerify, verifyConverged, assertPlanFresh, checkFingerprints, renderApplyReport } from './apply/index.js';
export type { ApplyOptions, ApplyReport, OperationOutcome, AuditEntry } from './apply/index.js';
export { createScimClient, resolveToken, escapeFilterValue, ScimHttpError, OutcomeUnknownError, type ClientOptions } from './scim/index.js';
export type { ScimClient, ScimReader, ScimWriter, ListProgress, WriteResult } from './scim/types.js';
export { startEmulator, type EmulatorOptions, type EmulatorFaults, type RunningEmulator } from './emulator/index.js';
export { ScimformError, ValidationError, type SourceLocation, type ValidationIssue } from './errors.js';
export type * from './model.js';
export type * from './plan/types.js';
