import { cookieValue as guardCookieValue } from '@tessera/nest-guard';
import { ForwardedSource, KNOWN_METHOD_HEADERS, KNOWN_URI_HEADERS } from '../config/forward-auth/forwarded-source';

/**
 * Reading what a gateway sends to GET /v1/auth/verify: the token (Authorization: Bearer or
 * a cookie) and the original request, from the headers FORWARD_AUTH_SOURCE names only.
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

/** RFC 9449 §7.1: `DPoP` (any case) and the token; undefined for any other scheme. */
export function dpopToken(headers: Headers): string | undefined {
  const authorization = first(headers.authorization);
  if (!authorization) return undefined;
  const match = /^DPoP +(\S+) *$/i.exec(authorization);
  return match?.[1];
}

/**
 * The URL the gateway received, as a DPoP proof's `htu` names it (docs/: "Sender-constrained
 * tokens"): the forwarded proto://host and path, without the query; undefined when the source
 * did not say all three.
 */
export function forwardedHtu(forwarded: ForwardedRequest): string | undefined {
  if (forwarded.proto === undefined || forwarded.host === undefined || forwarded.uri === undefined) return undefined;
  const uri = forwarded.uri;
  // An absolute URI (some gateways send one): keep its path.
  const path = rawPathOf(/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? uri.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '') || '/' : uri);
  return `${forwarded.proto}://${forwarded.host}${path.startsWith('/') ? path : `/${path}`}`;
}

/** The value of one cookie, as the guard package reads it; undefined when absent or empty. */
export function cookieValue(headers: Headers, name: string): string | undefined {
  return guardCookieValue(first(headers.cookie), name) || undefined;
}

/**
 * The original request as the configured source tells it. `proto` and `host` come from the
 * same source, so that a URL rebuilt from them (proto://host/path) is the one the gateway
 * received.
 */
export interface ForwardedRequest {
  /** Upper-case; undefined when the source sent none. */
  method: string | undefined;
  /** The original URI as sent (path and query), or undefined when the source sent none. */
  uri: string | undefined;
  /** Lower-case, e.g. `https`. */
  proto: string | undefined;
  /** Lower-case host[:port]. */
  host: string | undefined;
}

/** The original request as Envoy ext_authz puts it in this request's method and URL. */
export interface PathForm {
  method: string;
  uri: string;
}

/** The forwarded request cannot be believed: two sources disagree, or one says two things. */
export class ForwardedRequestError extends Error {}

/** Longest forwarded path (before the query) read; anything longer is refused (414). */
export const MAX_FORWARDED_PATH_LENGTH = 4096;

/** `x-original-uri` → `X-Original-Uri`, for messages. */
const display = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

const single = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/**
 * Reads the original request from the configured source only, and refuses (throws
 * ForwardedRequestError) when another known source names a different method or path, when a
 * header Tessera reads arrives twice (`rawHeaders`, as Node would join them), or when the
 * route does not fit the source (the Envoy path form under another source, or the reverse
 * with another source's headers).
 */
export function readForwardedRequest(
  source: ForwardedSource,
  headers: Headers,
  rawHeaders: string[] = [],
  pathForm?: PathForm,
): ForwardedRequest {
  if (pathForm && !source.pathForm) {
    throw new ForwardedRequestError(
      `/v1/auth/verify/<path> is the Envoy ext_authz form, but FORWARD_AUTH_SOURCE=${source.name} reads ${display(source.methodHeader!)} / ${display(source.uriHeader!)}: ` +
        'call GET /v1/auth/verify, or set FORWARD_AUTH_SOURCE=envoy',
    );
  }
  const read = [source.methodHeader, source.uriHeader, source.protoHeader, source.hostHeader].filter(
    (h): h is string => h !== undefined && h !== 'host',
  );
  const seen = new Map<string, number>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (read.includes(name)) seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  for (const [name, count] of seen) {
    if (count > 1)
      throw new ForwardedRequestError(
        `${display(name)} arrived ${count} times: the proxy must set it once, replacing what the client sent`,
      );
  }

  const method = (pathForm ? pathForm.method : single(first(headers[source.methodHeader!])))?.toUpperCase();
  const uri = pathForm ? pathForm.uri : single(first(headers[source.uriHeader!]));
  const proto = single(first(headers[source.protoHeader]))?.toLowerCase();
  const host = single(first(headers[source.hostHeader]))?.toLowerCase();
  for (const [name, value] of [
    [source.protoHeader, proto],
    [source.hostHeader, host],
  ] as const) {
    if (value?.includes(','))
      throw new ForwardedRequestError(
        `${display(name)} carries more than one value: the proxy must set it once, replacing what the client sent`,
      );
  }

  const sameMethod = (other: string) => other.toUpperCase() === method;
  const samePath = (other: string) =>
    uri !== undefined && (other === uri || (normalisePath(other) ?? other) === (normalisePath(uri) ?? uri));
  const others: Array<[string, (value: string) => boolean]> = [
    ...KNOWN_METHOD_HEADERS.filter((h) => h !== source.methodHeader).map((h): [string, (value: string) => boolean] => [h, sameMethod]),
    ...KNOWN_URI_HEADERS.filter((h) => h !== source.uriHeader).map((h): [string, (value: string) => boolean] => [h, samePath]),
  ];
  for (const [name, same] of others) {
    const value = single(first(headers[name]));
    if (value === undefined || same(value)) continue;
    const trusted = source.pathForm
      ? 'the method and path of the Envoy form'
      : `${display(source.methodHeader!)} / ${display(source.uriHeader!)}`;
    throw new ForwardedRequestError(
      `${display(name)} names another request than ${trusted} (FORWARD_AUTH_SOURCE=${source.name}): ` +
        `have the proxy clear ${display(name)}, or set FORWARD_AUTH_SOURCE to the proxy that sends it`,
    );
  }
  return { method, uri, proto, host };
}

/** The path of a forwarded URI before its query, for the length cap. */
export function rawPathOf(uri: string): string {
  return uri.split(/[?#]/, 1)[0];
}

/**
 * The path a rule is matched against, normalised the way an upstream may read it, so that
 * `/public/..%2Forders/1`, `//orders/1`, `/%6Frders/1` or `\orders\1` cannot slip past a rule
 * for `/orders/*`: query and fragment dropped, percent-decoded, `\` read as `/`, path
 * parameters (`;…` in a segment) dropped, empty and `.` segments dropped, `..` resolved
 * (never above the root), trailing slash kept.
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
  for (const raw of decoded.replace(/\\/g, '/').split('/')) {
    // RFC 3986 path parameters: servlet containers (Tomcat, Jetty, Spring) route without them and read `..;x` as `..`,
    // and nginx passes `$request_uri` on unchanged, so `/public/..;/admin` must meet the rules of `/admin`.
    const segment = raw.split(';', 1)[0];
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && /[/\\]\.{0,2}$/.test(decoded) ? '/' : '';
  return `/${segments.join('/')}${trailing}`;
}
