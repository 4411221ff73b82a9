/**
 * FORWARD_AUTH_SOURCE: where GET /v1/auth/verify reads the original request. Only the
 * named headers are believed; the other known ones only serve to spot a second, conflicting
 * source (docs/adr/0009).
 */
export interface ForwardedSource {
  /** As configured: nginx, traefik, envoy or headers:… */
  name: string;
  /** Envoy ext_authz: the method of this request and the path after /v1/auth/verify. */
  pathForm: boolean;
  /** Lower-case header names; absent with pathForm. */
  methodHeader?: string;
  uriHeader?: string;
  protoHeader: string;
  /** `host` for Envoy: ext_authz sends the original authority as Host. */
  hostHeader: string;
}

export const DEFAULT_FORWARD_AUTH_SOURCE = 'nginx';

/** Every header that some gateway uses for the original method or URI. */
export const KNOWN_METHOD_HEADERS = ['x-original-method', 'x-forwarded-method'];
export const KNOWN_URI_HEADERS = ['x-original-uri', 'x-forwarded-uri'];

export class ForwardedSourceError extends Error {}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
// Headers that mean something else to Tessera or to HTTP: never the carrier of the forwarded request.
const RESERVED = new Set([
  'authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'x-forwarded-for',
  'x-request-id',
]);

export function parseForwardedSource(text: string): ForwardedSource {
  const value = text.trim();
  const lower = value.toLowerCase();
  if (lower === 'nginx') {
    return {
      name: 'nginx',
      pathForm: false,
      methodHeader: 'x-original-method',
      uriHeader: 'x-original-uri',
      protoHeader: 'x-forwarded-proto',
      hostHeader: 'x-forwarded-host',
    };
  }
  if (lower === 'traefik') {
    return {
      name: 'traefik',
      pathForm: false,
      methodHeader: 'x-forwarded-method',
      uriHeader: 'x-forwarded-uri',
      protoHeader: 'x-forwarded-proto',
      hostHeader: 'x-forwarded-host',
    };
  }
  if (lower === 'envoy') return { name: 'envoy', pathForm: true, protoHeader: 'x-forwarded-proto', hostHeader: 'host' };
  if (lower.startsWith('headers:')) {
    const names = lower
      .slice('headers:'.length)
      .split(',')
      .map((s) => s.trim());
    if (
      (names.length !== 2 && names.length !== 4) ||
      names.some((n) => !HEADER_NAME.test(n) || RESERVED.has(n)) ||
      new Set(names).size !== names.length
    ) {
      throw new ForwardedSourceError(
        'must be nginx, traefik, envoy or headers:<method-header>,<uri-header>[,<proto-header>,<host-header>] with distinct header names other than Authorization, Cookie, Host, X-Forwarded-For',
      );
    }
    const [methodHeader, uriHeader, protoHeader = 'x-forwarded-proto', hostHeader = 'x-forwarded-host'] = names;
    return { name: `headers:${names.join(',')}`, pathForm: false, methodHeader, uriHeader, protoHeader, hostHeader };
  }
  throw new ForwardedSourceError('must be nginx, traefik, envoy or headers:<method-header>,<uri-header>');
}
