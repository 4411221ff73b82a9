/**
 * What a sender-constraint check (DPoP, RFC 9449; mTLS, RFC 8705) needs of the request, the
 * same on Express and Fastify: the method, the request target as received, and the headers
 * (lower-cased names). `raw` is the adapter's own request (Express `req`, Fastify `request`),
 * e.g. for the TLS socket or a trusted proxy's forwarded host and protocol.
 */
export interface GuardRequest {
  readonly method: string;
  /** Path and query as received (`originalUrl` on Express, `url` on Fastify). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly raw: unknown;
}

/** A view of an Express or Fastify request; built only when a sender-constraint check is configured. */
export function guardRequestOf(request: object): GuardRequest {
  const r = request as { method?: unknown; originalUrl?: unknown; url?: unknown; headers?: unknown };
  return {
    method: typeof r.method === 'string' ? r.method : '',
    url: typeof r.originalUrl === 'string' ? r.originalUrl : typeof r.url === 'string' ? r.url : '',
    headers: (r.headers ?? {}) as GuardRequest['headers'],
    raw: request,
  };
}
