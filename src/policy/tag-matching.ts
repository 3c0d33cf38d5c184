/**
 * Tag patterns: `pii` matches `pii` and everything under it (`pii.email`), `pii.*` matches only
 * tags under pii, `*` matches any tag. Matching is exact otherwise; tags are lower case.
 */
export function tagMatches(pattern: string, tag: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return tag.startsWith(pattern.slice(0, -1));
  return tag === pattern || tag.startsWith(`${pattern}.`);
}

export function anyTagMatches(patterns: readonly string[], tags: readonly string[]): boolean {
  return patterns.some((p) => tags.some((t) => tagMatches(p, t)));
}
