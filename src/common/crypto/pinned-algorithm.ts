import { KeyFamily } from '@tessera/nest-guard';

/**
 * The one algorithm a key without an `alg` member is pinned to (docs/adr/0018): RSA → RS256 (what
 * every library signs with; a PS256 signer publishes `alg: PS256`), an RSA-PSS key → PS256, each
 * EC curve → its ES algorithm, Ed25519/Ed448 → EdDSA. HMAC secrets and anything else pin nothing:
 * a client assertion is never HS* and never `none`.
 */
export function defaultAlgorithmFor(family: KeyFamily): string | undefined {
  switch (family) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ec-P-256':
      return 'ES256';
    case 'ec-P-384':
      return 'ES384';
    case 'ec-P-521':
      return 'ES512';
    case 'ed25519':
    case 'ed448':
      return 'EdDSA';
    default:
      return undefined;
  }
}
