import { createHash } from 'node:crypto';
import type { Fingerprint } from './types.js';

/** JSON with object keys sorted at every level, so equal resources hash equally whatever the server's key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/** sha256 of a resource without `meta`: `meta` is left out because some servers rewrite `lastModified` on read. */
export function resourceHash(resource: Record<string, unknown>): string {
  const { meta: _meta, ...attributes } = resource;
  return createHash('sha256').update(canonicalJson(attributes)).digest('hex');
}

/** The parts of a live user or group a fingerprint is made from. */
export interface Fingerprinted {
  version?: string;
  resource?: Record<string, unknown>;
}

/**
 * What a live resource looked like: its `meta.version` (or ETag) when the server keeps one,
 * else the hash of the resource (SPEC §5a: servers without versions still get stale-plan
 * protection). The client keeps the resource whenever there is no version; a value built by
 * hand without either is hashed from its modelled attributes.
 */
export function fingerprintOf(live: Fingerprinted): Fingerprint {
  if (live.version) return { kind: 'version', value: live.version };
  if (live.resource) return { kind: 'hash', value: resourceHash(live.resource) };
  const { version: _version, resource: _resource, ...attributes } = live as Fingerprinted & Record<string, unknown>;
  return { kind: 'hash', value: resourceHash(attributes) };
}
