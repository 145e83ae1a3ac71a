import picomatch from 'picomatch';
import type { Policy } from '../model.js';

/** Which live and desired users the plan may touch at all (SPEC §2 `scope`, `protectedUsers`). */
export interface ScopeRules {
  inScope(userName: string): boolean;
  isProtected(userName: string): boolean;
  /** In scope and not protected: the users a plan may create, change or remove. */
  isManageable(userName: string): boolean;
}

/**
 * Compiles the policy's scope glob once. userNames are case-insensitive (RFC 7643 §4.1.1), so
 * the glob is matched without case; `dot` so that `*@example.com` also matches `first.last@…`.
 */
export function scopeRules(policy: Pick<Policy, 'scope' | 'protectedUsers'>): ScopeRules {
  const matcher = policy.scope === undefined ? undefined : picomatch(policy.scope, { nocase: true, dot: true });
  const protectedNames = new Set(policy.protectedUsers.map((name) => name.toLowerCase()));
  const inScope = (userName: string): boolean => (matcher ? matcher(userName) : true);
  const isProtected = (userName: string): boolean => protectedNames.has(userName.toLowerCase());
  return { inScope, isProtected, isManageable: (userName) => inScope(userName) && !isProtected(userName) };
}

/** Whether `userName` falls inside the policy's `scope` glob (absent scope = every user). */
export function inScope(policy: Pick<Policy, 'scope'>, userName: string): boolean {
  return scopeRules({ scope: policy.scope, protectedUsers: [] }).inScope(userName);
}
