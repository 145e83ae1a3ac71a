/** Planning: what to change on a target, and whether it is safe to. */
export { computePlan, summarise } from './compute.js';
export { checkGuards, MAX_REMOVALS_FLOOR, withinLimit } from './guards.js';
export { diffUser, normaliseEmails, partOfRename, sameEmails, sameUserName, defaultEmails } from './normalise.js';
export { createUserKey, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from './requests.js';
export type { PatchOpBody, PatchOperation } from './requests.js';
export { inScope, scopeRules } from './scope.js';
export type { ScopeRules } from './scope.js';
export { canonicalJson, fingerprintOf } from './fingerprint.js';
export * from './types.js';
