/**
 * Fault injection with a seeded PRNG. Each request that faults may apply to draws the same
 * four numbers in the same order, whatever happens to it, so the same seed and the same
 * sequence of requests give the same faults.
 */

import type { EmulatorFaults } from './types.js';

/** The settings are the public `EmulatorFaults`, documented there. */
export type FaultSettings = EmulatorFaults;

export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'reset' }
  | { kind: '429'; retryAfterSeconds?: number }
  | { kind: '503' }
  | { kind: 'lostResponse' };

/** mulberry32: small, fast and good enough to spread faults; not for anything secret. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class FaultInjector {
  private random: () => number;

  constructor(readonly settings: FaultSettings | undefined) {
    this.random = mulberry32(settings?.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  applies(method: string): boolean {
    const only = this.settings?.onlyMethods;
    return this.settings !== undefined && (!only || only.some((m) => m.toUpperCase() === method));
  }

  latency(method: string): number {
    return this.applies(method) ? (this.settings?.latencyMs ?? 0) : 0;
  }

  decide(method: string): FaultDecision {
    const settings = this.settings;
    if (!settings || !this.applies(method)) return { kind: 'none' };
    const [reset, tooMany, unavailable, lost] = [this.random(), this.random(), this.random(), this.random()];
    if (reset < (settings.rateReset ?? 0)) return { kind: 'reset' };
    if (tooMany < (settings.rate429 ?? 0)) {
      return settings.retryAfterSeconds === undefined ? { kind: '429' } : { kind: '429', retryAfterSeconds: settings.retryAfterSeconds };
    }
    if (unavailable < (settings.rate5xx ?? 0)) return { kind: '503' };
    if (WRITE_METHODS.has(method) && lost < (settings.rateLostResponse ?? 0)) return { kind: 'lostResponse' };
    return { kind: 'none' };
  }

  describe(): string {
    const s = this.settings;
    if (!s) return 'none';
    const parts = [
      s.latencyMs ? `latency ${s.latencyMs} ms` : '',
      s.rate429 ? `429 ${s.rate429}${s.retryAfterSeconds === undefined ? ' (no Retry-After)' : ` (Retry-After ${s.retryAfterSeconds})`}` : '',
      s.rate5xx ? `503 ${s.rate5xx}` : '',
      s.rateReset ? `reset ${s.rateReset}` : '',
      s.rateLostResponse ? `lost response ${s.rateLostResponse}` : '',
      s.onlyMethods ? `only ${s.onlyMethods.join(',')}` : '',
      s.seed !== undefined ? `seed ${s.seed}` : '',
    ].filter(Boolean);
    return parts.length === 0 ? 'none' : parts.join(', ');
  }
}
