/** The store's index lookups give exactly what a full scan with the same filter gives. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseFilter, matchesFilter } from '../../src/emulator/filter.js';
import { Store } from '../../src/emulator/store.js';

const names = ['ann', 'Ann', 'BOB', 'bob', 'cat', 'o"q', 'back\\slash'];
const quote = (value: string) => JSON.stringify(value);

describe('Store.matching', () => {
  test('indexed filters (userName, externalId, id, and/or of them) agree with a scan', () => {
    const term = fc.oneof(
      fc.constantFrom(...names).map((n) => `userName eq ${quote(`${n}@example.com`)}`),
      fc.constantFrom('E1', 'e1', 'E2').map((e) => `externalId eq ${quote(e)}`),
      fc.constant('active eq true'),
    );
    const filter = fc.tuple(term, fc.constantFrom('and', 'or'), term).map(([a, op, b]) => `${a} ${op} ${b}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...names.map((n) => n.toLowerCase())), { minLength: 1 }),
        fc.array(fc.constantFrom('E1', 'e1', 'E2', undefined)),
        fc.array(fc.boolean()),
        fc.oneof(term, filter),
        (userNames, externalIds, actives, text) => {
          const store = new Store({ enterpriseExtension: false, emailsRequired: false });
          userNames.forEach((userName, i) => {
            const externalId = externalIds[i];
            store.create('User', { userName: `${userName}@example.com`, active: actives[i] ?? true, ...(externalId ? { externalId } : {}) }, '2026-01-01T00:00:00Z');
          });
          const parsed = parseFilter(text);
          const indexed = store.matching('User', parsed).positions;
          const all = store.snapshot().users;
          const scanned = all.flatMap((user, position) => (matchesFilter(parsed, user, store.users.schema) ? [position] : []));
          expect(indexed).toEqual(scanned);
        },
      ),
      { numRuns: 200 },
    );
  });
});
