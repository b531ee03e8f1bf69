/**
 * Splits a request target into path segments the tree understands. Empty segments fold away,
 * so `latest//meta-data/` works (the `ec2-metadata` tool sends it; reference §6.3), and a
 * trailing slash on a leaf is accepted (botocore asks for `availability-zone/`). `.` and `..`
 * never walk the tree: such paths are not found. Percent-escapes are not decoded: IMDS paths
 * have no characters that need them, so `%2F` is never a slash.
 */
export interface MetadataPath {
  segments: string[];
}

export const MAX_PATH_LENGTH = 1024;

export function parseMetadataPath(target: string): MetadataPath | undefined {
  const queryStart = target.indexOf('?');
  const path = queryStart === -1 ? target : target.slice(0, queryStart);
  if (!path.startsWith('/') || path.length > MAX_PATH_LENGTH) return undefined;

  // A scan rather than split('/'): V8 splits a string it has not seen before in its runtime,
  // and each request's path is such a string (2,400 instructions a request under callgrind).
  const segments: string[] = [];
  for (let start = 1; start <= path.length; ) {
    const slash = path.indexOf('/', start);
    const end = slash === -1 ? path.length : slash;
    if (end > start) {
      const segment = path.slice(start, end);
      if (segment === '.' || segment === '..') return undefined;
      segments.push(segment);
    }
    start = end + 1;
  }
  return { segments };
}
