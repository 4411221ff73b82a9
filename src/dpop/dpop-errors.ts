import { dpopChallenge, DpopError } from '@tessera/nest-guard';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-code';
import { OAuthException } from '../common/errors/oauth.exception';

/** At /oauth/token: RFC 9449 §5, 400 `{error: "invalid_dpop_proof" | "use_dpop_nonce"}`, with DPoP-Nonce for the latter. */
export function dpopOAuthException(error: DpopError): OAuthException {
  return new OAuthException(error.error, error.message, 400, error.nonce === undefined ? {} : { 'dpop-nonce': error.nonce });
}

/**
 * Outside /oauth/*: the design's JSON with code INVALID_DPOP_PROOF or USE_DPOP_NONCE (401), and
 * RFC 9449 §7.1's `WWW-Authenticate: DPoP algs="…", error="…"` (plus DPoP-Nonce).
 */
export function dpopAppException(error: DpopError, algorithms: readonly string[]): AppException {
  const headers: Record<string, string> = { 'www-authenticate': dpopChallenge(algorithms, error.error, error.message) };
  if (error.nonce !== undefined) headers['dpop-nonce'] = error.nonce;
  return new AppException(
    error.error === 'use_dpop_nonce' ? ErrorCode.USE_DPOP_NONCE : ErrorCode.INVALID_DPOP_PROOF,
    error.message,
    headers,
  );
}
