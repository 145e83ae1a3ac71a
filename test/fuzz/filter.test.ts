/**
 * Filter values with quotes, backslashes, control characters and any Unicode survive escaping
 * (RFC 7644 §3.4.2.2): what the client writes, an RFC-faithful parser (the emulator's, which
 * shares no code with the client) reads back as the same value — and, over loopback, a lookup by
 * such a userName finds exactly that user.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseFilter } from '../../src/emulator/filter.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { createScimClient, equalityFilter, type ScimClient } from '../../src/scim/index.js';

/** Strings that stress the escaping: quotes, backslashes, escapes-in-waiting, controls, astral planes. */
const hostile = fc.oneof(
  fc.string({ unit: fc.constantFrom('"', '\\', 'u', '0', 'n', '/', ' ', '\n', '\t', '\u0000', '\u2028', 'é', '😀', ']', ')', 'a') }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
);

describe('filter escaping round-trips', () => {
  test.each(['userName', 'externalId', 'displayName'] as const)('%s eq "<any string>" parses back to the same value', (attribute) => {
    fc.assert(
      fc.property(hostile, (value) => {
        const filter = parseFilter(equalityFilter(attribute, value));
        expect(filter).toEqual({ op: 'eq', path: { attr: attribute }, value });
      }),
      { numRuns: 300 },
    );
  });

  test.each([
    ['a quote', 'o"brien@example.com', 'userName eq "o\\"brien@example.com"'],
    ['a backslash', 'back\\slash@example.com', 'userName eq "back\\\\slash@example.com"'],
    ['a closing bracket and parenthesis', 'x]) or (userName pr@example.com', 'userName eq "x]) or (userName pr@example.com"'],
  ])('%s is escaped, so a value cannot close the literal and add a clause', (_name, value, expected) => {
    expect(equalityFilter('userName', value)).toBe(expected);
    expect(parseFilter(expected)).toMatchObject({ op: 'eq', value });
  });
});

describe('lookups by hostile userNames over loopback', () => {
  let emu: RunningEmulator;
  let client: ScimClient;
  beforeAll(async () => {
    emu = await startEmulator({ token: 't' });
    client = createScimClient(
      { name: 'emu', url: emu.url, tokenEnv: 'T', profile: 'generic', concurrency: 2, timeoutSeconds: 5, source: { file: 'scimform.yaml', line: 1, column: 1 } },
      { token: 't', readOnly: false, retry: { baseDelayMs: 1, maxDelayMs: 5 } },
    );
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  test('a user created with any userName is found by exactly that userName, and no other user is', async () => {
    const local = fc.string({ unit: fc.constantFrom('"', '\\', ' ', '%', '+', '&', '=', '#', '?', 'é', '😀', 'x', '*', '(', ')'), minLength: 1, maxLength: 12 });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(local, async (prefix) => {
        const userName = `${prefix}.${n++}@example.com`;
        const created = await client.write({ method: 'POST', path: '/Users', body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName } });
        const id = (created.body as { id: string }).id;
        const found = await client.findUserByUserName(userName);
        expect(found).toMatchObject({ id, userName });
        // A near miss (one more character) finds nothing.
        expect(await client.findUserByUserName(`${userName}x`)).toBeUndefined();
      }),
      { numRuns: 40 },
    );
    // Every lookup was answered through the index: no filter fell back to a scan.
    expect(emu.stats().scans).toBe(0);
  });
});
