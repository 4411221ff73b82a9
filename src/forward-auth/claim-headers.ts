import { ClaimHeader } from '../config/forward-auth/forward-auth-config';

/** Longest header value written; a longer claim is left out rather than cut (a cut identifier could name someone else). */
export const MAX_CLAIM_HEADER_LENGTH = 1024;

/**
 * The response headers for a verified token. Strings as they are, numbers and booleans as
 * text, arrays of those joined by a space; objects and nulls are left out. Values are made
 * safe for a header without merging two different values into one: every character outside
 * printable ASCII (CR, LF, NUL, other controls, non-ASCII) is percent-encoded as UTF-8, and
 * so is `%`, so the encoding can be undone; nothing is trimmed, and spaces at either end are encoded too, since
 * HTTP drops them from a header value (RFC 9110 §5.5) and " alice" would reach upstreams as "alice". A value over
 * MAX_CLAIM_HEADER_LENGTH (before or after encoding) is left out.
 */
export function claimHeaders(claims: Record<string, unknown>, mappings: ClaimHeader[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { claim, header } of mappings) {
    const text = headerText(claims[claim]);
    if (text === undefined || text.length > MAX_CLAIM_HEADER_LENGTH) continue;
    const safe = headerSafe(text);
    if (safe.length > 0 && safe.length <= MAX_CLAIM_HEADER_LENGTH) headers[header] = safe;
  }
  return headers;
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.length <= 100) {
    const parts = value.filter((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean').map(String);
    return parts.length > 0 ? parts.join(' ') : undefined;
  }
  return undefined;
}

export function headerSafe(text: string): string {
  return text
    .replace(/%/g, '%25')
    .replace(/^ +| +$/g, (spaces) => '%20'.repeat(spaces.length))
    .replace(/[^\x20-\x7e]/gu, (c) => {
      try {
        return encodeURIComponent(c);
      } catch {
        return '%EF%BF%BD'; // a lone surrogate: U+FFFD
      }
    });
}
