/**
 * The path patterns of FORWARD_AUTH_RULES_FILE, matched segment by segment without
 * backtracking (a regular expression with several `.*` backtracks polynomially on a
 * caller-chosen path: four `**` against a 2 KB path ran for minutes).
 *
 * Grammar (the meaning rules had as regular expressions, docs/adr/0009):
 * - the whole normalised path must match (query excluded);
 * - a segment `**` stands for one or more whole segments (`/a/**` covers `/a/` and `/a/b/c`,
 *   not `/a`; `/a/**` + `/b` needs at least one segment between them);
 * - a `*` at the very end is a prefix match: `/orders/*` covers `/orders/1/items`, `/v1*`
 *   covers `/v1/x` and `/v10`;
 * - any other `*` matches within one segment (`/orders/*` + `/items`, `/files/*.pdf`);
 * - `**` anywhere but as a whole segment is refused when the rules are loaded.
 *
 * Cost: O(path length × pattern length) for the worst pattern, linear in the path.
 */
export class PathPatternError extends Error {}

/** One segment of a pattern: the literal parts between its `*` (one part: no `*`). */
type SegmentGlob = string[];

/**
 * A pattern as groups of segment globs separated by "zero or more segments": `**` is one
 * any-segment glob followed by such a gap, and a trailing `*` adds a gap at the end.
 */
export class PathPattern {
  private constructor(
    readonly source: string,
    private readonly groups: SegmentGlob[][],
  ) {}

  static compile(path: string): PathPattern {
    if (!path.startsWith('/')) throw new PathPatternError('must start with "/"');
    const segments = path.slice(1).split('/');
    // The forwarded path is normalised before matching: a pattern that is not would never match.
    if (segments.some((s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1))) {
      throw new PathPatternError('must be a normalised path (no "//", "." or ".." segments)');
    }
    const groups: SegmentGlob[][] = [[]];
    segments.forEach((segment, i) => {
      const current = groups[groups.length - 1];
      if (segment === '**') {
        current.push(['', '']); // one segment, any text
        groups.push([]);
        return;
      }
      if (segment.includes('**'))
        throw new PathPatternError('"**" must be a whole segment (e.g. /orders/**/items); a trailing "*" is already a prefix match');
      current.push(segment.split('*'));
      if (i === segments.length - 1 && segment.endsWith('*')) groups.push([]);
    });
    return new PathPattern(path, groups);
  }

  /** `path` is normalised (see normalisePath): starts with `/`, no empty, `.` or `..` segments. */
  test(path: string): boolean {
    const segments = path.slice(1).split('/');
    const { groups } = this;
    const first = groups[0];
    if (groups.length === 1) return segments.length === first.length && groupMatchesAt(first, segments, 0);
    const last = groups[groups.length - 1];
    const lastStart = segments.length - last.length;
    if (lastStart < first.length || !groupMatchesAt(first, segments, 0) || !groupMatchesAt(last, segments, lastStart)) return false;
    // Between the fixed ends, each middle group at its leftmost place: a gap absorbs anything, so an earlier
    // place never loses a match a later one would find.
    let at = first.length;
    for (let g = 1; g < groups.length - 1; g++) {
      const group = groups[g];
      let found = -1;
      for (let i = at; i + group.length <= lastStart; i++) {
        if (groupMatchesAt(group, segments, i)) {
          found = i;
          break;
        }
      }
      if (found < 0) return false;
      at = found + group.length;
    }
    return true;
  }
}

function groupMatchesAt(group: SegmentGlob[], segments: string[], at: number): boolean {
  for (let j = 0; j < group.length; j++) if (!segmentMatches(group[j], segments[at + j])) return false;
  return true;
}

/** The same greedy leftmost search inside one segment: `*` is any run of characters. */
function segmentMatches(parts: SegmentGlob, segment: string): boolean {
  if (parts.length === 1) return segment === parts[0];
  const head = parts[0];
  const tail = parts[parts.length - 1];
  if (segment.length < head.length + tail.length || !segment.startsWith(head) || !segment.endsWith(tail)) return false;
  const end = segment.length - tail.length;
  let at = head.length;
  for (let p = 1; p < parts.length - 1; p++) {
    const found = segment.indexOf(parts[p], at);
    if (found < 0 || found + parts[p].length > end) return false;
    at = found + parts[p].length;
  }
  return true;
}
