import { createHash, createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';
import { jwkThumbprint, PublicJwk, toPublicJwk } from '../common/crypto/jwk';

export { jwkThumbprint, type PublicJwk };

/** Algorithms a tenant may register a key for (RFC 7518 §3.1, RFC 8037 for EdDSA); never HS* or none. */
export const REGISTERED_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const;
export type RegisteredKeyAlgorithm = (typeof REGISTERED_KEY_ALGORITHMS)[number];

export const MAX_PUBLIC_KEY_PEM_LENGTH = 10_000;
export const MIN_RSA_BITS = 2048;
/**
 * Larger moduli cost more per signature check (about 8× from 2048 to 4096 bits, and far more
 * beyond) on the event loop of every verifier, before any claim is read: 4096 is the largest
 * size in common use (docs/adr/0012-registered-key-proof.md).
 */
export const MAX_RSA_BITS = 4096;
/**
 * RSA public exponents accepted: odd, from 3 to 2^32 - 1. Verification costs one modular
 * squaring per exponent bit, so a 2048-bit exponent makes each check ~70× dearer than
 * e = 65537; at most 32 bits it stays within 2× of it, and every exponent real keys use
 * (65537, and the older 3, 17, 257) still registers.
 */
export const MIN_RSA_EXPONENT = 3n;
export const MAX_RSA_EXPONENT = 2n ** 32n - 1n;

/** JWK members that carry private (or symmetric) key material (RFC 7518 §6.2.2, §6.3.2, §6.4). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

export interface ParsedPublicKey {
  /** RFC 7638 JWK thumbprint (SHA-256, base64url). */
  kid: string;
  publicJwk: PublicJwk;
  /** SHA-256 of the SubjectPublicKeyInfo DER, as 32 upper-case hex pairs joined by colons. */
  fingerprint: string;
  keyObject: KeyObject;
}

export interface PublicKeyInput {
  algorithm: string;
  publicKeyPem?: string;
  jwk?: unknown;
}

/** A key refused as input. The message is safe for the client: it never quotes the key. */
export class PublicKeyError extends Error {
  override readonly name = 'PublicKeyError';
}

// One SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") block and nothing else (no certificate, no second block).
const PUBLIC_PEM = /^\s*-----BEGIN (RSA )?PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1PUBLIC KEY-----\s*$/;

/**
 * Parses and checks a key a tenant registers: exactly one of a PEM or a JWK, public only,
 * of a type and size that fit the algorithm. Throws PublicKeyError with a message saying
 * what is wrong; the key itself is never part of a message.
 */
export function parsePublicKey(input: PublicKeyInput): ParsedPublicKey {
  const algorithm = input.algorithm;
  if (!(REGISTERED_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new PublicKeyError(`algorithm must be one of ${REGISTERED_KEY_ALGORITHMS.join(', ')}`);
  }
  const hasPem = input.publicKeyPem !== undefined;
  const hasJwk = input.jwk !== undefined;
  if (hasPem === hasJwk) throw new PublicKeyError('Send exactly one of publicKeyPem or jwk');

  const keyObject = hasPem ? fromPem(input.publicKeyPem!) : fromJwk(input.jwk, algorithm);
  checkFitsAlgorithm(keyObject, algorithm as RegisteredKeyAlgorithm);
  const publicJwk = toPublicJwk(keyObject);
  return {
    kid: jwkThumbprint(publicJwk),
    publicJwk,
    fingerprint: spkiFingerprint(keyObject),
    keyObject,
  };
}

export function spkiFingerprint(key: KeyObject): string {
  const digest = createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .toUpperCase();
  return digest.match(/../g)!.join(':');
}

function fromPem(pem: string): KeyObject {
  if (typeof pem !== 'string' || pem.length === 0) throw new PublicKeyError('publicKeyPem must be a non-empty string');
  if (pem.length > MAX_PUBLIC_KEY_PEM_LENGTH)
    throw new PublicKeyError(`publicKeyPem must be at most ${MAX_PUBLIC_KEY_PEM_LENGTH} characters`);
  if (/PRIVATE KEY/i.test(pem)) {
    throw new PublicKeyError('publicKeyPem holds a private key: register the public key only, and keep the private key on your backend');
  }
  const match = PUBLIC_PEM.exec(pem);
  if (!match) throw new PublicKeyError('publicKeyPem must be one PEM block: "BEGIN PUBLIC KEY" (SPKI) or "BEGIN RSA PUBLIC KEY" (PKCS#1)');
  try {
    return createPublicKey({ key: pem, format: 'pem', type: match[1] ? 'pkcs1' : 'spki' });
  } catch {
    throw new PublicKeyError('publicKeyPem is not a readable public key');
  }
}

function fromJwk(jwk: unknown, algorithm: string): KeyObject {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new PublicKeyError('jwk must be a JSON object');
  const members = jwk as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((m) => m in members)) {
    throw new PublicKeyError(`jwk holds private key material (${PRIVATE_JWK_MEMBERS.join(', ')}): register the public key only`);
  }
  if (!['RSA', 'EC', 'OKP'].includes(members.kty as string)) throw new PublicKeyError('jwk.kty must be RSA, EC or OKP');
  if (members.alg !== undefined && members.alg !== algorithm) throw new PublicKeyError('jwk.alg does not match algorithm');
  if (members.use !== undefined && members.use !== 'sig') throw new PublicKeyError('jwk.use must be "sig" when present');
  try {
    return createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
  } catch {
    throw new PublicKeyError('jwk is not a readable public key');
  }
}

/**
 * The type, size and exponent rules of registration, for a key already stored: undefined when
 * it passes, else why not (safe to log: it never quotes the key).
 */
export function storedKeyProblem(jwk: PublicJwk, algorithm: string): string | undefined {
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    if (!(REGISTERED_KEY_ALGORITHMS as readonly string[]).includes(algorithm)) return `algorithm ${algorithm} is not accepted`;
    checkFitsAlgorithm(key, algorithm as RegisteredKeyAlgorithm);
    return undefined;
  } catch (error) {
    return error instanceof PublicKeyError ? error.message : 'the stored key cannot be read';
  }
}

function checkFitsAlgorithm(key: KeyObject, algorithm: RegisteredKeyAlgorithm): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm.startsWith('RS') || algorithm.startsWith('PS')) {
    // An "rsa-pss" SPKI (id-RSASSA-PSS) cannot be written as a JWK; JOSE expects rsaEncryption keys for PS* too.
    if (type !== 'rsa') throw new PublicKeyError(`${algorithm} needs an RSA key (rsaEncryption), got ${type ?? 'an unknown key type'}`);
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new PublicKeyError(`RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${bits}`);
    if (bits > MAX_RSA_BITS) throw new PublicKeyError(`RSA keys may have at most ${MAX_RSA_BITS} bits; this one has ${bits}`);
    const e = details.publicExponent ?? 0n;
    if (e < MIN_RSA_EXPONENT || e > MAX_RSA_EXPONENT || e % 2n === 0n) {
      // The exponent is public, but a huge one is not worth quoting: its size says enough.
      const size = e > 1_000_000n ? `a ${e.toString(2).length}-bit number` : String(e);
      throw new PublicKeyError(`RSA public exponent must be odd and from 3 to 2^32 - 1 (65537 is usual); this one is ${size}`);
    }
    return;
  }
  if (algorithm === 'ES256' || algorithm === 'ES384') {
    const curve = algorithm === 'ES256' ? 'prime256v1' : 'secp384r1';
    const name = algorithm === 'ES256' ? 'P-256' : 'P-384';
    if (type !== 'ec' || details.namedCurve !== curve) throw new PublicKeyError(`${algorithm} needs an EC key on curve ${name}`);
    return;
  }
  if (type !== 'ed25519') throw new PublicKeyError('EdDSA needs an Ed25519 key');
}
