/**
 * The guard's token-error codes (DESIGN.md "Errors"). They live here, not in
 * src/common, because src/guard depends on nothing else in src/; the rest of Tessera
 * may import them.
 */
export type TokenErrorCode =
  | 'MISSING_TOKEN'
  | 'MALFORMED_TOKEN'
  | 'INVALID_SIGNATURE'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_NOT_YET_VALID'
  | 'INVALID_ISSUER'
  | 'INVALID_AUDIENCE'
  | 'INVALID_TOKEN_TYPE'
  | 'UNKNOWN_KEY'
  | 'ALGORITHM_NOT_ALLOWED'
  | 'TOKEN_REVOKED';

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
