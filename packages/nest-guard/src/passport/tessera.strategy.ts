import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy as JwtStrategy } from 'passport-jwt';
import { BearerAuthException } from '../bearer-auth.exception';
import { JwtGuardService } from '../jwt-guard.service';
import { TokenError } from '../token-errors';
import type { TokenPrincipal } from '../token-principal';

/** The strategy name `AuthGuard('tessera')` refers to. */
export const TESSERA_STRATEGY = 'tessera';

interface StrategyActions {
  success(user: unknown): void;
  fail(challenge: unknown, status?: number): void;
  error(error: unknown): void;
}

let instances = 0;

/**
 * The passport integration, for apps already on @nestjs/passport: a passport-jwt strategy named
 * `tessera` whose verification is the guard's core (JwtGuardService: the same issuers, key
 * sources, verified-token cache, revocation and sender-constraint checks as `@Auth()`), so
 * jsonwebtoken never runs and a key is never parsed per request.
 *
 * - a valid token: `success(claims)` — `request.user` is the frozen TokenPrincipal;
 * - a refused token: `fail(tokenError, 401)` — other strategies of an `AuthGuard([...])` chain
 *   still run; TesseraAuthGuard turns the TokenError into the design's 401 JSON and challenge;
 * - a revocation check that cannot answer: `error(503 BearerAuthException)`.
 *
 * It is also registered under a name unique to this module instance (`uniqueName`), which the
 * `@Auth()` bridge uses, so two apps in one process never share a strategy.
 */
@Injectable()
export class TesseraStrategy extends PassportStrategy(JwtStrategy, TESSERA_STRATEGY) implements OnModuleDestroy {
  readonly uniqueName = `${TESSERA_STRATEGY}:${++instances}`;

  constructor(@Inject(JwtGuardService) private readonly guard: JwtGuardService) {
    super({
      // passport-jwt's own extraction and verification are not used (authenticate below); the
      // options only satisfy its constructor.
      jwtFromRequest: (request: unknown) => guard.tokenOf(request as { headers?: Record<string, unknown> }),
      secretOrKeyProvider: (_request: unknown, _token: unknown, done: (error: unknown) => void) => done(new TokenError('UNKNOWN_KEY')),
    });
    passport.use(this.uniqueName, this as unknown as passport.Strategy);
  }

  /** passport-jwt's verify callback: the claims are the user. */
  validate(claims: TokenPrincipal): TokenPrincipal {
    return claims;
  }

  override authenticate(this: TesseraStrategy & StrategyActions, request: object): void {
    let outcome: TokenPrincipal | Promise<TokenPrincipal>;
    try {
      outcome = this.guard.authenticate(request);
    } catch (error) {
      return this.settle(error);
    }
    if (outcome instanceof Promise)
      outcome.then(
        (principal) => this.success(principal),
        (error: unknown) => this.settle(error),
      );
    else this.success(outcome);
  }

  onModuleDestroy(): void {
    passport.unuse(this.uniqueName);
    // Only if 'tessera' is still this instance's (another app in the process may have replaced it).
    if ((passport as unknown as { _strategy(name: string): unknown })._strategy(TESSERA_STRATEGY) === this)
      passport.unuse(TESSERA_STRATEGY);
  }

  private settle(this: TesseraStrategy & StrategyActions, error: unknown): void {
    if (error instanceof TokenError) return this.fail(error, 401);
    if (error instanceof BearerAuthException && error.getStatus() < 500) return this.fail(error, error.getStatus());
    return this.error(error);
  }
}
