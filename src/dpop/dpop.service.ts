import { Injectable } from '@nestjs/common';
import {
  DPOP_ALGORITHMS,
  DpopError,
  DpopExpectations,
  DpopProofVerifier,
  DpopSenderConstraint,
  VerifiedDpopProof,
} from '@tessera/nest-guard';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { DpopJtiRepository } from './dpop-jti.repository';
import { DpopNonceService } from './dpop-nonce.service';

/** Clock skew allowed for a proof's iat in the future; the past is DPOP_PROOF_MAX_AGE. */
const PROOF_FUTURE_TOLERANCE_SECONDS = 5;

type Headers = Record<string, string | string[] | undefined>;

/**
 * DPoP proofs as Tessera's server checks them (token endpoints, forward-auth, introspection
 * callers): the guard package's verifier with the server's policies — jtis single use in Postgres
 * (every replica), HMAC nonces when DPOP_NONCE_REQUIRED is on, the app clock. docs/adr/0019-dpop.md.
 * Used proof ids are purged by DpopJtiPurgeJob.
 */
@Injectable()
export class DpopService {
  readonly algorithms: readonly string[] = DPOP_ALGORITHMS;
  private readonly verifier: DpopProofVerifier;

  constructor(
    private readonly jtis: DpopJtiRepository,
    private readonly nonces: DpopNonceService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    this.verifier = new DpopProofVerifier({
      algorithms: this.algorithms,
      maxAgeSec: config.dpop.proofMaxAgeSeconds,
      clockToleranceSec: PROOF_FUTURE_TOLERANCE_SECONDS,
      jtiStore: { use: (jkt: string, jti: string, expiresAtMs: number) => this.jtis.useOnce(jkt, jti, new Date(expiresAtMs)) },
      nonces: nonces.required ? nonces : undefined,
    });
  }

  /** The request's DPoP header; undefined without one. Two are refused (RFC 9449 §4.3 check 1). */
  proofOf(headers: Headers): string | undefined {
    const value = headers.dpop;
    if (Array.isArray(value)) throw new DpopError('invalid_dpop_proof', 'Exactly one DPoP header is allowed');
    return value === undefined || value === '' ? undefined : value;
  }

  /** Verifies a proof (throws DpopError); its jti is used up only when every other check passed. */
  async verify(proof: string | undefined, expect: Omit<DpopExpectations, 'nowMs'>): Promise<VerifiedDpopProof> {
    return this.verifier.verify(proof, { ...expect, nowMs: this.clock.now().getTime() });
  }

  /**
   * The guard's sender-constraint check for Tessera's own guarded routes (/v1/me): the same
   * rules, jti table and nonces, with htu = PUBLIC_URL + path.
   */
  guardConstraint(): DpopSenderConstraint {
    return new DpopSenderConstraint({
      origin: this.config.publicUrl,
      algorithms: this.algorithms,
      maxAgeSec: this.config.dpop.proofMaxAgeSeconds,
      clockToleranceSec: PROOF_FUTURE_TOLERANCE_SECONDS,
      jtiStore: { use: (jkt: string, jti: string, expiresAtMs: number) => this.jtis.useOnce(jkt, jti, new Date(expiresAtMs)) },
      nonces: this.nonces.required ? this.nonces : undefined,
    });
  }

  /** The absolute URL of a request Tessera received itself, as the client addressed it (PUBLIC_URL + path). */
  urlOf(requestUrl: string): string {
    return `${this.config.publicUrl}${requestUrl}`;
  }

  /** `DPoP-Nonce` for an answer, when nonces are on (RFC 9449 §8.2: a fresh one may come with any answer). */
  nonceHeaders(): Record<string, string> {
    return this.nonces.required ? { 'dpop-nonce': this.nonces.current() } : {};
  }
}
