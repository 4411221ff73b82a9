import { isIP } from 'node:net';

const MAX_URL_LENGTH = 1024;

/** 127.0.0.0/8, ::1 and localhost: the only hosts ALLOW_INSECURE_ISSUERS_FOR_TESTS opens to http. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Why `value` cannot be an external issuer or JWKS URL, or undefined when it can: an absolute
 * https URL without credentials or fragment; http only for a loopback host and only when
 * ALLOW_INSECURE_ISSUERS_FOR_TESTS is on (never in production). Keys fetched over plain http
 * could be swapped by anyone on the path, and with them every client they authenticate.
 */
export function issuerUrlProblem(value: string, what: string, allowInsecureLoopback: boolean): string | undefined {
  if (value.length > MAX_URL_LENGTH) return `${what} must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${what} must be an absolute https URL`;
  }
  if (url.username || url.password) return `${what} must not carry credentials`;
  if (url.hash) return `${what} must not have a fragment`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && allowInsecureLoopback && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    return `${what} must be https (http on loopback needs ALLOW_INSECURE_ISSUERS_FOR_TESTS=true, for tests only)`;
  }
  return `${what} must be an https URL`;
}
