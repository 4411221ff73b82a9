/**
 * RFC 6749 §5.2 error for /oauth/* endpoints. `description` is what the client reads;
 * never put a token, key or secret in it.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'server_error'
  | 'temporarily_unavailable'
  // RFC 9449 §5 and §8.
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

export class OAuthException extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : error === 'server_error' ? 500 : error === 'temporarily_unavailable' ? 503 : 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthException';
  }
}
