import { HttpException } from '@nestjs/common';
import { quotedStringContent as quoted } from './header-values';
import { defaultTokenErrorMessage, GuardErrorCode, INSUFFICIENT_SCOPE_MESSAGE, reasonPhrase, TokenErrorCode } from './token-errors';

export type BearerErrorCode = GuardErrorCode | 'SERVICE_UNAVAILABLE';

export interface BearerErrorBody {
  statusCode: number;
  error: string;
  code: BearerErrorCode;
  message: string;
}

/** Extra auth-params of a challenge, e.g. RFC 9728 `resource_metadata`. */
export interface ChallengeOptions {
  /** RFC 9728 §5.1: the URL of this resource's protected-resource metadata. */
  resourceMetadata?: string;
}

/**
 * What the guard throws: the response body is already the design's JSON, so Nest's default
 * exception handling sends it as is on Express and on Fastify, and `headers` holds the
 * RFC 6750 challenge (the guard also sets it on the response itself, because a consumer's
 * own exception filter may rebuild the body but keeps headers already set).
 */
export class BearerAuthException extends HttpException {
  readonly code: BearerErrorCode;
  readonly headers: Record<string, string>;

  constructor(code: BearerErrorCode, message: string, status: number, headers: Record<string, string>) {
    const body: BearerErrorBody = { statusCode: status, error: reasonPhrase(status), code, message };
    super(body, status);
    this.code = code;
    this.headers = headers;
  }

  /** 401 with `WWW-Authenticate: Bearer error="invalid_token", error_description="…"`. */
  static invalidToken(
    code: TokenErrorCode,
    message: string = defaultTokenErrorMessage(code),
    options: ChallengeOptions = {},
  ): BearerAuthException {
    return new BearerAuthException(code, message, 401, {
      'www-authenticate': `Bearer error="invalid_token", error_description="${quoted(message)}"${extraParams(options)}`,
    });
  }

  /** 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 §3.1). */
  static insufficientScope(required: readonly string[], options: ChallengeOptions = {}): BearerAuthException {
    const message = INSUFFICIENT_SCOPE_MESSAGE;
    return new BearerAuthException('INSUFFICIENT_SCOPE', message, 403, {
      'www-authenticate': `Bearer error="insufficient_scope", error_description="${message}", scope="${quoted(required.join(' '))}"${extraParams(options)}`,
    });
  }

  /** 503: a revocation check that could not answer; the token is not let through. */
  static revocationUnavailable(): BearerAuthException {
    return new BearerAuthException('SERVICE_UNAVAILABLE', 'Token revocation status is unavailable', 503, { 'retry-after': '5' });
  }
}

function extraParams(options: ChallengeOptions): string {
  return options.resourceMetadata === undefined ? '' : `, resource_metadata="${quoted(options.resourceMetadata)}"`;
}

/** Sets headers on an Express response or a Fastify reply. */
export function setResponseHeaders(response: unknown, headers: Record<string, string>): void {
  const target = response as {
    setHeader?: (n: string, v: string) => void;
    header?: (n: string, v: string) => void;
    sent?: boolean;
    headersSent?: boolean;
  };
  if (!target || target.sent || target.headersSent) return;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof target.setHeader === 'function')
      target.setHeader(name, value); // Express (http.ServerResponse)
    else if (typeof target.header === 'function') target.header(name, value); // Fastify reply
  }
}
