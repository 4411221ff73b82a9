/**
 * The token-error catalogue (docs/: "Errors"). The guard owns it: codes, default messages,
 * statuses and reason phrases; Tessera's server extends it with its own codes
 * (src/common/errors/error-code.ts imports these, never redefines them).
 */
export const TOKEN_ERROR_CODES = {
  MISSING_TOKEN: 'MISSING_TOKEN',
  MALFORMED_TOKEN: 'MALFORMED_TOKEN',
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_NOT_YET_VALID: 'TOKEN_NOT_YET_VALID',
  INVALID_ISSUER: 'INVALID_ISSUER',
  INVALID_AUDIENCE: 'INVALID_AUDIENCE',
  INVALID_TOKEN_TYPE: 'INVALID_TOKEN_TYPE',
  UNKNOWN_KEY: 'UNKNOWN_KEY',
  ALGORITHM_NOT_ALLOWED: 'ALGORITHM_NOT_ALLOWED',
  TOKEN_REVOKED: 'TOKEN_REVOKED',
} as const;

export type TokenErrorCode = (typeof TOKEN_ERROR_CODES)[keyof typeof TOKEN_ERROR_CODES];

/**
 * The guard's codes beyond the token's own: a valid token without a required scope (403), and a
 * refused DPoP proof (RFC 9449 §7.1: 401 with `WWW-Authenticate: DPoP error="invalid_dpop_proof"`
 * or `error="use_dpop_nonce"` and a `DPoP-Nonce` header).
 */
export const GUARD_ERROR_CODES = {
  ...TOKEN_ERROR_CODES,
  INSUFFICIENT_SCOPE: 'INSUFFICIENT_SCOPE',
  INVALID_DPOP_PROOF: 'INVALID_DPOP_PROOF',
  USE_DPOP_NONCE: 'USE_DPOP_NONCE',
} as const;
export type GuardErrorCode = (typeof GUARD_ERROR_CODES)[keyof typeof GUARD_ERROR_CODES];

export function isTokenErrorCode(code: unknown): code is TokenErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(TOKEN_ERROR_CODES, code);
}

export function isGuardErrorCode(code: unknown): code is GuardErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(GUARD_ERROR_CODES, code);
}

export const INSUFFICIENT_SCOPE_MESSAGE = 'Token lacks a required scope';

/** Status and default client-facing message of a guard code; an unmapped code fails to compile. */
export function describeGuardError(code: GuardErrorCode): { status: number; message: string } {
  switch (code) {
    case 'INSUFFICIENT_SCOPE':
      return { status: 403, message: INSUFFICIENT_SCOPE_MESSAGE };
    case 'INVALID_DPOP_PROOF':
      return {
        status: 401,
        message: 'DPoP proof is invalid: send a fresh proof for this request, signed with the key the token is bound to',
      };
    case 'USE_DPOP_NONCE':
      return { status: 401, message: 'A DPoP nonce is required: retry with the DPoP-Nonce value' };
    default:
      return { status: 401, message: defaultTokenErrorMessage(code) };
  }
}

/** Default client-facing message per code (no token content ever goes into a message). */
export function defaultTokenErrorMessage(code: TokenErrorCode): string {
  switch (code) {
    case 'MISSING_TOKEN':
      return 'A bearer token is required';
    case 'MALFORMED_TOKEN':
      return 'Token is malformed';
    case 'INVALID_SIGNATURE':
      return 'Token signature is invalid';
    case 'TOKEN_EXPIRED':
      return 'Token expired';
    case 'TOKEN_NOT_YET_VALID':
      return 'Token is not valid yet';
    case 'INVALID_ISSUER':
      return 'Token issuer is not accepted';
    case 'INVALID_AUDIENCE':
      return 'Token audience is not accepted';
    case 'INVALID_TOKEN_TYPE':
      return 'Token type is not accepted';
    case 'UNKNOWN_KEY':
      return 'Token was signed with an unknown key';
    case 'ALGORITHM_NOT_ALLOWED':
      return 'Token algorithm is not allowed';
    case 'TOKEN_REVOKED':
      return 'Token has been revoked';
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

const REASON_PHRASES: Readonly<Record<number, string>> = {
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

/** The `error` member of an error body: the lower-case reason phrase of the status. */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status >= 500 ? 'internal_server_error' : 'bad_request');
}

/**
 * A token was refused. `message` is safe to show a client: it never contains the token,
 * a key or a claim value.
 */
export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string = defaultTokenErrorMessage(code),
  ) {
    super(message);
    this.name = 'TokenError';
  }
}
