/**
 * RFC 7644 §3.4.2.2: a filter compares an attribute with a JSON string literal, so inside the
 * quotes `"` and `\` must be escaped (JSON rules). Control characters are escaped the same way,
 * since a raw newline or tab in a query is rejected by some servers. The one escaping of every
 * filter scimform builds: the user look-ups below and the `members[value eq "…"]` paths of
 * PatchOp removals (src/plan/requests.ts).
 */
export function escapeFilterValue(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** `attribute eq "value"`, the only filter scimform sends. */
export function equalityFilter(attribute: 'userName' | 'externalId' | 'displayName', value: string): string {
  return `${attribute} eq "${escapeFilterValue(value)}"`;
}
