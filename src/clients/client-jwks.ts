import { createPublicKey, JsonWebKey, KeyObject } from 'node:crypto';
import { familyFitsAlgorithm, isAsymmetricAlgorithm, keyFamily, KeyFamily } from '@tessera/nest-guard';
import { jwkThumbprint, PublicJwk, toPublicJwk } from '../common/crypto/jwk';
import { defaultAlgorithmFor } from '../common/crypto/pinned-algorithm';

/** Keys a private_key_jwt client may register inline; rotation needs two at once, ten is plenty. */
export const MAX_CLIENT_JWKS_KEYS = 10;
const MAX_KID_LENGTH = 256;
/** JWK members that carry private (or symmetric) key material (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A stored client key: its public members, a kid and the one algorithm it verifies. */
export type ClientJwk = PublicJwk & { kid: string; alg: string; use: 'sig' };

/** A client's JWKS refused as input; the message names the key by index, never its material. */
export class ClientJwksError extends Error {
  override readonly name = 'ClientJwksError';
}

/**
 * Checks a client's inline JWKS (`{keys: [...]}`) and returns what is stored: public members
 * only, each key with a kid (its RFC 7638 thumbprint when none was given) and its algorithm
 * pinned (the JWK's `alg`, else the one its type implies). A key with private members is
 * refused, not stripped: whoever sent it has leaked it and should make a new one.
 */
export function normalizeClientJwks(jwks: unknown): ClientJwk[] {
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks) || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new ClientJwksError('jwks must be a JWK Set: {"keys": [ ... ]}');
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0 || keys.length > MAX_CLIENT_JWKS_KEYS)
    throw new ClientJwksError(`jwks.keys must hold 1 to ${MAX_CLIENT_JWKS_KEYS} keys`);
  const kids = new Set<string>();
  return keys.map((jwk, index) => {
    const key = normalizeKey(jwk, `jwks.keys[${index}]`);
    if (kids.has(key.kid)) throw new ClientJwksError(`jwks.keys[${index}]: kid "${key.kid}" is used twice`);
    kids.add(key.kid);
    return key;
  });
}

function normalizeKey(jwk: unknown, where: string): ClientJwk {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new ClientJwksError(`${where} must be a JWK object`);
  const input = jwk as Record<string, unknown>;
  const leaked = PRIVATE_MEMBERS.filter((m) => Object.hasOwn(input, m));
  if (leaked.length > 0) {
    throw new ClientJwksError(
      `${where} holds private key material (${leaked.join(', ')}): register the public key only, and replace this key pair`,
    );
  }
  if (input.kty !== 'RSA' && input.kty !== 'EC' && input.kty !== 'OKP') throw new ClientJwksError(`${where}.kty must be RSA, EC or OKP`);
  if (input.use !== undefined && input.use !== 'sig') throw new ClientJwksError(`${where}.use must be "sig"`);
  if (
    input.kid !== undefined &&
    (typeof input.kid !== 'string' ||
      input.kid.length === 0 ||
      input.kid.length > MAX_KID_LENGTH ||
      /[\u0000-\u001f\u007f]/.test(input.kid))
  ) {
    throw new ClientJwksError(`${where}.kid must be a string of 1 to ${MAX_KID_LENGTH} printable characters`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: input as JsonWebKey, format: 'jwk' });
  } catch {
    throw new ClientJwksError(`${where} is not a valid public JWK`);
  }
  const family: KeyFamily = keyFamily(keyObject);
  if (family === 'unacceptable')
    throw new ClientJwksError(`${where}: RSA keys must have 2048 to 4096 bits and an odd public exponent up to 2^32`);
  let alg: string | undefined;
  if (input.alg !== undefined) {
    if (typeof input.alg !== 'string' || !isAsymmetricAlgorithm(input.alg))
      throw new ClientJwksError(`${where}.alg must be an asymmetric JWS algorithm (never HS* or none)`);
    if (!familyFitsAlgorithm(family, input.alg)) throw new ClientJwksError(`${where}.alg ${input.alg} does not fit the key's type`);
    alg = input.alg;
  } else {
    alg = defaultAlgorithmFor(family);
    if (!alg) throw new ClientJwksError(`${where}: unsupported key type or curve`);
  }
  const publicJwk = toPublicJwk(keyObject);
  return { ...publicJwk, kid: (input.kid as string | undefined) ?? jwkThumbprint(publicJwk), alg, use: 'sig' };
}
