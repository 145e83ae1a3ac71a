import type { Policy } from '../model.js';
import { scopeMatcher } from '../config/scope.js';

// One matcher for the scope glob, shared with validate, so the two can never disagree on who is in scope.
export { inScope } from '../config/scope.js';

/** Which live and desired users the plan may touch at all (SPEC §2 `scope`, `protectedUsers`). */
export interface ScopeRules {
  inScope(userName: string): boolean;
  isProtected(userName: string): boolean;
  /** In scope and not protected: the users a plan may create, change or remove. */
  isManageable(userName: string): boolean;
}

/** The policy's scope glob (case-insensitive, see `scopeMatcher`) and protected users, compiled once. */
export function scopeRules(policy: Pick<Policy, 'scope' | 'protectedUsers'>): ScopeRules {
  const matcher = policy.scope === undefined ? undefined : scopeMatcher(policy.scope);
  const protectedNames = new Set(policy.protectedUsers.map((name) => name.toLowerCase()));
  const inScope = (userName: string): boolean => (matcher ? matcher(userName) : true);
  // Asked for every live user: with no protected users, no lower-casing and no lookup.
  const isProtected = protectedNames.size === 0 ? (): boolean => false : (userName: string): boolean => protectedNames.has(userName.toLowerCase());
  return { inScope, isProtected, isManageable: (userName) => inScope(userName) && !isProtected(userName) };
}
