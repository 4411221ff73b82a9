/**
 * Reading what a gateway sends to GET /v1/auth/verify: the token (Authorization: Bearer or
 * a cookie) and the original method and URI (Traefik/Caddy: X-Forwarded-Method and
 * X-Forwarded-Uri; nginx `auth_request` as usually configured: X-Original-Method and
 * X-Original-URI).
 */
export type Headers = Record<string, string | string[] | undefined>;

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** RFC 6750 §2.1: `Bearer` (any case) and the token; any other scheme is not ours. */
export function bearerToken(headers: Headers): string | undefined {
  const authorization = first(headers.authorization);
  if (!authorization) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match?.[1];
}

/** The value of one cookie (RFC 6265 §4.2.1), unquoted; undefined when absent or empty. */
export function cookieValue(headers: Headers, name: string): string | undefined {
  const header = first(headers.cookie);
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value.length > 0 ? value : undefined;
  }
  return undefined;
}

export interface ForwardedTarget {
  method: string | undefined;
  /** The original URI as sent, or undefined when the gateway sent none. */
  uri: string | undefined;
}

export function forwardedTarget(headers: Headers): ForwardedTarget {
  const method = first(headers['x-forwarded-method']) ?? first(headers['x-original-method']);
  const uri = first(headers['x-forwarded-uri']) ?? first(headers['x-original-uri']);
  return { method: method?.trim().toUpperCase() || undefined, uri: uri?.trim() || undefined };
}

/**
 * The path a rule is matched against, normalised the way an upstream may read it, so that
 * `/public/..%2Forders/1`, `//orders/1`, `/%6Frders/1` or `\orders\1` cannot slip past a rule
 * for `/orders/*`: query and fragment dropped, percent-decoded, `\` read as `/`, empty and
 * `.` segments dropped, `..` resolved (never above the root), trailing slash kept.
 * Undefined when the URI cannot be decoded (the caller refuses the request).
 */
export function normalisePath(uri: string): string | undefined {
  let path = uri;
  // An absolute URI (some gateways send one): keep its path.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (scheme) path = path.slice(scheme[0].length) || '/';
  path = path.split(/[?#]/, 1)[0];
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
  const segments: string[] = [];
  for (const segment of decoded.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && /[/\\]\.{0,2}$/.test(decoded) ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}
