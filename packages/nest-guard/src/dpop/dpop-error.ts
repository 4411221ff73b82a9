/** RFC 9449 error codes: §5 (token endpoint, 400) and §7.1 (resource, 401 with a `DPoP` challenge). */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * A DPoP proof was refused. `message` is safe to show a client (never the proof, a key or a
 * claim value); `nonce` is the server nonce to retry with (`DPoP-Nonce`, RFC 9449 §8), set for
 * `use_dpop_nonce`.
 */
export class DpopError extends Error {
  constructor(
    readonly error: DpopErrorCode,
    message: string,
    readonly nonce?: string,
  ) {
    super(message);
    this.name = 'DpopError';
  }
}

/** RFC 9449 §7.1: `DPoP algs="…"` with `error` and `error_description` when something was refused. */
export function dpopChallenge(algorithms: readonly string[], error?: string, description?: string): string {
  const params = [`algs="${algorithms.join(' ')}"`];
  if (error !== undefined) params.push(`error="${error}"`);
  if (description !== undefined) params.push(`error_description="${description.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?')}"`);
  return `DPoP ${params.join(', ')}`;
}
