const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The `htu` comparison form (RFC 9449 §4.3): the URI without query and fragment, normalised
 * per RFC 3986 §6.2.2 (case of scheme, host and percent-encodings; unreserved characters
 * decoded; dot segments removed) and §6.2.3 (default port dropped, empty path is `/`).
 * Undefined when it is not an absolute http(s) URI.
 */
export function normalizeHtu(value: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 8192) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  // WHATWG URL already lower-cases scheme and host, drops the default port and resolves dot segments.
  const path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}
