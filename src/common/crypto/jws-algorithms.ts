import { AsymmetricAlgorithm, JWS_PROFILES as PROFILES, JwsAlgorithmProfile } from '@tessera/nest-guard';

/**
 * The JWS algorithm table is the guard package's (@tessera/nest-guard, core/jws-algorithms.ts):
 * one table for the guard, the server's verification and its signer. The server signs and
 * verifies asymmetric algorithms only, so its `JwsAlgorithm` and `isJwsAlgorithm` are those.
 */
export { ASYMMETRIC_ALGORITHMS as JWS_ALGORITHMS, isAsymmetricAlgorithm as isJwsAlgorithm, jwsKeyInput } from '@tessera/nest-guard';
export type { JwsAlgorithmProfile };
export type JwsAlgorithm = AsymmetricAlgorithm;

/** The same table object, typed for the algorithms the server uses. */
export const JWS_PROFILES: Readonly<Record<JwsAlgorithm, JwsAlgorithmProfile>> = PROFILES;
