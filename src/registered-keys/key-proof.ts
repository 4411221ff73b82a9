import { KeyObject } from 'node:crypto';
import { inspectJwt, InspectedJwt, TokenError } from '@tessera/nest-guard';
import { isJwsAlgorithm } from '../common/crypto/jws-algorithms';
import { verifyJwsSignature } from '../verification/jws-signature';

/**
 * Proof of possession for a key registration (docs/adr/0012-registered-key-proof.md): a
 * compact JWS signed by the private half of the key being registered, with the key's
 * algorithm, over
 *
 *   header  {"alg": "<the registration's algorithm>", "typ": "tessera-key-proof+jwt"}   (kid optional: the jkt)
 *   payload {"tenant_id": "<the tenant in the path>", "jkt": "<RFC 7638 thumbprint>", "iat": <now, epoch s>}
 *
 * Binding the tenant id means a proof seen by anyone (a log, a proxy) only ever registers
 * the key for the tenant its holder chose. The dedicated `typ` and the exact payload keep a
 * proof and a token apart: a proof has no `sub` or `exp`, so it is never a bearer token,
 * and a token is never a proof.
 */
export const KEY_PROOF_TYP = 'tessera-key-proof+jwt';
/** How far `iat` may be from Tessera's clock, either way. */
export const KEY_PROOF_MAX_SKEW_SECONDS = 300;
export const MAX_KEY_PROOF_LENGTH = 4096;

const HEADER_MEMBERS = new Set(['alg', 'typ', 'kid']);
const PAYLOAD_MEMBERS = ['tenant_id', 'jkt', 'iat'];

export interface KeyProofSubject {
  tenantId: string;
  /** The key's RFC 7638 thumbprint (its kid). */
  jkt: string;
  algorithm: string;
  keyObject: KeyObject;
}

/** A proof refused; the message says what to fix and never quotes the proof. */
export class KeyProofError extends Error {
  override readonly name = 'KeyProofError';
}

/** Throws KeyProofError unless `proof` shows possession of the key's private half for this tenant. */
export function verifyKeyProof(proof: string, subject: KeyProofSubject, nowSeconds: number): void {
  let jwt: InspectedJwt;
  try {
    jwt = inspectJwt(proof, MAX_KEY_PROOF_LENGTH, { requireKid: false });
  } catch (error) {
    if (error instanceof TokenError) throw new KeyProofError(`proof must be a compact JWS (${error.message})`);
    throw error;
  }
  const { header, payload } = jwt;
  const extraHeader = Object.keys(header).filter((m) => !HEADER_MEMBERS.has(m));
  if (extraHeader.length > 0) throw new KeyProofError(`proof header may hold only alg, typ and kid; remove ${extraHeader.join(', ')}`);
  if (header.typ !== KEY_PROOF_TYP) throw new KeyProofError(`proof header typ must be "${KEY_PROOF_TYP}"`);
  if (header.alg !== subject.algorithm || !isJwsAlgorithm(subject.algorithm)) {
    throw new KeyProofError(`proof must be signed with the key's algorithm, ${subject.algorithm}`);
  }
  if (header.kid !== undefined && header.kid !== subject.jkt)
    throw new KeyProofError('proof header kid, when present, must be the key thumbprint');

  const members = Object.keys(payload);
  const unknown = members.filter((m) => !PAYLOAD_MEMBERS.includes(m));
  if (unknown.length > 0 || members.length !== PAYLOAD_MEMBERS.length) {
    throw new KeyProofError('proof payload must be exactly {"tenant_id", "jkt", "iat"}');
  }
  if (payload.tenant_id !== subject.tenantId) throw new KeyProofError('proof tenant_id must be the tenant the key is registered for');
  if (payload.jkt !== subject.jkt) throw new KeyProofError(`proof jkt must be the RFC 7638 SHA-256 thumbprint of the key (${subject.jkt})`);
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isInteger(iat)) throw new KeyProofError('proof iat must be a NumericDate in whole seconds');
  if (Math.abs(nowSeconds - iat) > KEY_PROOF_MAX_SKEW_SECONDS) {
    throw new KeyProofError(`proof iat must be within ${KEY_PROOF_MAX_SKEW_SECONDS} s of now: sign a fresh proof`);
  }
  try {
    verifyJwsSignature(subject.algorithm, subject.keyObject, jwt.signingInput, jwt.signature);
  } catch (error) {
    if (error instanceof TokenError)
      throw new KeyProofError('proof signature does not verify with this key: sign it with the private half of the key registered');
    throw error;
  }
}
