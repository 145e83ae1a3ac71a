/**
 * What crosses HTTP, as the SCIM client, the GitHub client and the emulator check and read it.
 * None of it is SCIM's: the emulator shares no SCIM logic with the client (see src/emulator/index.ts).
 */

/**
 * Deeper than any SCIM data: a list answer holds resources, a resource an extension, the
 * extension a multi-valued complex attribute, its values their sub-attributes (about 6 levels).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Where `value` (parsed JSON) holds an array or object nested more than `max` levels deep: the
 * keys and indexes that lead there (`[]` for `value` itself), or undefined when it does not.
 * Taking a hash of such a value, or writing it back as JSON, would exhaust the stack; parsing it
 * does not (V8's JSON.parse is not recursive), so answers and requests are checked once parsed.
 */
export function nestedDeeperThan(value: unknown, max: number): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (max <= 0) return [];
  // Recursion stops at `max` levels, so it cannot itself run out of stack.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const below = nestedDeeperThan(value[i], max - 1);
      if (below) return [i, ...below];
    }
    return undefined;
  }
  for (const key in value) {
    const below = nestedDeeperThan((value as Record<string, unknown>)[key], max - 1);
    if (below) return [key, ...below];
  }
  return undefined;
}

/** A path from `nestedDeeperThan` for a message: `Resources[0].x[0][0]…`, at most `limit` steps, keys escaped. */
export function formatJsonPath(path: readonly (string | number)[], limit = 8): string {
  const steps = path.slice(0, limit).map((step, i) => {
    if (typeof step === 'number') return `[${step}]`;
    if (/^[A-Za-z_$][\w$:.-]{0,59}$/.test(step)) return i === 0 ? step : `.${step}`;
    return `[${JSON.stringify(step.length > 40 ? `${step.slice(0, 40)}…` : step)}]`;
  });
  return `${steps.join('')}${path.length > limit ? '…' : ''}`;
}

/**
 * Why `text` cannot be sent as an HTTP header value, or undefined when it can. Only printable
 * ASCII goes in a header (RFC 9110 §5.5; an RFC 6750 bearer token is ASCII anyway): a control
 * character would make an invalid header, and typographic quotes or a non-breaking or zero-width
 * space come with a copy-and-paste. Neither the character nor its place is said, as both would
 * tell something of a secret.
 */
export function headerUnsafe(text: string): 'control characters' | 'not ASCII' | undefined {
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'control characters';
  if (/[^\x20-\x7e]/.test(text)) return 'not ASCII';
  return undefined;
}

/**
 * The bytes of a response body, or undefined when it holds more than `max`: reading stops there and
 * the body is destroyed, so an endless body cannot fill the memory.
 */
export async function readAtMost(body: AsyncIterable<unknown> & { destroy(): unknown }, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length > max) {
      body.destroy();
      return undefined;
    }
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}
