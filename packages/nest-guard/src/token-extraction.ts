import { cookieValue } from './header-values';
import { TokenError } from './token-errors';

/**
 * The bearer token of a request (RFC 6750 §2.1 `Authorization: Bearer <token>`; the scheme is
 * case-insensitive), else the named cookie. Works on Express and Fastify requests alike:
 * both expose lower-cased `headers`. `schemes`: other schemes whose token is read the same way
 * (`dpop`, RFC 9449 §7.1), only when a sender-constraint check that judges them is configured.
 */
export function extractToken(
  request: { headers?: Record<string, unknown> },
  cookieName: string | undefined,
  maxTokenBytes: number,
  schemes: readonly string[] = [],
): string {
  const headers = request.headers ?? {};
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    if (authorization.length > maxTokenBytes + 64) throw new TokenError('MALFORMED_TOKEN', 'Token is too large');
    if (authorization.length >= 6 && authorization.slice(0, 6).toLowerCase() === 'bearer') {
      const token = authorization.slice(6).trim();
      if (token.length === 0) throw new TokenError('MISSING_TOKEN', 'A bearer token is required');
      if (authorization.charCodeAt(6) !== 0x20 || /\s/.test(token))
        throw new TokenError('MALFORMED_TOKEN', 'Authorization header is not Bearer <token>');
      return token;
    }
    const space = authorization.indexOf(' ');
    if (space > 0 && schemes.includes(authorization.slice(0, space).toLowerCase())) {
      const token = authorization.slice(space + 1);
      if (token.length === 0 || /\s/.test(token))
        throw new TokenError('MALFORMED_TOKEN', `Authorization header is not ${authorization.slice(0, space)} <token>`);
      return token;
    }
    // Another scheme (Basic, DPoP without a DPoP check…): no bearer token here; fall through to the cookie.
  }
  if (cookieName) {
    const token = cookieValue(headers.cookie, cookieName);
    if (token !== undefined) {
      if (token.length === 0) throw new TokenError('MISSING_TOKEN', 'A bearer token is required');
      if (token.length > maxTokenBytes) throw new TokenError('MALFORMED_TOKEN', 'Token is too large');
      return token;
    }
  }
  throw new TokenError('MISSING_TOKEN', 'A bearer token is required');
}

/**
 * Refuses a request that carries the Authorization header more than once. Node keeps only the first
 * copy in `headers`, while a framework or proxy further on may read another: the token verified here
 * must be the only one (RFC 6750 §2: a request uses one method to carry its token). Reads Node's raw
 * header list (Express `req.rawHeaders`, Fastify `request.raw.rawHeaders`).
 */
export function refuseRepeatedAuthorization(request: { rawHeaders?: unknown; raw?: { rawHeaders?: unknown } }): void {
  const raw = Array.isArray(request.rawHeaders) ? request.rawHeaders : request.raw?.rawHeaders;
  if (!Array.isArray(raw)) return;
  let seen = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (typeof name === 'string' && name.length === 13 && name.toLowerCase() === 'authorization') {
      if (seen) throw new TokenError('MALFORMED_TOKEN', 'The Authorization header was sent more than once');
      seen = true;
    }
  }
}
