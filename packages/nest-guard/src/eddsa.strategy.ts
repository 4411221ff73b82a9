import { KeyObject, verify } from 'node:crypto';
import type { Strategy } from 'passport';
import type { NormalizedIssuer } from './jwt-guard.options';
import type { KeySource } from './keys/key-sources';
import { TokenError } from './token-errors';
import type { InspectedJwt } from './token-inspection';

export interface EddsaPending {
  inspected: InspectedJwt;
  keys: KeySource;
  issuer: NormalizedIssuer;
  /** Told which key verified the token (the guard ties its verified-token cache entry to it). */
  onKey?: (key: KeyObject) => void;
}

interface StrategyActions {
  success(user: unknown): void;
  fail(challenge: unknown): void;
}

/**
 * A passport strategy for EdDSA tokens (RFC 8037), which jsonwebtoken 9 — and so passport-jwt —
 * cannot verify. It runs on the token the guard has already inspected and applies the checks
 * jsonwebtoken applies to the other algorithms: signature, nbf and exp with the issuer's
 * clock tolerance, aud ∩ audience, iss.
 */
export function createEddsaStrategy(pendingOf: (request: unknown) => EddsaPending | undefined): Strategy {
  return {
    name: 'tessera-eddsa',
    authenticate(this: StrategyActions, request: unknown): void {
      const pending = pendingOf(request);
      if (!pending) return this.fail(new TokenError('MALFORMED_TOKEN'));
      const { inspected, keys, issuer } = pending;
      keys.resolve(inspected.header.kid as string | undefined, 'EdDSA').then(
        (key) => {
          let valid = false;
          try {
            valid = verify(null, Buffer.from(inspected.signingInput, 'ascii'), key, inspected.signature);
          } catch {
            valid = false;
          }
          if (!valid) return this.fail(new TokenError('INVALID_SIGNATURE'));
          pending.onKey?.(key);
          const claimError = checkClaims(inspected.payload, issuer, Math.floor(Date.now() / 1000));
          if (claimError) return this.fail(claimError);
          return this.success(inspected.payload);
        },
        (error: unknown) => this.fail(error),
      );
    },
  } as Strategy;
}

/** jsonwebtoken 9's time, audience and issuer rules, for the tokens it cannot verify. */
export function checkClaims(payload: Record<string, unknown>, issuer: NormalizedIssuer, nowSec: number): TokenError | undefined {
  const tolerance = issuer.clockToleranceSec;
  if (typeof payload.nbf === 'number' && payload.nbf > nowSec + tolerance) return new TokenError('TOKEN_NOT_YET_VALID');
  if (typeof payload.exp !== 'number') return new TokenError('MALFORMED_TOKEN', 'Token has no expiry');
  if (nowSec >= payload.exp + tolerance) return new TokenError('TOKEN_EXPIRED');
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  if (!audiences.some((aud) => issuer.audience.includes(aud as string))) return new TokenError('INVALID_AUDIENCE');
  if (payload.iss !== issuer.issuer) return new TokenError('INVALID_ISSUER');
  return undefined;
}
