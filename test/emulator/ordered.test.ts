/** The insertion-ordered id index behind O(page) listing, checked against a plain array. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { OrderedIds } from '../../src/emulator/ordered.js';

describe('OrderedIds', () => {
  test('after any appends and removals, pages and ranks agree with a plain array', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant<'append'>('append'), fc.nat({ max: 3000 })), { maxLength: 3000 }), fc.nat({ max: 50 }), (steps, pageSize) => {
        const ordered = new OrderedIds();
        const model: { id: string; position: number }[] = [];
        let next = 0;
        for (const step of steps) {
          if (step === 'append') {
            const id = `id${next++}`;
            model.push({ id, position: ordered.append(id) });
          } else if (model.length > 0) {
            const [removed] = model.splice(step % model.length, 1);
            ordered.remove(removed!.position);
          }
        }
        expect(ordered.size).toBe(model.length);
        for (let k = 0; k < model.length; k += Math.max(pageSize, 1)) {
          expect(ordered.slice(k, pageSize).map((p) => ordered.idAt(p))).toEqual(model.slice(k, k + pageSize).map((m) => m.id));
        }
        for (const [rank, entry] of model.entries()) expect(ordered.rankBefore(entry.position)).toBe(rank);
        expect(ordered.positionOf(model.length)).toBe(-1);
      }),
      { numRuns: 60 },
    );
  });
});
