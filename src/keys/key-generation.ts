import { generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { jwkThumbprint, PublicJwk, toPublicJwk } from '../common/crypto/jwk';
import type { SigningAlgorithm } from '../config/env.schema';

const generate = promisify(generateKeyPair);

export interface GeneratedKeyPair {
  kid: string;
  algorithm: SigningAlgorithm;
  publicJwk: PublicJwk;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A fresh key pair for the algorithm; kid is its RFC 7638 thumbprint. Off the event loop (libuv pool). */
export async function generateSigningKey(algorithm: SigningAlgorithm): Promise<GeneratedKeyPair> {
  const { publicKey, privateKey } = await generatePair(algorithm);
  const publicJwk = toPublicJwk(publicKey);
  return { kid: jwkThumbprint(publicJwk), algorithm, publicJwk, privateKey, publicKey };
}

function generatePair(algorithm: SigningAlgorithm): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  switch (algorithm) {
    case 'RS256':
    case 'PS256':
      // rsaEncryption keys serve PS256 too: JOSE publishes them as kty RSA (RFC 7518 §3.5).
      return generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    case 'ES256':
      return generate('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generate('ed25519');
    default: {
      const unknown: never = algorithm;
      throw new Error(`Unsupported signing algorithm ${String(unknown)}`);
    }
  }
}
