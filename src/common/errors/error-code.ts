/**
 * The error catalogue of DESIGN.md. Every error outside /oauth/* leaves Tessera as
 * `{statusCode, error, code, message}` with the status and default message below.
 */
export enum ErrorCode {
  MISSING_TOKEN = 'MISSING_TOKEN',
  MALFORMED_TOKEN = 'MALFORMED_TOKEN',
  INVALID_SIGNATURE = 'INVALID_SIGNATURE',
  TOKEN_EXPIRED = 'TOKEN_EXPIRED',
  TOKEN_NOT_YET_VALID = 'TOKEN_NOT_YET_VALID',
  INVALID_ISSUER = 'INVALID_ISSUER',
  INVALID_AUDIENCE = 'INVALID_AUDIENCE',
  INVALID_TOKEN_TYPE = 'INVALID_TOKEN_TYPE',
  UNKNOWN_KEY = 'UNKNOWN_KEY',
  ALGORITHM_NOT_ALLOWED = 'ALGORITHM_NOT_ALLOWED',
  TOKEN_REVOKED = 'TOKEN_REVOKED',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  INSUFFICIENT_SCOPE = 'INSUFFICIENT_SCOPE',
  FORWARDED_REQUEST_CONFLICT = 'FORWARDED_REQUEST_CONFLICT',
  FORWARDED_URI_TOO_LONG = 'FORWARDED_URI_TOO_LONG',
  TENANT_FORBIDDEN = 'TENANT_FORBIDDEN',
  ADMIN_REQUIRED = 'ADMIN_REQUIRED',
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  NOT_FOUND = 'NOT_FOUND',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  CONFLICT = 'CONFLICT',
  REVOCATION_LIMIT_REACHED = 'REVOCATION_LIMIT_REACHED',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED = 'RATE_LIMITED',
  INTERNAL_ERROR = 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
}

export interface ErrorCodeInfo {
  status: number;
  message: string;
}

/** Status and default message per code; an unmapped code fails to compile. */
export function describeErrorCode(code: ErrorCode): ErrorCodeInfo {
  switch (code) {
    case ErrorCode.MISSING_TOKEN:
      return { status: 401, message: 'A bearer token is required' };
    case ErrorCode.MALFORMED_TOKEN:
      return { status: 401, message: 'Token is malformed' };
    case ErrorCode.INVALID_SIGNATURE:
      return { status: 401, message: 'Token signature is invalid' };
    case ErrorCode.TOKEN_EXPIRED:
      return { status: 401, message: 'Token expired' };
    case ErrorCode.TOKEN_NOT_YET_VALID:
      return { status: 401, message: 'Token is not valid yet' };
    case ErrorCode.INVALID_ISSUER:
      return { status: 401, message: 'Token issuer is not accepted' };
    case ErrorCode.INVALID_AUDIENCE:
      return { status: 401, message: 'Token audience is not accepted' };
    case ErrorCode.INVALID_TOKEN_TYPE:
      return { status: 401, message: 'Token type is not accepted' };
    case ErrorCode.UNKNOWN_KEY:
      return { status: 401, message: 'Token was signed with an unknown key' };
    case ErrorCode.ALGORITHM_NOT_ALLOWED:
      return { status: 401, message: 'Token algorithm is not allowed' };
    case ErrorCode.TOKEN_REVOKED:
      return { status: 401, message: 'Token has been revoked' };
    case ErrorCode.UNAUTHENTICATED:
      return { status: 401, message: 'A valid X-Api-Key header is required' };
    case ErrorCode.INSUFFICIENT_SCOPE:
      return { status: 403, message: 'Token lacks a required scope' };
    case ErrorCode.FORWARDED_REQUEST_CONFLICT:
      return { status: 400, message: 'The forwarded request headers disagree: the proxy must set those of FORWARD_AUTH_SOURCE and clear the others' };
    case ErrorCode.FORWARDED_URI_TOO_LONG:
      return { status: 414, message: 'The forwarded path is too long' };
    case ErrorCode.TENANT_FORBIDDEN:
      return { status: 403, message: 'This API key cannot access that tenant' };
    case ErrorCode.ADMIN_REQUIRED:
      return { status: 403, message: 'This operation requires the admin API key' };
    case ErrorCode.VALIDATION_FAILED:
      return { status: 400, message: 'Request validation failed' };
    case ErrorCode.NOT_FOUND:
      return { status: 404, message: 'Not found' };
    case ErrorCode.METHOD_NOT_ALLOWED:
      return { status: 405, message: 'Method not allowed' };
    case ErrorCode.CONFLICT:
      return { status: 409, message: 'Conflict with an existing resource' };
    case ErrorCode.REVOCATION_LIMIT_REACHED:
      return { status: 409, message: 'The tenant holds as many revocations still in force as it may: wait for some to expire' };
    case ErrorCode.PAYLOAD_TOO_LARGE:
      return { status: 413, message: 'Request body is too large' };
    case ErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return { status: 415, message: 'Unsupported content type: send application/json' };
    case ErrorCode.RATE_LIMITED:
      return { status: 429, message: 'Too many requests: retry after the time in Retry-After' };
    case ErrorCode.INTERNAL_ERROR:
      return { status: 500, message: 'Internal server error' };
    case ErrorCode.SERVICE_UNAVAILABLE:
      return { status: 503, message: 'Service temporarily unavailable: the database cannot be reached, retry shortly' };
    default: {
      const unmapped: never = code;
      throw new Error(`Unmapped error code ${String(unmapped)}`);
    }
  }
}

/** The `error` member of the JSON body: the lower-case reason phrase. */
export function reasonPhrase(status: number): string {
  const phrases: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    413: 'payload_too_large',
    414: 'uri_too_long',
    415: 'unsupported_media_type',
    429: 'too_many_requests',
    431: 'request_header_fields_too_large',
    500: 'internal_server_error',
    503: 'service_unavailable',
  };
  return phrases[status] ?? (status >= 500 ? 'internal_server_error' : 'bad_request');
}
