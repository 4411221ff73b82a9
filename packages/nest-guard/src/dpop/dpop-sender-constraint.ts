import { BearerAuthException } from '../bearer-auth.exception';
import type { GuardRequest } from '../guard-request';
import type { SenderConstraintCheck } from '../jwt-guard.options';
import type { TokenPrincipal } from '../token-principal';
import { DpopError, dpopChallenge } from './dpop-error';
import { DpopProofVerifier, DpopProofVerifierOptions } from './dpop-proof-verifier';

export interface DpopGuardOptions extends DpopProofVerifierOptions {
  /**
   * The origin clients address this service at (`https://api.example.com`), for `htu`. Behind a
   * proxy that rewrites the host or terminates TLS, set it: the request's own Host and protocol
   * are what the proxy sent. A function may compute it per request. Default: the request's
   * protocol (Express `req.protocol`, Fastify `request.protocol`, both honour their trust-proxy
   * setting) and Host header.
   */
  origin?: string | ((request: GuardRequest) => string);
  /** Refuse tokens that are not DPoP-bound too (default false: unbound tokens stay usable as Bearer). */
  required?: boolean;
}

/** `cnf.jkt` (RFC 9449 §6.1) of verified claims, when the token is DPoP-bound. */
export function boundJkt(claims: Record<string, unknown>): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' && jkt.length > 0 ? jkt : undefined;
}

/** The scheme of an Authorization header, lower-cased ('bearer', 'dpop', …); undefined without one. */
export function authorizationScheme(headers: GuardRequest['headers']): string | undefined {
  const value = headers.authorization;
  if (typeof value !== 'string') return undefined;
  const space = value.indexOf(' ');
  return (space < 0 ? value : value.slice(0, space)).toLowerCase();
}

/**
 * DPoP (RFC 9449 §7) at the guard, plugged into `senderConstraint`:
 *
 * - `Authorization: DPoP <token>` with one `DPoP` header: the token must be bound (`cnf.jkt`) and
 *   the proof verified against this request's method and URL (query and fragment ignored), the
 *   token's hash (`ath`) and its key (`jkt`), its jti used once (DpopJtiStore), its nonce when
 *   nonces are on;
 * - a bound token as `Bearer` (or from a cookie) is refused: whoever stole it lacks the key;
 * - an unbound token as Bearer passes, unless `required`.
 *
 * Refusals are 401 with `WWW-Authenticate: DPoP algs="…", error="…"` (and `DPoP-Nonce` for
 * use_dpop_nonce), codes INVALID_DPOP_PROOF, USE_DPOP_NONCE or INVALID_TOKEN_TYPE.
 */
export class DpopSenderConstraint implements SenderConstraintCheck {
  readonly authorizationSchemes = ['dpop'] as const;
  readonly verifier: DpopProofVerifier;
  private readonly origin: DpopGuardOptions['origin'];
  private readonly required: boolean;

  constructor(options: DpopGuardOptions = {}) {
    this.verifier = new DpopProofVerifier(options);
    this.origin =
      options.origin === undefined ? undefined : typeof options.origin === 'function' ? options.origin : options.origin.replace(/\/+$/, '');
    this.required = options.required === true;
  }

  check(claims: TokenPrincipal, request: GuardRequest, token: string): void | Promise<void> {
    const jkt = boundJkt(claims);
    if (authorizationScheme(request.headers) !== 'dpop') {
      if (jkt !== undefined)
        throw this.refuseToken('A DPoP-bound token must be sent as Authorization: DPoP <token> with a DPoP proof header');
      if (this.required)
        throw this.refuseToken('This resource accepts DPoP-bound tokens only (RFC 9449): ask for a token with a DPoP proof');
      return undefined;
    }
    if (jkt === undefined)
      throw this.refuseToken('The token is not DPoP-bound: send it as Authorization: Bearer, or ask for a DPoP-bound token');
    const proof = request.headers.dpop;
    if (Array.isArray(proof)) throw this.refuse(new DpopError('invalid_dpop_proof', 'Exactly one DPoP header is allowed'));
    let outcome;
    try {
      outcome = this.verifier.verify(proof, { method: request.method, url: this.urlOf(request), accessToken: token, jkt });
    } catch (error) {
      throw this.refuse(error);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        () => undefined,
        (error: unknown) => {
          throw this.refuse(error);
        },
      );
    }
    return undefined;
  }

  /** The request's absolute URL as the client addressed it. */
  urlOf(request: GuardRequest): string {
    const origin = typeof this.origin === 'function' ? this.origin(request) : this.origin;
    if (origin !== undefined) return `${origin}${request.url}`;
    const raw = request.raw as { protocol?: unknown; host?: unknown } | undefined;
    const protocol = typeof raw?.protocol === 'string' ? raw.protocol.replace(/:$/, '') : 'http';
    const host = request.headers.host;
    return `${protocol}://${typeof host === 'string' ? host : ''}${request.url}`;
  }

  private refuse(error: unknown): unknown {
    if (!(error instanceof DpopError)) return error;
    const code = error.error === 'use_dpop_nonce' ? 'USE_DPOP_NONCE' : 'INVALID_DPOP_PROOF';
    const headers: Record<string, string> = { 'www-authenticate': dpopChallenge(this.verifier.algorithms, error.error, error.message) };
    if (error.nonce !== undefined) headers['dpop-nonce'] = error.nonce;
    return new BearerAuthException(code, error.message, 401, headers);
  }

  private refuseToken(message: string): BearerAuthException {
    return new BearerAuthException('INVALID_TOKEN_TYPE', message, 401, {
      'www-authenticate': `${dpopChallenge(this.verifier.algorithms, 'invalid_token', message)}, Bearer error="invalid_token"`,
    });
  }
}
