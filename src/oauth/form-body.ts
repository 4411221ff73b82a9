import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';

const FORM = 'application/x-www-form-urlencoded';

/** Only the OAuth endpoints (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1) take form bodies. */
export const isFormRoute = (url: string): boolean => url.startsWith('/oauth/');

/**
 * Reads an application/x-www-form-urlencoded body into an object without a prototype. A
 * parameter sent more than once keeps every value (an array), so the endpoint can refuse it
 * (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
 */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of new URLSearchParams(body)) {
    const seen = out[name];
    out[name] = seen === undefined ? value : [...[seen].flat(), value];
  }
  return out;
}

/**
 * Replaces the urlencoded parser Nest registers for every route with one that answers 415 on
 * every route but /oauth/*: the admin API takes JSON only, and a form body there must stay
 * UNSUPPORTED_MEDIA_TYPE, as before. Called before Fastify is ready (module init).
 */
export function registerOAuthFormParser(fastify: FastifyInstance, bodyLimit: number): void {
  if (fastify.hasContentTypeParser(FORM)) fastify.removeContentTypeParser(FORM);
  fastify.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit }, (request: FastifyRequest, body: string | Buffer, done) => {
    if (!isFormRoute(request.url)) {
      done(new AppException(ErrorCode.UNSUPPORTED_MEDIA_TYPE), undefined);
      return;
    }
    done(null, parseForm(String(body)));
  });
}
