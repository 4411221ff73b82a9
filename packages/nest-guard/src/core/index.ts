// The verification core: framework-free, used by the guard, the passport strategy and Tessera's server.
export { JwtVerifier } from './jwt-verifier';
export type { JwtVerifierHooks, VerifiedJwt, VerifierIssuer } from './jwt-verifier';
export { checkBeforeSignature, checkSignatureAndClaims, checkSignatureAndClaimsOffLoop, verifyJwt } from './verify-jwt';
export type { VerificationRules } from './verify-jwt';
export { audienceAccepted, audiencesOf, checkTimes, checkTyp, typSet } from './claims';
export { verifyJwsSignature } from './jws-signature';
export {
  ASYMMETRIC_ALGORITHMS,
  familyFitsAlgorithm,
  HMAC_ALGORITHMS,
  isAsymmetricAlgorithm,
  isHmacAlgorithm,
  isJwsAlgorithm,
  JWS_PROFILES,
  jwsKeyInput,
  keyFamily,
  rsaKeyIsAcceptable,
  SUPPORTED_ALGORITHMS,
} from './jws-algorithms';
export type { AsymmetricAlgorithm, HmacAlgorithm, JwsAlgorithm, JwsAlgorithmProfile, KeyFamily } from './jws-algorithms';
