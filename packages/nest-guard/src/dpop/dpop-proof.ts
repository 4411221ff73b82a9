import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import { ASYMMETRIC_ALGORITHMS, familyFitsAlgorithm, isAsymmetricAlgorithm, KeyFamily, keyFamily } from '../core/jws-algorithms';
import { verifyJwsSignature } from '../core/jws-signature';
import { lruCache } from '../core/lru';
import { DpopError } from './dpop-error';
import { normalizeHtu } from './dpop-htu';
import { jwkThumbprint, PRIVATE_JWK_MEMBERS, publicJwkMembers } from './jwk-thumbprint';

/** RFC 9449 §4.2: only asymmetric algorithms; `none` and MACs are never proofs. */
export const DPOP_ALGORITHMS: readonly string[] = ASYMMETRIC_ALGORITHMS;

/** A proof is a few hundred bytes (an RSA-4096 jwk is ~700 characters); anything this long is not one. */
export const MAX_DPOP_PROOF_BYTES = 8192;
const MAX_JTI_LENGTH = 256;
const MAX_NONCE_LENGTH = 512;

/** How proofs are judged, whatever request they come with. */
export interface DpopProofRules {
  /** Accepted proof algorithms (default every asymmetric one: RS*, PS*, ES*, EdDSA). */
  algorithms?: readonly string[];
  /** How old a proof's iat may be, in seconds (default 60). */
  maxAgeSec?: number;
  /** How far in the future a proof's iat may be (clock skew), in seconds (default 5). */
  clockToleranceSec?: number;
}

/** What the proof must match: the request it came with and, at a resource, the token. */
export interface DpopExpectations {
  /** The request's method (`htm`, RFC 9449 §4.3 check 8). */
  method: string;
  /** The request's absolute URL as the client addressed it; its query and fragment are ignored (`htu`, check 9). */
  url: string;
  /** At a protected resource: the access token, whose hash the proof's `ath` must be (check 12). */
  accessToken?: string;
  /** At a protected resource or for a bound refresh token: the key thumbprint the proof must be signed with (`cnf.jkt`). */
  jkt?: string;
  /** Now, in ms (default Date.now()). */
  nowMs?: number;
}

export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof's key: what `cnf.jkt` binds to. */
  jkt: string;
  jti: string;
  iat: number;
  /** The proof's nonce claim, if any (the caller decides whether it is current). */
  nonce: string | undefined;
  /** When the proof stops being acceptable (iat + maxAge + tolerance), in ms: how long its jti must be remembered. */
  expiresAtMs: number;
}

interface CachedKey {
  key: KeyObject;
  family: KeyFamily;
}

/** Keys parsed from proofs, by thumbprint: a client signs every proof with the same key, so it is parsed once. */
const KEYS: LRUCache<string, CachedKey> = lruCache<CachedKey>(1000);
const KEY_CACHE_TTL_MS = 10 * 60_000;

const invalid = (message: string) => new DpopError('invalid_dpop_proof', message);

/**
 * Checks one DPoP proof (RFC 9449 §4.3) without any I/O: shape, `typ: dpop+jwt`, an asymmetric
 * `alg`, the embedded public `jwk` (a private or symmetric member refuses it), the signature
 * with that key, `htm`, `htu`, the iat window, `ath` = base64url(SHA-256(token)) and the key's
 * thumbprint against `jkt`. Throws DpopError('invalid_dpop_proof'). Single use of `jti` and
 * the server nonce are the caller's (DpopProofVerifier), after this.
 */
export function verifyDpopProof(proof: unknown, expect: DpopExpectations, rules: DpopProofRules = {}): VerifiedDpopProof {
  if (typeof proof !== 'string' || proof.length === 0) throw invalid('A DPoP proof (the DPoP header) is required');
  if (proof.length > MAX_DPOP_PROOF_BYTES) throw invalid('DPoP proof is too large');
  const parts = proof.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw invalid('DPoP proof must be a JWS in compact form');
  const header = jsonPart(parts[0], 'header');
  const payload = jsonPart(parts[1], 'payload');

  // RFC 9449 §4.2: typ is exactly dpop+jwt (RFC 7515 §4.1.9 lets "application/" be left out, and media types ignore case).
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
  if (typ !== 'dpop+jwt' && typ !== 'application/dpop+jwt') throw invalid('DPoP proof typ must be dpop+jwt');
  const algorithms = rules.algorithms ?? DPOP_ALGORITHMS;
  const alg = header.alg;
  if (!isAsymmetricAlgorithm(alg) || !algorithms.includes(alg)) throw invalid(`DPoP proof alg must be one of ${algorithms.join(' ')}`);
  if (header.crit !== undefined || header.b64 !== undefined) throw invalid('DPoP proof header has members that are not understood');
  if (header.jku !== undefined || header.x5u !== undefined || header.x5c !== undefined || header.kid !== undefined) {
    throw invalid('DPoP proof key must be the embedded jwk only');
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('DPoP proof header must carry the public key as jwk');
  const jwkObject = jwk as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((m) => jwkObject[m] !== undefined))
    throw invalid('DPoP proof jwk must be a public key: it carries private key material');
  const members = publicJwkMembers(jwkObject);
  if (!members) throw invalid('DPoP proof jwk must be an RSA, EC or OKP public key');
  const jkt = jwkThumbprint(members);
  const { key, family } = keyOf(jkt, members);
  if (!familyFitsAlgorithm(family, alg)) throw invalid('DPoP proof jwk does not fit its alg');

  // The signature before the claims: nothing an unsigned proof says is believed.
  try {
    verifyJwsSignature(alg, key, `${parts[0]}.${parts[1]}`, Buffer.from(parts[2], 'base64url'), family);
  } catch {
    throw invalid('DPoP proof signature is invalid');
  }

  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH)
    throw invalid(`DPoP proof jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`);
  if (typeof htm !== 'string' || htm !== expect.method.toUpperCase()) throw invalid('DPoP proof htm does not match the request method');
  if (typeof htu !== 'string') throw invalid('DPoP proof htu is required');
  const expectedHtu = normalizeHtu(expect.url);
  if (expectedHtu === undefined || normalizeHtu(htu) !== expectedHtu) throw invalid('DPoP proof htu does not match the request URL');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('DPoP proof iat must be a number');
  const nowSec = (expect.nowMs ?? Date.now()) / 1000;
  const maxAge = rules.maxAgeSec ?? 60;
  const tolerance = rules.clockToleranceSec ?? 5;
  if (iat > nowSec + tolerance) throw invalid('DPoP proof iat is in the future: check the client clock');
  if (iat < nowSec - maxAge - tolerance)
    throw invalid(`DPoP proof is too old: make a new proof for every request (iat within ${maxAge} s)`);
  const nonce = payload.nonce;
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH))
    throw invalid('DPoP proof nonce must be a string');

  if (expect.accessToken !== undefined) {
    // §4.3 check 12 / §7.1: ath binds the proof to this one token.
    if (typeof payload.ath !== 'string') throw invalid('DPoP proof ath (hash of the access token) is required');
    if (payload.ath !== accessTokenHash(expect.accessToken)) throw invalid('DPoP proof ath does not match the access token');
  }
  if (expect.jkt !== undefined && jkt !== expect.jkt) throw invalid('DPoP proof is not signed with the key the token is bound to');

  return { jkt, jti, iat, nonce: nonce as string | undefined, expiresAtMs: (iat + maxAge + tolerance) * 1000 };
}

/** RFC 9449 §4.2 `ath`: base64url(SHA-256(ASCII(access token))). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

function jsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw invalid(`DPoP proof ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`DPoP proof ${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function keyOf(jkt: string, members: Record<string, string>): CachedKey {
  const cached = KEYS.get(jkt);
  if (cached) return cached;
  let key: KeyObject;
  try {
    // Only the public members reach OpenSSL.
    key = createPublicKey({ key: members, format: 'jwk' });
  } catch {
    throw invalid('DPoP proof jwk is not a valid public key');
  }
  // keyFamily refuses RSA keys outside 2048–4096 bits or with a hostile exponent ('unacceptable').
  const entry = { key, family: keyFamily(key) };
  KEYS.set(jkt, entry, { ttl: KEY_CACHE_TTL_MS });
  return entry;
}
