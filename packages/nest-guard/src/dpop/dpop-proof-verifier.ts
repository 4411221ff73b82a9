import { DpopError } from './dpop-error';
import { DpopJtiStore, MemoryDpopJtiStore } from './dpop-jti-store';
import { DPOP_ALGORITHMS, DpopExpectations, DpopProofRules, VerifiedDpopProof, verifyDpopProof } from './dpop-proof';

/**
 * Server nonces (RFC 9449 §8/§9). `check` answers whether a proof's nonce (undefined when it
 * has none) is acceptable; `current` is the nonce to send in `DPoP-Nonce` when it is not.
 */
export interface DpopNonceSource {
  check(nonce: string | undefined): boolean;
  current(): string;
}

export interface DpopProofVerifierOptions extends DpopProofRules {
  /** Where proof jtis are remembered (default: in memory, this process only). */
  jtiStore?: DpopJtiStore;
  /** Require server nonces (default none). */
  nonces?: DpopNonceSource;
}

/**
 * A proof verifier with its policies: verifyDpopProof (pure checks), then the server nonce, then
 * single use of the jti in the store — last, so a refused proof never uses a jti up. The answer
 * is synchronous while the store answers synchronously (the in-memory default).
 */
export class DpopProofVerifier {
  readonly algorithms: readonly string[];
  private readonly rules: DpopProofRules;
  private readonly store: DpopJtiStore;
  private readonly nonces: DpopNonceSource | undefined;

  constructor(options: DpopProofVerifierOptions = {}) {
    this.algorithms = options.algorithms ?? DPOP_ALGORITHMS;
    this.rules = { algorithms: this.algorithms, maxAgeSec: options.maxAgeSec, clockToleranceSec: options.clockToleranceSec };
    this.store = options.jtiStore ?? new MemoryDpopJtiStore();
    this.nonces = options.nonces;
  }

  verify(proof: unknown, expect: DpopExpectations): VerifiedDpopProof | Promise<VerifiedDpopProof> {
    const verified = verifyDpopProof(proof, expect, this.rules);
    if (this.nonces && !this.nonces.check(verified.nonce)) {
      const current = this.nonces.current();
      throw new DpopError(
        'use_dpop_nonce',
        verified.nonce === undefined
          ? 'A DPoP nonce is required: retry with the DPoP-Nonce value'
          : 'DPoP nonce is stale: retry with the DPoP-Nonce value',
        current,
      );
    }
    const fresh = this.store.use(verified.jkt, verified.jti, verified.expiresAtMs);
    if (fresh === true) return verified;
    if (fresh === false) throw replayed();
    return Promise.resolve(fresh).then((ok) => {
      if (!ok) throw replayed();
      return verified;
    });
  }
}

const replayed = () => new DpopError('invalid_dpop_proof', 'DPoP proof jti was already used: make a new proof for every request');
