// DPoP (RFC 9449): proof verification for the guard and for Tessera's server.
export { DpopError, dpopChallenge } from './dpop-error';
export type { DpopErrorCode } from './dpop-error';
export { accessTokenHash, DPOP_ALGORITHMS, MAX_DPOP_PROOF_BYTES, verifyDpopProof } from './dpop-proof';
export type { DpopExpectations, DpopProofRules, VerifiedDpopProof } from './dpop-proof';
export { DpopProofVerifier } from './dpop-proof-verifier';
export type { DpopNonceSource, DpopProofVerifierOptions } from './dpop-proof-verifier';
export { MemoryDpopJtiStore } from './dpop-jti-store';
export type { DpopJtiStore } from './dpop-jti-store';
export { normalizeHtu } from './dpop-htu';
export { jwkThumbprint } from './jwk-thumbprint';
export { authorizationScheme, boundJkt, DpopSenderConstraint } from './dpop-sender-constraint';
export type { DpopGuardOptions } from './dpop-sender-constraint';
