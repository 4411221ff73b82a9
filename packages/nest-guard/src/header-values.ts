/**
 * Header values, read and written the same way by the guard and by Tessera's server
 * (forward-auth imports these): one implementation of each.
 */

/** The value of one cookie (RFC 6265 §4.2.1), without its optional double quotes; undefined when the cookie is absent. */
export function cookieValue(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

/** RFC 6750 §3: the content of a quoted-string (error_description, scope…): no '"' or '\', printable ASCII only. */
export function quotedStringContent(value: string): string {
  return value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}
