/**
 * Substitution of created ids into planned requests. A request's `refs` are JSON pointers
 * (RFC 6901) into its body where the planner wrote a userName standing in for the id of a user
 * this same plan creates.
 */
import type { WriteRequest } from '../plan/types.js';

/**
 * `request` is what to send, or undefined when nothing is left of it; `dropped` names the creates
 * whose members were left out. `ok: false` names a create the request cannot do without.
 */
export type ResolvedRequest = { ok: true; request: WriteRequest | undefined; dropped: string[] } | { ok: false; operation: string };

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

function valueAt(document: unknown, tokens: readonly string[]): unknown {
  let value = document;
  for (const token of tokens) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[token];
  }
  return value;
}

/**
 * Where a ref sits when it is the `value` of a member entry `{ value }` in a list (all the planner
 * writes: a group's `members`, or the values of a PatchOp `add`): the list and the entry's index.
 */
function memberEntry(body: unknown, pointer: string): { list: string[]; index: number } | undefined {
  const tokens = pointerTokens(pointer);
  if (tokens.length < 3 || tokens.at(-1) !== 'value' || !/^\d+$/.test(tokens.at(-2)!)) return undefined;
  const list = tokens.slice(0, -2);
  return Array.isArray(valueAt(body, list)) ? { list, index: Number(tokens.at(-2)) } : undefined;
}

/**
 * Leaves out the member entries at `entries` (list pointer → indices). A PatchOp `add` left with
 * no value goes too (RFC 7644 §3.5.2.1 requires one); false when the body keeps no operation.
 */
function dropEntries(body: unknown, entries: ReadonlyMap<string, { list: string[]; indices: Set<number> }>): boolean {
  const emptiedOperations = new Set<number>();
  let operationsKey: string | undefined;
  for (const { list, indices } of entries.values()) {
    const holder = valueAt(body, list.slice(0, -1)) as Record<string, unknown>;
    const kept = (holder[list.at(-1)!] as unknown[]).filter((_, index) => !indices.has(index));
    holder[list.at(-1)!] = kept;
    const [key, position, last] = list;
    if (kept.length === 0 && list.length === 3 && last === 'value' && /^operations$/i.test(key!)) {
      operationsKey = key;
      emptiedOperations.add(Number(position));
    }
  }
  if (operationsKey === undefined) return true;
  const record = body as Record<string, unknown>;
  const operations = (record[operationsKey] as unknown[]).filter((_, index) => !emptiedOperations.has(index));
  record[operationsKey] = operations;
  return operations.length > 0;
}

/**
 * Puts the ids of created users into the request. A member whose create left no id (it failed,
 * or is not in this plan) is left out, and the rest of the request still goes (SPEC §5: only what
 * depends on a failed create is held back); `dropped` names those creates. A ref anywhere else
 * cannot be left out: the answer names its create, and the request cannot be sent.
 */
export function resolveRefs(request: WriteRequest, createdIds: ReadonlyMap<string, string>): ResolvedRequest {
  const { refs, ...rest } = request;
  if (!refs || refs.length === 0) return { ok: true, request: rest, dropped: [] };
  // One copy for all refs: a large group create may carry hundreds of them.
  let body: unknown = structuredClone(rest.body);
  const dropped = new Set<string>();
  // Entries are removed after every id is in place: removing shifts the indices the pointers name.
  const entries = new Map<string, { list: string[]; indices: Set<number> }>();
  for (const ref of refs) {
    const id = createdIds.get(ref.operation);
    if (id !== undefined) {
      body = setAtPointer(body, ref.pointer, id);
      continue;
    }
    const entry = memberEntry(body, ref.pointer);
    if (!entry) return { ok: false, operation: ref.operation };
    const key = JSON.stringify(entry.list);
    const found = entries.get(key) ?? { list: entry.list, indices: new Set<number>() };
    found.indices.add(entry.index);
    entries.set(key, found);
    dropped.add(ref.operation);
  }
  const sendable = entries.size === 0 || dropEntries(body, entries);
  return { ok: true, request: sendable ? { ...rest, body } : undefined, dropped: [...dropped] };
}
