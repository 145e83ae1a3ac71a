/**
 * Substitution of created ids into planned requests. A request's `refs` are JSON pointers
 * (RFC 6901) into its body where the planner wrote a userName standing in for the id of a user
 * this same plan creates.
 */
import type { WriteRequest } from '../plan/types.js';

export type ResolvedRequest = { ok: true; request: WriteRequest } | { ok: false; operation: string };

function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Writes `value` at `pointer` inside `document` (mutating it); the containers on the way must exist. */
function setAtPointer(document: unknown, pointer: string, value: unknown): unknown {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return value;
  let container: unknown = document;
  for (const [index, token] of tokens.entries()) {
    if (typeof container !== 'object' || container === null) {
      throw new Error(`JSON pointer ${pointer} does not fit the request body`);
    }
    const record = container as Record<string, unknown>;
    if (index === tokens.length - 1) {
      record[token] = value;
    } else {
      container = record[token];
    }
  }
  return document;
}

/**
 * Puts the ids of created users into the request. When a referenced create produced no id (it
 * failed, was skipped, or is not in this plan) the request cannot be sent: the answer names that
 * operation so the caller can report the dependency.
 */
export function resolveRefs(request: WriteRequest, createdIds: ReadonlyMap<string, string>): ResolvedRequest {
  const { refs, ...rest } = request;
  if (!refs || refs.length === 0) return { ok: true, request: rest };
  // One copy for all refs: a large group create may carry hundreds of them.
  let body: unknown = structuredClone(rest.body);
  for (const ref of refs) {
    const id = createdIds.get(ref.operation);
    if (id === undefined) return { ok: false, operation: ref.operation };
    body = setAtPointer(body, ref.pointer, id);
  }
  return { ok: true, request: { ...rest, body } };
}

/** The create operations a request depends on. */
export function dependenciesOf(requests: readonly WriteRequest[]): string[] {
  return [...new Set(requests.flatMap((request) => (request.refs ?? []).map((ref) => ref.operation)))];
}
