import { createHash } from 'node:crypto';
import type { Fingerprint } from './types.js';

/** JSON with object keys sorted at every level, so equal resources hash equally whatever the server's key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

/**
 * What a live resource looked like: its `meta.version` (or ETag) when the server keeps one,
 * else a sha256 of the resource without `meta` (SPEC §5a: servers without versions still get
 * stale-plan protection). `meta` is left out because some servers rewrite `lastModified` on read.
 */
export function fingerprintOf(live: { version?: string; resource: Record<string, unknown> }): Fingerprint {
  if (live.version) return { kind: 'version', value: live.version };
  const { meta: _meta, ...attributes } = live.resource;
  return { kind: 'hash', value: createHash('sha256').update(canonicalJson(attributes)).digest('hex') };
}
