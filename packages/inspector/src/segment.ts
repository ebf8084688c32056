/**
 * An id (a delivery's, a dead letter's: whatever its source chose) as one URL path segment and
 * back. encodeURIComponent covers '/', '#', '%', '?', spaces and unicode; but URLs resolve '.' and
 * '..' segments (even written %2E) before any server sees them, so an id made only of dots (or
 * starting with the marker '~', or empty) is sent as '~' + its encoding.
 */
export function toSegment(id: string): string {
  const encoded = encodeURIComponent(id);
  return /^\.*$|^~/.test(encoded) ? `~${encoded}` : encoded;
}

/** The id of a segment as received (still %-encoded); undefined for a malformed %-escape. */
export function fromSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment.startsWith('~') ? segment.slice(1) : segment);
  } catch {
    return undefined;
  }
}
