import { describeGuardError, GUARD_ERROR_CODES, isGuardErrorCode } from '@tessera/nest-guard';

/**
 * The error catalogue of docs/ ("Errors"). Every error outside /oauth/* leaves Tessera as
 * `{statusCode, error, code, message}` with the status and default message below. The token
 * codes, their messages and the reason phrases are the guard package's (@tessera/nest-guard,
 * token-errors.ts); the server extends that catalogue with its own codes.
 */
export const ErrorCode = {
  // The guard package owns the token codes (and INSUFFICIENT_SCOPE): imported, never redefined.
  ...GUARD_ERROR_CODES,
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORWARDED_REQUEST_CONFLICT: 'FORWARDED_REQUEST_CONFLICT',
  FORWARDED_URI_TOO_LONG: 'FORWARDED_URI_TOO_LONG',
  TENANT_FORBIDDEN: 'TENANT_FORBIDDEN',
  ADMIN_REQUIRED: 'ADMIN_REQUIRED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  REVOCATION_LIMIT_REACHED: 'REVOCATION_LIMIT_REACHED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorCodeInfo {
  status: number;
  message: string;
}

/** Status and default message per code; an unmapped code fails to compile. */
export function describeErrorCode(code: ErrorCode): ErrorCodeInfo {
  if (isGuardErrorCode(code)) return describeGuardError(code);
  switch (code) {
    case ErrorCode.UNAUTHENTICATED:
      return { status: 401, message: 'A valid X-Api-Key header is required' };
    case ErrorCode.FORWARDED_REQUEST_CONFLICT:
      return {
        status: 400,
        message: 'The forwarded request headers disagree: the proxy must set those of FORWARD_AUTH_SOURCE and clear the others',
      };
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

/** The `error` member of the JSON body: the lower-case reason phrase (the guard package's table). */
export { reasonPhrase } from '@tessera/nest-guard';
